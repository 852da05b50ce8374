"""A single-agent Gymnasium view of an iterated matrix game against a fixed or learning opponent.

`single_agent` wraps the PettingZoo env (`IteratedMatrixGameEnv`) so that single-agent RL
code (Stable-Baselines3, CleanRL, a tabular loop) plays one side of the game; the other side
is played by an opponent that is

* a memory-one policy: 5 logits, or 5 probabilities of action 0 with ``opponent_probs=True``,
  in the order start, CC, CD, DC, DD from the opponent's own side, or a fixed agent
  (``"tft"``, ``"allc"``, ``"alld"``, ``"random"``, any `FixedAgent`);
* or a learning agent of `lola_games.agents` (``"naive"``, ``"lola"``, ``"sos"``,
  ``"la"``, ``"lookahead-lola"``, an `Agent` object, and sampled
  learners with a memory-one policy, tabular or MLP, e.g. ``"naive-pg"``, ``"lola-dice"``;
  a recurrent policy is refused). It holds its
  parameters for one seed and, every ``update_every`` finished episodes, takes one step of its
  own update rule against a memory-one model of the learner.

The model of the learner is fitted from the learner's actions in the episodes since the
opponent's last update: in each memory-one state ``s`` (from the learner's side), with ``k_s``
plays of action 0 out of ``n_s`` visits, ``P(action 0 | s) = (k_s + 1) / (n_s + 2)`` (add-one
smoothing: an unvisited state is 1/2), used as the logit ``log(k_s + 1) - log(n_s - k_s + 1)``.
The opponent's update is ``agent.update(own, model, state, ctx)`` with ``model`` those logits
``[1, 5]`` and ``ctx.other`` a `FixedAgent` holding them.

Conventions of the view:

* action space ``Discrete(n)``: the learner's action;
* observation space ``Box(0, 1, (n * n + 1,), float32)``: the one-hot observation of the
  PettingZoo env from the learner's side (previous outcome ``(own, other)`` at index
  ``own * n + other``, START at the last index);
* reward: the learner's reward of the round; ``terminated``/``truncated`` those of the
  PettingZoo env (``continuation_prob`` coin, ``max_cycles``);
* ``info``: ``round``, ``opponent_action``, ``opponent_reward`` (after a step) and
  ``opponent_updates`` (updates so far);
* ``reset(seed=s)`` starts over from ``s``: the env's RNG (the opponent's action draws and
  the continuation coin) and the opponent's initial parameters are drawn from it, and the
  opponent's learning restarts; ``reset()`` without a seed keeps what the opponent learned.
  The same seed and the same actions give the same trajectory, opponent updates included.
"""

from __future__ import annotations

import numbers
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
import torch
from gymnasium.envs.registration import EnvSpec
from gymnasium.spaces import Box, Discrete

from lola_games.agents.base import Agent, Context
from lola_games.agents.fixed import FixedAgent
from lola_games.agents.registry import make_agent
from lola_games.core.checks import check_positive_int, check_seed
from lola_games.envs.iterated import IteratedMatrixGameEnv
from lola_games.envs.registration import SINGLE_AGENT_ENTRY, SINGLE_AGENT_ID
from lola_games.games.matrix import MatrixGame
from lola_games.rollouts.memory_one import action_0_probs, observation_state
from lola_games.values.exact import N_STATES, check_gamma

__all__ = ["SingleAgentEnv", "single_agent", "learner_model_logits"]

AGENTS = ("player_0", "player_1")


def learner_model_logits(action_0_counts: np.ndarray, visits: np.ndarray) -> np.ndarray:
    """Add-one smoothed memory-one model as logits ``[5]``: ``log(k + 1) - log(n - k + 1)``.

    ``action_0_counts[s]`` (``k``) and ``visits[s]`` (``n``) count the learner's plays of
    action 0 and its visits to state ``s`` (start, CC, CD, DC, DD, from its own side).
    """
    k = np.asarray(action_0_counts, dtype=np.float64)
    n = np.asarray(visits, dtype=np.float64)
    return np.log(k + 1.0) - np.log(n - k + 1.0)


def _opponent(opponent: Any, opponent_probs: bool) -> tuple[Agent | None, np.ndarray | None]:
    """``(agent, None)`` for an agent or registry name, ``(None, P(action 0) [5])`` for a
    fixed policy given as numbers."""
    if isinstance(opponent, str):
        opponent = make_agent(opponent)
    if isinstance(opponent, Agent):
        if opponent_probs:
            raise ValueError("opponent_probs=True needs 5 probabilities, not an agent")
        if not opponent.is_memory_one():
            raise ValueError(
                f"opponent {opponent.name!r} has no memory-one policy ({opponent!r}); the "
                f"single-agent view plays memory-one opponents only"
            )
        return opponent, None
    if not opponent_probs:
        return FixedAgent(opponent), None
    if isinstance(opponent, (torch.Tensor, np.ndarray)):
        opponent = opponent.tolist()
    try:
        probs = [float(p) for p in opponent if _is_real(p)]
        ok = len(probs) == len(opponent) == N_STATES
    except TypeError:
        ok = False
    if not ok or not all(0.0 <= p <= 1.0 for p in probs):
        raise ValueError(
            f"opponent must be 5 probabilities of action 0 in [0, 1] (start, CC, CD, DC, DD) "
            f"with opponent_probs=True, got {opponent!r}"
        )
    return None, np.array(probs)


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


class SingleAgentEnv(gymnasium.Env):
    """One side of an iterated matrix game as a ``gymnasium.Env`` (see the module docstring).

    Build it with `single_agent`.
    """

    metadata = {"render_modes": ["human", "ansi"], "render_fps": 1}

    def __init__(
        self,
        env: IteratedMatrixGameEnv,
        opponent: Any,
        *,
        player: int = 0,
        opponent_probs: bool = False,
        update_every: int = 1,
        gamma: float = 0.96,
    ) -> None:
        if not isinstance(env, IteratedMatrixGameEnv):
            raise TypeError(
                f"env must be an IteratedMatrixGameEnv (a parallel env of lola_games.envs), "
                f"got {type(env).__name__}"
            )
        if env.game.n_actions != 2:
            raise ValueError(
                f"memory-one opponents need a 2-action game; {env.game.name!r} has "
                f"{env.game.n_actions} actions"
            )
        if isinstance(player, bool) or player not in (0, 1):
            raise ValueError(f"player must be 0 or 1, got {player!r}")
        if not isinstance(opponent_probs, bool):
            raise TypeError(f"opponent_probs must be True or False, got {opponent_probs!r}")
        self.update_every = check_positive_int("update_every", update_every)
        check_gamma(gamma)
        self.gamma = float(gamma)
        self.agent, self._fixed_probs = _opponent(opponent, opponent_probs)
        if self.agent is not None:
            self.agent.check_game(env.game)

        self.env = env
        self.game = env.game
        self.player = player
        self.learner, self.opponent_name = AGENTS[player], AGENTS[1 - player]
        self.action_space = Discrete(env.n_actions)
        self.observation_space = Box(0.0, 1.0, (env.obs_dim,), np.float32)
        self.render_mode = env.render_mode

        self._params: Any = None
        self._state: Any = None
        self._probs: np.ndarray | None = self._fixed_probs
        self._generator = torch.Generator()
        self._counts = np.zeros((2, N_STATES))  # [action-0 plays, visits] per learner state
        self._episodes = 0
        self._updates = 0
        self._obs: dict[str, np.ndarray] | None = None
        self._started = False
        # how to build this view again (gymnasium.make(self.spec, render_mode=...))
        self.spec = EnvSpec(SINGLE_AGENT_ID, SINGLE_AGENT_ENTRY, kwargs={
            "env_or_name": env.game, "opponent": opponent, "player": player,
            "opponent_probs": opponent_probs, "update_every": self.update_every,
            "gamma": self.gamma, "max_cycles": env.max_cycles,
            "continuation_prob": env.continuation_prob, "render_mode": env.render_mode,
        })

    # -- the opponent ------------------------------------------------------------------------

    @property
    def opponent_params(self) -> Any:
        """The opponent agent's current parameters (one seed, ``[1, ...]``), or None when the
        opponent was given as probabilities."""
        return self._params

    @property
    def opponent_state(self) -> Any:
        """The opponent agent's update state (optimizer moments, ...), or None."""
        return self._state

    @property
    def opponent_action_0_probs(self) -> np.ndarray:
        """The opponent's current P(action 0) per state (start, CC, CD, DC, DD), ``[5]``."""
        if self._probs is None:
            raise ValueError("call reset() first")
        return self._probs.copy()

    @property
    def opponent_updates(self) -> int:
        """Updates the opponent has taken since the last seeded reset."""
        return self._updates

    def _refresh_probs(self, agent: Agent) -> None:
        logits = agent.logits(self._params)[0]  # [5]
        self._probs = action_0_probs(logits)

    def _start_opponent(self) -> None:
        """Draw the opponent's parameters and clear what it learned (seeded reset)."""
        self._generator.manual_seed(int(self.np_random.integers(2**63)))
        self._counts[:] = 0
        self._episodes = self._updates = 0
        if self.agent is not None:
            self._params = self.agent.init_params(1, self._generator, game=self.game,
                                                  player=1 - self.player)
            self._state = self.agent.init_state(self._params)
            self._refresh_probs(self.agent)

    def _update_opponent(self) -> None:
        """One step of the opponent's own rule against the fitted model of the learner."""
        model = learner_model_logits(self._counts[0], self._counts[1])
        self._counts[:] = 0
        if self.agent is None:
            return
        like = self.agent.logits(self._params)
        other = torch.as_tensor(model, dtype=like.dtype, device=like.device).unsqueeze(0)
        ctx = Context(self.game, self.gamma, 1 - self.player, self._generator, like.device,
                      other=FixedAgent(model.tolist()))
        self._params, self._state = self.agent.update(self._params, other, self._state, ctx)
        self._updates += 1
        self._refresh_probs(self.agent)

    # -- gymnasium API -------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``seed`` starts everything over (module docstring)."""
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        check_seed(seed)
        super().reset(seed=seed)
        if seed is not None or not self._started:
            env_seed = int(self.np_random.integers(2**63))
            self._start_opponent()
            obs, infos = self.env.reset(seed=env_seed)
            self._started = True
        else:
            obs, infos = self.env.reset()
        self._obs = obs
        return obs[self.learner], {**infos[self.learner], "opponent_updates": self._updates}

    def step(
        self, action: Any
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Play one round: the learner's ``action`` against the opponent's sampled action."""
        if self._obs is None:
            raise ValueError("step() called before reset()")
        if not self.env.agents:
            raise ValueError("step() called after the episode ended; call reset() first")
        own = self.env.check_action(self.learner, action)
        learner_state = observation_state(self._obs[self.learner])
        opp_state = observation_state(self._obs[self.opponent_name])
        probs = self._probs
        if probs is None:  # set by reset(), which set the observation
            raise ValueError("step() called before reset()")
        opp_action = int(self.np_random.random() >= probs[opp_state])
        obs, rewards, terms, truncs, infos = self.env.step(
            {self.learner: own, self.opponent_name: opp_action}
        )
        self._obs = obs
        self._counts[0, learner_state] += own == 0
        self._counts[1, learner_state] += 1
        terminated, truncated = terms[self.learner], truncs[self.learner]
        if terminated or truncated:
            self._episodes += 1
            if self._episodes % self.update_every == 0:
                self._update_opponent()
        info = {
            **infos[self.learner],
            "opponent_action": opp_action,
            "opponent_reward": rewards[self.opponent_name],
            "opponent_updates": self._updates,
        }
        return obs[self.learner], rewards[self.learner], terminated, truncated, info

    def render(self) -> str | None:
        """The PettingZoo env's render (``"ansi"``: a line of text; ``"human"``: printed)."""
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def __repr__(self) -> str:
        who = self.agent.name if self.agent is not None else "fixed probabilities"
        return (f"SingleAgentEnv({self.game.name!r}, learner={self.learner}, "
                f"opponent={who}, update_every={self.update_every})")


def single_agent(
    env_or_name: IteratedMatrixGameEnv | MatrixGame | str,
    opponent: Any,
    *,
    player: int = 0,
    opponent_probs: bool = False,
    update_every: int = 1,
    gamma: float = 0.96,
    **env_kwargs: Any,
) -> SingleAgentEnv:
    """A ``gymnasium.Env`` in which the learner plays ``player``'s side against ``opponent``.

    Args:
        env_or_name: a parallel env from `lola_games.envs` (``ipd_v0.parallel_env()``),
            or a 2-action `MatrixGame` or a built-in game's name,
            from which the env is built with ``env_kwargs``.
        opponent: 5 logits (start, CC, CD, DC, DD, from the opponent's side), 5
            probabilities of action 0 with ``opponent_probs=True``, an agent's registry name
            (``"tft"``, ``"naive"``, ``"lola"``, ...) or an `Agent`.
        player: the learner's side, 0 (``player_0``, default) or 1.
        opponent_probs: read ``opponent`` as probabilities of action 0 instead of logits.
        update_every: finished episodes between two updates of a learning opponent.
        gamma: the discount a learning opponent uses in its own update (the LOLA papers'
            0.96 by default).
        **env_kwargs: ``max_cycles``, ``continuation_prob``, ``render_mode`` for a new env.

    Raises:
        ValueError: a game without 2 actions, bad logits or probabilities, an unknown agent
            name, an agent without a memory-one policy (a GRU), ``player`` not 0 or 1,
            ``update_every`` not a positive int, ``gamma`` outside ``[0, 1)``, or
            ``env_kwargs`` together with an env.
        TypeError: ``env_or_name`` of another type, logits that are not numbers.
    """
    if isinstance(env_or_name, IteratedMatrixGameEnv):
        if env_kwargs:
            raise ValueError(
                f"env_kwargs {sorted(env_kwargs)} are for building an env; pass them to the "
                f"env you give instead"
            )
        env = env_or_name
    elif isinstance(env_or_name, (str, MatrixGame)):
        env = IteratedMatrixGameEnv(env_or_name, **env_kwargs)
    else:
        raise TypeError(
            f"env_or_name must be a parallel env of lola_games.envs, a MatrixGame or a game "
            f"name, got {type(env_or_name).__name__}"
        )
    return SingleAgentEnv(env, opponent, player=player, opponent_probs=opponent_probs,
                          update_every=update_every, gamma=gamma)

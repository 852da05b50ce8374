"""Iterated matrix games as a PettingZoo ``ParallelEnv``.

One env class, `IteratedMatrixGameEnv`, plays any two-player
`MatrixGame` round after round.

* Agents ``player_0`` and ``player_1``; action space ``Discrete(n)``.
* Observation of each player: ``Box(0, 1, (n * n + 1,), float32)``, a one-hot of the previous
  outcome seen from the observer's own side, ``(own, other)`` at index ``own * n + other``;
  at reset the last entry (index ``n * n``) marks START.
* Rewards: player ``i`` gets ``payoffs[i, own, other]``.
* ``state()``: both observations concatenated, ``[obs_0, obs_1]``, in
  ``Box(0, 1, (2 * (n * n + 1),), float32)``.
* An episode ends by truncation after ``max_cycles`` rounds. With ``continuation_prob=delta``
  it also ends by termination after each round with probability ``1 - delta`` (drawn from
  the env's RNG, seeded by ``reset(seed=...)``), the "infinitely repeated game with
  discount": round ``t`` is played with probability ``delta**t``, so the expected
  undiscounted return equals the ``delta``-discounted return. A round that reaches
  ``max_cycles`` is reported as truncated, not terminated.
* ``infos[agent] = {"round": t}``, the number of rounds played so far.

Memory-one policies index the same outcomes as states ``1 + own * n + other`` with START at
``0`` (`MatrixGame.state_names`); `lola_games.rollouts.memory_one.observation_state` maps an
observation to that index.

Module-level constructors follow PettingZoo's layout: `parallel_env` (the env itself),
`raw_env` (its AEC conversion) and `env` (the AEC env with checks). The modules
``ipd_v0``, ``imp_v0``, ``stag_hunt_v0`` and ``chicken_v0`` fix the game.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium.spaces import Box, Discrete
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from lola_games.core.checks import check_continuation_prob, check_positive_int
from lola_games.envs.two_player import AGENTS, CheckedAECWrapper, TwoPlayerEnv
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game

__all__ = [
    "IteratedMatrixGameEnv",
    "TwoPlayerEnv",
    "CheckedAECWrapper",
    "parallel_env",
    "raw_env",
    "env",
    "env_functions",
]


class IteratedMatrixGameEnv(TwoPlayerEnv):
    """A two-player matrix game repeated for up to ``max_cycles`` rounds.

    Args:
        game: a `MatrixGame` or the name of a built-in one (``"ipd"``, ...).
        max_cycles: rounds per episode before truncation (default 150).
        continuation_prob: optional probability in ``(0, 1]`` that the game goes on after
            each round; ``None`` (default) plays exactly ``max_cycles`` rounds.
        render_mode: ``None``, ``"ansi"`` (``render()`` returns a line of text) or
            ``"human"`` (``render()`` prints it).

    Raises:
        ValueError: unknown game or render mode, ``max_cycles`` not a positive int,
            ``continuation_prob`` not a number in ``(0, 1]``.

    The env, its AEC forms and a copy made mid-episode can be deep-copied and pickled; a
    copy carries the RNG state, so it replays the original's trajectory.
    """

    metadata = {**TwoPlayerEnv.metadata, "name": "iterated_matrix_game_v0", "render_fps": 1}

    def __init__(
        self,
        game: MatrixGame | str,
        max_cycles: int = 150,
        continuation_prob: float | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.game = get_game(game)
        self.max_cycles = max_cycles
        continuation_prob = check_continuation_prob(continuation_prob)
        self.continuation_prob = continuation_prob
        self._set_render_mode(render_mode)
        self.metadata = {**type(self).metadata, "name": f"{self.game.name}_v0"}

        n = self.game.n_actions
        self.n_actions = n
        self.obs_dim = n * n + 1
        self._init_agents()
        # One cached space object per agent: the same object on every call.
        self.observation_spaces = {
            a: Box(0.0, 1.0, (self.obs_dim,), np.float32) for a in self.possible_agents
        }
        self.action_spaces = {a: Discrete(n) for a in self.possible_agents}
        self.state_space = Box(0.0, 1.0, (2 * self.obs_dim,), np.float32)

        self._np_random: np.random.Generator | None = None
        self._round = 0
        self._outcome: tuple[int, int] | None = None  # last joint actions (a0, a1)
        self._last_rewards = (0.0, 0.0)
        self._totals = (0.0, 0.0)
        self._has_reset = False

    # -- properties and spaces -----------------------------------------------------------

    @property
    def max_cycles(self) -> int:
        """Rounds per episode before truncation (a positive int; settable)."""
        return self._max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self._max_cycles = check_positive_int("max_cycles", value)

    # -- observations ----------------------------------------------------------------------

    def _observations(self) -> tuple[np.ndarray, np.ndarray]:
        """One-hot observations of both players from their own sides."""
        n = self.n_actions
        obs_0 = np.zeros(self.obs_dim, dtype=np.float32)
        obs_1 = np.zeros(self.obs_dim, dtype=np.float32)
        if self._outcome is None:
            obs_0[n * n] = obs_1[n * n] = 1.0
        else:
            a0, a1 = self._outcome
            obs_0[a0 * n + a1] = 1.0
            obs_1[a1 * n + a0] = 1.0
        return obs_0, obs_1

    def state(self) -> np.ndarray:
        """Both observations concatenated, ``[obs_0, obs_1]``, shape ``[2 * (n * n + 1)]``."""
        if not self._has_reset:
            raise ValueError("state() called before reset()")
        return np.concatenate(self._observations())

    # -- reset / step --------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; ``seed`` reseeds the env's RNG (used by ``continuation_prob``).

        Returns ``(observations, infos)``, both keyed by agent; observations mark START.

        Raises:
            TypeError: ``seed`` not an int (a float or bool), ``options`` not a dict.
            ValueError: ``seed`` outside ``[0, 2**64)``.
        """
        seed = self._check_reset_args(seed, options)
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        self.agents = list(self.possible_agents)
        self._round = 0
        self._outcome = None
        self._last_rewards = (0.0, 0.0)
        self._totals = (0.0, 0.0)
        self._has_reset = True
        obs = dict(zip(self.agents, self._observations(), strict=True))
        infos = {a: {"round": 0} for a in self.agents}
        return obs, infos

    def step(
        self, actions: Mapping[str, int]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one round; ``actions`` maps each agent to an int in ``[0, n)``.

        Everything is validated (`check_actions`) before any state changes.
        Returns ``(observations, rewards, terminations, truncations, infos)``.
        """
        a0, a1 = self.check_actions(actions)
        r0, r1 = self.game.rewards(a0, a1)

        self._outcome = (a0, a1)
        self._round += 1
        self._last_rewards = (r0, r1)
        self._totals = (self._totals[0] + r0, self._totals[1] + r1)
        truncated = self._round >= self.max_cycles
        terminated = False
        if self.continuation_prob is not None:
            assert self._np_random is not None  # seeded by reset()
            terminated = bool(self._np_random.random() >= self.continuation_prob) and not truncated

        obs = dict(zip(self.agents, self._observations(), strict=True))
        infos = {a: {"round": self._round} for a in self.agents}
        return self._round_result(obs, (r0, r1), terminated, truncated, infos)

    # -- rendering -------------------------------------------------------------------------

    def _render_text(self) -> str:
        g = self.game
        head = f"{g.name} round {self._round}/{self.max_cycles}:"
        totals = f"totals {self._totals[0]:g}, {self._totals[1]:g}"
        if self._outcome is None:
            return f"{head} start | {totals}"
        a0, a1 = self._outcome
        r0, r1 = self._last_rewards
        return (
            f"{head} {AGENTS[0]} {g.action_names[a0]}, {AGENTS[1]} {g.action_names[a1]} "
            f"| rewards {r0:g}, {r1:g} | {totals}"
        )

    def __repr__(self) -> str:
        return (
            f"IteratedMatrixGameEnv({self.game.name!r}, max_cycles={self.max_cycles}, "
            f"continuation_prob={self.continuation_prob})"
        )


def parallel_env(game: MatrixGame | str, **kwargs: Any) -> IteratedMatrixGameEnv:
    """The parallel env of ``game``; ``kwargs`` as `IteratedMatrixGameEnv`."""
    return IteratedMatrixGameEnv(game, **kwargs)


def raw_env(game: MatrixGame | str, **kwargs: Any) -> AECEnv:
    """The unwrapped AEC env: ``parallel_to_aec_wrapper(parallel_env(game, **kwargs))``."""
    return parallel_to_aec_wrapper(parallel_env(game, **kwargs))


def env(game: MatrixGame | str, **kwargs: Any) -> AECEnv:
    """The AEC env of ``game`` with order and action checks (`CheckedAECWrapper`)."""
    return CheckedAECWrapper(raw_env(game, **kwargs))


def env_functions(
    game: str,
) -> tuple[Callable[..., AECEnv], Callable[..., IteratedMatrixGameEnv], Callable[..., AECEnv]]:
    """``(env, parallel_env, raw_env)`` with ``game`` fixed, for a game's ``*_v0`` module.

    Each takes the keyword arguments of `IteratedMatrixGameEnv` (``max_cycles``,
    ``continuation_prob``, ``render_mode``).
    """
    get_game(game)  # fail at import for an unknown name

    def game_env(**kwargs: Any) -> AECEnv:
        """AEC env with order and action checks; kwargs as ``IteratedMatrixGameEnv``."""
        return env(game, **kwargs)

    def game_parallel_env(**kwargs: Any) -> IteratedMatrixGameEnv:
        """Parallel env; kwargs as ``IteratedMatrixGameEnv`` (max_cycles, ...)."""
        return parallel_env(game, **kwargs)

    def game_raw_env(**kwargs: Any) -> AECEnv:
        """Unwrapped AEC env (the parallel env through ``parallel_to_aec_wrapper``)."""
        return raw_env(game, **kwargs)

    return game_env, game_parallel_env, game_raw_env

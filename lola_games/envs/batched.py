"""Torch-native batched iterated matrix games: ``B`` games stepped at once on one device.

Same games (payoffs read from `MatrixGame.payoff_tensor`) and same observation encoding
as the PettingZoo env `lola_games.envs.iterated`:

* an observation is a one-hot vector of length ``n * n + 1``; after a round it marks the
  previous outcome seen from the observer's side, ``(own, other)``, at index
  ``own * n + other``; at reset it marks START at the last index ``n * n``;
* player ``i``'s reward is ``payoffs[i, own, other]``;
* an episode lasts ``max_cycles`` rounds (truncation), or ends earlier with probability
  ``1 - continuation_prob`` after each round (termination) when ``continuation_prob`` is given.

Tensors are batch-first: observations ``[B, 2, n * n + 1]`` (player 0 then player 1),
actions ``[B, 2]`` (integer), rewards ``[B, 2]``, done flags ``[B]``. Finished games reset
automatically: the observation returned for them is START and ``info["final_obs"]`` holds
the last outcome's observation (pass ``autoreset=False`` to step an episode exactly once).

A round is a few table lookups by joint action, read for groups of games at once
(`lola_games.envs.joint_tables`); the memory-one states of a lockstep round are read from
them when `BatchedIteratedGame.states` is asked for.

Memory-one *state* indices (``start=0``, then ``1 + own * n + other``, the order of
`MatrixGame.state_names` and of the logits in `lola_games.values.exact`) are available as
`BatchedIteratedGame.states`; `outcome_states` and `encode_states` convert
joint outcomes to states and states to observations.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from lola_games.core.checks import (
    check_continuation_prob,
    check_flag,
    check_positive_int,
    check_seed,
    check_torch_setup,
)
from lola_games.core.tensors import transform_active
from lola_games.envs.joint_tables import JointTables
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game

__all__ = [
    "BatchedIteratedGame",
    "outcome_states",
    "encode_states",
    "state_to_obs_index",
    "reward_table",
]


def reward_table(
    game: MatrixGame, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Rewards ``[n * n, 2]`` of both players by joint action index ``a0 * n + a1``."""
    payoffs = game.payoff_tensor(device=device, dtype=dtype)
    n = game.n_actions
    joint = torch.arange(n * n, device=payoffs.device)
    a0, a1 = joint // n, joint % n
    return torch.stack([payoffs[0, a0, a1], payoffs[1, a1, a0]], dim=-1)


def _integer_index(name: str, values: Any, low: int, high: int) -> torch.Tensor:
    """``values`` as a long tensor after checking it is an integer tensor in ``[low, high)``.

    Bool and floating tensors are refused (a ``uint8`` or ``bool`` tensor would index as a
    mask); small integer dtypes are widened so that arithmetic on them cannot overflow. The
    range check is skipped inside ``torch.func`` transforms (data-dependent).
    """
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(values).__name__}")
    if values.dtype == torch.bool or values.is_floating_point() or values.is_complex():
        raise TypeError(f"{name} must be an integer tensor, got dtype {values.dtype}")
    if not transform_active() and values.numel():
        bad = (values < low) | (values >= high)
        if bool(bad.any()):
            raise ValueError(f"{name} must be in [{low}, {high}), got {int(values[bad][0])}")
    return values.long()


def outcome_states(actions: torch.Tensor, n_actions: int) -> torch.Tensor:
    """Memory-one states ``[..., 2]`` (long) after a round with joint ``actions`` ``[..., 2]``.

    Player ``i`` sees ``(own, other) = (a_i, a_{1-i})``, state ``1 + own * n + other``.
    ``actions`` may have any integer dtype; bool, float or out-of-range actions raise.
    """
    actions = _integer_index("actions", actions, 0, n_actions)
    if actions.ndim == 0 or actions.shape[-1] != 2:
        raise ValueError(f"actions must have shape [..., 2], got {list(actions.shape)}")
    a0, a1 = actions[..., 0], actions[..., 1]
    return torch.stack([1 + a0 * n_actions + a1, 1 + a1 * n_actions + a0], dim=-1)


def state_to_obs_index(states: torch.Tensor, n_actions: int) -> torch.Tensor:
    """Observation index of memory-one states: outcome ``k`` -> ``k - 1``, START -> ``n * n``."""
    states = _integer_index("states", states, 0, n_actions * n_actions + 1)
    return torch.where(states == 0, n_actions * n_actions, states - 1)


def encode_states(
    states: torch.Tensor, n_actions: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """One-hot observations ``[..., n * n + 1]`` of memory-one states ``[...]`` (any integer
    dtype; values in ``[0, n * n]``)."""
    index = state_to_obs_index(states, n_actions)
    return torch.nn.functional.one_hot(index, n_actions * n_actions + 1).to(dtype)


class BatchedIteratedGame:
    """``batch_size`` copies of an iterated matrix game stepped together as tensors.

    Args:
        game: a `MatrixGame` or a built-in game's name.
        batch_size: number of games ``B`` stepped at once.
        max_cycles: rounds per episode (truncation), like the PettingZoo env's ``max_cycles``.
        continuation_prob: optional probability in ``(0, 1]`` that an episode continues after a
            round; ``None`` (default) means episodes run exactly ``max_cycles`` rounds.
        device: where all tensors live.
        dtype: floating dtype of observations and rewards.
        generator: ``torch.Generator`` on ``device`` used for the continuation_prob draws; one is
            created (seeded by `reset`'s ``seed``) when omitted.
        autoreset: reset finished games inside `step` (default). With ``False``,
            stepping a finished game raises ``RuntimeError`` until `reset`.

    Raises:
        ValueError: ``batch_size`` or ``max_cycles`` not a positive int, ``continuation_prob``
            not a number in ``(0, 1]``, an unknown device, or a generator on another device.
        TypeError: ``dtype`` not a floating ``torch.dtype``, ``generator`` not a
            ``torch.Generator``, ``autoreset`` not a bool.

    The env can be deep-copied and pickled (with its generator's state), so a copy replays
    the original's trajectory.
    """

    def __init__(
        self,
        game: MatrixGame | str,
        batch_size: int,
        max_cycles: int = 150,
        *,
        continuation_prob: float | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
        autoreset: bool = True,
    ) -> None:
        self.game = get_game(game)
        batch_size = check_positive_int("batch_size", batch_size)
        max_cycles = check_positive_int("max_cycles", max_cycles)
        continuation_prob = check_continuation_prob(continuation_prob)
        self.device = check_torch_setup(device, dtype, generator)
        autoreset = check_flag("autoreset", autoreset)
        self.batch_size = batch_size
        self.max_cycles = max_cycles
        self.continuation_prob = continuation_prob
        self.dtype = dtype
        self.autoreset = autoreset
        self.generator = generator
        self.n_actions = self.game.n_actions
        self.obs_dim = self.n_actions * self.n_actions + 1
        # [2, n, n] -> reward of player i for (own, other)
        self.payoffs = self.game.payoff_tensor(device=self.device, dtype=dtype)

        self.single_observation_space = gym.spaces.Box(0.0, 1.0, (self.obs_dim,), np.float32)
        self.single_action_space = gym.spaces.Discrete(self.n_actions)
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, (batch_size, 2, self.obs_dim), np.float32
        )
        self.action_space = gym.spaces.MultiDiscrete(
            np.full((batch_size, 2), self.n_actions, dtype=np.int64)
        )

        self._states = torch.zeros(batch_size, 2, dtype=torch.long, device=self.device)
        self._codes: torch.Tensor | None = None  # group codes of the last round, see `states`
        self._t = torch.zeros(batch_size, dtype=torch.long, device=self.device)
        self._done = torch.zeros(batch_size, dtype=torch.bool, device=self.device)
        self._start_obs = encode_states(self._states[0], self.n_actions, dtype)  # [2, n*n+1]
        self._round = 0
        # lookup tables over the joint action index a0 * n + a1, read for groups of games
        joint = torch.cartesian_prod(*[torch.arange(self.n_actions, device=self.device)] * 2)
        states = outcome_states(joint, self.n_actions)  # [n*n, 2]
        self._tables = JointTables(
            {
                "rewards": reward_table(self.game, self.device, dtype),  # [n*n, 2]
                "states": states,
                "obs": encode_states(states, self.n_actions, dtype),  # [n*n, 2, n*n+1]
            },
            self.n_actions,
            batch_size,
        )
        self._needs_reset = True

    def __repr__(self) -> str:
        return (
            f"BatchedIteratedGame({self.game.name!r}, batch_size={self.batch_size}, "
            f"max_cycles={self.max_cycles}, device={self.device})"
        )

    @property
    def states(self) -> torch.Tensor:
        """Memory-one states ``[B, 2]`` (long) of the games' last round (``0``: START).

        After a round in lockstep they are read from the round's joint actions when asked
        for (most steps never need them)."""
        if self._codes is not None:
            self._states = self._tables.rows(self._codes, "states")[0]
            self._codes = None
        return self._states

    @states.setter
    def states(self, value: torch.Tensor) -> None:
        self._states = value
        self._codes = None

    @property
    def t(self) -> torch.Tensor:
        """Rounds played in each game's episode ``[B]`` (long)."""
        if self.continuation_prob is None:  # lockstep: one round counter
            return torch.full_like(self._t, self._round)
        return self._t

    def observe(self) -> torch.Tensor:
        """Current observations ``[B, 2, n * n + 1]``."""
        return encode_states(self.states, self.n_actions, self.dtype)

    def reset(self, seed: int | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """Start all ``B`` games; returns ``(obs [B, 2, n*n+1], info)``.

        ``seed`` (re)seeds the continuation_prob generator (creating one if needed); it must
        be an int in ``[0, 2**64)`` (``TypeError`` for a float or bool, else ``ValueError``).
        """
        seed = check_seed(seed)
        if seed is not None:
            if self.generator is None:
                self.generator = torch.Generator(device=self.device)
            self.generator.manual_seed(seed)
        self.states = torch.zeros_like(self._states)
        self._t = torch.zeros_like(self._t)
        self._round = 0
        self._done.zero_()
        self._needs_reset = False
        return self.observe(), {}

    def check_actions(self, actions: Any, *, check_range: bool = True) -> torch.Tensor:
        """``actions`` as a long ``[B, 2]`` tensor, or ``TypeError``/``ValueError``.

        Any integer dtype is accepted and widened to long after the range check; bool and
        floating tensors are refused. ``check_range=False`` skips only the range check (the
        one that synchronises with the device).
        """
        if not isinstance(actions, torch.Tensor):
            raise TypeError(
                f"actions must be a torch.Tensor of shape [{self.batch_size}, 2], "
                f"got {type(actions).__name__}"
            )
        if actions.dtype == torch.bool or actions.is_floating_point() or actions.is_complex():
            raise TypeError(f"actions must be an integer tensor, got dtype {actions.dtype}")
        if tuple(actions.shape) != (self.batch_size, 2):
            raise ValueError(
                f"actions must have shape [{self.batch_size}, 2] (game, player), "
                f"got {list(actions.shape)}"
            )
        if actions.device != self.device:
            raise ValueError(f"actions are on {actions.device} but the env is on {self.device}")
        if check_range:
            bad = (actions < 0) | (actions >= self.n_actions)
            if bool(bad.any()):
                value = int(actions[bad][0])
                raise ValueError(
                    f"actions must be in [0, {self.n_actions}) for {self.game.name!r}, "
                    f"got {value}"
                )
        return actions.long()

    def step(
        self, actions: torch.Tensor, *, check: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """Play one round in every game.

        Args:
            actions: integer tensor ``[B, 2]`` (any integer dtype) on the env's device,
                ``actions[b, i]`` in ``[0, n)`` is player ``i``'s action in game ``b``.
            check: check that the actions are in range (this synchronises with the device);
                samplers that produce valid actions pass ``False``. Dtype, shape and device
                are always checked.

        Returns:
            ``(obs, rewards, terminated, truncated, info)``: obs ``[B, 2, n*n+1]``, rewards
            ``[B, 2]``, terminated and truncated ``[B]`` bool. With autoreset, finished
            games already show START in ``obs`` and ``info["final_obs"]`` is the
            observation of the round just played (for all games).
        """
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = self.check_actions(actions, check_range=check)
        if not self.autoreset and bool(self._done.any()):
            raise RuntimeError("some games are finished; call reset() (autoreset=False)")
        codes = self._tables.codes(actions)  # [B / k] joint actions of groups of k games
        rewards, obs = self._tables.rows(codes, "rewards", "obs")  # [B, 2], [B, 2, n*n+1]
        info: dict[str, Any] = {}
        if self.continuation_prob is None:  # all games in lockstep: one round counter
            self._codes = codes  # the states, read when asked for
            self._round += 1
            ended = self._round >= self.max_cycles
            terminated = torch.zeros(self.batch_size, dtype=torch.bool, device=self.device)
            truncated = (torch.ones_like if ended else torch.zeros_like)(terminated)
            if self.autoreset:
                info["final_obs"] = obs
                if ended:
                    self._round = 0
                    self.states = torch.zeros_like(self._states)
                    obs = self._start_obs.expand_as(obs).clone()
            else:
                self._done = truncated
            return obs, rewards, terminated, truncated, info

        states = self._tables.rows(codes, "states")[0]
        self._t = self._t + 1
        truncated = self._t >= self.max_cycles
        u = torch.rand(self.batch_size, device=self.device, generator=self._rng())
        terminated = (u >= self.continuation_prob) & ~truncated
        done = terminated | truncated
        if self.autoreset:
            info["final_obs"] = obs
            states = torch.where(done[:, None], 0, states)
            self._t = torch.where(done, 0, self._t)
            obs = torch.where(done[:, None, None], self._start_obs, obs)
        else:
            self._done = done
        self.states = states
        return obs, rewards, terminated, truncated, info

    def _rng(self) -> torch.Generator:
        if self.generator is None:
            self.generator = torch.Generator(device=self.device)
            self.generator.manual_seed(0)
        return self.generator

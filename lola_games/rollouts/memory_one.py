"""Play memory-one policies in a PettingZoo iterated-game env, one episode at a time.

A memory-one policy of a 2-action game is 5 logits (start, CC, CD, DC, DD from the player's
own side; ``sigmoid(logit)`` = P(action 0)), the convention of `lola_games.values.exact`.
Each player picks its action from its own observation only, as in the environment.

Two orders meet here: the logits are ``[start, CC, CD, DC, DD]``, the envs' one-hot
observations ``[CC, CD, DC, DD, START]`` (START last, as in PettingZoo's layout). Never index
logits with ``obs.argmax()``: `state_index` maps observations of either env to the logit
index, and `MemoryOnePolicy` acts on them directly, so the same policy object plays the
PettingZoo env, the batched env (`lola_games.envs.batched.BatchedIteratedGame`) and the exact
values (its ``logits``).

`play_memory_one` is the slow, reference way to play (one Python step per round); training
code uses the batched env or the exact values.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from pettingzoo import ParallelEnv

from lola_games.values.exact import N_STATES

__all__ = [
    "observation_state",
    "state_index",
    "MemoryOnePolicy",
    "action_0_probs",
    "play_memory_one",
]


def observation_state(observation: np.ndarray) -> int:
    """Memory-one state of a one-hot observation ``[n * n + 1]``: START -> 0, outcome k -> k + 1.

    Raises:
        ValueError: unless ``observation`` is a one-hot vector.
    """
    obs = np.asarray(observation)
    if obs.ndim != 1 or np.count_nonzero(obs) != 1 or obs.max() != 1:
        raise ValueError(f"observation must be a one-hot vector, got {obs!r}")
    index = int(obs.argmax())
    return 0 if index == obs.shape[0] - 1 else index + 1


def state_index(obs: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Memory-one state (the index into the logits) of one-hot env observations.

    Observations of both envs are one-hot ``[..., n * n + 1]`` in the order ``[outcome 0, ...,
    outcome n*n - 1, START]`` (``[CC, CD, DC, DD, START]`` for 2 actions); memory-one logits
    are ``[start, outcome 0, ...]`` (``[start, CC, CD, DC, DD]``). START -> 0, outcome k ->
    k + 1.

    Args:
        obs: one-hot observations ``[..., n * n + 1]``: a torch tensor (the batched env's
            ``[B, 2, 5]`` or one player's ``[B, 5]``) or a numpy array (a PettingZoo
            observation ``[5]``).

    Returns:
        ``[...]`` state indices: int64, a tensor for a tensor (same device), else an array.

    Raises:
        ValueError: an observation that is not one-hot (exactly one entry 1, the others 0).
    """
    x = obs if isinstance(obs, torch.Tensor) else torch.as_tensor(np.asarray(obs))
    if x.ndim == 0 or x.shape[-1] < 2:
        raise ValueError(f"obs must be one-hot vectors [..., n * n + 1], got shape "
                         f"{list(x.shape)}")
    ones, zeros = (x == 1).sum(-1), (x == 0).sum(-1)
    if not bool(((ones == 1) & (zeros == x.shape[-1] - 1)).all()):
        raise ValueError("obs must be one-hot vectors [..., n * n + 1] (one entry 1, the "
                         "others 0)")
    index = x.argmax(-1)
    start = x.shape[-1] - 1
    states = torch.where(index == start, torch.zeros_like(index), index + 1)
    return states if isinstance(obs, torch.Tensor) else states.numpy()


class MemoryOnePolicy:
    """A memory-one policy of a 2-action game that acts on observations of either env.

    Args:
        logits: ``[..., 5]`` logits ``[start, CC, CD, DC, DD]`` from the player's own side
            (``sigmoid(logit)`` = P(action 0)), the convention of `lola_games.values.exact`;
            leading dimensions (a batch of policies) broadcast against the observations'.

    Raises:
        ValueError: logits whose last dimension is not 5, or NaN logits.
    """

    def __init__(self, logits: torch.Tensor | np.ndarray | Sequence[float]) -> None:
        x = torch.as_tensor(logits if isinstance(logits, torch.Tensor) else np.asarray(
            logits, dtype=np.float64))
        if x.ndim == 0 or x.shape[-1] != N_STATES:
            raise ValueError(f"logits must have shape [..., {N_STATES}] (start, CC, CD, DC, "
                             f"DD), got {list(x.shape)}")
        if not x.is_floating_point() or bool(torch.isnan(x).any()):
            raise ValueError("logits must be floating-point numbers without NaN")
        self.logits = x.detach()

    @classmethod
    def from_actions(cls, start: int, cc: int, cd: int, dc: int, dd: int) -> MemoryOnePolicy:
        """A deterministic policy: the action (0 or 1) it plays at the start and after each
        outcome (own, other), e.g. tit-for-tat ``from_actions(0, 0, 1, 0, 1)``."""
        actions = [start, cc, cd, dc, dd]
        if any(a not in (0, 1) or isinstance(a, bool) for a in actions):
            raise ValueError(f"actions must be 0 or 1, got {actions}")
        big = 40.0  # sigmoid(40) is exactly 1.0 in float32 and float64
        return cls(torch.tensor([big if a == 0 else -big for a in actions],
                                dtype=torch.float64))

    @property
    def probs(self) -> torch.Tensor:
        """``[..., 5]`` P(action 0) per state, in the logits' order."""
        return torch.sigmoid(self.logits)

    def act(self, obs: torch.Tensor | np.ndarray,
            generator: torch.Generator | None = None) -> torch.Tensor | np.ndarray | int:
        """Sample actions for one-hot observations of either env (see `state_index`).

        Args:
            obs: ``[..., 5]`` observations of this player: one player's slice of the batched
                env's ``obs[:, i]`` (a tensor), or a PettingZoo observation (an array ``[5]``).
            generator: ``torch.Generator`` for the draws (default: torch's global one).

        Returns:
            ``[...]`` actions (1 with probability ``1 - P(action 0)``): int64, a tensor for a
            tensor (on its device), an int for one numpy observation, else an array.
        """
        states = state_index(obs)
        x = torch.as_tensor(states)
        device = x.device if generator is None else generator.device
        probs = self.probs.to(device)
        batch = torch.broadcast_shapes(probs.shape[:-1], x.shape)
        p = probs.expand(*batch, N_STATES).gather(-1, x.to(device).expand(batch)[..., None])
        draws = torch.rand(batch, generator=generator, dtype=probs.dtype, device=device)
        actions = (draws >= p[..., 0]).long()
        if isinstance(obs, torch.Tensor):
            return actions.to(x.device)
        return int(actions) if actions.ndim == 0 else actions.numpy()

    def __repr__(self) -> str:
        return f"MemoryOnePolicy(probs={self.probs.tolist()})"


def action_0_probs(logits: torch.Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    """P(action 0) in each memory-one state, ``sigmoid(logits)``, as float64 ``[5]``.

    Raises:
        ValueError: unless ``logits`` holds 5 finite numbers.
    """
    if isinstance(logits, torch.Tensor):
        logits = logits.detach().cpu().double().numpy()
    x = np.asarray(logits, dtype=np.float64)
    if x.shape != (N_STATES,):
        raise ValueError(
            f"logits must have shape [{N_STATES}] (start, CC, CD, DC, DD), got {list(x.shape)}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("logits contain NaN or infinite values")
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # sigmoid without overflow


def play_memory_one(
    env: ParallelEnv,
    logits_0: torch.Tensor | np.ndarray | Sequence[float],
    logits_1: torch.Tensor | np.ndarray | Sequence[float],
    episodes: int,
    *,
    discount: float = 1.0,
    seed: int | None = None,
) -> np.ndarray:
    """Play ``episodes`` episodes of two memory-one policies in a 2-action parallel env.

    Args:
        env: a parallel env with agents ``player_0``, ``player_1``, ``Discrete(2)`` actions and
            one-hot observations (e.g. ``ipd_v0.parallel_env()``); it is reset here.
        logits_0, logits_1: the two policies, ``[5]`` each, from their own sides.
        episodes: number of episodes.
        discount: weight ``discount**t`` of round ``t``'s reward in the returns (1: plain sum).
        seed: seeds the action sampling and, at the first reset, the env.

    Returns:
        float64 ``[episodes, 2]``: each player's return ``sum_t discount**t * r_t``.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive int, got {episodes!r}")
    if (isinstance(discount, (bool, np.bool_)) or not isinstance(discount, numbers.Real)
            or not 0.0 <= discount <= 1.0):
        raise ValueError(f"discount must be in [0, 1] (a number), got {discount!r}")
    agents = tuple(env.possible_agents)
    for agent in agents:
        n = getattr(env.action_space(agent), "n", None)
        if n != 2:
            raise ValueError(
                f"memory-one logits need 2 actions; {agent} has action space "
                f"{env.action_space(agent)}"
            )
    probs = dict(zip(agents, (action_0_probs(logits_0), action_0_probs(logits_1)), strict=True))
    rng = np.random.default_rng(seed)
    returns = np.zeros((episodes, len(agents)))
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed if episode == 0 else None)
        weight = 1.0
        while env.agents:
            actions = {
                a: int(rng.random() >= probs[a][observation_state(obs[a])]) for a in env.agents
            }
            obs, rewards, _, _, _ = env.step(actions)
            returns[episode] += weight * np.array([rewards[a] for a in agents])
            weight *= discount
    return returns

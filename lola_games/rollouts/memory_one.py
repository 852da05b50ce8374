"""Play memory-one policies in a PettingZoo iterated-game env, one episode at a time.

A memory-one policy of a 2-action game is 5 logits (start, CC, CD, DC, DD from the player's
own side; ``sigmoid(logit)`` = P(action 0)), the convention of `lola_games.values.exact`.
Each player picks its action from its own observation only, as in the environment.

This is the slow, reference way to play (one Python step per round); training code uses the
batched env or the exact values.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from pettingzoo import ParallelEnv

from lola_games.values.exact import N_STATES

__all__ = ["observation_state", "action_0_probs", "play_memory_one"]


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

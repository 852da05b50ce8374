"""The POLA code's scores of sampled learners: play against fixed memory-one strategies.

`evaluate_pola` is the evaluator of POLA-DiCE and POLA-OM (`lola_games.agents.pola_dice`):
`lola_games.agents.sampled.sampled_metrics`, and on a two-action matrix game each player's
mean reward per round against each of `FIXED_STRATEGIES`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Agent
from lola_games.agents.sampled import SampledLearner, as_player, sampled_metrics
from lola_games.core.tensors import ParamTree
from lola_games.games.matrix import MatrixGame
from lola_games.rollouts import TabularPolicy, sample_rollout

__all__ = ["FIXED_STRATEGIES", "evaluate_pola"]

FIXED_STRATEGIES: dict[str, tuple[float, ...]] = {
    "alld": (-1e4,) * 5,
    "allc": (1e4,) * 5,
    "tft": (1e4, 1e4, -1e4, 1e4, -1e4),
}
"""Deterministic memory-one logits (start, CC, CD, DC, DD; own side) of the fixed strategies
the POLA code scores each learned policy against."""



@torch.no_grad()
def evaluate_pola(
    game: Any,
    agents: tuple[Agent, ...],
    params: tuple[ParamTree, ...],
    gamma: float,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """`sampled_metrics`, and on a two-action matrix game each
    player's mean reward per round against the POLA code's fixed strategies:
    ``vs_alld``, ``vs_allc``, ``vs_tft`` (each ``[2, S]``; a fresh batch of episodes of the
    first sampled learner's size, the player in its own seat)."""
    out = sampled_metrics(game, agents, params, gamma, generator)
    if not isinstance(game, MatrixGame) or game.n_actions != 2:
        return out
    sampled = [a for a in agents if isinstance(a, SampledLearner)]
    batch, length = (sampled[0].batch_size, sampled[0].rollout_len) if sampled else (128, 150)
    for name, logits in FIXED_STRATEGIES.items():
        scores = []
        for i in range(2):
            policy, player, _ = as_player(agents[i], params[i])
            own = player["policy"]
            first = next(iter(own.values()))
            fixed = {"logits": torch.tensor(logits, dtype=first.dtype, device=first.device)
                     .expand(first.shape[0], 5)}
            pols: list[Any] = [TabularPolicy(), TabularPolicy()]
            pair: list[Any] = [fixed, fixed]
            pols[i], pair[i] = policy, own
            roll = sample_rollout(game, tuple(pols), tuple(pair), batch, length, generator)
            scores.append(roll.rewards[..., i].mean(dim=(-1, -2)))
        out[f"vs_{name}"] = torch.stack(scores).to(out["value"].dtype)
    return out

"""The scores of LOQA runs: the pair's metrics and each learner in self-play.

LOQA trains in self-play (MiladInk/loqa, ``coin_train.py`` with ``just_self_play=True``
evaluates the agent against itself), so besides the runner's metrics of the two players
with each other (`lola_games.agents.sampled.sampled_metrics`, here two independently
trained learners), `evaluate_loqa` plays each player's params against themselves and adds
``self_value`` (mean reward per round) and, on the Coin Game, ``self_own_coin_share`` and
``self_coins_per_round`` (each ``[2, S]``: player, seed; a fresh batch of the first sampled
learner's size). Scores against fixed opponents are not part of it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Agent
from lola_games.agents.sampled import sampled_metrics
from lola_games.core.tensors import ParamTree
from lola_games.rollouts.games import is_coin_game

__all__ = ["evaluate_loqa", "SELF_PLAY_METRICS"]

SELF_PLAY_METRICS = ("value", "own_coin_share", "coins_per_round")
"""The metrics of `sampled_metrics` that `evaluate_loqa` also takes in self-play (with the
prefix ``self_``; the last two on the Coin Game only)."""


@torch.no_grad()
def evaluate_loqa(
    game: Any,
    agents: tuple[Agent, ...],
    params: tuple[ParamTree, ...],
    gamma: float,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """`sampled_metrics` of the pair, and each player against itself (module docstring)."""
    out = sampled_metrics(game, agents, params, gamma, generator)
    per_player: dict[str, list[Tensor]] = {}
    for agent, own in zip(agents, params, strict=True):
        alone = sampled_metrics(game, (agent, agent), (own, own), gamma, generator)
        for name in SELF_PLAY_METRICS:
            if name in alone:  # both seats play the same params: the mean of the two
                per_player.setdefault(name, []).append(alone[name].mean(0))
    for name, rows in per_player.items():
        if name != "value" and not is_coin_game(game):
            continue
        out[f"self_{name}"] = torch.stack(rows)
    return out

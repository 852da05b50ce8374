"""The exact evaluation of memory-one agents: values per step and P(action 0) per state."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from lola_games.core.protocols import MemoryOneAgent
from lola_games.core.tensors import ParamTree
from lola_games.games.matrix import MatrixGame
from lola_games.values.exact import exact_values

__all__ = ["Metrics", "memory_one_metrics", "exact_evaluate"]

Metrics = dict[str, Tensor]
"""Named metrics of one evaluation: name -> ``[P, S]`` (player, seed); ``"value"`` always."""


def memory_one_metrics(game: MatrixGame, probs: Tensor) -> Metrics:
    """``p_<state>`` metrics ``[P, S]`` from P(action 0) ``probs [P, S, n_states]``."""
    return {f"p_{state}": probs[..., k] for k, state in enumerate(game.state_names)}


@torch.no_grad()
def exact_evaluate(
    game: MatrixGame,
    agents: Sequence[MemoryOneAgent],
    params: Sequence[ParamTree],
    gamma: float,
    generator: torch.Generator | None = None,
) -> Metrics:
    """Exact per-step values (`lola_games.values.exact.exact_values`) of memory-one
    agents (each with a ``logits(params) -> [S, 5]`` method), and their P(action 0) per
    state: ``{"value", "p_start", "p_CC", ...}``, each ``[2, S]``."""
    logits = [agents[i].logits(params[i]) for i in range(2)]
    v0, v1 = exact_values(game, logits[0], logits[1], gamma)
    return {"value": torch.stack([v0, v1]),
            **memory_one_metrics(game, torch.sigmoid(torch.stack(logits)))}

"""The record of sampled Coin Game episodes (`CoinRollout`), shared by the sampling code and
the Coin Game's rollouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from lola_games.core.tensors import ParamDict
from lola_games.envs.coin_boards import coin_observations
from lola_games.games.coin import CoinGame

__all__ = ["CoinRollout"]


@dataclass
class CoinRollout:
    """Sampled Coin Game episodes, ``S`` seeds x ``B`` episodes x ``T`` rounds.

    Attributes:
        game: the game played.
        cells: ``[S, B, T, 3]`` (long) the board before round ``t``: player 0's, player 1's
            and the coin's cell.
        coin_owner: ``[S, B, T]`` (long) the coin's colour before round ``t`` (0 or 1).
        actions: ``[S, B, T, 2]`` (long) both players' moves.
        rewards: ``[S, B, T, 2]`` both players' rewards.
        picked_own: ``[S, B, T, 2]`` (bool) whether player ``i`` picked up a coin of its own
            colour in round ``t``.
        picked_other: ``[S, B, T, 2]`` (bool) whether player ``i`` picked up a coin of the
            other's colour in round ``t``.
        logits: per player, the logits ``[S, B, T, 4]`` its policy gave while the episodes
            were sampled (with the graph to its parameters when grad was on and they
            require it), or ``None``: kept for policies with ``records_logits = True``
            (`lola_games.rollouts.coin.sample_coin_rollout`), so that log-probabilities
            need not be recomputed (`logits_of`).
        sampled_with: per player, the parameter tensors the logits were computed with.
        memo: what a learner computed from these episodes and uses twice, by a key of its
            own (the learners of `lola_games.agents.pg` keep their value baseline's forward
            pass here for the value function's step on the same episodes).
    """

    game: CoinGame
    cells: Tensor
    coin_owner: Tensor
    actions: Tensor
    rewards: Tensor
    picked_own: Tensor
    picked_other: Tensor
    logits: tuple[Tensor | None, Tensor | None] = (None, None)
    sampled_with: tuple[tuple[Tensor, ...], tuple[Tensor, ...]] = field(
        default=((), ()), repr=False)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def logits_of(self, player: int, params: ParamDict) -> Tensor | None:
        """The recorded logits ``[S, B, T, 4]`` of ``player`` when they were computed with
        exactly these parameter tensors (the same objects), else ``None``."""
        recorded, used = self.logits[player], self.sampled_with[player]
        current = tuple(params.values())
        if recorded is None or len(used) != len(current):
            return None
        return recorded if all(a is b for a, b in zip(used, current, strict=True)) else None

    def obs(self, player: int, dtype: torch.dtype = torch.float32) -> Tensor:
        """Observations ``[S, B, T, 4, N, N]`` of ``player`` (from its own side)."""
        if player not in (0, 1):
            raise ValueError(f"player must be 0 or 1, got {player!r}")
        return coin_observations(self.game, self.cells, self.coin_owner, player, dtype)

"""The record of sampled Coin Game episodes (`CoinRollout`), shared by the sampling code and
the Coin Game's rollouts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

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
    """

    game: CoinGame
    cells: Tensor
    coin_owner: Tensor
    actions: Tensor
    rewards: Tensor
    picked_own: Tensor
    picked_other: Tensor

    def obs(self, player: int, dtype: torch.dtype = torch.float32) -> Tensor:
        """Observations ``[S, B, T, 4, N, N]`` of ``player`` (from its own side)."""
        if player not in (0, 1):
            raise ValueError(f"player must be 0 or 1, got {player!r}")
        return coin_observations(self.game, self.cells, self.coin_owner, player, dtype)

"""Coin Game boards as tensors: observations of batches of boards, and the small lookups and
draws that `lola_games.envs.batched_coin.BatchedCoinGame` steps them with."""

from __future__ import annotations

import torch
from torch import Tensor

from lola_games.games.coin import CoinGame

__all__ = ["channel_cells", "coin_observations", "WORD_DTYPES", "RowLookup", "uniform_rank",
           "same_device"]


def channel_cells(game: CoinGame, cells: Tensor, coin_owner: Tensor, player: int) -> Tensor:
    """``[..., 4]``: the cell of each of ``player``'s observation channels (``N * N``: empty)."""
    own, other, coin = cells[..., player], cells[..., 1 - player], cells[..., 2]
    return torch.stack(game.observation_cells(own, other, coin, coin_owner == player), dim=-1)


def coin_observations(
    game: CoinGame,
    cells: Tensor,
    coin_owner: Tensor,
    player: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Observations of boards ``cells [..., 3]``, ``coin_owner [...]`` from the players' sides.

    Returns ``[..., 2, 4, N, N]`` (both players), or ``[..., 4, N, N]`` for ``player`` 0 or 1.
    """
    players = (0, 1) if player is None else (player,)
    channels = torch.stack([channel_cells(game, cells, coin_owner, p) for p in players], -2)
    # rows of the identity, and a row of zeros for an empty channel
    eye = torch.eye(game.n_cells + 1, game.n_cells, dtype=dtype, device=cells.device)
    obs = eye.index_select(0, channels.flatten())
    shape = channels.shape[:-2] if player is not None else channels.shape[:-1]
    return obs.view(*shape, *game.obs_shape)


WORD_DTYPES = {2: torch.int16, 4: torch.int32, 8: torch.int64}
"""The integer dtype of each word size in bytes (rows `RowLookup` reads as one word)."""


class RowLookup:
    """``table[index]`` for a small table. Rows of 2, 4 or 8 bytes are looked up as single
    machine words: a 1-d ``index_select`` is several times faster on CPU than one of short
    rows."""

    def __init__(self, table: Tensor) -> None:
        self.table = table.contiguous()
        row_bytes = self.table[0].numel() * self.table.element_size()
        words = WORD_DTYPES.get(row_bytes)
        self.words = None if words is None else self.table.view(len(table), -1).view(words)

    def __call__(self, index: Tensor) -> Tensor:
        if self.words is None:
            return self.table.index_select(0, index)
        rows = self.words.view(-1).index_select(0, index).view(self.table.dtype)
        return rows.view(len(index), *self.table.shape[1:])


def uniform_rank(u: Tensor, n: int) -> Tensor:
    """Uniform integers in ``[0, n)`` from uniforms ``u`` in ``[0, 1)``."""
    return torch.clamp((u * n).long(), max=n - 1)


def same_device(a: torch.device, b: torch.device) -> bool:
    """Whether ``a`` and ``b`` are the same device (a device without an index matches any
    index of its type)."""
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


"""The Coin Game (Foerster et al. 2018, Sec. 5.3): the one definition of its rules.

Two players, red (``player_0``) and blue (``player_1``), walk on an ``N x N`` torus on which
lies one coin, red or blue. Every round both players move at once (actions 0 right, 1 left,
2 down, 3 up; a cell is ``row * N + col`` and moves wrap around). Then:

* a player standing on the coin picks it up and gets ``+1``;
* if the coin is the *other* player's colour, that other player gets ``-2``;
* when both players stand on the coin they both pick it up: each gets ``+1`` and the owner
  also gets ``-2`` for the other's pickup (red coin: red ``-1``, blue ``+1``);
* a picked coin is replaced by a coin of the other colour on a cell chosen uniformly among
  the cells no player stands on (there is always one, as ``N >= 2``).

The two players may share a cell. An episode lasts ``max_cycles`` rounds (truncation). At
the start red stands on a uniform cell, blue on a uniform *other* cell, the coin on a uniform
free cell, and its colour is red or blue with probability 1/2.

**Observations** are from each player's own side: ``float32 [4, N, N]`` with channels
(me, other player, coin of my colour, coin of the other's colour), each a one-hot map (the
coin lies in channel 2 or 3). For red this is exactly the original's global encoding
(red, blue, red coin, blue coin); blue sees the same board with channels 0/1 and 2/3
swapped.

Differences from the original code (``CoinGameVec`` of ``alshedivat/lola``,
``lola/envs/coin_game.py``): (1) the simultaneous-pickup rule above. The original checks red
first with ``if/elif``, so red alone gets a coin both step on, an asymmetry against blue
(issue #9 there; its ``lola_dice`` copy was fixed in PR #5 with the rule used here). (2) The
original hands both players red's view of the board; here each player sees its own side,
so one policy can play either colour. Moves (in the original's order), start positions,
respawn (colour flip, uniform over free cells; the original draws until it hits one) and
rewards follow the original.

Both environments read the rules from here: `lola_games.envs.coin_game_v0` (PettingZoo,
NumPy) and `lola_games.envs.batched_coin` (torch, ``B`` games at once). The rule
functions (`CoinGame.rewards`, `CoinGame.free_cell`,
`CoinGame.observation_cells`) are plain arithmetic and work alike on Python ints,
NumPy arrays and torch tensors.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lola_games.games.matrix import FrozenMapping, check_game_action

__all__ = ["CoinGame", "ACTION_NAMES", "MOVES", "CHANNELS", "random_play_rates"]

ACTION_NAMES = ("right", "left", "down", "up")
"""Names of the 4 actions, in index order."""

MOVES = ((0, 1), (0, -1), (1, 0), (-1, 0))
"""``(d_row, d_col)`` of each action (the original's order)."""

CHANNELS = ("me", "other", "my coin", "other's coin")
"""Observation channels, from the observer's side."""


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value}")
    return int(value)


@dataclass(frozen=True)
class CoinGame:
    """The Coin Game on an ``N x N`` torus with episodes of ``max_cycles`` rounds.

    Immutable, hashable, picklable. ``name``, ``n_players``, ``description`` and
    ``reference_levels`` are those of `MatrixGame`.

    Args:
        grid_size: ``N >= 2`` (default 3, the LOLA paper's).
        max_cycles: rounds per episode ``T >= 1`` (default 150).

    Raises:
        ValueError: ``grid_size`` < 2 or ``max_cycles`` < 1, or either not an int.
    """

    grid_size: int = 3
    max_cycles: int = 150

    name: ClassVar[str] = "coin_game"
    n_players: ClassVar[int] = 2
    n_actions: ClassVar[int] = 4
    action_names: ClassVar[tuple[str, ...]] = ACTION_NAMES
    pickup_reward: ClassVar[float] = 1.0
    """Reward of a player for each coin it picks up."""
    loss_penalty: ClassVar[float] = -2.0
    """Reward of the coin's owner when the other player picks it up."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_size", _check_int("grid_size", self.grid_size, 2))
        object.__setattr__(self, "max_cycles", _check_int("max_cycles", self.max_cycles, 1))

    # -- sizes -----------------------------------------------------------------------------

    @property
    def n_cells(self) -> int:
        """Cells of the board, ``N * N``."""
        return self.grid_size * self.grid_size

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        """Shape of one observation, ``(4, N, N)``."""
        return (len(CHANNELS), self.grid_size, self.grid_size)

    @property
    def description(self) -> str:
        n = self.grid_size
        return f"Coin Game on a {n}x{n} torus, {self.max_cycles} rounds per episode"

    @property
    def reference_levels(self) -> Mapping[str, float]:
        """Joint score (mean reward per round of both players) of uniformly random play: 0.

        Each pickup adds ``+1`` to the joint reward sum, and under random play half the
        pickups are of the other's coin (``-2``), so the expected joint score is 0.
        """
        return FrozenMapping({"random play": 0.0})

    @property
    def metric_reference_levels(self) -> Mapping[str, Mapping[str, float]]:
        """Levels of uniformly random play per named metric (`random_play_rates`), which
        plots draw as reference lines: ``own_coin_share`` 0.5, ``coins_per_round`` (about
        0.113 on the 3 x 3 board) and ``value`` 0."""
        rates = _random_play_rates(self)
        return FrozenMapping({name: FrozenMapping({"random play": rates[name]})
                              for name in ("own_coin_share", "coins_per_round", "value")})

    def spec(self) -> dict[str, Any]:
        """A JSON description that `lola_games.games.matrix.game_from_spec` turns back into
        this game (kind ``"coin"``)."""
        return {"kind": "coin", "name": self.name, "grid_size": self.grid_size,
                "max_cycles": self.max_cycles}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CoinGame:
        """The game of `spec` (checked as by the constructor)."""
        if spec.get("name", cls.name) != cls.name:
            raise ValueError(f"a coin game spec names {spec['name']!r}, not {cls.name!r}")
        return cls(spec["grid_size"], spec["max_cycles"])

    def check_action(self, action: Any, name: str = "action") -> int:
        """``action`` as an int in ``[0, 4)``; ``TypeError``/``ValueError`` otherwise."""
        return check_game_action(self, action, name)

    # -- rules -----------------------------------------------------------------------------

    def move_table(self) -> np.ndarray:
        """Next cell of a player ``[N * N, 4]`` (int64) by current cell and action."""
        n = self.grid_size
        cells = np.arange(n * n)
        row, col = cells // n, cells % n
        table = np.stack([((row + dr) % n) * n + (col + dc) % n for dr, dc in MOVES], axis=1)
        table.setflags(write=False)
        return table

    def rewards(self, on_coin_0: Any, on_coin_1: Any, coin_owner: Any) -> tuple[Any, Any]:
        """Rewards ``(r_0, r_1)`` of a round, after both players moved.

        ``on_coin_i`` says whether player ``i`` stands on the coin (bool or 0/1) and
        ``coin_owner`` is the coin's colour (0 red, 1 blue); broadcasting arrays or tensors
        give rewards per game.
        """
        r0 = self.pickup_reward * on_coin_0 + self.loss_penalty * (on_coin_1 * (coin_owner == 0))
        r1 = self.pickup_reward * on_coin_1 + self.loss_penalty * (on_coin_0 * (coin_owner == 1))
        return r0, r1

    def n_free_cells(self, cell_0: Any, cell_1: Any) -> Any:
        """Number of cells on which no player stands: ``N * N - 1`` or ``N * N - 2``."""
        return self.n_cells - 1 - (cell_0 != cell_1) * 1  # (bool * 1: torch has no int - bool)

    def free_cell(self, rank: Any, cell_0: Any, cell_1: Any) -> Any:
        """The ``rank``-th cell (from 0, in cell order) on which no player stands.

        ``rank`` must be in ``[0, n_free_cells(cell_0, cell_1))``; a uniform rank gives a
        uniform free cell. With ``cell_0 == cell_1`` one cell is skipped, else two.
        """
        low = cell_0 + (cell_1 - cell_0) * (cell_1 < cell_0)
        high = cell_0 + cell_1 - low
        return rank + (rank >= low) + ((rank + 1 >= high) & (high != low))

    def observation_cells(
        self, own_cell: Any, other_cell: Any, coin_cell: Any, coin_is_mine: Any
    ) -> tuple[Any, Any, Any, Any]:
        """The cell marked in each observation channel, ``N * N`` for an empty channel.

        Channels (me, other, my coin, other's coin): the coin marks channel 2 when it has the
        observer's colour (``coin_is_mine``), else channel 3.
        """
        empty = self.n_cells
        my_coin = coin_cell + (empty - coin_cell) * (coin_is_mine == 0)
        return own_cell, other_cell, my_coin, coin_cell + empty - my_coin

    def __repr__(self) -> str:
        return f"CoinGame(grid_size={self.grid_size}, max_cycles={self.max_cycles})"


COIN_GAME = CoinGame()
"""The Coin Game of the LOLA paper (3 x 3 grid), registered as ``"coin_game"``."""


@functools.lru_cache(maxsize=16)
def _random_play_rates(game: CoinGame) -> dict[str, float]:
    return random_play_rates(game)


def random_play_rates(game: CoinGame) -> dict[str, float]:
    """Exact rates of uniformly random play over an episode of ``game.max_cycles`` rounds.

    Computed on the Markov chain of the board ``(red, blue, coin)`` from the start
    distribution (no sampling). Returns ``coins_per_round`` (expected coins one player picks
    up per round, the same for both), ``both_per_round`` (rounds in which both pick up the
    coin, per round), ``own_coin_share`` (0.5: the colour never changes the moves, so every
    pickup is of either colour with probability 1/2) and ``value`` (0.0: ``+1 - 2 * 1/2`` per
    pickup). The reference for "coins per round above random".
    """
    nc, moves = game.n_cells, game.move_table()
    red, blue, coin = np.meshgrid(*[np.arange(nc)] * 3, indexing="ij")
    free = (coin != red) & (coin != blue)  # [red, blue, coin]
    spread = free / free.sum(-1, keepdims=True)  # a new coin, uniform on the free cells
    d = np.where(free & (red != blue), 1.0, 0.0)
    d /= d.sum()
    picks = np.zeros(3)  # player 0, player 1, both
    for _ in range(game.max_cycles):
        nxt = np.zeros_like(d)
        for m0 in range(4):
            for m1 in range(4):
                red2, blue2 = moves[red, m0], moves[blue, m1]
                on0, on1 = red2 == coin, blue2 == coin
                p = d / 16
                picks += [(p * on0).sum(), (p * on1).sum(), (p * (on0 & on1)).sum()]
                picked = np.zeros((nc, nc))
                np.add.at(picked, (red2, blue2), np.where(on0 | on1, p, 0.0))
                np.add.at(nxt, (red2, blue2, coin), np.where(on0 | on1, 0.0, p))
                nxt += picked[:, :, None] * spread
        d = nxt
    rates = picks / game.max_cycles
    return {
        "coins_per_round": float(rates[:2].mean()),
        "both_per_round": float(rates[2]),
        "own_coin_share": 0.5,
        "value": 0.0,
    }

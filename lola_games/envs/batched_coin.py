"""Torch-native batched Coin Game: ``B`` games stepped at once on one device.

The rules, start distribution and observation encoding are those of
`lola_games.games.coin.CoinGame`, the same as the PettingZoo env
`lola_games.envs.coin_game_v0` (checked step for step against it). Tensors are
batch-first:

* the boards: ``cells [B, 3]`` (long): player 0's cell, player 1's cell, the coin's cell
  (``row * N + col``), and ``coin_owner [B]`` (long, 0 red or 1 blue);
* actions ``[B, 2]`` (integer, in ``[0, 4)``: right, left, down, up);
* observations ``[B, 2, 4, N, N]`` (player 0's, then player 1's, each from its own side:
  me, other, my coin, other's coin), rewards ``[B, 2]``, done flags ``[B]``;
* ``info["picked_own"]``, ``info["picked_other"]`` ``[B, 2]`` (bool): who picked which coin
  in the round just played.

All games run in lockstep and are truncated together after ``max_cycles`` rounds; finished
games reset automatically (``info["final_obs"]`` holds the observation of the last round;
``autoreset=False`` raises instead of stepping a finished batch). Randomness (start boards,
coin placements) comes from one ``torch.Generator``: the same seed gives the same games on
the same device.

A new coin's cell comes from ``placement(players [B, 2], generator) -> cells [B]``, a
candidate free cell for every game, used where a coin was picked up. The default,
`BatchedCoinGame.uniform_placement`, draws it uniformly among the free cells (as the
PettingZoo env does): an integer ``r`` uniform in ``[0, L)``, ``L = (N*N - 1)(N*N - 2)``,
picks the free cell of rank ``r mod n_free`` (exactly uniform, as ``n_free`` divides ``L``).
Another placement (for instance one replaying recorded positions) is checked to return free
cells.

**How it steps.** The rules are applied to the ``B`` boards with tensor arithmetic
(`BatchedCoinGame._move`, `BatchedCoinGame._respawn`). With the default
placement on a small board (all tables within `TABLE_BYTES`: the 3 x 3 and 2 x 2
boards), each board is one integer and a round is three table lookups (moves and pickups by
board and joint action, the new coin by board and draw, the observations by board); the
tables are those same functions evaluated on every board, so both ways give the same games
from the same seed (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from lola_games.core.checks import (
    check_flag,
    check_positive_int,
    check_seed,
    check_torch_setup,
)
from lola_games.envs.coin_boards import (
    RowLookup,
    coin_observations,
    same_device,
    uniform_rank,
)
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_any_game

__all__ = ["BatchedCoinGame", "coin_observations", "Placement", "TABLE_BYTES"]

Placement = Callable[[Tensor, "torch.Generator | None"], Tensor]
"""``placement(players [B, 2], generator) -> coin cells [B]``."""

TABLE_BYTES = 4 << 20
"""Largest total size of the lookup tables of the board-table way of stepping."""

BOARD_TABLES: dict[tuple[CoinGame, str, torch.dtype], dict[str, Tensor] | None] = {}
"""The board tables built so far, by ``(game, device, dtype)``: every env of the same game
on the same device reads the same ones (they are only ever read), so a sampler that makes a
new env for each batch of episodes builds them once."""


class BatchedCoinGame:
    """``batch_size`` Coin Games stepped together as tensors.

    Args:
        game: a `CoinGame` (grid size and episode length) or ``"coin_game"``.
        batch_size: number of games ``B``.
        device: where all tensors live.
        dtype: floating dtype of observations and rewards.
        generator: ``torch.Generator`` on ``device`` for start boards and coin placements;
            one is created (seeded by `reset`'s ``seed``, else 0) when omitted.
        autoreset: reset finished games inside `step` (default).
        placement: where new coins appear (module docstring); default uniform on free cells.

    Raises:
        ValueError, TypeError: a bad argument, named in the message.
    """

    def __init__(
        self,
        game: CoinGame | str,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
        autoreset: bool = True,
        placement: Placement | None = None,
    ) -> None:
        if isinstance(game, str):
            game = get_any_game(game)
        if not isinstance(game, CoinGame):
            raise TypeError(f"game must be a CoinGame or 'coin_game', got {game!r}")
        batch_size = check_positive_int("batch_size", batch_size)
        self.device = check_torch_setup(device, dtype, generator)
        autoreset = check_flag("autoreset", autoreset)
        if placement is not None and not callable(placement):
            raise TypeError(f"placement must be callable, got {placement!r}")
        self.game = game
        self.batch_size = batch_size
        self.max_cycles = game.max_cycles
        self.dtype = dtype
        self.generator = generator
        self.autoreset = autoreset
        self.placement = placement

        shape = (batch_size, 2, *game.obs_shape)
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, game.obs_shape, np.float32)
        self.single_action_space = gym.spaces.Discrete(game.n_actions)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape, np.float32)
        self.action_space = gym.spaces.MultiDiscrete(np.full((batch_size, 2), game.n_actions))

        nc = game.n_cells
        self._draws = (nc - 1) * (nc - 2)  # L: both numbers of free cells divide it
        self._moves = torch.tensor(game.move_table().reshape(-1).tolist(), device=self.device)
        # by event = on_coin_0 * 4 + on_coin_1 * 2 + coin owner: rewards, who picked which coin
        on0, on1, owner = (torch.arange(8, device=self.device) >> k & 1 for k in (2, 1, 0))
        rewards = torch.stack(game.rewards(on0 == 1, on1 == 1, owner), 1).to(dtype)
        on = torch.stack([on0, on1], 1) == 1
        mine = owner[:, None] == torch.arange(2, device=self.device)
        picked = torch.stack([on & mine, on & ~mine], dim=-1)  # [8, player, own/other]
        self._rewards, self._picked = RowLookup(rewards), RowLookup(picked)
        self._tables = self._shared_board_tables() if placement is None else None

        self._round = 0
        self._done = False
        self._needs_reset = True
        zeros = torch.zeros(batch_size, dtype=torch.long, device=self.device)
        self._set_boards(zeros, zeros, zeros + 1, zeros)  # replaced by reset()

    def __repr__(self) -> str:
        return (
            f"BatchedCoinGame({self.game!r}, batch_size={self.batch_size}, device={self.device})"
        )

    # -- the rules on B boards -------------------------------------------------------------

    def _move(
        self, p0: Tensor, p1: Tensor, coin: Tensor, owner: Tensor, a0: Tensor, a1: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Both players move: their new cells and the event ``on0 * 4 + on1 * 2 + owner``."""
        n_actions = self.game.n_actions  # (torch.add with alpha: one op for a * x + y)
        p0 = self._moves.index_select(0, torch.add(a0, p0, alpha=n_actions))
        p1 = self._moves.index_select(0, torch.add(a1, p1, alpha=n_actions))
        event = torch.add(owner, p0 == coin, alpha=4).add_(p1 == coin, alpha=2)
        return p0, p1, event

    def _respawn(
        self, p0: Tensor, p1: Tensor, coin: Tensor, owner: Tensor, event: Tensor, cells: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Where a coin was picked (``event >= 2``): a new coin on ``cells``, other colour."""
        picked = event >= 2
        return torch.where(picked, cells, coin), owner ^ picked

    def _free_cells(self, p0: Tensor, p1: Tensor, draws: Tensor) -> Tensor:
        """The free cell of rank ``draws mod n_free`` (uniform for uniform draws in [0, L))."""
        g = self.game
        return g.free_cell(draws % g.n_free_cells(p0, p1), p0, p1)

    def uniform_placement(self, players: Tensor, generator: torch.Generator | None) -> Tensor:
        """A uniform free cell ``[B]`` for each game, given the players' cells ``[B, 2]``."""
        draws = torch.randint(0, self._draws, (players.shape[0],), generator=generator,
                              device=players.device)
        return self._free_cells(players[:, 0], players[:, 1], draws)

    # -- boards as single integers: ((p0 * nc + p1) * nc + coin) * 2 + owner ----------------

    def _encode(self, p0: Tensor, p1: Tensor, coin: Tensor, owner: Tensor) -> Tensor:
        nc = self.game.n_cells
        return torch.add(owner, torch.add(coin, torch.add(p1, p0, alpha=nc), alpha=nc), alpha=2)

    def _decode(self, board: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        nc = self.game.n_cells
        return board // (2 * nc * nc), board // (2 * nc) % nc, board // 2 % nc, board % 2

    def _shared_board_tables(self) -> dict[str, Tensor] | None:
        """`_board_tables` of this game, device and dtype, built once (`BOARD_TABLES`)."""
        if self._table_bytes() > TABLE_BYTES:
            return None
        key = (self.game, str(self.device), self.dtype)
        if key not in BOARD_TABLES:
            BOARD_TABLES[key] = self._board_tables()
        return BOARD_TABLES[key]

    def _table_bytes(self) -> int:
        """The size of `_board_tables` in bytes."""
        nc = self.game.n_cells
        n_boards = 2 * nc**3
        return n_boards * (16 + self._draws) * 8 + n_boards * 8 * nc * self.dtype.itemsize

    def _board_tables(self) -> dict[str, Tensor] | None:
        """Lookup tables of every board (see the module docstring), or None if too large."""
        g, nc, L = self.game, self.game.n_cells, self._draws
        n_boards = 2 * nc**3
        if self._table_bytes() > TABLE_BYTES:
            return None
        boards = torch.arange(n_boards, device=self.device)
        # moves: by board * 16 + joint action a0 * 4 + a1 -> board after moving * 8 + event
        board, joint = boards.repeat_interleave(16), boards.new_tensor(range(16)).repeat(n_boards)
        p0, p1, coin, owner = self._decode(board)
        p0, p1, event = self._move(p0, p1, coin, owner, joint // 4, joint % 4)
        moves = self._encode(p0, p1, coin, owner) * 8 + event
        # new coins: by board (after moving) * L + draw -> board
        board, draws = boards.repeat_interleave(L), boards.new_tensor(range(L)).repeat(n_boards)
        p0, p1, coin, owner = self._decode(board)
        event = torch.add(owner, p0 == coin, alpha=4).add_(p1 == coin, alpha=2)
        coin, owner = self._respawn(p0, p1, coin, owner, event, self._free_cells(p0, p1, draws))
        respawn = self._encode(p0, p1, coin, owner)
        p0, p1, coin, owner = self._decode(boards)
        cells = torch.stack([p0, p1, coin], dim=1)
        obs = coin_observations(g, cells, owner, dtype=self.dtype).flatten(1)
        return {"moves": moves, "respawn": respawn, "obs": obs}

    # -- state -----------------------------------------------------------------------------

    def _set_boards(self, p0: Tensor, p1: Tensor, coin: Tensor, owner: Tensor) -> None:
        if self._tables is not None:
            self._board = self._encode(p0, p1, coin, owner)
        else:
            self._p0, self._p1, self._coin, self._owner = p0, p1, coin, owner

    def _boards(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(p0, p1, coin, owner)``, each ``[B]``."""
        if self._tables is not None:
            return self._decode(self._board)
        return self._p0, self._p1, self._coin, self._owner

    @property
    def cells(self) -> Tensor:
        """The boards ``[B, 3]`` (long, a new tensor): player 0's, player 1's, the coin's cell."""
        return torch.stack(self._boards()[:3], dim=1)

    @property
    def board_codes(self) -> Tensor | None:
        """The boards as single integers ``[B]`` (long) when the env steps by its board
        tables, else ``None``; `decode_boards` turns them into ``cells`` and ``coin_owner``
        (a sampler can keep one integer per board and round and decode them all at once)."""
        return self._board if self._tables is not None else None

    def decode_boards(self, codes: Tensor) -> tuple[Tensor, Tensor]:
        """``(cells [..., 3], coin_owner [...])`` (long) of board codes ``[...]`` (from
        `board_codes`)."""
        p0, p1, coin, owner = self._decode(codes)
        return torch.stack([p0, p1, coin], dim=-1), owner

    @property
    def coin_owner(self) -> Tensor:
        """The coins' colours ``[B]`` (long, 0 or 1)."""
        return self._boards()[3]

    @property
    def round(self) -> int:
        """Rounds played in the current episodes (all games run in lockstep)."""
        return self._round

    def observe(self) -> Tensor:
        """Both players' observations ``[B, 2, 4, N, N]`` of the current boards."""
        if self._tables is not None:
            obs = self._tables["obs"].index_select(0, self._board)
            return obs.view(self.batch_size, 2, *self.game.obs_shape)
        p0, p1, coin, owner = self._boards()
        cells = torch.stack([p0, p1, coin], dim=1)
        return coin_observations(self.game, cells, owner, dtype=self.dtype)

    def _rng(self) -> torch.Generator:
        if self.generator is None:
            self.generator = torch.Generator(device=self.device)
            self.generator.manual_seed(0)
        return self.generator

    def _random_boards(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The original's start: red uniform, blue elsewhere, coin free, owner uniform."""
        g, nc = self.game, self.game.n_cells
        u = torch.rand(4, self.batch_size, generator=self._rng(), device=self.device)
        red = uniform_rank(u[0], nc)
        blue = g.free_cell(uniform_rank(u[1], nc - 1), red, red)
        coin = g.free_cell(uniform_rank(u[2], nc - 2), red, blue)
        return red, blue, coin, uniform_rank(u[3], 2)

    # -- checks ----------------------------------------------------------------------------

    def _check_long(
        self, name: str, x: Any, shape: tuple[int, ...], high: int, check_range: bool = True
    ) -> Tensor:
        """``x`` as a long tensor after type, shape, device and (unless ``check_range`` is
        False) range checks; any integer dtype is widened after the checks."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor of shape {list(shape)}, "
                            f"got {type(x).__name__}")
        if x.dtype == torch.bool or x.is_floating_point() or x.is_complex():
            raise TypeError(f"{name} must be an integer tensor, got dtype {x.dtype}")
        if tuple(x.shape) != shape:
            raise ValueError(f"{name} must have shape {list(shape)}, got {list(x.shape)}")
        if not same_device(x.device, self.device):
            raise ValueError(f"{name} are on {x.device} but the env is on {self.device}")
        if check_range:
            bad = (x < 0) | (x >= high)
            if bool(bad.any()):
                raise ValueError(f"{name} must be in [0, {high}), got {int(x[bad][0])}")
        return x.long()

    def check_actions(self, actions: Any, *, check_range: bool = True) -> Tensor:
        """``actions`` as a long ``[B, 2]`` tensor; ``TypeError``/``ValueError`` if invalid.

        ``check_range=False`` skips only the range check (which synchronises with the device).
        """
        return self._check_long("actions", actions, (self.batch_size, 2), self.game.n_actions,
                                check_range)

    # -- reset / step ----------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Tensor, dict[str, Any]]:
        """Start all ``B`` games; returns ``(obs [B, 2, 4, N, N], info)``.

        ``seed`` (re)seeds the generator (creating one if needed); an int in ``[0, 2**64)``.
        ``options={"cells": [B, 3], "coin_owner": [B]}`` (integer tensors) starts from given
        boards instead of random ones; other keys are ignored. Bad arguments raise before
        anything changes.
        """
        seed = check_seed(seed)
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        if options is not None and ("cells" in options or "coin_owner" in options):
            if "cells" not in options or "coin_owner" not in options:
                raise ValueError("reset options need both 'cells' [B, 3] and 'coin_owner' [B]")
            cells = self._check_long("cells", options["cells"], (self.batch_size, 3),
                                     self.game.n_cells)
            owner = self._check_long("coin_owner", options["coin_owner"], (self.batch_size,), 2)
            under = (cells[:, 2] == cells[:, 0]) | (cells[:, 2] == cells[:, 1])
            if bool(under.any()):
                game = int(under.nonzero()[0, 0])
                raise ValueError(f"the coin lies under a player in game {game}: cells "
                                 f"{cells[game].tolist()}")
            if seed is not None:
                self._reseed(seed)
            boards = (*cells.T.clone(), owner.clone())
        else:
            if seed is not None:
                self._reseed(seed)
            boards = self._random_boards()
        self._set_boards(*boards)
        self._round = 0
        self._done = False
        self._needs_reset = False
        return self.observe(), {}

    def _reseed(self, seed: int) -> None:
        if self.generator is None:
            self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    def step(
        self, actions: Tensor, *, check: bool = True
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, dict[str, Any]]:
        """Play one round in every game.

        Args:
            actions: integer tensor ``[B, 2]`` on the env's device; ``actions[b, i]`` in
                ``[0, 4)`` is player ``i``'s move in game ``b``.
            check: check that the actions are in range (this synchronises with the device);
                samplers that make valid actions pass ``False``. Dtype, shape and device are
                always checked.

        Returns:
            ``(obs, rewards, terminated, truncated, info)`` as in the module docstring.
            After the last round of an episode (with autoreset) ``obs`` shows the new start
            boards and ``info["final_obs"]`` the boards the round ended on.
        """
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = self.check_actions(actions, check_range=check)
        if self._done:
            raise RuntimeError("the episodes are finished; call reset() (autoreset=False)")
        if self._tables is not None:
            event = self._step_by_tables(actions)
        else:
            event = self._step_by_rules(actions)
        self._round += 1
        obs = self.observe()
        picked_own, picked_other = self._picked(event).unbind(-1)
        info: dict[str, Any] = {"picked_own": picked_own, "picked_other": picked_other}
        ended = self._round >= self.max_cycles
        terminated = torch.zeros(self.batch_size, dtype=torch.bool, device=self.device)
        truncated = torch.full_like(terminated, ended)
        if self.autoreset:
            info["final_obs"] = obs
            if ended:
                self._set_boards(*self._random_boards())
                self._round = 0
                obs = self.observe()
        else:
            self._done = ended
        return obs, self._rewards(event), terminated, truncated, info

    def _step_by_tables(self, actions: Tensor) -> Tensor:
        """One round by table lookups; returns the events ``[B]``."""
        tables = self._tables
        assert tables is not None  # only called with tables
        joint = torch.add(actions[:, 1], actions[:, 0], alpha=self.game.n_actions)
        moved = tables["moves"].index_select(0, torch.add(joint, self._board, alpha=16))
        draws = torch.randint(0, self._draws, (self.batch_size,), generator=self._rng(),
                              device=self.device)
        index = torch.add(draws, moved >> 3, alpha=self._draws)
        self._board = tables["respawn"].index_select(0, index)
        return moved & 7

    def _step_by_rules(self, actions: Tensor) -> Tensor:
        """One round by the rules' arithmetic; returns the events ``[B]``.

        Everything is computed (and a custom placement checked) before the boards change.
        """
        p0, p1, coin, owner = self._boards()
        p0, p1, event = self._move(p0, p1, coin, owner, actions[:, 0], actions[:, 1])
        players = torch.stack([p0, p1], dim=1)
        if self.placement is None:
            cells = self.uniform_placement(players, self._rng())
        else:
            cells = self._check_long("placement cells", self.placement(players, self._rng()),
                                     (self.batch_size,), self.game.n_cells)
            under = (event >= 2) & ((cells == p0) | (cells == p1))
            if bool(under.any()):
                game = int(under.nonzero()[0, 0])
                raise ValueError(f"placement put the coin under a player in game {game}: "
                                 f"cell {int(cells[game])}, players at {players[game].tolist()}")
        coin, owner = self._respawn(p0, p1, coin, owner, event, cells)
        self._set_boards(p0, p1, coin, owner)
        return event

"""The Coin Game as a PettingZoo environment (parallel and AEC).

Rules, observations and start positions are those of `lola_games.games.coin.CoinGame`
(one definition shared with the torch-batched env `lola_games.envs.batched_coin`).

* Agents ``player_0`` (red) and ``player_1`` (blue); actions ``Discrete(4)``: 0 right,
  1 left, 2 down, 3 up (moves wrap around the ``N x N`` torus).
* Observation of each player: an image ``Box(0, 1, (4, N, N), float32)`` from its own side,
  channels (me, other, coin of my colour, coin of the other's colour).
* Rewards per round: ``+1`` for picking up a coin, ``-2`` when the other player picks up a
  coin of my colour; both pick up a coin both step on.
* ``state()``: player_0's observation, the board in absolute colours (red, blue, red coin,
  blue coin), in ``Box(0, 1, (4, N, N), float32)``.
* ``infos[agent] = {"round": t, "picked_own_coin": bool, "picked_other_coin": bool}``: who
  picked which coin in the round just played (all False after reset).
* An episode ends by truncation after ``max_cycles`` rounds.
* ``reset(seed=..., options={"cells": (red, blue, coin), "coin_owner": 0 or 1})`` starts from
  a given board instead of a random one (cells are ``row * N + col``; the coin must lie on a
  free cell; other option keys are ignored); ``seed`` seeds the coin placements.
* ``render_mode="ansi"``: ``render()`` returns the board as text, ``"human"`` prints it after
  every step. Board symbols: ``R``/``B`` the players (``RB`` both on a cell), ``r``/``b`` a
  red/blue coin, ``.`` an empty cell::

      coin_game round 1/150: player_0 picked the other's coin | rewards 1, -2 | totals 1, -2
       .  .  R
       .  r  .
       .  .  B

Creation::

    from lola_games.envs import coin_game_v0
    par = coin_game_v0.parallel_env(grid_size=3, max_cycles=150, render_mode="ansi")
    aec = coin_game_v0.env()
    # or, once lola_games.envs is imported: pettingzoo.make("parallel", "lola_games/coin_game-v0")
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium.spaces import Box, Discrete
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from lola_games.envs.two_player import AGENTS, CheckedAECWrapper, TwoPlayerEnv
from lola_games.games.coin import CoinGame

__all__ = ["CoinGameEnv", "env", "parallel_env", "raw_env"]


class CoinGameEnv(TwoPlayerEnv):
    """The Coin Game of `CoinGame` ``(grid_size, max_cycles)`` as a ``ParallelEnv``.

    Args:
        grid_size: board side ``N >= 2`` (default 3).
        max_cycles: rounds per episode (default 150).
        render_mode: ``None``, ``"ansi"`` or ``"human"``.

    Raises:
        ValueError: ``grid_size`` < 2, ``max_cycles`` < 1 (or not ints), unknown render mode.
    """

    metadata = {**TwoPlayerEnv.metadata, "name": "coin_game_v0", "render_fps": 2}

    def __init__(
        self, grid_size: int = 3, max_cycles: int = 150, render_mode: str | None = None
    ) -> None:
        self.game = CoinGame(grid_size, max_cycles)
        self._set_render_mode(render_mode)
        self.n_actions = self.game.n_actions
        self._init_agents()
        shape = self.game.obs_shape
        self.observation_spaces = {a: Box(0.0, 1.0, shape, np.float32) for a in AGENTS}
        self.action_spaces = {a: Discrete(self.n_actions) for a in AGENTS}
        self.state_space = Box(0.0, 1.0, shape, np.float32)
        self._moves = self.game.move_table()
        self._obs_shape = shape

        self._np_random: np.random.Generator | None = None
        self._round = 0
        self._cells = (0, 0)  # player_0's and player_1's cells
        self._coin = 0
        self._coin_owner = 0
        self._picked = ((False, False), (False, False))  # (own, other's) coin per player
        self._last_rewards = (0.0, 0.0)
        self._totals = (0.0, 0.0)
        self._has_reset = False

    # -- properties and spaces -----------------------------------------------------------

    @property
    def max_cycles(self) -> int:
        """Rounds per episode (the game's ``max_cycles``; settable, takes effect at once)."""
        return self.game.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.game = CoinGame(self.game.grid_size, value)

    @property
    def grid_size(self) -> int:
        return self.game.grid_size

    @property
    def board(self) -> tuple[int, int, int, int]:
        """``(red cell, blue cell, coin cell, coin owner)`` now."""
        return (*self._cells, self._coin, self._coin_owner)

    # -- observations --------------------------------------------------------------------

    def _observation(self, player: int) -> np.ndarray:
        own, other = self._cells[player], self._cells[1 - player]
        cells = self.game.observation_cells(own, other, self._coin, self._coin_owner == player)
        n_cells = self.game.n_cells
        obs = np.zeros(self._obs_shape, dtype=np.float32)
        flat = obs.reshape(-1)  # a view
        for channel, cell in enumerate(cells):
            if cell < n_cells:  # n_cells: an empty channel
                flat[channel * n_cells + cell] = 1.0
        return obs

    def _observations(self) -> dict[str, np.ndarray]:
        return {a: self._observation(i) for i, a in enumerate(self.agents)}

    def state(self) -> np.ndarray:
        """The board in absolute colours (player_0's observation), ``[4, N, N]``."""
        if not self._has_reset:
            raise ValueError("state() called before reset()")
        return self._observation(0)

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {
            a: {
                "round": self._round,
                "picked_own_coin": self._picked[i][0],
                "picked_other_coin": self._picked[i][1],
            }
            for i, a in enumerate(self.agents)
        }

    # -- reset / step --------------------------------------------------------------------

    def _board_from_options(
        self, options: Mapping[str, Any]
    ) -> tuple[int, int, int, int] | None:
        """``(red, blue, coin, owner)`` from reset options, validated; None without them."""
        if "cells" not in options and "coin_owner" not in options:
            return None  # other keys are ignored, as PettingZoo envs do
        if "cells" not in options or "coin_owner" not in options:
            raise ValueError("reset options need both 'cells' (red, blue, coin) and 'coin_owner'")
        try:
            if any(isinstance(x, (bool, np.bool_))
                   for x in (*options["cells"], options["coin_owner"])):
                raise TypeError("a bool is not a cell or a player")
            cells = [operator.index(c) for c in options["cells"]]
            owner = operator.index(options["coin_owner"])
        except TypeError:
            raise TypeError("reset options: 'cells' must be 3 ints and 'coin_owner' an int, "
                            f"got {options['cells']!r} and {options['coin_owner']!r}") from None
        n = self.game.n_cells
        if len(cells) != 3 or not all(0 <= c < n for c in cells):
            raise ValueError(f"reset option 'cells' must be 3 cells in [0, {n}), got {cells}")
        if cells[2] in cells[:2]:
            raise ValueError(f"reset option 'cells': the coin {cells[2]} lies under a player")
        if owner not in (0, 1):
            raise ValueError(f"reset option 'coin_owner' must be 0 or 1, got {owner}")
        return cells[0], cells[1], cells[2], owner

    def _random_board(self) -> tuple[int, int, int, int]:
        """The original's start: red uniform, blue on another cell, coin on a free cell."""
        g, rng = self.game, self._np_random
        assert rng is not None  # seeded by reset()
        red = int(rng.integers(g.n_cells))
        blue = int(g.free_cell(int(rng.integers(g.n_cells - 1)), red, red))
        coin = int(g.free_cell(int(rng.integers(g.n_cells - 2)), red, blue))
        return red, blue, coin, int(rng.integers(2))

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode on a random board, or on ``options``' board (see module doc).

        Returns ``(observations, infos)`` keyed by agent. A bad seed (not an int in
        ``[0, 2**64)``) or bad options raise before anything changes.
        """
        seed = self._check_reset_args(seed, options)
        board = None if not options else self._board_from_options(options)
        if seed is not None or self._np_random is None:
            self._np_random, _ = seeding.np_random(seed)
        if board is None:
            board = self._random_board()
        red, blue, self._coin, self._coin_owner = board
        self._cells = (red, blue)
        self.agents = list(self.possible_agents)
        self._round = 0
        self._picked = ((False, False), (False, False))
        self._last_rewards = (0.0, 0.0)
        self._totals = (0.0, 0.0)
        self._has_reset = True
        return self._observations(), self._infos()

    def step(
        self, actions: Mapping[str, int]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one round; ``actions`` maps each agent to an int in ``[0, 4)``.

        Everything is validated before any state changes.
        Returns ``(observations, rewards, terminations, truncations, infos)``.
        """
        a0, a1 = self.check_actions(actions)
        g, owner = self.game, self._coin_owner
        cells = (int(self._moves[self._cells[0], a0]), int(self._moves[self._cells[1], a1]))
        on = (cells[0] == self._coin, cells[1] == self._coin)
        r0, r1 = g.rewards(on[0], on[1], owner)
        r0, r1 = float(r0), float(r1)
        self._picked = ((on[0] and owner == 0, on[0] and owner == 1),
                        (on[1] and owner == 1, on[1] and owner == 0))
        if on[0] or on[1]:
            assert self._np_random is not None  # seeded by reset()
            rank = int(self._np_random.integers(g.n_free_cells(*cells)))
            self._coin = int(g.free_cell(rank, *cells))
            self._coin_owner = 1 - self._coin_owner
        self._cells = cells
        self._round += 1
        self._last_rewards = (r0, r1)
        self._totals = (self._totals[0] + r0, self._totals[1] + r1)

        truncated = self._round >= self.max_cycles
        return self._round_result(self._observations(), (r0, r1), False, truncated, self._infos())

    # -- rendering -------------------------------------------------------------------------

    def board_text(self) -> str:
        """The board as lines of text (symbols in the module docstring)."""
        n = self.grid_size
        symbols = ["."] * self.game.n_cells
        symbols[self._coin] = "rb"[self._coin_owner]
        red, blue = self._cells
        symbols[red] = "R"
        symbols[blue] = "RB" if blue == red else "B"
        return "\n".join(
            " ".join(f"{s:>2}" for s in symbols[row * n:(row + 1) * n]) for row in range(n)
        )

    def _render_text(self) -> str:
        head = f"{self.game.name} round {self._round}/{self.max_cycles}:"
        totals = f"totals {self._totals[0]:g}, {self._totals[1]:g}"
        if self._round == 0:
            return f"{head} start | {totals}\n{self.board_text()}"
        events = [
            f"{AGENTS[i]} picked " + ("its own coin" if own else "the other's coin")
            for i, (own, other) in enumerate(self._picked)
            if own or other
        ]
        r0, r1 = self._last_rewards
        return (
            f"{head} {', '.join(events) or 'no pickup'} | rewards {r0:g}, {r1:g} | {totals}\n"
            f"{self.board_text()}"
        )

    def __repr__(self) -> str:
        return f"CoinGameEnv(grid_size={self.grid_size}, max_cycles={self.max_cycles})"


def parallel_env(**kwargs: Any) -> CoinGameEnv:
    """The parallel env; kwargs ``grid_size``, ``max_cycles``, ``render_mode``."""
    return CoinGameEnv(**kwargs)


def raw_env(**kwargs: Any) -> AECEnv:
    """The unwrapped AEC env: ``parallel_to_aec_wrapper(parallel_env(**kwargs))``."""
    return parallel_to_aec_wrapper(parallel_env(**kwargs))


def env(**kwargs: Any) -> AECEnv:
    """The AEC env with order and action checks (`CheckedAECWrapper`)."""
    return CheckedAECWrapper(raw_env(**kwargs))

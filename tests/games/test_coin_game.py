"""The Coin Game definition: validation, value semantics, name lookup and the rule functions."""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

from lola_games.games.coin import ACTION_NAMES, MOVES, CoinGame
from lola_games.games.matrix import GAMES
from lola_games.games.registry import OTHER_GAMES, all_game_names, get_any_game, get_game


def test_defaults_and_attributes():
    g = CoinGame()
    assert (g.grid_size, g.max_cycles) == (3, 150)
    assert g.name == "coin_game" and g.n_players == 2 and g.n_actions == 4
    assert g.action_names == ACTION_NAMES == ("right", "left", "down", "up")
    assert g.obs_shape == (4, 3, 3) and g.n_cells == 9
    assert "3x3" in g.description and "150" in g.description
    assert dict(g.reference_levels) == {"random play": 0.0}


def test_immutable_hashable_copyable_picklable():
    g = CoinGame(4, 20)
    with pytest.raises(AttributeError):
        g.grid_size = 5
    assert copy.deepcopy(g) == g and pickle.loads(pickle.dumps(g)) == g
    assert hash(g) == hash(CoinGame(4, 20)) and g != CoinGame(4, 21)
    assert CoinGame(np.int64(3)).grid_size == 3 and type(CoinGame(np.int64(3)).grid_size) is int


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"grid_size": 1}, "grid_size must be an int >= 2, got 1"),
        ({"grid_size": 0}, "grid_size must be an int >= 2"),
        ({"grid_size": 3.0}, "grid_size must be an int >= 2, got 3.0"),
        ({"grid_size": True}, "grid_size must be an int"),
        ({"max_cycles": 0}, "max_cycles must be an int >= 1, got 0"),
        ({"max_cycles": "150"}, "max_cycles must be an int >= 1"),
    ],
)
def test_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CoinGame(**kwargs)


def test_name_lookup_keeps_matrix_games_apart():
    assert get_any_game("coin_game") is OTHER_GAMES["coin_game"] == CoinGame()
    assert get_any_game("ipd") is GAMES["ipd"] is get_game("ipd")
    g = CoinGame(5)
    assert get_any_game(g) is g
    assert all_game_names() == (*GAMES, *OTHER_GAMES) and "coin_game" in OTHER_GAMES
    with pytest.raises(ValueError, match="unknown game 'coin_game'; known games: ipd"):
        get_game("coin_game")  # get_game stays the matrix-game lookup
    with pytest.raises(ValueError, match="unknown game 'chess'; known games:.*coin_game"):
        get_any_game("chess")
    with pytest.raises(ValueError, match="unknown game 3"):
        get_any_game(3)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_move_table_wraps_around_the_torus(n):
    table = CoinGame(n).move_table()
    assert table.shape == (n * n, 4) and not table.flags.writeable
    for cell, action in itertools.product(range(n * n), range(4)):
        dr, dc = MOVES[action]
        row, col = divmod(cell, n)
        assert table[cell, action] == ((row + dr) % n) * n + (col + dc) % n
    # right, left, down, up from the top-left corner
    assert table[0].tolist() == [1 % n, n - 1, n, (n - 1) * n]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_free_cell_enumerates_the_free_cells_in_order(n):
    g = CoinGame(n)
    for c0, c1 in itertools.product(range(n * n), repeat=2):
        free = [c for c in range(n * n) if c not in (c0, c1)]
        assert g.n_free_cells(c0, c1) == len(free)
        assert [g.free_cell(k, c0, c1) for k in range(len(free))] == free
    # the same arithmetic on tensors and arrays
    c0, c1 = np.meshgrid(np.arange(n * n), np.arange(n * n), indexing="ij")
    c0, c1 = c0.ravel(), c1.ravel()
    rank = (np.arange(c0.size) * 7) % g.n_free_cells(c0, c1)
    expected = [[c for c in range(n * n) if c not in (a, b)][k]
                for a, b, k in zip(c0, c1, rank, strict=True)]
    assert g.free_cell(rank, c0, c1).tolist() == expected
    t = g.free_cell(torch.from_numpy(rank), torch.from_numpy(c0), torch.from_numpy(c1))
    assert t.dtype == torch.long and t.tolist() == expected


def test_rewards_including_simultaneous_pickups():
    g = CoinGame()
    # (on_coin_0, on_coin_1, coin owner) -> (r0, r1)
    expected = {
        (False, False, 0): (0, 0), (False, False, 1): (0, 0),
        (True, False, 0): (1, 0), (True, False, 1): (1, -2),   # red takes own / blue's coin
        (False, True, 0): (-2, 1), (False, True, 1): (0, 1),   # blue takes red's / own coin
        (True, True, 0): (-1, 1), (True, True, 1): (1, -1),    # both: +1 each, owner -2
    }
    for (on0, on1, owner), rewards in expected.items():
        assert g.rewards(on0, on1, owner) == rewards
    on0 = torch.tensor([k[0] for k in expected])
    on1 = torch.tensor([k[1] for k in expected])
    owner = torch.tensor([k[2] for k in expected])
    r0, r1 = g.rewards(on0, on1, owner)
    assert torch.stack([r0, r1], 1).tolist() == [list(v) for v in expected.values()]


def test_observation_cells_channels():
    g = CoinGame(3)
    assert g.observation_cells(4, 0, 8, True) == (4, 0, 8, 9)  # coin in channel 2; 9 = empty
    assert g.observation_cells(4, 0, 8, False) == (4, 0, 9, 8)  # coin in channel 3
    mine = torch.tensor([True, False])
    cells = g.observation_cells(torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([5, 6]),
                                mine)
    assert torch.stack(cells, 1).tolist() == [[1, 3, 5, 9], [2, 4, 9, 6]]


def test_spec_round_trip_and_action_check():
    import json

    from lola_games.games.registry import game_from_spec

    g = CoinGame(4, 30)
    spec = json.loads(json.dumps(g.spec()))
    assert spec == {"kind": "coin", "name": "coin_game", "grid_size": 4, "max_cycles": 30}
    assert game_from_spec(spec) == g
    with pytest.raises(ValueError, match="grid_size must be an int >= 2"):
        game_from_spec({**spec, "grid_size": 1})
    with pytest.raises(ValueError, match="lacks 'max_cycles'"):
        game_from_spec({"kind": "coin", "grid_size": 3})
    assert g.check_action(np.int64(3)) == 3
    with pytest.raises(ValueError, match=r"action out of range: 4 not in \[0, 4\).*right"):
        g.check_action(4)
    with pytest.raises(TypeError, match="must be an integer"):
        g.check_action(1.0)

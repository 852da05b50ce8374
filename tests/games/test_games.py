import numpy as np
import pytest
import torch

from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import game_names, get_game


def test_builtin_games_by_name():
    assert set(game_names()) == {"ipd", "imp", "stag_hunt", "chicken"}
    for name in game_names():
        game = get_game(name)
        assert game.name == name and game is GAMES[name]
        assert game.payoffs.shape == (2, 2, 2)
        assert len(game.state_names) == 5


def test_ipd_payoffs_as_in_lola_paper():
    ipd = get_game("ipd")
    # (own, other): CC -1, CD -3, DC 0, DD -2 for both players
    for player in (0, 1):
        assert ipd.payoffs[player].tolist() == [[-1.0, -3.0], [0.0, -2.0]]
    assert ipd.rewards(0, 1) == (-3.0, 0.0)  # player 0 cooperates, player 1 defects
    assert ipd.state_names == ("start", "CC", "CD", "DC", "DD")


def test_matching_pennies_zero_sum():
    imp = get_game("imp")
    for a0 in range(2):
        for a1 in range(2):
            r0, r1 = imp.rewards(a0, a1)
            assert r0 == (1.0 if a0 == a1 else -1.0)
            assert r1 == -r0


def test_stag_hunt_and_chicken_orderings():
    s = get_game("stag_hunt").payoffs[0]
    # stag hunt: SS > HS >= HH > SH
    assert s[0, 0] > s[1, 0] >= s[1, 1] > s[0, 1]
    c = get_game("chicken").payoffs[0]
    # chicken: TS > SS > ST > TT
    assert c[1, 0] > c[0, 0] > c[0, 1] > c[1, 1]


def test_payoffs_read_only_and_tensor():
    ipd = get_game("ipd")
    with pytest.raises(ValueError):
        ipd.payoffs[0, 0, 0] = 5.0
    t = ipd.payoff_tensor(dtype=torch.float64)
    assert t.dtype == torch.float64 and t.shape == (2, 2, 2)
    t[0, 0, 0] = 5.0  # a copy: the game is untouched
    assert ipd.payoffs[0, 0, 0] == -1.0


def test_custom_game():
    rps = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    g = MatrixGame("rps", ("R", "P", "S"), np.stack([rps, rps]))
    assert g.n_actions == 3 and len(g.outcome_names) == 9
    assert get_game(g) is g


@pytest.mark.parametrize(
    "payoffs, match",
    [
        (np.zeros((2, 2)), r"shape \[2, n, n\]"),
        (np.zeros((3, 2, 2)), r"shape \[2, n, n\]"),
        (np.zeros((2, 2, 3)), r"shape \[2, n, n\]"),
        (np.zeros((2, 1, 1)), "at least 2 actions"),
        (np.array([[[0, np.nan], [0, 0]]] * 2), "NaN or infinite"),
        (np.array([[[0, np.inf], [0, 0]]] * 2), "NaN or infinite"),
        ([["a", "b"], ["c", "d"]], "not numeric"),
    ],
)
def test_malformed_payoffs(payoffs, match):
    with pytest.raises(ValueError, match=match):
        MatrixGame("bad", ("A", "B"), payoffs)


def test_action_names_must_match():
    with pytest.raises(ValueError, match="3 action names for 2 actions"):
        MatrixGame("bad", ("A", "B", "C"), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="distinct"):
        MatrixGame("bad", ("A", "A"), np.zeros((2, 2, 2)))


def test_unknown_game_lists_known():
    with pytest.raises(ValueError, match="unknown game 'pd'.*ipd, imp, stag_hunt, chicken"):
        get_game("pd")


@pytest.mark.parametrize(
    "payoffs, match",
    [
        (np.ones((2, 2, 2)) * (1 + 1j), "complex"),
        (np.ones((2, 2, 2), dtype=bool), "booleans"),
        (np.array([[[1, 2], [3, "4"]]] * 2, dtype=object), "not numeric: found '4'"),
        ([[["1", "2"], ["3", "4"]]] * 2, "not numeric"),
        (np.array([[[1, 2], [3, None]]] * 2, dtype=object), "not numeric: found None"),
        (np.zeros((2, 2, 2), dtype="datetime64[s]"), "not numeric"),
    ],
)
def test_payoffs_must_be_real_numbers(payoffs, match):
    """Complex, bool, string and object payoffs were cast silently (or with a warning)."""
    with pytest.raises(ValueError, match=match):
        MatrixGame("bad", ("A", "B"), payoffs)


def test_object_and_integer_payoffs_of_real_numbers_are_accepted():
    obj = np.array([[[1, 2.5], [np.float32(3), np.int8(4)]]] * 2, dtype=object)
    game = MatrixGame("ok", ("A", "B"), obj)
    assert game.payoffs.dtype == np.float64 and game.payoffs[0].tolist() == [[1, 2.5], [3, 4]]
    assert MatrixGame("ok", ("A", "B"), np.ones((2, 2, 2), np.uint8)).payoffs.sum() == 8


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"name": 5}, TypeError, "game name must be a non-empty str"),
        ({"name": ""}, TypeError, "game name must be a non-empty str"),
        ({"action_names": (0, 1)}, TypeError, "action names must be non-empty str, got 0"),
        ({"action_names": ("C", "")}, TypeError, "action names must be non-empty str"),
        ({"action_names": "CD"}, TypeError, "action_names must be a sequence of str"),
        ({"action_names": None}, TypeError, "action_names must be a sequence of str"),
        ({"reference_levels": {"x": "1.0"}}, ValueError, r"reference_levels\['x'\]"),
        ({"reference_levels": {"x": float("nan")}}, ValueError, r"reference_levels\['x'\]"),
        ({"reference_levels": {"x": True}}, ValueError, r"reference_levels\['x'\]"),
        ({"reference_levels": {1: 1.0}}, TypeError, "label 1 is not a str"),
        ({"reference_levels": [("x", 1.0)]}, TypeError, "reference_levels must be a mapping"),
        ({"description": None}, TypeError, "description must be a str"),
    ],
)
def test_names_and_levels_are_checked(kwargs, error, match):
    """Non-string names and levels were converted with str()/float() without a word."""
    args = {"name": "g", "action_names": ("C", "D"), "payoffs": np.zeros((2, 2, 2))}
    with pytest.raises(error, match=match):
        MatrixGame(**{**args, **kwargs})


@pytest.mark.parametrize(
    "actions, error",
    [((-1, 0), ValueError), ((0, 2), ValueError), ((True, 0), TypeError), ((0, 0.0), TypeError)],
)
def test_rewards_reject_bad_actions(actions, error):
    """Negative actions wrapped around (numpy indexing) and bools indexed as masks."""
    with pytest.raises(error, match="action_"):
        get_game("ipd").rewards(*actions)
    assert get_game("ipd").rewards(np.int64(1), np.uint8(0)) == (0.0, -3.0)


def test_reference_levels_are_read_only():
    levels = get_game("ipd").reference_levels
    with pytest.raises(TypeError):
        levels["mutual cooperation"] = 0.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        levels._data = {}  # type: ignore[misc]
    assert dict(levels) == {"mutual cooperation": -1.0, "mutual defection": -2.0}

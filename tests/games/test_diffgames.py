"""The differentiable-game interface: built-in games, custom games, bad input, run directories."""

import math

import numpy as np
import pytest
import torch

from lola_games.agents import SOS, NaiveLearner, TitForTat, make_agent
from lola_games.cli.app import main
from lola_games.games.differentiable import DIFF_GAMES, CustomGameRecord, DifferentiableGame
from lola_games.games.matrix import GAMES
from lola_games.games.registry import get_any_game
from lola_games.runner.run import load_run
from lola_games.runner.training import train
from lola_games.values.iterated import IteratedGame, game_values

DT = torch.float64


def points(n, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, generator=g, dtype=DT), scale * torch.randn(n, generator=g,
                                                                              dtype=DT)


def expected_payoff(matrix, p, q):
    """E[matrix[a, b]] with P(a = 0) = p, P(b = 0) = q, by enumerating the four outcomes."""
    probs = [[p * q, p * (1 - q)], [(1 - p) * q, (1 - p) * (1 - q)]]
    return sum(matrix[a][b] * probs[a][b] for a in range(2) for b in range(2))


def test_builtin_losses_are_the_papers():
    x, y = points(7, 0)
    p, q = torch.sigmoid(x), torch.sigmoid(y)
    expect = {
        "tandem": ((x + y) ** 2 - 2 * x, (x + y) ** 2 - 2 * y),
        "balduzzi": (x**2 / 2 + 10 * x * y, y**2 / 2 - 10 * x * y),
        "hamiltonian": (x * y, -x * y),
        # player 0 wins +1 on a match
        "one_shot_mp": (-expected_payoff([[1, -1], [-1, 1]], p, q),
                        -expected_payoff([[-1, 1], [1, -1]], p, q)),
        "ultimatum": (-(5 * p + 8 * (1 - p) * q), -(5 * p + 2 * (1 - p) * q)),
        # the COLA notebook's payoffs: player 0's [[0, -1], [1, -100]], player 1's transposed
        "one_shot_chicken": (-expected_payoff([[0, -1], [1, -100]], p, q),
                             -expected_payoff([[0, 1], [-1, -100]], p, q)),
    }
    assert set(expect) == set(DIFF_GAMES)
    for name, (l0, l1) in expect.items():
        losses = get_any_game(name).losses((x, y))
        torch.testing.assert_close(losses, torch.stack([l0, l1]), msg=name)
        torch.testing.assert_close(get_any_game(name).values((x, y)), -losses)


def test_papers_initialisations():
    g = torch.Generator().manual_seed(0)
    tandem = get_any_game("tandem").init_params(1, 20000, g, dtype=DT)
    assert tandem.shape == (20000,) and abs(tandem.std().item() - 0.1) < 0.005  # SOS notebook
    mp = get_any_game("one_shot_mp").init_params(0, 20000, g, dtype=DT)
    assert abs(mp.std().item() - 1.0) < 0.03
    wide = get_any_game("tandem").with_init(1.0)  # the COLA notebook's Tandem
    assert wide.name == "tandem" and wide.init_std == 1.0 and get_any_game("tandem").init_std == 0.1
    a = get_any_game("tandem").init_params(0, 4, torch.Generator().manual_seed(3))
    b = get_any_game("tandem").init_params(0, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_custom_three_line_game_plays_like_the_builtin():
    game = DifferentiableGame("my_tandem", lambda x, y: ((x + y) ** 2 - 2 * x,
                                                         (x + y) ** 2 - 2 * y), init_std=0.1)
    assert game.n_players == 2 and game.shapes == ((), ())
    mine = train(game, ["sos", "sos"], n_seeds=5, n_updates=6, seed=1)
    builtin = train("tandem", ["sos", "sos"], n_seeds=5, n_updates=6, seed=1)
    np.testing.assert_array_equal(mine.metrics["value"], builtin.metrics["value"])
    np.testing.assert_array_equal(mine.metrics["theta"], builtin.metrics["theta"])


def test_n_players_and_parameter_shapes():
    def losses(a, b, c):
        s = a.sum(1) + b + c.sum(1)
        return s**2 - 2 * a[:, 0], (s - 1) ** 2 + b**2, torch.sin(s) * c.prod(1)

    game = DifferentiableGame("trio", losses, shapes=[(2,), (), (3,)])
    assert game.n_players == 3
    params = [game.init_params(i, 4, torch.Generator().manual_seed(i), dtype=DT)
              for i in range(3)]
    assert [tuple(p.shape) for p in params] == [(4, 2), (4,), (4, 3)]
    assert game.losses(params).shape == (3, 4)
    metrics = game.exact_evaluate(game, None, params, 0.9)
    assert set(metrics) == {"value", "theta_0", "theta_1", "theta_2"}
    torch.testing.assert_close(metrics["theta_2"][2], params[2][:, 2])
    assert torch.isnan(metrics["theta_1"][1]).all() and torch.isnan(metrics["theta_2"][0]).all()
    run = train(game, [make_agent(n, lr=0.05) for n in ("lola", "sos", "hola")], n_seeds=3,
                n_updates=3)
    assert run.metrics["value"].shape == (4, 3, 3)


def test_values_flag_and_a_tensor_of_losses():
    game = DifferentiableGame("v", lambda x, y: torch.stack([x * y, -x * y]), values=True)
    x, y = points(3, 1)
    torch.testing.assert_close(game.losses((x, y)), torch.stack([-x * y, x * y]))


@pytest.mark.parametrize("fn,message", [
    (lambda x, y: ((x + y).unsqueeze(1), x), r"player 0's loss with shape \[5, 1\].*one loss "
                                              r"per seed"),
    (lambda x, y: ((x * y).sum(), x), r"shape \[\].*one loss per seed"),
    (lambda x, y: (x,), "must return 2 losses"),
    (lambda x, y: (x, 1.0), "returned a float for player 1"),
    (lambda x, y: (x / 0 * 0, y), r"NaN or infinite losses for player\(s\) 0"),
    (lambda x, y: (torch.log(-x.abs() - 1), torch.exp(1e4 * y)), r"player\(s\) 0, 1"),
    (lambda x, y: torch.zeros(2, 4), r"shape \[2, 4\].*\[P, S\] = \[2, 5\]"),
])
def test_bad_loss_functions_are_named(fn, message):
    game = DifferentiableGame("bad", fn)
    x, y = points(5, 2)
    with pytest.raises(ValueError, match=message):
        game.losses((x, y))


def test_bad_games_and_params_are_refused():
    with pytest.raises(ValueError, match="at least 2 players, got n_players=1"):
        DifferentiableGame("solo", lambda x: (x**2,))
    with pytest.raises(ValueError, match="at least 2 players"):
        DifferentiableGame("solo", lambda *xs: xs, n_players=1)
    with pytest.raises(ValueError, match="pass n_players"):
        DifferentiableGame("any", lambda *xs: xs)
    with pytest.raises(TypeError, match="losses must be a function"):
        DifferentiableGame("x", 3)
    with pytest.raises(ValueError, match="name"):
        DifferentiableGame("has space", lambda x, y: (x, y))
    with pytest.raises(ValueError, match="2 shapes for 3 players"):
        DifferentiableGame("x", lambda a, b, c: (a, b, c), shapes=[(), ()])
    with pytest.raises(ValueError, match="init_std"):
        DifferentiableGame("x", lambda a, b: (a, b), init_std=-1.0)
    tandem = get_any_game("tandem")
    x, y = points(4, 3)
    with pytest.raises(ValueError, match="has 2 players, got params for 3"):
        tandem.losses((x, y, x))
    with pytest.raises(ValueError, match=r"player 1's params must have shape \[S\], got \[4, 2\]"):
        tandem.losses((x, torch.stack([y, y], 1)))
    with pytest.raises(ValueError, match="different seed counts"):
        tandem.losses((x, y[:3]))
    with pytest.raises(TypeError, match="floating-point"):
        tandem.losses((x, y.long()))
    with pytest.raises(ValueError, match="player must be in"):
        tandem.init_params(2, 3)


def test_non_finite_losses_stop_a_run_with_a_clear_error():
    # naive learners spiral away from the Hamiltonian game's fixed point until values overflow
    with pytest.raises(ValueError, match="'hamiltonian'.*NaN or infinite"):
        train("hamiltonian", [NaiveLearner(lr=0.9), NaiveLearner(lr=0.9)], n_seeds=2,
              n_updates=2000)


def test_agents_that_cannot_play_a_game_say_so():
    with pytest.raises(ValueError, match="agent 'tft' plays memory-one policies.*'tandem'"):
        train("tandem", [TitForTat(), SOS()], n_seeds=2, n_updates=1)
    with pytest.raises(ValueError, match="agent 'naive-pg'.*'tandem'"):
        train("tandem", ["naive-pg", "naive"], n_seeds=2, n_updates=1)
    record = CustomGameRecord({"name": "gone", "n_players": 2})
    with pytest.raises(ValueError, match="plays two-action matrix games and differentiable "
                                         "games, and 'gone' is neither"):
        train(record, ["naive", "naive"], n_seeds=2, n_updates=1)
    with pytest.raises(ValueError, match="agents must be 3 agents"):
        train(DifferentiableGame("t3", lambda a, b, c: (a, b, c)), ["sos", "sos"], n_seeds=2,
              n_updates=1)


def test_names_resolve_without_clashes():
    assert not set(DIFF_GAMES) & set(GAMES)
    assert get_any_game("imp") is GAMES["imp"]
    assert get_any_game("one_shot_mp") is DIFF_GAMES["one_shot_mp"]
    with pytest.raises(ValueError, match="unknown game 'nope'.*ipd.*tandem.*hamiltonian"):
        get_any_game("nope")


def test_iterated_game_is_the_matrix_game_with_its_own_init():
    logits = torch.randn(6, 2, 5, generator=torch.Generator().manual_seed(4), dtype=DT)
    view = IteratedGame("ipd")
    values = game_values(view, (logits[:, 0], logits[:, 1]), 0.9)
    matrix = game_values(get_any_game("ipd"), (logits[:, 0], logits[:, 1]), 0.9)
    for a, b in zip(values, matrix, strict=True):
        assert torch.equal(a, b)
    plain = train("ipd", ["lola", "sos"], n_seeds=4, n_updates=5, seed=2, dtype=DT)
    same = train(IteratedGame("ipd", init_std=1.0), ["lola", "sos"], n_seeds=4, n_updates=5,
                 seed=2, dtype=DT)
    assert list(plain.metrics) == list(same.metrics)
    for name in plain.metrics:
        np.testing.assert_array_equal(plain.metrics[name], same.metrics[name])
    narrow = train(IteratedGame("ipd", init_std=0.1), ["naive", "naive"], n_seeds=4,
                   n_updates=1, seed=2)
    assert np.abs(narrow.metrics["p_CC"][0] - 0.5).max() < 0.1
    with pytest.raises(ValueError, match="2-action matrix game"):
        IteratedGame("tandem")


def test_builtin_runs_reload_and_custom_runs_resume(tmp_path):
    train(get_any_game("tandem").with_init(0.5), ["hola", "cgd"], n_seeds=3, n_updates=4,
          out_dir=tmp_path / "builtin")
    loaded = load_run(tmp_path / "builtin")
    assert loaded.game.name == "tandem" and loaded.game.init_std == 0.5
    assert loaded.metrics["theta"].shape == (5, 2, 3)

    game = DifferentiableGame("quad", lambda x, y: ((x - y) ** 2 + x, (x + 2 * y) ** 2),
                              description="a custom quadratic", reference_levels={"zero": 0.0})
    full = train(game, ["lola", "sos"], n_seeds=3, n_updates=8, seed=5, checkpoint_every=2)
    part = tmp_path / "custom"
    train(game, ["lola", "sos"], n_seeds=3, n_updates=4, seed=5, checkpoint_every=2,
          out_dir=part)
    record = load_run(part).game
    assert isinstance(record, CustomGameRecord) and record.name == "quad"
    assert record.description == "a custom quadratic" and dict(record.reference_levels) == {
        "zero": 0.0}
    with pytest.raises(ValueError, match="custom game 'quad' was defined by a Python function"):
        record.losses(None)
    resumed = train(game, ["lola", "sos"], n_seeds=3, n_updates=8, seed=5, checkpoint_every=2,
                    out_dir=part, resume=True)
    np.testing.assert_array_equal(resumed.metrics["value"], full.metrics["value"])
    np.testing.assert_array_equal(load_run(part).metrics["theta"], full.metrics["theta"])


def test_cli_trains_a_differentiable_game(tmp_path, capsys):
    code = main(["train", "--game", "tandem", "--agents", "sos", "sos", "--seeds", "20",
                 "--updates", "30", "--lr", "0.1", "--no-progress", "--out",
                 str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0 and "sos vs sos on tandem" in out and "x + y = 1 100%" in out
    code = main(["train", "--game", "hamiltonian", "--agents", "hola", "co", "--order", "3",
                 "--taylor", "--consensus", "0.5", "--seeds", "2", "--updates", "2",
                 "--no-progress", "--out", str(tmp_path / "hamiltonian")])
    assert code == 0
    config = load_run(tmp_path / "run").config
    assert config["game_spec"] == {"kind": "differentiable", "name": "tandem",
                                   "builtin": "tandem", "init_std": 0.1}
    assert math.isclose(config["agents"][0]["hparams"]["lr"], 0.1)


def test_a_tournament_on_a_differentiable_game(tmp_path):
    from lola_games.experiments.tournament import tournament

    result = tournament("tandem", ["naive", "lola", "sos"], n_seeds=4, n_updates=20,
                        hparams={"lr": 0.1, "eta": 0.1}, out=tmp_path, formats=("png",))
    assert result.names == ["naive", "lola", "sos"]
    # LOLA shapes its partners: it gains against NL and SOS (the row player's value)
    assert result.matrix[1, 0] > result.matrix[0, 1] and result.matrix[1, 2] > result.matrix[2, 1]
    assert result.game.name == "tandem"

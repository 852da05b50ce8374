"""Plots run headless on real (tiny) runs; the results table matches a hand computation."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from lola_games.agents import memory_one_metrics
from lola_games.analysis import figures
from lola_games.analysis import plots as plotting
from lola_games.games.registry import get_game
from lola_games.runner.run import load_run
from lola_games.runner.rundir import RunDirectory
from lola_games.runner.training import train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = []
    for agents in (("naive", "naive"), ("lola", "naive")):
        run_dir = root / "_".join(agents)
        out.append(train("ipd", list(agents), n_seeds=6, n_updates=8, out_dir=run_dir))
    return [load_run(r.path) for r in out]


def _nonempty(paths, suffixes=(".png", ".pdf")):
    assert [p.suffix for p in paths] == list(suffixes)
    for p in paths:
        assert p.stat().st_size > 1000
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("band", plotting.BANDS)
def test_joint_scores_png_and_pdf(runs, tmp_path, band):
    fig = plotting.plot_joint_scores([r.path for r in runs], band=band)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == len(runs) + len(get_game("ipd").reference_levels)
    mean = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(mean, runs[0].joint_score.mean(axis=1))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"{r.label} (6 seeds)" for r in runs]
    assert ("95% CI" if band == "ci95" else "std") in ax.get_ylabel()
    _nonempty(plotting.save_figure(fig, tmp_path / "joint"))


def test_band_widths(runs):
    y = runs[1].joint_score
    mean, lo, hi = figures.band_edges(y, "std")
    np.testing.assert_allclose(hi - mean, y.std(axis=1, ddof=1))
    _, lo95, hi95 = figures.band_edges(y, "ci95")
    np.testing.assert_allclose(hi95 - lo95, 2 * 1.96 * y.std(axis=1, ddof=1) / np.sqrt(6))


def test_curve_panels(runs):
    """One panel per curve with its label, the runs' means, a target line where given."""
    fig = figures.plot_curve_panels(runs, (("joint", "joint"), ("value_0", "player 0")),
                                    "both", ylabel="{label} per update", targets=(None, -1.5))
    assert [ax.get_title() for ax in fig.axes] == ["joint", "player 0"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["joint per update", "player 0 per update"]
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(),
                               runs[0].joint_score.mean(axis=1))
    reference = figures.plot_learning_curves(runs, "value_0")
    extra = [ln for ln in fig.axes[1].get_lines() if list(ln.get_ydata()) == [-1.5, -1.5]]
    assert len(fig.axes[1].get_lines()) == len(reference.axes[0].get_lines()) + 1 and extra
    assert fig.get_suptitle() == "both"


@pytest.mark.parametrize("name", list(plotting.METRICS))
def test_every_metric_draws(runs, name):
    fig = plotting.plot_learning_curves(runs, name, band="ci95")
    assert fig.axes[0].get_lines()


@pytest.mark.parametrize("kind", ["strip", "violin"])
def test_policy_picture(runs, tmp_path, kind):
    fig = plotting.plot_policies(runs, kind=kind, title="policies")
    assert len(fig.axes) == 2 * len(runs)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(
        get_game("ipd").state_names)
    _nonempty(plotting.save_figure(fig, tmp_path / f"policies_{kind}"))


def test_bad_inputs(runs, tmp_path):
    with pytest.raises(ValueError, match="band"):
        plotting.plot_joint_scores(runs, band="iqr")
    with pytest.raises(ValueError, match="unknown metric"):
        plotting.plot_learning_curves(runs, "regret")
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_policies(runs, kind="box")
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_joint_scores(runs, labels=["one"])
    with pytest.raises(ValueError, match="no runs"):
        plotting.plot_joint_scores([])
    with pytest.raises(TypeError, match="Run or a run directory"):
        plotting.plot_joint_scores([42])
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        plotting.plot_joint_scores([tmp_path])
    imp = train("imp", ["naive", "naive"], n_seeds=2, n_updates=1, gamma=0.9)
    with pytest.raises(ValueError, match="different games"):
        plotting.plot_joint_scores([runs[0], imp])
    with pytest.raises(ValueError, match=r"\[\.\.\., 5\]"):
        plotting.tft_like(np.zeros((3, 4)))


def test_tft_like():
    tft = [0.3, 0.95, 0.05, 0.95, 0.05]  # the first move is not judged
    assert plotting.tft_like(np.array(tft))
    for state, value in ((1, 0.85), (2, 0.15), (3, 0.5), (4, 0.2)):
        probs = np.array(tft)
        probs[state] = value
        assert not plotting.tft_like(probs), state


def test_table_matches_hand_computation(tmp_path):
    """A 3-seed, 1-update run written by hand through the run writer."""
    game = get_game("ipd")
    tft = [0.5, 0.99, 0.01, 0.99, 0.01]
    values = np.array([[-1.0, -2.0, -1.05], [-1.0, -2.0, -1.2]])  # [2, S]
    probs = np.array([[tft, [0.1] * 5, tft], [tft, tft, [0.9] * 5]])  # [2, S, 5]
    config = {"format": 2, "game": "ipd", "game_spec": game.spec(), "n_players": 2,
              "agents": [{"name": "naive", "hparams": {}}] * 2, "n_seeds": 3, "n_updates": 1,
              "gamma": 0.96, "seed": 0, "log_every": 1, "label": "hand-made"}
    with RunDirectory.create(tmp_path / "run", config) as writer:
        writer.log(0, {"value": np.zeros((2, 3)),
                       **memory_one_metrics(game, np.full((2, 3, 5), 0.5))})
        writer.log(1, {"value": values, **memory_one_metrics(game, probs)})
    (row,) = plotting.results_table([tmp_path / "run"])
    joint = np.array([-1.0, -2.0, -1.125])
    expected = {
        "run": "hand-made", "game": "ipd", "seeds": 3, "updates": 1,
        "value_0": -4.05 / 3, "std_0": np.std([-1.0, -2.0, -1.05]),
        "value_1": -4.2 / 3, "std_1": np.std([-1.0, -2.0, -1.2]),
        "joint": joint.mean(), "joint_std": joint.std(),
        "cooperation": 1 / 3,  # joint > -1.1: seed 0 only
        "defection (Nash)": 1 / 3,  # joint < -1.9: seed 1 only
        "TFT-like p0": 2 / 3, "TFT-like p1": 2 / 3,
    }
    assert row.keys() == expected.keys()
    for key, value in expected.items():
        assert row[key] == pytest.approx(value), key

    md, csv_path = plotting.write_table([row], tmp_path / "table")
    text = md.read_text()
    assert "| hand-made | ipd | 3 | 1 | -1.350 (0.460) | -1.400 (0.432) | -1.375 (0.445) |" in text
    assert "33.3 | 33.3 | 66.7 | 66.7 |" in text
    with open(csv_path, newline="") as f:
        (read,) = list(csv.DictReader(f))
    assert float(read["value_0"]) == pytest.approx(expected["value_0"], rel=1e-12)
    assert float(read["TFT-like p1"]) == pytest.approx(2 / 3)
    json.dumps(row)  # plain values


def test_table_mixes_games_with_blank_cells(runs, tmp_path):
    imp = train("imp", ["naive", "naive"], n_seeds=2, n_updates=1, gamma=0.9)
    rows = plotting.results_table([runs[0], imp])
    assert "Nash" in rows[1] and "Nash" not in rows[0]
    md, csv_path = plotting.write_table(rows, tmp_path / "mixed")
    last = md.read_text().strip().splitlines()[-1]
    assert last.split("|")[-3].strip() == "-"  # imp has no TFT-like column value
    with open(csv_path, newline="") as f:
        assert list(csv.DictReader(f))[0]["Nash"] == ""


def test_a_tables_header_says_what_the_bracket_is():
    run = train("ipd", ["naive", "lola"], n_seeds=3, n_updates=2)
    text = plotting.table_markdown(plotting.results_table([run]))
    header = text.splitlines()[0]
    assert "player 0: mean (std over seeds)" in header
    assert "joint: mean (std over seeds)" in header

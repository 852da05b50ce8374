"""The evaluation figure: one bar per run and opponent, the values of the table."""

from __future__ import annotations

import numpy as np
import pytest

from lola_games.agents import make_agent
from lola_games.analysis.evaluation_plots import plot_evaluation
from lola_games.analysis.tables import evaluation_table
from lola_games.runner.training import train


def test_bars_are_the_tables_means(tmp_path):
    runs = [train("ipd", [make_agent(a), make_agent("alld")], n_seeds=2, n_updates=1,
                  gamma=0.9, out_dir=tmp_path / a, progress=False) for a in ("allc", "tft")]
    fig = plot_evaluation(runs)
    axes = fig.axes
    assert len(axes) == 2  # agent's and opponent's scores: no coins on the IPD
    rows = evaluation_table(runs)
    opponents = list(dict.fromkeys(r["opponent"] for r in rows))
    heights = np.array([p.get_height() for p in axes[0].patches])
    assert heights.size == 2 * len(opponents)
    for i, run in enumerate(r.label for r in runs):
        want = [np.mean([r["agent_score"] for r in rows
                         if r["run"] == run and r["opponent"] == o]) for o in opponents]
        np.testing.assert_allclose(heights[i * len(opponents):(i + 1) * len(opponents)], want)


def test_runs_without_an_evaluation_are_an_error(tmp_path):
    run = train("imp", [make_agent("naive"), make_agent("naive")], n_seeds=1, n_updates=1,
                gamma=0.9, out_dir=tmp_path / "imp", progress=False)
    with pytest.raises(ValueError, match="none of the runs has an evaluation.csv"):
        plot_evaluation([run])

"""The evaluation matrix of IPD and Coin Game runs as a figure: each run's agents against
themselves, always-cooperate, always-defect and an exploiter (the rows of ``evaluation.csv``,
`lola_games.runner.evaluation`; the table is `lola_games.analysis.tables.evaluation_table`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.analysis.runs import RunLike, as_runs
from lola_games.analysis.tables import evaluation_table

__all__ = ["EVALUATION_PANELS", "plot_evaluation"]

EVALUATION_PANELS = (("agent_score", "agent's score"), ("opponent_score", "opponent's score"),
                     ("agent_own_coin_share", "agent's own-coin share"))
"""The panels: a column of `evaluation_table` and its axis label (the own-coin share only
when a run has it)."""


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    values = np.array([r.get(key, np.nan) for r in rows], dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def plot_evaluation(runs: RunLike | Sequence[RunLike], title: str | None = None) -> Figure:
    """Bars of each run's evaluation: per opponent, the mean over seeds and players of the
    agent's score, the opponent's score and (on the Coin Game) the agent's own-coin share;
    one bar per run.

    Raises:
        ValueError: none of the runs has an ``evaluation.csv``.
    """
    loaded = as_runs(runs)
    rows = evaluation_table(loaded)
    if not rows:
        raise ValueError("no evaluation to draw: none of the runs has an evaluation.csv")
    labels = list(dict.fromkeys(r["run"] for r in rows))
    opponents = list(dict.fromkeys(r["opponent"] for r in rows))
    panels = [p for p in EVALUATION_PANELS if any(p[0] in r for r in rows)]
    fig = Figure(figsize=(4.2 * len(panels) + 1.0, 4.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    x = np.arange(len(opponents))
    width = 0.8 / len(labels)
    for ax, (key, name) in zip(axes, panels, strict=True):
        for i, label in enumerate(labels):
            means = [_mean([r for r in rows if r["run"] == label and r["opponent"] == o], key)
                     for o in opponents]
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, means, width=width, label=label)
        ax.set_xticks(x, opponents)
        ax.set_ylabel(f"{name}\n(mean over seeds and players)")
        ax.axhline(0.0, color="black", lw=0.6)
    axes[0].legend()
    fig.suptitle(title or "against itself, always-cooperate, always-defect and an exploiter")
    return fig

"""The LOLA paper's higher-order LOLA on the exact IPD: ``lola-higher-order``.

The LOLA paper's Sec. 4.5 and results table: NL-Ex, LOLA-Ex and second-order LOLA (HOLA-2 in
the LOLA paper's Taylor form) against each other with the table's learning rate delta = 0.5
(stated under the table) and look-ahead eta = 0.5 (not stated; eta = 1, the authors'
exact-LOLA code's value, is run too for the paper's two pairings), on the unnormalised value,
gamma 0.96, logits ~ N(0, 1) and 200 updates (the authors' exact-IPD code), 1,000 seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lola_games.analysis import plots as plotting
from lola_games.core.files import write_text
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.experiments.panels import panels
from lola_games.runner.run import Run

__all__ = ["PAPER_HIGHER_ORDER", "HIGHER_ORDER_DELTA", "group_means", "HIGHER_ORDER_EXPERIMENT"]

PAPER_HIGHER_ORDER = {
    "lola_nl": (-1.28, -1.54),  # LOLA-Ex vs NL-Ex
    "hola2_lola": (-1.14, -1.17),  # 2nd-order LOLA vs LOLA-Ex
}
"""The LOLA paper's higher-order results on the exact IPD (reward per step of each player)."""

HIGHER_ORDER_DELTA = 0.5
"""The learning rate of the LOLA paper's higher-order table (stated under the table)."""

_GROUP = 50
"""Runs per setting in the authors' exact-IPD code (``num_episodes``): the spread of a mean
over this many runs is reported beside the paper's numbers."""


def _higher_order_agents(eta: float) -> dict[str, AgentSpec]:
    """NL-Ex, LOLA-Ex and 2nd-order LOLA (the LOLA paper's Taylor form, HOLA-2) with the
    table's learning rate and look-ahead rate ``eta``."""
    delta = HIGHER_ORDER_DELTA
    return {"nl": ("naive", {"lr": delta}), "lola": ("lola", {"lr": delta, "eta": eta}),
            "hola2": ("hola", {"lr": delta, "eta": eta, "order": 2, "taylor": True})}


_HIGHER_ORDER_LABELS = {"nl": "NL-Ex", "lola": "LOLA-Ex", "hola2": "2nd-order LOLA"}
_HIGHER_ORDER_PAIRS = (("lola", "nl"), ("hola2", "lola"), ("hola2", "nl"), ("hola2", "hola2"),
                       ("lola", "lola"), ("nl", "nl"))
"""The pairings (player 0, player 1); the first two are the paper's (`PAPER_HIGHER_ORDER`)."""


def _higher_order_runs() -> tuple[RunSpec, ...]:
    """Every pairing with delta = eta = 0.5; the paper's two pairings also with eta = 1 (the
    look-ahead rate of the authors' exact-LOLA code: the table states only delta)."""
    runs = []
    for eta, pairs, suffix in ((HIGHER_ORDER_DELTA, _HIGHER_ORDER_PAIRS, ""),
                               (1.0, _HIGHER_ORDER_PAIRS[:2], "_eta1")):
        agents = _higher_order_agents(eta)
        for a, b in pairs:
            label = f"{_HIGHER_ORDER_LABELS[a]} vs {_HIGHER_ORDER_LABELS[b]}"
            if suffix:
                label += f" (eta {eta:g})"
            runs.append(RunSpec(f"{a}_{b}{suffix}", label, "ipd", 0.96, (agents[a], agents[b])))
    return tuple(runs)


def _higher_order_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig, (a, b) = panels(2, f"Higher-order LOLA on the exact IPD (delta = eta = "
                          f"{HIGHER_ORDER_DELTA:g})")
    ordered = [runs[f"{x}_{y}"] for x, y in _HIGHER_ORDER_PAIRS[:4]]
    plotting.plot_learning_curves(ordered, "value_0", ax=a, title="player 0 (the first named)")
    plotting.plot_learning_curves(ordered, "value_1", ax=b, title="player 1")
    return {"lola_higher_order_ipd": fig}


def group_means(values: np.ndarray, group: int = _GROUP) -> np.ndarray | None:
    """Means of consecutive groups of ``group`` seeds ``[G]`` (``None`` with fewer than two
    groups)."""
    n = len(values) // group
    return values[: n * group].reshape(n, group).mean(1) if n >= 2 else None


def _higher_order_report(runs: dict[str, Run], out: Path, size: str, figures_dir: Path,
                         formats: Sequence[str]) -> list[Path]:
    """``paper_comparison.md``: each player's per-step value after the last update, mean
    (standard deviation) over seeds, the 10-90% range of means over 50 runs, and the paper's."""
    lines = ["| run | ours, player 0 | ours, player 1 | means of 50 runs, 10-90% | LOLA paper |",
             "|---|---|---|---|---|"]
    for key, run in runs.items():
        v = run.metrics["value"][-1]
        paper = PAPER_HIGHER_ORDER.get(key.removesuffix("_eta1"))
        spread = []
        for p in range(2):
            g = group_means(v[p])
            spread.append("-" if g is None else
                          f"{np.quantile(g, 0.1):.2f} to {np.quantile(g, 0.9):.2f}")
        lines.append(f"| {run.label} | {v[0].mean():.2f} ({v[0].std():.2f}) | "
                     f"{v[1].mean():.2f} ({v[1].std():.2f}) | {'; '.join(spread)} | "
                     + (f"{paper[0]:.2f} vs {paper[1]:.2f}" if paper else "-") + " |")
    md = out / "paper_comparison.md"
    write_text(md, "\n".join(lines) + "\n")
    return [md]



HIGHER_ORDER_EXPERIMENT = Experiment(
    name="lola-higher-order",
    description="LOLA paper (Foerster et al. 2018), higher-order LOLA on the exact IPD: "
    "NL-Ex, LOLA-Ex and 2nd-order LOLA against each other, delta = eta = 0.5 (the table's "
    "delta), 200 updates",
    runs=_higher_order_runs(),
    sizes={"full": {"n_seeds": 1000, "n_updates": 200},
           "quick": {"n_seeds": 64, "n_updates": 200},
           "smoke": {"n_seeds": 3, "n_updates": 3}},
    dtype="float64",
    figures=_higher_order_figures,
    report=_higher_order_report,
)
"""The ``lola-higher-order`` experiment."""

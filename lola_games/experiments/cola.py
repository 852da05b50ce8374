"""The COLA paper (Willi et al. 2022) on differentiable games: ``cola``.

With the settings of the authors' notebook (``Aidandos/cola``): the consistency loss of LOLA
(exact, HOLA-1), HOLA-n and COLA over the region of interest at the papers' look-ahead rates
(Tandem, matching pennies, the IPD), the cosine similarity of COLA's update with HOLA's
(`lola_games.experiments.cola_consistency`), and learning with COLA, LOLA, HOLA-2 and CGD
(Tandem at alpha 0.1 and 1, matching pennies at 10, the IPD at 0.03 and 1; 500 steps, init
N(0, 1), IPD logits N(0, 0.1^2); learning rate = look-ahead rate). COLA's update functions
are trained once per game and rate (several look-ahead rates batched as seeds) and read by
the COLA agents of the learning runs (one trained pair for all seeds, as in the paper).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lola_games.analysis import plots as plotting
from lola_games.core.files import write_text
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.experiments.cola_consistency import (
    COLA_GAMES,
    SAMPLE_POINTS,
    measure_consistency,
    networks_file,
)
from lola_games.experiments.panels import panels
from lola_games.experiments.sos import one_rate_spec
from lola_games.runner.run import Run

__all__ = ["PAPER_CONSISTENCY", "PAPER_COSINE", "COLA_EXPERIMENT"]


PAPER_CONSISTENCY: dict[str, dict[float, dict[str, float]]] = {
    # COLA paper, OpenReview (ICLR 2022 submission) version: Tables 1a, 2a, 3a; the mean of
    # sum_j |h_j - target_j|^2 over points of the region (the notebook's 100 samples)
    "tandem": {1.0: {"LOLA": 128.0, "HOLA2": 512.0, "HOLA6": 131072.0, "COLA": 4.84e-14},
               0.5: {"LOLA": 12.81, "HOLA2": 14.05, "HOLA6": 12.35, "COLA": 2.62e-14},
               0.3: {"LOLA": 2.61, "HOLA2": 2.05, "HOLA6": 0.66, "COLA": 4.09e-14},
               0.1: {"LOLA": 0.08, "HOLA2": 9.13e-3, "HOLA6": 1.62e-6, "COLA": 6.55e-14},
               0.01: {"LOLA": 1.41e-5, "HOLA2": 2.10e-8, "HOLA6": 3.69e-14, "COLA": 8.58e-14}},
    "mp": {10.0: {"LOLA": 0.06, "HOLA2": 0.70, "HOLA4": 6.56, "COLA": 0.24},
           5.0: {"LOLA": 4.59e-3, "HOLA2": 0.03, "HOLA4": 0.15, "COLA": 9.47e-3},
           1.0: {"LOLA": 8.79e-6, "HOLA2": 3.25e-8, "HOLA4": 4.37e-9, "COLA": 2.35e-7},
           0.5: {"LOLA": 4.80e-7, "HOLA2": 2.53e-10, "HOLA4": 5.18e-12, "COLA": 1.30e-7},
           0.01: {"LOLA": 1.07e-13, "HOLA2": 5.58e-17, "HOLA4": 5.30e-17, "COLA": 6.99e-8}},
    "ipd": {1.0: {"LOLA": 39.56, "HOLA2": 21.16, "HOLA4": 381.21, "COLA": 0.65},
            0.03: {"LOLA": 1.72e-3, "HOLA2": 4.72e-6, "HOLA4": 9.72e-8, "COLA": 0.33}},
}
"""The COLA paper's consistency losses (the version whose numbers these are: see README)."""

PAPER_COSINE: dict[str, dict[float, dict[str, float]]] = {
    # Tables 1b, 2b, 3b: cosine similarity of COLA's update with LOLA's and HOLA's
    "tandem": {1.0: {"LOLA": 0.57, "HOLA2": 0.58, "HOLA4": 0.60},
               0.5: {"LOLA": 0.61, "HOLA2": 0.46, "HOLA4": 0.15},
               0.3: {"LOLA": 0.92, "HOLA2": 0.51, "HOLA4": 0.72},
               0.1: {"LOLA": 0.94, "HOLA2": 0.98, "HOLA4": 0.99},
               0.01: {"LOLA": 0.99, "HOLA2": 1.0, "HOLA4": 1.0}},
    "mp": {10.0: {"LOLA": 0.90, "HOLA2": 0.87, "HOLA4": 0.68},
           5.0: {"LOLA": 0.98, "HOLA2": 0.95, "HOLA4": 0.89},
           1.0: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99},
           0.5: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99},
           0.01: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99}},
    "ipd": {1.0: {"LOLA": 0.77, "HOLA2": 0.70, "HOLA4": 0.53},
            0.03: {"LOLA": 0.96, "HOLA2": 0.98, "HOLA4": 0.98}},
}
"""The COLA paper's cosine similarities of COLA's update with LOLA's and HOLA's."""

_COLA_RUNS = {
    # key: (game, alpha, updates, learners); COLA reads the networks trained for (game, alpha)
    "tandem_0.1": ("tandem", 0.1, 100, ("cola", "lola", "hola2", "cgd")),
    "tandem_1": ("tandem", 1.0, 20, ("cola", "lola", "hola2", "cgd")),
    "mp_10": ("mp", 10.0, 500, ("cola", "lola", "hola2", "cgd")),
    "ipd_0.03": ("ipd", 0.03, 500, ("cola", "lola", "hola2", "cgd")),
    "ipd_1": ("ipd", 1.0, 500, ("cola", "lola", "hola2", "cgd")),
}
_COLA_LABELS = {"cola": "COLA", "lola": "LOLA (HOLA-1)", "hola2": "HOLA-2", "cgd": "CGD"}


def _cola_agent(name: str, game: str, alpha: float) -> AgentSpec:
    if name == "cola":
        return one_rate_spec("cola", alpha,
                             networks=networks_file("{out}", game, alpha, first=True))
    if name == "lola":
        return one_rate_spec("hola", alpha, order=1)
    if name == "hola2":
        return one_rate_spec("hola", alpha, order=2)
    return one_rate_spec(name, alpha)


def _cola_runs() -> tuple[RunSpec, ...]:
    runs = []
    for key, (game, alpha, updates, learners) in _COLA_RUNS.items():
        for name in learners:
            agent = _cola_agent(name, game, alpha)
            runs.append(RunSpec(f"{key}_{name}", f"{_COLA_LABELS[name]} (alpha {alpha:g})",
                                COLA_GAMES[game][0], 0.96, (agent, agent), updates=updates,
                                seeds=32))
    return tuple(runs)


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _consistency_lines(key: str, rates: dict[str, Any]) -> list[str]:
    """The consistency table of game ``key``: ours (mean, standard error, median, spread)
    beside the paper's, one row per look-ahead rate."""
    methods = [m for m in next(iter(rates.values())) if m not in ("cosine", "curve")]
    lines = [f"\n{key}\n\n| look-ahead | " + " | ".join(
        f"{m} ours | {m} paper" for m in methods) + " |"]
    lines.append("|---" * (1 + 2 * len(methods)) + "|")
    for rate, row in rates.items():
        paper = PAPER_CONSISTENCY[key].get(float(rate), {})
        cells = []
        for m in methods:
            s = row[m]
            spread = s.get("spread100")
            spread = f"; [{_fmt(spread[0])}, {_fmt(spread[1])}]" if spread else ""
            cells.append(f"{_fmt(s['mean'])} ({_fmt(s['se'])}; {_fmt(s['median'])}"
                         f"{spread})")
            cells.append(_fmt(paper[m]) if m in paper else "-")
        lines.append(f"| {rate} | " + " | ".join(cells) + " |")
    return lines


def _cosine_lines(key: str, rates: dict[str, Any]) -> list[str]:
    """The cosine-similarity table of game ``key``, ours beside the paper's."""
    cos = [m for m in next(iter(rates.values()))["cosine"]]
    lines = [f"\n{key}: cosine similarity of COLA's update with\n\n| look-ahead | "
             + " | ".join(f"{m} ours | {m} paper" for m in cos) + " |"]
    lines.append("|---" * (1 + 2 * len(cos)) + "|")
    for rate, row in rates.items():
        paper = PAPER_COSINE[key].get(float(rate), {})
        cells = []
        for m in cos:
            cells += [f"{row['cosine'][m]:.2f}",
                      f"{paper[m]:.2f}" if m in paper else "-"]
        lines.append(f"| {rate} | " + " | ".join(cells) + " |")
    return lines


def _training_figure(results: dict[str, Any]) -> Any:
    """The update functions' training curves, one panel per game."""
    fig, axes = panels(len(results["games"]), "COLA: consistency loss while training the "
                       "update functions (mean of the last 100 steps)")
    for ax, (key, data) in zip(axes, results["games"].items(), strict=True):
        for rate, row in data["rates"].items():
            curve = row["curve"]
            ax.plot([100 * (k + 1) for k in range(len(curve))], curve, label=f"look-ahead {rate}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("consistency loss")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _cola_report(runs: dict[str, Run], out: Path, size: str, figures_dir: Path,
                 formats: Sequence[str]) -> list[Path]:
    """``consistency.md``: our consistency losses and cosine similarities beside the paper's;
    the update functions' training curves."""
    result_file = out / "consistency.json"
    if not result_file.exists():
        return []
    results = json.loads(result_file.read_text())
    lines = [f"Consistency loss, mean over {results['points']} points of the region "
             f"(standard error; median; [10%, 90%] quantiles of means over "
             f"{SAMPLE_POINTS} points, the notebook's sample, where measured); paper: the COLA "
             f"paper's tables.\n"]
    for key, data in results["games"].items():
        lines += _consistency_lines(key, data["rates"])
        lines += _cosine_lines(key, data["rates"])
    md = out / "consistency.md"
    write_text(md, "\n".join(lines) + "\n")
    fig = _training_figure(results)
    return [md, *plotting.save_figure(fig, figures_dir / "cola_consistency_training", formats)]


def _cola_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    figures = {}
    for key, (game, alpha, _, learners) in _COLA_RUNS.items():
        group = [runs[f"{key}_{n}"] for n in learners]
        fig, (a, b) = panels(2, f"{game}, look-ahead rate = learning rate = {alpha:g}")
        plotting.plot_learning_curves(group, "value_0", ax=a,
                                      title="player 0's value (minus its loss)")
        second = {"tandem": "x_plus_y", "mp": "nash_gap", "ipd": "joint"}[game]
        plotting.plot_learning_curves(group, second, ax=b, title=second.replace("_", " "))
        figures[f"cola_{key.replace('.', '')}"] = fig
    return figures


COLA_EXPERIMENT = Experiment(
    name="cola",
    description="COLA paper (Willi et al. 2022): consistency losses of LOLA, HOLA-n and "
    "COLA; learning with COLA, LOLA, HOLA-2 and CGD on Tandem, matching pennies and the "
    "IPD (update functions trained as in the authors' notebook)",
    runs=_cola_runs(),
    sizes={"full": {"n_seeds": 32, "n_updates": 500},
           "quick": {"n_seeds": 8, "n_updates": 100},
           "smoke": {"n_seeds": 2, "n_updates": 3}},
    dtype="float32",
    figures=_cola_figures,
    prepare=measure_consistency,
    report=_cola_report,
)
"""The ``cola`` experiment."""

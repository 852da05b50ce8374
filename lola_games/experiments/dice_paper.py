"""The DiCE paper's IPD figure (Foerster et al. 2018b, Sec. 5): ``dice-paper``.

From the settings of the paper's own code (`lola_games.agents.pg.DICE_PAPER`: batch 64,
150 rounds, plain outer steps 0.2, inner steps 0.1, rewards centred by their batch mean,
truncated-normal initial logits, normalised discounted return logged): NL-PG, LOLA-DiCE
with 1, 2, 3 lookaheads, 2 lookaheads with opponent modelling, 2 lookaheads without the
magic box, the LOLA paper's original estimator (`LOLAPG`, batch 64) and 1 lookahead with
inner steps 0.3 (the script's value before its last change); figures show the stored runs
of the paper's code (`DICE_PAPER_STORED`) next to ours.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.agents.published import DICE_PAPER, LOLA_PAPER_PG
from lola_games.analysis import plots as plotting
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.runner.run import Run

__all__ = ["DICE_PAPER_STORED", "ABOVE", "DICE_SIZES", "DICE_PAPER_EXPERIMENT"]


DICE_PAPER_STORED: dict[str, tuple[float, ...]] = {
    "k0": (-1.991, -1.991, -1.991, -1.992, -1.990),
    "k1": (-1.145, -1.115, -1.319, -1.196, -1.196),
    "k2": (-1.093, -1.148, -1.169, -1.112, -1.042),
    "k3": (-1.176, -1.016, -1.040, -1.105, -1.149),
    "om": (-1.103, -1.079, -1.058, -1.141, -1.080),
    "nobox": (-1.991, -1.991, -1.990, -1.991, -1.991),
    "original": (-1.956, -1.975, -1.995, -1.057, -1.717),
}
"""Final joint scores (mean of both agents' normalised discounted returns after 200 updates)
of the runs stored with the DiCE paper's code (alshedivat/lola ``notebooks/dice/results/``,
5 runs each: ``ipd_bs64_nl``, ``_magic`` (1 lookahead), ``_2inner``, ``_3inner``,
``_2inner_om``, ``_nomagic`` and ``_original``, the last at its 200th of 219 logged
updates, as the paper's notebook plots it)."""


def _dice_paper_runs() -> tuple[RunSpec, ...]:
    def dice(**kw: Any) -> tuple[AgentSpec, AgentSpec]:
        return (("lola-dice", {**DICE_PAPER, **kw}),) * 2

    naive = {k: v for k, v in DICE_PAPER.items()
             if k not in ("lr_in", "lr_om", "om_batch_size", "om_epochs")}
    return (
        RunSpec("k0", "NL-PG (0 lookaheads)", "ipd", 0.96, (("naive-pg", naive),) * 2),
        RunSpec("k1", "LOLA-DiCE, 1 lookahead", "ipd", 0.96, dice(n_lookaheads=1)),
        RunSpec("k2", "LOLA-DiCE, 2 lookaheads", "ipd", 0.96, dice(n_lookaheads=2)),
        RunSpec("k3", "LOLA-DiCE, 3 lookaheads", "ipd", 0.96, dice(n_lookaheads=3)),
        RunSpec("om", "LOLA-DiCE-OM, 2 lookaheads", "ipd", 0.96,
                dice(n_lookaheads=2, opponent_model=True)),
        RunSpec("nobox", "2 lookaheads, no magic box", "ipd", 0.96,
                dice(n_lookaheads=2, magic_box=False)),
        RunSpec("original", "LOLA, original estimator", "ipd", 0.96,
                (("lola-pg", {**LOLA_PAPER_PG, "batch_size": 64}),) * 2),
        RunSpec("k1_inner03", "1 lookahead, inner lr 0.3", "ipd", 0.96,
                dice(n_lookaheads=1, lr_in=0.3)),
    )


ABOVE = -1.3
"""Joint score a seed must beat to count as cooperating in the ``dice-paper`` tables."""


def _dice_paper_rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, run in runs.items():
        final = run.joint_score[-1]
        stored = np.asarray(DICE_PAPER_STORED.get(key, ()), dtype=float)
        row: dict[str, Any] = {
            "run": run.label, "seeds": run.n_seeds, "updates": int(run.updates[-1]),
            "mean": float(final.mean()),
            "stderr": float(final.std(ddof=1) / np.sqrt(final.size)) if final.size > 1 else 0.0,
            "above -1.3": float((final > ABOVE).mean()),
        }
        if stored.size:
            row.update({"stored mean": float(stored.mean()),
                        "stored stderr": float(stored.std(ddof=1) / np.sqrt(stored.size)),
                        "stored above -1.3": float((stored > ABOVE).mean())})
        row["per seed"] = " ".join(f"{x:.3f}" for x in final)
        rows.append(row)
    return {"comparison": rows}


def _dice_paper_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig = Figure(figsize=(13.0, 5.0), layout="constrained")
    curves, seeds = fig.subplots(1, 2, width_ratios=(3, 2))
    ordered = list(runs.values())
    plotting.plot_learning_curves(ordered, "joint", ax=curves, band="ci95",
                                  title="joint score (mean over seeds, 95% band)")
    curves.set_ylabel("normalised discounted return (mean of both players)")
    colors = [line.get_color() for line in curves.get_lines()]
    for i, (key, run) in enumerate(runs.items()):
        final = run.joint_score[-1]
        x = i + np.linspace(-0.25, 0.05, final.size)
        color = colors[i % len(colors)] if colors else None
        seeds.scatter(x, final, s=12, color=color, label="ours" if i == 0 else None)
        stored = DICE_PAPER_STORED.get(key)
        if stored:
            seeds.scatter(i + np.linspace(0.12, 0.3, len(stored)), stored, s=28, marker="D",
                          facecolors="none", edgecolors="k",
                          label="stored runs of the paper's code" if i == 0 else None)
    seeds.axhline(ABOVE, color="0.6", lw=0.8, ls="--")
    seeds.set_xticks(range(len(runs)), [r.label for r in ordered], rotation=35, ha="right",
                     fontsize=8)
    seeds.set_ylabel("final joint score per seed")
    seeds.set_title("per-seed outcome after the last update")
    seeds.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("IPD, DiCE paper's code settings: NL-PG, LOLA-DiCE and ablations")
    return {"dice_paper_ipd": fig,
            "dice_paper_policies_ipd": plotting.plot_policies(
                ordered, title="IPD: policies after training (DiCE paper's settings)")}


DICE_SIZES: dict[str, dict[str, Any]] = {
    "full": {"n_seeds": 32, "n_updates": 200},
    "quick": {"n_seeds": 4, "n_updates": 40, "batch_size": 32, "rollout_len": 50},
    "smoke": {"n_seeds": 2, "n_updates": 3, "batch_size": 4, "rollout_len": 8},
}
"""Sizes of the two LOLA-DiCE experiments (smaller sizes shorten the episodes too)."""


DICE_PAPER_EXPERIMENT = Experiment(
    name="dice-paper",
    description="DiCE paper (Foerster et al. 2018b) from its code's settings: NL-PG, "
    "LOLA-DiCE with 1-3 lookaheads, opponent modelling, no magic box, original LOLA",
    runs=_dice_paper_runs(),
    sizes=DICE_SIZES,
    dtype="float32",
    figures=_dice_paper_figures,
    requires="lola_games.agents.pg",
    tables=_dice_paper_rows,
)
"""The ``dice-paper`` experiment."""

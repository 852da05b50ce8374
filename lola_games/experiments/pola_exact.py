"""The POLA paper's exact-IPD experiment (Zhao et al. 2022, Fig. 3): ``pola-exact``.

With the POLA code's commands: outer POLA and LOLA on its contribution-game IPD, factors
1.1 to 1.6, tabular and MLP, and its success test (share of seeds finding TFT) as
``summary.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.analysis import plots as plotting
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.games.paper import contribution_ipd, tft_threshold
from lola_games.runner.run import Run

__all__ = ["POLA_FACTORS", "POLA_PUBLISHED", "tft_found", "POLA_EXACT_EXPERIMENT"]


POLA_FACTORS = (1.1, 1.25, 1.33, 1.4, 1.6)
"""Contribution factors of the POLA paper's exact-IPD figure."""

_POLA_LR_IN = {1.1: 5.0, 1.25: 5.0, 1.33: 5.0, 1.4: 4.0, 1.6: 2.5}
"""Inner learning rate of outer POLA (tabular) per factor, as in the POLA README commands."""


def _pola_runs() -> tuple[RunSpec, ...]:
    exact = {"outer_steps": 5000, "tol": 1e-8, "init_std": 0.1}
    runs = []
    for cf in POLA_FACTORS:
        game = contribution_ipd(cf)
        pola = ("pola", {**exact, "lr_out": 0.3, "lr_in": _POLA_LR_IN[cf], "beta_out": 0.1})
        lola = ("pola", {**exact, "lr_out": 25.0, "lr_in": 3.0, "beta_out": 0.0,
                         "outer_steps": 1, "tol": None})
        runs.append(RunSpec(f"pola_cf{cf:g}", f"POLA, tabular, factor {cf:g}", game, 0.96,
                            (pola, pola), updates=2))
        runs.append(RunSpec(f"lola_cf{cf:g}", f"LOLA, tabular, factor {cf:g}", game, 0.96,
                            (lola, lola), updates=30))
    mlp = {"policy": "mlp", "hidden_size": 16, "mlp_init": "default"}
    game = contribution_ipd(1.33)
    runs.append(RunSpec("pola_mlp_cf1.33", "POLA, MLP, factor 1.33", game, 0.96,
                        (("pola", {**exact, **mlp, "lr_out": 0.02, "lr_in": 0.25,
                                   "beta_out": 0.13}),) * 2, updates=2))
    runs.append(RunSpec("lola_mlp_cf1.33", "LOLA, MLP, factor 1.33", game, 0.96,
                        (("pola", {**exact, **mlp, "lr_out": 0.05, "lr_in": 0.4,
                                   "beta_out": 0.0, "outer_steps": 1, "tol": None}),) * 2))
    code = {**mlp, "inputs": "actions"}  # the POLA code's network input
    runs.append(RunSpec("pola_mlp_actions_cf1.33", "POLA, MLP on actions, factor 1.33", game,
                        0.96, (("pola", {**exact, **code, "lr_out": 0.02, "lr_in": 0.25,
                                         "beta_out": 0.13}),) * 2, updates=2))
    runs.append(RunSpec("lola_mlp_actions_cf1.33", "LOLA, MLP on actions, factor 1.33", game,
                        0.96, (("pola", {**exact, **code, "lr_out": 0.05, "lr_in": 0.4,
                                         "beta_out": 0.0, "outer_steps": 1, "tol": None}),) * 2))
    return tuple(runs)


def tft_found(run: Run) -> Any:
    """The POLA code's success test per seed: at some update after the first, both players
    retaliate (P(C) below 0.65 after DD and after being defected on, CD) and the mean reward
    per step exceeds 0.8 of mutual cooperation's."""
    factor = run.game.reference_levels["mutual cooperation"] + 1
    m = run.metrics
    retaliates = ((m["p_DD"] < 0.65) & (m["p_CD"] < 0.65)).all(axis=1)  # [U, S]
    scores = m["value"].mean(axis=1) > tft_threshold(factor)
    return np.any((retaliates & scores)[1:], axis=0)


POLA_PUBLISHED = {"pola_cf1.1": 1.0, "lola_cf1.1": 1.0, "pola_cf1.33": 1.0, "lola_cf1.33": 0.2,
                  "pola_cf1.25": 1.0, "lola_cf1.25": 1.0, "pola_cf1.4": 1.0, "lola_cf1.4": 0.0,
                  "pola_cf1.6": 1.0, "lola_cf1.6": 0.0, "pola_mlp_actions_cf1.33": 1.0,
                  "lola_mlp_actions_cf1.33": 0.3}
"""Share of 20 runs finding TFT with the POLA code's commands for the same runs (its README,
``--set_seed --seed 1 --repeats 20``), as measured by running that code. Its LOLA runs that
fail (16 at factor 1.33, all 20 at 1.4 and 1.6) end with NaN values (float32); its MLP
runs use the action input (``inputs="actions"``)."""


def _pola_summary(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, run in runs.items():
        found = tft_found(run)
        theirs = POLA_PUBLISHED.get(key)
        joint = run.joint_score[-1]
        rows.append({"run": run.label, "updates": int(run.updates[-1]),
                     "seeds": run.n_seeds, "TFT found": f"{100 * found.mean():.0f}%",
                     "POLA code, 20 runs": "" if theirs is None else f"{100 * theirs:.0f}%",
                     "final reward per step": f"{joint.mean():.3f}",
                     "mutual cooperation": f"{run.game.reference_levels['mutual cooperation']:g}"})
    return {"summary": rows}


def _pola_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    factors = [cf for cf in POLA_FACTORS if f"pola_cf{cf:g}" in runs]
    for kind, color, offset in (("pola", "tab:blue", -0.012), ("lola", "tab:orange", 0.012)):
        shares = [100 * tft_found(runs[f"{kind}_cf{cf:g}"]).mean() for cf in factors]
        left.bar([cf + offset for cf in factors], shares, width=0.022, color=color,
                 label=kind.upper())
    left.set_xlabel("contribution factor")
    left.set_title("tabular policies")
    variants = (("tabular", ""), ("MLP", "_mlp"), ("MLP on\nactions", "_mlp_actions"))
    bars = [(f"{kind.upper()}\n{policy}", f"{kind}{suffix}_cf1.33",
             "tab:blue" if kind == "pola" else "tab:orange")
            for policy, suffix in variants for kind in ("pola", "lola")]
    bars = [b for b in bars if b[1] in runs]
    right.bar([b[0] for b in bars], [100 * tft_found(runs[b[1]]).mean() for b in bars],
              color=[b[2] for b in bars])
    right.set_title("factor 1.33: tabular and MLP")
    for ax in (left, right):
        ax.set_ylabel("seeds finding TFT (%)")
        ax.set_ylim(0, 105)
    left.legend(loc="lower left")
    fig.suptitle("Exact IPD, the POLA code's game and success test")
    ordered = [runs[k] for k in runs if k.startswith("pola_cf")]
    return {"pola_exact_tft": fig,
            "pola_exact_policies": plotting.plot_policies(
                ordered, title="POLA (tabular) policies after 2 updates")}


POLA_EXACT_EXPERIMENT = Experiment(
    name="pola-exact",
    description="POLA paper (Zhao et al. 2022), exact IPD (the POLA code's contribution "
    "game, factors 1.1-1.6): outer POLA and LOLA, tabular and MLP, share of seeds finding TFT",
    runs=_pola_runs(),
    sizes={"full": {"n_seeds": 64, "n_updates": 100},
           "quick": {"n_seeds": 16, "n_updates": 10},
           "smoke": {"n_seeds": 2, "n_updates": 2, "outer_steps": 20}},
    dtype="float64",
    figures=_pola_figures,
    tables=_pola_summary,
)
"""The ``pola-exact`` experiment."""

"""The LOLA paper's policy-gradient results (Foerster et al. 2018, Table 1): ``lola-pg``.

NL-PG and LOLA-PG with the paper's estimator (`LOLAPG`) on the IPD (gamma 0.96) and
matching pennies (gamma 0.9), batches of 4000 episodes of 150 rounds, 150 updates of plain
steps 1, 50 runs; LOLA-PG with the paper's correction weight ``eta = 1`` and with the halved
weight of the released code (``eta = 0.5``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lola_games.agents.published import LOLA_PAPER_PG
from lola_games.analysis import plots as plotting
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.experiments.panels import two_panels
from lola_games.runner.run import Run

__all__ = ["LOLA_PAPER_PG_RESULTS", "LOLA_PG_EXPERIMENT"]


LOLA_PAPER_PG_RESULTS: dict[str, dict[str, float]] = {
    "ipd_nl": {"%TFT": 20.0, "R": -1.98, "R std": 0.00},
    "ipd_lola": {"%TFT": 66.4, "R": -1.17, "R std": 0.34},
    "imp_nl": {"%Nash": 13.2},
    "imp_lola": {"%Nash": 93.2},
}
"""The LOLA paper's Table 1, policy-gradient rows (50 runs each)."""

_TFT = np.array([1.0, 1.0, 0.0, 1.0, 0.0])  # P(C) of tit-for-tat in (start, CC, CD, DC, DD)


def _lola_pg_runs() -> tuple[RunSpec, ...]:
    nl = ("lola-pg", {**LOLA_PAPER_PG, "corrections": False})
    lola = ("lola-pg", {**LOLA_PAPER_PG, "corrections": True})
    code = ("lola-pg", {**LOLA_PAPER_PG, "corrections": True, "eta": 0.5})
    return (
        RunSpec("ipd_nl", "NL-PG vs NL-PG", "ipd", 0.96, (nl, nl)),
        RunSpec("ipd_lola", "LOLA-PG vs LOLA-PG", "ipd", 0.96, (lola, lola)),
        RunSpec("ipd_lola_half", "LOLA-PG, correction halved", "ipd", 0.96, (code, code)),
        RunSpec("imp_nl", "NL-PG vs NL-PG", "imp", 0.9, (nl, nl)),
        RunSpec("imp_lola", "LOLA-PG vs LOLA-PG", "imp", 0.9, (lola, lola)),
        RunSpec("imp_lola_half", "LOLA-PG, correction halved", "imp", 0.9, (code, code)),
    )


def _lola_pg_rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    """Our runs next to the paper's Table 1. ``%TFT``: mean probability, over both players
    and the 5 states, of the action tit-for-tat takes; ``%TFT states``: share of (seed,
    player, state) where that probability is above 0.5; ``%Nash``: share of (seed, player,
    state) with P(action 0) within 0.1 of 0.5 (the paper does not define its measures)."""
    rows = []
    for key, run in runs.items():
        probs = np.stack([run.probs_0[-1], run.probs_1[-1]])  # [2, S, 5]
        final = run.joint_score[-1]
        row: dict[str, Any] = {"run": f"{run.game.name}: {run.label}", "seeds": run.n_seeds,
                               "updates": int(run.updates[-1]), "R": float(final.mean()),
                               "R std": float(final.std())}
        if run.game.name == "ipd":
            tft = np.where(_TFT == 1, probs, 1 - probs)
            row["%TFT"] = float(100 * tft.mean())
            row["%TFT states"] = float(100 * (tft > 0.5).mean())
        else:
            row["%Nash"] = float(100 * (np.abs(probs - 0.5) < 0.1).mean())
        for name, value in LOLA_PAPER_PG_RESULTS.get(key, {}).items():
            row[f"paper {name}"] = value
        rows.append(row)
    return {"paper_table": rows}


def _lola_pg_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ipd = [runs["ipd_nl"], runs["ipd_lola"], runs["ipd_lola_half"]]
    imp = [runs["imp_nl"], runs["imp_lola"], runs["imp_lola_half"]]
    fig, (a, b) = two_panels("LOLA paper's policy-gradient estimator (NL-PG, LOLA-PG)")
    plotting.plot_learning_curves(ipd, "joint", ax=a, title="IPD: joint score")
    a.set_ylabel("normalised discounted return (mean of both players)")
    plotting.plot_learning_curves(imp, "nash_distance", ax=b,
                                  title="matching pennies: distance from the Nash policy")
    return {"lola_pg": fig,
            "lola_pg_policies_ipd": plotting.plot_policies(
                ipd, title="IPD: policies after training (policy gradient)"),
            "lola_pg_policies_imp": plotting.plot_policies(
                imp, title="Matching pennies: policies after training (policy gradient)")}


LOLA_PG_EXPERIMENT = Experiment(
    name="lola-pg",
    description="LOLA paper (Foerster et al. 2018), policy gradient: NL-PG and LOLA-PG "
    "with the paper's estimator on the IPD and matching pennies, batch 4000, 150 updates",
    runs=_lola_pg_runs(),
    sizes={"full": {"n_seeds": 50, "n_updates": 150},
           "quick": {"n_seeds": 8, "n_updates": 60, "batch_size": 400},
           "smoke": {"n_seeds": 2, "n_updates": 3, "batch_size": 4, "rollout_len": 8}},
    dtype="float32",
    figures=_lola_pg_figures,
    requires="lola_games.agents.pg",
    log_every=5,
    tables=_lola_pg_rows,
)
"""The ``lola-pg`` experiment."""

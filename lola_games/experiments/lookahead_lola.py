"""LOLA with k exact lookahead steps on the IPD: ``lookahead``.

Joint score against update with k = 0, 1, 2, 3 lookahead steps on the exact IPD (k = 0:
naive learners; k >= 1: `LookaheadLOLA`): the exact-gradient counterpart of the DiCE
paper's lookahead figure, with the learning rates of the published LOLA-DiCE code (Adam
outer step 0.2, opponent's inner step 0.3).
"""

from __future__ import annotations

from typing import Any

from lola_games.analysis import plots as plotting
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.runner.run import Run

__all__ = ["LOOKAHEAD_LR", "LOOKAHEAD_ETA", "LOOKAHEAD_EXPERIMENT"]


LOOKAHEAD_LR, LOOKAHEAD_ETA = 0.2, 0.3
"""Own (Adam) and opponent's inner learning rates of the ``lookahead`` experiment."""


def _lookahead_runs() -> tuple[RunSpec, ...]:
    runs = [RunSpec("k0", "0 lookahead steps (naive)", "ipd", 0.96,
                    (("naive", {"lr": LOOKAHEAD_LR, "optimizer": "adam"}),) * 2)]
    for k in (1, 2, 3):
        agent = ("lookahead-lola", {"lr": LOOKAHEAD_LR, "eta": LOOKAHEAD_ETA,
                                    "lookahead_steps": k, "optimizer": "adam"})
        runs.append(RunSpec(f"k{k}", f"{k} lookahead step{'s' * (k > 1)}", "ipd", 0.96,
                            (agent, agent)))
    return tuple(runs)


def _lookahead_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ordered = [runs[f"k{k}"] for k in range(4)]
    fig = plotting.plot_joint_scores(
        ordered, band="ci95",
        title=f"IPD, exact gradients: LOLA with k lookahead steps\n(own Adam lr {LOOKAHEAD_LR}, "
              f"opponent's lookahead lr {LOOKAHEAD_ETA})")
    return {"lookahead_ipd": fig,
            "lookahead_policies_ipd": plotting.plot_policies(
                ordered, title="IPD: policies after training, k lookahead steps")}


LOOKAHEAD_EXPERIMENT = Experiment(
    name="lookahead",
    description="LOLA with 0-3 exact lookahead steps on the IPD (learning rates of the "
    "published LOLA-DiCE code: Adam 0.2, opponent 0.3)",
    runs=_lookahead_runs(),
    sizes={"full": {"n_seeds": 256, "n_updates": 200},
           "quick": {"n_seeds": 32, "n_updates": 100},
           "smoke": {"n_seeds": 4, "n_updates": 5}},
    dtype="float64",
    figures=_lookahead_figures,
)
"""The ``lookahead`` experiment."""

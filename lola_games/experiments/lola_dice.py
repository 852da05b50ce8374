"""NL-PG and LOLA-DiCE in the setting of an unofficial PyTorch port: ``lola-dice``.

NL-PG and LOLA-DiCE with 1, 2, 3 lookaheads in the setting of an unofficial PyTorch port
(`lola_games.agents.pg.UNOFFICIAL_PORT`: batch 128, Adam outer steps 0.2, inner steps 0.3,
learned value baseline with Adam 0.1, logits starting at 0, mean reward per round logged).
"""

from __future__ import annotations

from typing import Any

from lola_games.agents.published import UNOFFICIAL_PORT
from lola_games.analysis import plots as plotting
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.experiments.dice_paper import DICE_SIZES
from lola_games.runner.run import Run

__all__ = ["LOLA_DICE_EXPERIMENT"]


def _dice_runs() -> tuple[RunSpec, ...]:
    naive = {k: v for k, v in UNOFFICIAL_PORT.items() if k != "lr_in"}
    runs = [RunSpec("k0", "NL-PG (0 lookaheads)", "ipd", 0.96, (("naive-pg", naive),) * 2)]
    for k in (1, 2, 3):
        agent = ("lola-dice", {**UNOFFICIAL_PORT, "n_lookaheads": k})
        runs.append(RunSpec(f"k{k}", f"LOLA-DiCE, {k} lookahead{'s' * (k > 1)}", "ipd", 0.96,
                            (agent, agent)))
    return tuple(runs)


def _dice_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ordered = [runs[f"k{k}"] for k in range(4)]
    fig = plotting.plot_joint_scores(
        ordered, band="ci95",
        title="IPD, sampled, unofficial port's setting: NL-PG and LOLA-DiCE (1-3 lookaheads)")
    return {"lola_dice_ipd": fig,
            "lola_dice_policies_ipd": plotting.plot_policies(
                ordered, title="IPD: LOLA-DiCE policies after training (unofficial port)")}


LOLA_DICE_EXPERIMENT = Experiment(
    name="lola-dice",
    description="NL-PG and LOLA-DiCE with 1-3 lookaheads on the IPD in the setting of "
    "an unofficial PyTorch port (Adam, learned baseline, batch 128, inner lr 0.3)",
    runs=_dice_runs(),
    sizes=DICE_SIZES,
    dtype="float32",
    figures=_dice_figures,
    requires="lola_games.agents.pg",
)
"""The ``lola-dice`` experiment."""

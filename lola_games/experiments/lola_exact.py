"""The LOLA paper's exact-gradient experiments (Foerster et al. 2018, Sec. 4-5): ``lola-exact``.

NL-Ex vs NL-Ex, LOLA-Ex vs LOLA-Ex and LOLA-Ex vs NL-Ex on the IPD (gamma 0.96) and on
matching pennies (gamma 0.9); delta = eta = 1 on the unnormalised discounted value,
logits ~ N(0, 1), 200 updates.
"""

from __future__ import annotations

from typing import Any

from lola_games.analysis import plots as plotting
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.experiments.panels import two_panels
from lola_games.runner.run import Run

__all__ = ["LOLA_EXACT_EXPERIMENT"]


_NL_EX: AgentSpec = ("naive", {"lr": 1.0})
_LOLA_EX: AgentSpec = ("lola", {"lr": 1.0, "eta": 1.0})


def _exact_runs() -> tuple[RunSpec, ...]:
    runs = []
    for game, gamma in (("ipd", 0.96), ("imp", 0.9)):
        for key, label, agents in (
            ("nl_nl", "NL-Ex vs NL-Ex", (_NL_EX, _NL_EX)),
            ("lola_lola", "LOLA-Ex vs LOLA-Ex", (_LOLA_EX, _LOLA_EX)),
            ("lola_nl", "LOLA-Ex vs NL-Ex", (_LOLA_EX, _NL_EX)),
        ):
            runs.append(RunSpec(f"{game}_{key}", label, game, gamma, agents))
    return tuple(runs)


def _exact_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ipd = [runs[k] for k in ("ipd_nl_nl", "ipd_lola_lola", "ipd_lola_nl")]
    imp = [runs[k] for k in ("imp_nl_nl", "imp_lola_lola", "imp_lola_nl")]
    fig_ipd, (a, b) = two_panels("Iterated prisoner's dilemma, exact gradients (gamma 0.96)")
    plotting.plot_learning_curves(ipd, "joint", ax=a, title="joint score")
    plotting.plot_learning_curves(ipd, "value_0", ax=b, title="player 0 (LOLA-Ex in the mixed run)")
    fig_imp, (c, d) = two_panels("Iterated matching pennies, exact gradients (gamma 0.9)")
    plotting.plot_learning_curves(imp, "value_0", ax=c, title="player 0's reward (zero-sum game)")
    plotting.plot_learning_curves(imp, "nash_distance", ax=d, title="distance from the Nash policy")
    return {
        "lola_exact_ipd": fig_ipd,
        "lola_exact_imp": fig_imp,
        "lola_exact_policies_ipd": plotting.plot_policies(
            ipd, title="IPD: policies after training (exact gradients)"),
        "lola_exact_policies_imp": plotting.plot_policies(
            imp, title="Matching pennies: policies after training (exact gradients)"),
    }


LOLA_EXACT_EXPERIMENT = Experiment(
    name="lola-exact",
    description="LOLA paper (Foerster et al. 2018), exact gradients: NL-Ex and LOLA-Ex "
    "on the IPD and matching pennies, delta = eta = 1, 200 updates",
    runs=_exact_runs(),
    sizes={"full": {"n_seeds": 256, "n_updates": 200},
           "quick": {"n_seeds": 64, "n_updates": 150},
           "smoke": {"n_seeds": 4, "n_updates": 5}},
    dtype="float64",
    figures=_exact_figures,
)
"""The ``lola-exact`` experiment."""

"""The SOS paper (Letcher et al. 2019) on differentiable games: ``sos``.

With the settings of the authors' notebook (``aletcher/stable-opponent-shaping``): Tandem
(alpha 0.1, init N(0, 0.1^2), 100 runs of 30 steps; NL, the paper's LOLA, LA, SOS),
one-shot matching pennies (alpha 1, init N(0, 1), 100 runs of 100 steps) and the IPD
(alpha 1, gamma 0.96, init N(0, 1), 50 runs of 100 steps) with NL, LOLA, LA, SOS, CGD, SGA,
CO and EG; plus the Hamiltonian game (ours: alpha 0.1, init N(0, 1), 100 runs of 500 steps),
where CO, SGA and SOS converge and NL circles. Every learner uses one rate ``alpha`` for its
step and its look-ahead, as the notebook does (`one_rate_spec`).
"""

from __future__ import annotations

from typing import Any

from lola_games.analysis import plots as plotting
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.experiments.panels import panels
from lola_games.runner.run import Run

__all__ = ["one_rate_spec", "SOS_EXPERIMENT"]


def one_rate_spec(name: str, alpha: float, **extra: Any) -> AgentSpec:
    """A learner with one rate ``alpha`` for its step and its look-ahead (the notebooks').

    Args:
        name: the learner's registry name.
        alpha: its learning rate and look-ahead rate.
        **extra: more hyper-parameters.

    Returns:
        The registry name and its hyper-parameters.
    """
    hp: dict[str, Any] = {"lr": alpha}
    if name in ("lola",):
        hp.update(eta=alpha, stop_gradient=False)  # the SOS paper's (and notebook's) LOLA
    elif name in ("la", "sos"):
        hp["alpha"] = alpha
    elif name in ("hola", "cgd", "eg", "cola"):
        hp["eta"] = alpha
    hp.update(extra)
    return name, hp


_LABELS = {"naive": "NL", "lola": "LOLA", "la": "LA", "sos": "SOS", "cgd": "CGD", "sga": "SGA",
           "co": "CO", "eg": "EG"}


_SOS_GAMES = {
    # key: (game, alpha, seeds, updates, learners)
    "tandem": ("tandem", 0.1, 100, 30, ("naive", "lola", "la", "sos")),
    "mp": ("one_shot_mp", 1.0, 100, 100, ("naive", "lola", "la", "sos", "cgd", "sga", "co",
                                          "eg")),
    "ipd": ("ipd", 1.0, 50, 100, ("naive", "lola", "la", "sos", "cgd", "sga", "co", "eg")),
    "hamiltonian": ("hamiltonian", 0.1, 100, 500, ("naive", "lola", "la", "sos", "cgd", "sga",
                                                   "co", "eg")),
}


def _sos_runs() -> tuple[RunSpec, ...]:
    runs = []
    for key, (game, alpha, seeds, updates, learners) in _SOS_GAMES.items():
        for name in learners:
            runs.append(RunSpec(f"{key}_{name}", f"{_LABELS[name]} (alpha {alpha:g})", game,
                                0.96, (one_rate_spec(name, alpha),) * 2, updates=updates,
                                seeds=seeds))
    return tuple(runs)


def _sos_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    def group(key: str) -> list[Run]:
        return [runs[f"{key}_{n}"] for n in _SOS_GAMES[key][4]]

    tandem, (a, b) = panels(2, "Tandem (alpha 0.1, init N(0, 0.1^2))")
    plotting.plot_learning_curves(group("tandem"), "value_0", ax=a,
                                  title="player 0's value (minus its loss)")
    plotting.plot_learning_curves(group("tandem"), "x_plus_y", ax=b, title="x + y")
    b.axhline(1.0, color="0.35", ls=":", lw=1.2)
    b.axhline(4 / 3, color="0.35", ls="--", lw=1.0)
    mp, (c,) = panels(1, "One-shot matching pennies (alpha 1)")
    plotting.plot_learning_curves(group("mp"), "nash_gap", ax=c,
                                  title="|P(heads) - 1/2|, mean over the players")
    ipd, (d, e) = panels(2, "IPD (alpha 1, gamma 0.96)")
    plotting.plot_learning_curves(group("ipd"), "value_0", ax=d, title="player 0's value")
    plotting.plot_learning_curves(group("ipd"), "joint", ax=e, title="joint score")
    ham, (f,) = panels(1, "Hamiltonian game (alpha 0.1)")
    plotting.plot_learning_curves(group("hamiltonian"), "radius", ax=f,
                                  title="distance from the fixed point (0, 0)")
    f.set_yscale("log")
    return {"sos_tandem": tandem, "sos_matching_pennies": mp, "sos_ipd": ipd,
            "sos_hamiltonian": ham}


SOS_EXPERIMENT = Experiment(
    name="sos",
    description="SOS paper (Letcher et al. 2019), the authors' notebook's settings: "
    "Tandem, matching pennies and the IPD with NL, LOLA, LA, SOS, CGD, SGA, CO, EG; and "
    "the Hamiltonian game",
    runs=_sos_runs(),
    sizes={"full": {"n_seeds": 100, "n_updates": 500},
           "quick": {"n_seeds": 32, "n_updates": 500},
           "smoke": {"n_seeds": 3, "n_updates": 3}},
    dtype="float32",
    figures=_sos_figures,
)
"""The ``sos`` experiment."""

"""Named outcomes of a run: the share of seeds at each outcome of its game, and the one-line
summary of a run that `lola_games.runner.training` users (and the command line) print.

`OUTCOMES` judges the final update of each seed; games without an entry use their
``reference_levels``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from lola_games.runner.evaluation_io import evaluation_summary
from lola_games.runner.run import Run

__all__ = ["OUTCOMES", "Criterion", "Verdict", "outcome_shares", "extra_metrics", "summary_line"]


Verdict = npt.NDArray[np.bool_] | np.bool_
"""``bool [S]``: whether each seed is at an outcome."""

Criterion = Callable[[dict[str, np.ndarray]], Verdict]
"""``final metrics (name -> [P, S]) -> bool [S]``."""


def _joint(m: dict[str, np.ndarray]) -> np.ndarray:
    return m["value"].mean(axis=0)


def _near_half(m: dict[str, np.ndarray]) -> Verdict:
    probs = np.stack([v for k, v in m.items() if k.startswith("p_")])  # [states, P, S]
    return (np.abs(probs - 0.5) < 0.1).all(axis=(0, 1))


def _near_level(m: dict[str, np.ndarray], level: float) -> Verdict:
    return np.abs(_joint(m) - level) < 0.1


OUTCOMES: dict[str, dict[str, Criterion]] = {
    # IPD: mutual cooperation scores -1 per step, mutual defection (the Nash outcome) -2.
    "ipd": {
        "cooperation": lambda m: _joint(m) > -1.1,
        "defection (Nash)": lambda m: _joint(m) < -1.9,
    },
    # Matching pennies is zero-sum; its only Nash equilibrium plays each action half the time.
    "imp": {"Nash": _near_half},
    # Stag hunt: both stag (4) and both hare (2) are equilibria.
    "stag_hunt": {
        "both stag": lambda m: _joint(m) > 3.9,
        "both hare": lambda m: _joint(m) < 2.1,
    },
    # Chicken: both swerve (0, 0); the pure Nash outcomes have one going straight (+1, -1).
    "chicken": {
        "both swerve": lambda m: m["value"].min(axis=0) > -0.1,
        "one yields (Nash)": lambda m: (m["value"].max(axis=0) > 0.9)
        & (m["value"].min(axis=0) < -0.9),
    },
    # Coin Game: random play picks up own-colour coins half the time, a player that leaves
    # the other's coins alone always; a seed cooperates when both players are closer to the
    # latter (own-coin share above the midpoint 0.75).
    "coin_game": {
        "cooperation (own coins > 0.75)": lambda m: (m["own_coin_share"] > 0.75).all(axis=0),
    },
    # Differentiable one-shot games (lola_games.games.differentiable), judged on their parameters.
    # Tandem: the stable fixed points are x + y = 1; LOLA at alpha 0.1 settles at x + y = 4/3.
    "tandem": {
        "x + y = 1": lambda m: np.abs(m["x_plus_y"][0] - 1) < 0.05,
        "x + y = 4/3": lambda m: np.abs(m["x_plus_y"][0] - 4 / 3) < 0.05,
    },
    # One-shot matching pennies: Nash plays heads with probability 1/2.
    "one_shot_mp": {"Nash": lambda m: m["nash_gap"].max(axis=0) < 0.05},
    "hamiltonian": {"fixed point": lambda m: m["radius"][0] < 0.05},
    "balduzzi": {"fixed point": lambda m: m["radius"][0] < 0.05},
    "ultimatum": {
        "fair split": lambda m: m["p"][0] > 0.9,
        "unfair split accepted": lambda m: (m["p"][0] < 0.1) & (m["p"][1] > 0.9),
    },
    "one_shot_chicken": {
        "both swerve": lambda m: m["p"].min(axis=0) > 0.9,
        "one yields": lambda m: (m["p"].max(axis=0) > 0.9) & (m["p"].min(axis=0) < 0.1),
        "crash": lambda m: m["p"].max(axis=0) < 0.1,
    },
}
"""Named outcomes per game, judged on the final update of each seed."""


def outcome_shares(run: Run) -> dict[str, float]:
    """Share of seeds at each named outcome of the run's game after the last update.

    Games without an entry in `OUTCOMES` use their ``reference_levels``: a seed is at a
    level when its joint score (mean of the players' values) is within 0.1 of it. Outcomes
    whose metrics the run did not log are left out.
    """
    final = {name: values[-1] for name, values in run.metrics.items()}
    criteria = OUTCOMES.get(run.game.name)
    if criteria is None:
        levels = getattr(run.game, "reference_levels", {})
        criteria = {
            name: functools.partial(_near_level, level=level)
            for name, level in levels.items()
        }
    shares = {}
    for name, fn in criteria.items():
        try:
            shares[name] = float(np.mean(fn(final)))
        except (KeyError, ValueError):
            continue
    return shares


def extra_metrics(run: Run) -> list[str]:
    """The run's metrics other than ``value`` and memory-one probabilities, in log order."""
    return [k for k in run.metrics if k != "value" and not k.startswith("p_")]


def summary_line(run: Run) -> str:
    """One line: final joint score mean and spread over seeds, each player's mean value, the
    mean of any other named metric, the share of seeds at each named outcome, and, for a run
    with an ``evaluation.csv``, the players' mean scores against each opponent (and an
    exploiter's gain; `lola_games.runner.evaluation_io.evaluation_summary`)."""
    joint = run.joint_score[-1]
    values = ", ".join(f"{v.mean():.3f}" for v in run.metrics["value"][-1])
    extra = "".join(f"; {k} {run.metrics[k][-1].mean():.3f}" for k in extra_metrics(run))
    shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in outcome_shares(run).items())
    evaluation = evaluation_summary(run.evaluation) if run.evaluation else ""
    return (
        f"{run.label}: update {int(run.updates[-1])}, {run.n_seeds} seeds: joint score "
        f"{joint.mean():.3f} +- {joint.std():.3f} (values {values}){extra}"
        + (f"; {shares}" if shares else "") + (f"; {evaluation}" if evaluation else "")
    )

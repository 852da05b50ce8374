"""The POLA paper's sampled IPD experiment (Zhao et al. 2022, Fig. 4) on a CPU, registered
as ``pola-dice`` in `lola_games.experiments.base.EXPERIMENTS`.

The POLA code (Silent-Zebra/POLA, ``jax_files/POLA_dice_jax.py``, README commands for Fig. 4)
trains POLA-DiCE, POLA-OM and LOLA-DiCE in self-play on its contribution-game IPD (factor
1.33: mutual cooperation 0.33 per round, mutual defection 0), 50 rounds per episode, gamma
0.96, and scores every policy after every update by its mean reward per round with the other
learner and against always-defect (`lola_games.agents.pola_metrics.evaluate_pola`).
Its policies are GRUs over the whole history, with 2000 episodes per rollout and 200 outer
steps per update: far beyond a CPU (see the README). Here:

* the policies are tabular (memory-one), so rollouts, DiCE terms and KL terms are cheap;
* POLA-DiCE and POLA-OM keep the code's structure and proximity weights (2 inner steps with
  ``beta_in`` 10, ``beta_out`` 100, Adam restarted every update, learned value baseline in
  the Loaded-DiCE form, 200 model-fitting rollouts per update for POLA-OM) with 200
  episodes per rollout and 20 outer steps of Adam 0.025 per update (the code: 200 of
  0.003); the inner step is 1.0 (the code's 0.005 is a step for its network's weights: on
  tabular logits the opponent's anticipated learning is then too small to shape);
* LOLA-DiCE is the same learner with one inner and one outer step and both betas 0 (the
  code's LOLA-DiCE command), at the same inner step and outer step size; the figure puts
  all runs on the code's x-axis, the total number of outer steps.

Sizes: ``full`` 10 seeds (the paper's count), 100 POLA updates (2000 outer steps, as the
paper's 100 updates of 200 steps are 20000) and 2000 LOLA-DiCE updates; ``quick`` and
``smoke`` are smaller.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.experiments.base import Experiment, RunSpec
from lola_games.games.paper import contribution_ipd
from lola_games.runner.run import Run

__all__ = ["POLA_SAMPLED_EXPERIMENTS", "POLA_PUBLISHED_IPD", "CPU_SETTING"]

CPU_SETTING: dict[str, Any] = {
    "batch_size": 200, "rollout_len": 50, "outer_steps": 20, "lr_out": 0.025, "lr_in": 1.0,
}
"""The changes to `lola_games.agents.pola_dice.POLA_IPD` of the CPU reproduction (with
a tabular policy, see the module docstring)."""

POLA_PUBLISHED_IPD: dict[str, tuple[float, float]] = {
    "pola_dice": (0.31, -0.035),
    "pola_om": (0.315, -0.04),
    "lola_dice": (0.11, -0.005),
}
"""Mean over 10 seeds at the end of the POLA README's IPD figure (``figs/fig_ipd.png``, after
20000 outer steps), read off the figure: (score with each other, score against
always-defect); mutual cooperation is 0.33."""

_RUNS = {"pola_dice": "POLA-DiCE", "pola_om": "POLA-OM", "lola_dice": "LOLA-DiCE"}


def _runs() -> tuple[RunSpec, ...]:
    game = contribution_ipd(1.33)
    pola = ("pola-dice", dict(CPU_SETTING))
    pola_om = ("pola-om", dict(CPU_SETTING))
    lola = ("pola-dice", {**CPU_SETTING, "inner_steps": 1, "outer_steps": 1,
                          "beta_in": 0.0, "beta_out": 0.0})
    return (RunSpec("pola_dice", "POLA-DiCE", game, 0.96, (pola, pola), updates=100),
            RunSpec("pola_om", "POLA-OM", game, 0.96, (pola_om, pola_om), updates=100),
            RunSpec("lola_dice", "LOLA-DiCE", game, 0.96, (lola, lola)))


def _outer_steps(run: Run) -> int:
    return int(run.config["agents"][0]["hparams"]["outer_steps"])


def _scores(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """``[U, S]`` each: the mean of both players' score with each other, and against
    always-defect."""
    return run.metrics["value"].mean(axis=1), run.metrics["vs_alld"].mean(axis=1)


def _rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, label in _RUNS.items():
        if key not in runs:
            continue
        run = runs[key]
        together, alld = (x[-1] for x in _scores(run))
        theirs = POLA_PUBLISHED_IPD[key]
        rows.append({
            "run": label, "updates": int(run.updates[-1]),
            "outer steps": int(run.updates[-1]) * _outer_steps(run), "seeds": run.n_seeds,
            "with each other": f"{together.mean():.3f} (sd {together.std():.3f})",
            "POLA code": f"{theirs[0]:.3f}",
            "vs always-defect": f"{alld.mean():.3f} (sd {alld.std():.3f})",
            "POLA code vs always-defect": f"{theirs[1]:.3f}",
            "seeds above 0.25": f"{100 * (together > 0.25).mean():.0f}%",
        })
    return {"pola_dice_ipd": rows}


def _figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    colors = {"pola_dice": "tab:blue", "lola_dice": "tab:orange", "pola_om": "tab:green"}
    for key, label in _RUNS.items():
        if key not in runs:
            continue
        run = runs[key]
        x = run.updates * _outer_steps(run)
        for ax, y, published in zip(axes, _scores(run), POLA_PUBLISHED_IPD[key], strict=True):
            mean, sd = y.mean(-1), y.std(-1)
            ax.plot(x, mean, color=colors[key], label=f"{label} (ours)")
            ax.fill_between(x, mean - sd, mean + sd, color=colors[key], alpha=0.2, lw=0)
            ax.plot([x[-1]], [published], marker="D", color=colors[key], ls="none",
                    label=f"{label}, POLA code (end of its run)")
    for ax, title in zip(axes, ("score with each other", "score against always-defect"),
                         strict=True):
        ax.axhline(0.33, color="tab:red", ls="-.", lw=0.8)
        ax.axhline(0.0, color="tab:purple", ls="-.", lw=0.8)
        ax.set_xlabel("total number of outer steps")
        ax.set_ylabel("mean reward per round (mean +- sd over seeds)")
        ax.set_title(title)
    axes[0].legend(fontsize=7)
    fig.suptitle("POLA paper's IPD (factor 1.33, 50 rounds), tabular policies on a CPU")
    return {"pola_dice_ipd": fig}


POLA_SAMPLED_EXPERIMENTS: dict[str, Experiment] = {
    "pola-dice": Experiment(
        name="pola-dice",
        description="POLA paper (Zhao et al. 2022), sampled IPD (its code's contribution game, "
        "50 rounds): POLA-DiCE, POLA-OM and LOLA-DiCE in self-play, tabular policies sized "
        "for a CPU, scores with each other and against always-defect",
        runs=_runs(),
        sizes={"full": {"n_seeds": 10, "n_updates": 2000},
               "quick": {"n_seeds": 4, "n_updates": 20, "batch_size": 100, "om_batches": 20},
               "smoke": {"n_seeds": 2, "n_updates": 2, "batch_size": 8, "rollout_len": 6,
                         "outer_steps": 2, "om_batches": 2}},
        dtype="float32",
        figures=_figures,
        requires="lola_games.agents.pola_dice",
        log_every=5,
        tables=_rows,
    ),
}
"""The experiment by name."""

"""LOQA on the 3 x 3 Coin Game (Aghajohari et al., ICLR 2024), registered as ``loqa``.

LOQA learners (`lola_games.agents.loqa.LOQA`) in the authors' Coin Game setting
(`lola_games.agents.published.LOQA_COIN`: MiladInk/loqa ``coin_train.py`` with
``hp/loqa_iclr.yaml`` and the README's command): 512 episodes of 50 rounds on the 3 x 3
board, gamma 0.96, self-play against past selves drawn per episode from a replay buffer. Both
players of the run are LOQA learners that each train in self-play, so one run of ``S`` seeds
trains ``2 S`` independent learners. Each is scored against itself, as in the paper
(`lola_games.agents.loqa_metrics.evaluate_loqa`: ``self_own_coin_share`` and
``self_value``, the reward per round), and the two with each other (``own_coin_share``,
``value``).

Sizes: ``paper`` (= ``full``) the paper's setting, 10 seeds of 6,000 updates;
``cpu`` the same game and rounds (3 x 3, 50 rounds) and the same learner with 128 episodes
per update (`CPU_SETTING`), 1 seed (2 learners), 1,500 updates, about 1.5 CPU seconds per
update (65 minutes of wall clock on a shared 2-core machine; its curve, which peaked at an
own-coin share of 0.65, is on the docs page); ``quick`` and ``smoke`` check the pipeline.
The figure ``loqa_coin`` draws the self-play own-coin share and reward per round against
updates; ``loqa_evaluation`` the evaluation matrix the papers report: each learner's reward per
round and own-coin share against itself, always-cooperate, always-defect and a PPO
exploiter trained against it (`EXPLOITER`, ``exploiter_updates`` of the size), with the
opponent's reward beside it (`lola_games.runner.evaluation`; per seed in each run's
``evaluation.csv``, the means in ``evaluation.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lola_games.agents.published import AA_COIN, LOQA_COIN
from lola_games.analysis.evaluation_plots import plot_evaluation
from lola_games.analysis.figures import plot_curve_panels
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.runner.run import Run

__all__ = ["CPU_SETTING", "EXPLOITER", "LOQA_SIZES", "LOQA_EXPERIMENT"]

CPU_SETTING: dict[str, Any] = {"batch_size": 128}
"""What the ``cpu`` size changes in `LOQA_COIN`: 128 episodes per update instead of 512
(the board, the rounds, the networks and every step size as in the paper)."""

EXPLOITER: tuple[str, dict[str, Any]] = (
    "ppo", {k: v for k, v in AA_COIN.items() if k != "aa_weight"})
"""The exploiter trained against each frozen learner: PPO in the Coin Game setting of the
Advantage Alignment runs (`lola_games.agents.published.AA_COIN`, without the alignment)."""

PAPER = {"n_seeds": 10, "n_updates": 6000, "log_every": 50, "exploiter_updates": 1000}

LOQA_SIZES: dict[str, dict[str, Any]] = {
    "full": PAPER,
    "paper": PAPER,
    "cpu": {"n_seeds": 1, "n_updates": 1500, "log_every": 25, "exploiter_updates": 200,
            **CPU_SETTING},
    "quick": {"n_seeds": 1, "n_updates": 10, "log_every": 5, "batch_size": 32,
              "exploiter_updates": 2},
    "smoke": {"n_seeds": 2, "n_updates": 2, "hidden_size": 8, "critic_hidden_size": 8,
              "batch_size": 4, "rollout_len": 6, "buffer_every": 1, "exploiter_updates": 1},
}
"""Sizes of ``loqa`` (module docstring)."""

CURVES = (("self_own_coin_share", "own-coin share in self-play"),
          ("self_value", "reward per round in self-play"))


def _rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for run in runs.values():
        share = run.metrics["self_own_coin_share"][-1].reshape(-1)  # [2 S] learners
        reward = run.metrics["self_value"][-1].reshape(-1)
        rows.append({
            "run": run.label, "learners": share.size, "updates": int(run.updates[-1]),
            "own-coin share (self-play)": float(np.nanmean(share)),
            "reward per round (self-play)": float(reward.mean()),
            "own-coin share with each other": float(np.nanmean(run.metrics["own_coin_share"][-1])),
            "share per learner": " ".join(f"{x:.3f}" for x in share),
            "reward per learner": " ".join(f"{x:.3f}" for x in reward),
        })
    return {"loqa_coin": rows}


def _figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ordered = list(runs.values())
    setting = ordered[0].config["agents"][0]["hparams"]
    fig = plot_curve_panels(
        ordered, CURVES, f"LOQA, Coin Game 3 x 3 ({setting['batch_size']} episodes of "
        f"{setting['rollout_len']} rounds, size {size})",
        ylabel="{label}\nmean of both learners, band = std over seeds", targets=(0.8, 0.2))
    evaluation = plot_evaluation(ordered, "LOQA against itself, always-cooperate, "
                                 "always-defect and a PPO exploiter")
    return {"loqa_coin": fig, "loqa_evaluation": evaluation}


LOQA_EXPERIMENT = Experiment(
    name="loqa",
    description="LOQA paper (Aghajohari et al. 2024): LOQA in self-play on the 3 x 3 Coin "
    "Game in the authors' setting, own-coin share and reward per round (--size cpu: an "
    "hour of CPU)",
    runs=(RunSpec("loqa", "LOQA", "coin_game", 0.96, (("loqa", LOQA_COIN),) * 2),),
    sizes=LOQA_SIZES,
    dtype="float32",
    figures=_figures,
    requires="lola_games.agents.loqa",
    tables=_rows,
    exploiter=EXPLOITER,
)
"""The ``loqa`` experiment."""

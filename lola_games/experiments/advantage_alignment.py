"""Advantage Alignment on the 3 x 3 Coin Game (Duque et al., ICLR 2025), registered as
``advantage-alignment``, with independent PPO as the baseline every recent paper reports.

Both runs play two learners of one kind against each other in the setting of the paper's
Coin Game runs (`lola_games.agents.published.AA_COIN`: the hyper-parameters stored with the
Advantage Alignment checkpoints of MiladInk/loqa, in which its Coin Game runs were made; 512
episodes of 50 rounds, gamma 0.96): ``aa`` two `AdvantageAlignment` learners, ``ppo`` two
`PPO` learners with the same settings and no alignment term. Each run logs both players' mean
reward per round (``value``) and own-coin share against updates, and ends with the evaluation
the papers report (`lola_games.runner.evaluation`): every learner against itself,
always-cooperate, always-defect and a PPO exploiter trained against it for the size's
``exploiter_updates`` (per seed in each run's ``evaluation.csv``, the means in
``evaluation.md``, the figure ``aa_evaluation``).

Sizes: ``paper`` (= ``full``) 10 seeds of 6,000 updates (the stored checkpoints are of update
25,400 of a run the published code does not hold; 6,000 is LOQA's length, for comparison);
``cpu`` the ``aa`` run alone, 1 seed of 10,000 updates in the paper's setting (the same game,
rounds, episodes and networks; 0.29 s of wall clock per update of both learners on two
CPU cores, 48 minutes with the evaluation and 200 updates of each exploiter; its result is
on the docs page);
``quick`` and ``smoke`` check the pipeline.
"""

from __future__ import annotations

from typing import Any

from lola_games.agents.published import AA_COIN
from lola_games.analysis.evaluation_plots import plot_evaluation
from lola_games.analysis.figures import plot_curve_panels
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.runner.run import Run

__all__ = ["PPO_COIN", "AA_SIZES", "AA_EXPERIMENT"]

PPO_COIN: dict[str, Any] = {k: v for k, v in AA_COIN.items() if k != "aa_weight"}
"""PPO in the setting of `AA_COIN` (no alignment term): the baseline, and the exploiter."""

PAPER = {"n_seeds": 10, "n_updates": 6000, "log_every": 50, "exploiter_updates": 1000}

AA_SIZES: dict[str, dict[str, Any]] = {
    "full": PAPER,
    "paper": PAPER,
    "cpu": {"runs": ("aa",), "n_seeds": 1, "n_updates": 10000, "log_every": 25,
            "exploiter_updates": 200},
    "quick": {"n_seeds": 1, "n_updates": 10, "log_every": 5, "batch_size": 32,
              "exploiter_updates": 2},
    "smoke": {"n_seeds": 2, "n_updates": 2, "log_every": 1, "hidden_size": 8,
              "batch_size": 4, "rollout_len": 6, "exploiter_updates": 1},
}
"""Sizes of ``advantage-alignment`` (module docstring)."""

CURVES = (("own_coin_share", "own-coin share"), ("value", "reward per round"))


def _figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ordered = list(runs.values())
    setting = ordered[0].config["agents"][0]["hparams"]
    fig = plot_curve_panels(
        ordered, CURVES, f"Advantage Alignment and PPO, Coin Game 3 x 3 "
        f"({setting['batch_size']} episodes of {setting['rollout_len']} rounds, size {size})",
        ylabel="{label}\nmean of both players, band = std over seeds")
    evaluation = plot_evaluation(ordered, "Advantage Alignment and PPO against themselves, "
                                 "always-cooperate, always-defect and a PPO exploiter")
    return {"aa_coin": fig, "aa_evaluation": evaluation}


AA_EXPERIMENT = Experiment(
    name="advantage-alignment",
    description="Advantage Alignment paper (Duque et al. 2025): AA and PPO on the 3 x 3 Coin "
    "Game in the setting of its runs, own-coin share, reward per round and the evaluation "
    "against always-cooperate, always-defect and an exploiter",
    runs=(RunSpec("aa", "Advantage Alignment", "coin_game", 0.96,
                  (("advantage-alignment", AA_COIN),) * 2),
          RunSpec("ppo", "PPO", "coin_game", 0.96, (("ppo", PPO_COIN),) * 2)),
    sizes=AA_SIZES,
    dtype="float32",
    figures=_figures,
    log_every=25,
    exploiter=("ppo", PPO_COIN),
)
"""The ``advantage-alignment`` experiment."""

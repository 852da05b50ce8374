"""The Coin Game (LOLA paper Sec. 5.3, 3 x 3 board, gamma 0.96): ``coin-game``.

NL-PG, LOLA-DiCE and LOLA-DiCE with opponent models (`COIN_OM`), ``full`` in the POLA
paper's LOLA-DiCE setting (`lola_games.agents.pg.POLA_COIN`: the ``coin-gru`` network,
2000 episodes of 50 rounds, one lookahead step of 0.003, outer steps of Adam 0.003
restarted every update, a learned baseline, 50,000 updates); ``cpu`` (``--size cpu``) what
an hour of one CPU core shows: the ``coin-mlp`` network, 128 episodes, Adam 0.01 outer
steps, lookahead steps of 0.3, 800 updates. Figures of own-coin share, reward per round and
coins per round against updates; a table of final own-coin shares beside the published
ones (`COIN_PUBLISHED`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lola_games.agents.published import POLA_COIN
from lola_games.analysis.figures import plot_curve_panels
from lola_games.experiments.base import Experiment, RunSpec
from lola_games.runner.run import Run

__all__ = ["COIN_PUBLISHED", "COIN_OM", "COIN_SIZES", "COIN_GAME_EXPERIMENT"]


COIN_PUBLISHED: dict[str, tuple[float, str]] = {
    "nl": (0.5, "LOLA paper Fig. 5: NL-PG takes the other's coins (about 0.5)"),
    "lola": (0.5, "POLA paper Fig. 5: LOLA-DiCE about 0.5 after 50k updates "
                  "(LOLA-PG about 0.8 in the LOLA paper, POLA about 0.8)"),
}
"""Published own-coin shares (read from the papers' figures) by run key, with their source."""

COIN_OM: dict[str, Any] = {"opponent_model": True, "lr_om": 1.0, "om_batch_size": 10,
                           "om_epochs": 1}
"""Opponent models of the ``coin-game`` experiment (no published LOLA-DiCE-OM Coin Game
setting exists): the DiCE paper code's fit on one fresh rollout per update, plain steps of 1
on minibatches of 10 rounds and one on the whole rollout. After 100 updates of the ``cpu``
size (4 seeds) the fitted models were within 0.003-0.022 nats (mean KL from the opponent's
action distribution on the boards of play) of the opponents, against 0.57-1.30 for fresh
networks; steps of 0.1 on one minibatch left 0.05-0.57."""


def _coin_runs() -> tuple[RunSpec, ...]:
    naive = {k: v for k, v in POLA_COIN.items() if k not in ("n_lookaheads", "lr_in")}
    return (
        RunSpec("nl", "NL-PG", "coin_game", 0.96, (("naive-pg", naive),) * 2),
        RunSpec("lola", "LOLA-DiCE", "coin_game", 0.96, (("lola-dice", POLA_COIN),) * 2),
        RunSpec("om", "LOLA-DiCE-OM", "coin_game", 0.96,
                (("lola-dice", {**POLA_COIN, **COIN_OM}),) * 2),
    )


def _coin_rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, run in runs.items():
        share = run.metrics["own_coin_share"][-1].mean(axis=0)  # [S], mean of the players
        row: dict[str, Any] = {
            "run": run.label, "seeds": run.n_seeds, "updates": int(run.updates[-1]),
            "own-coin share": float(share.mean()),
            "stderr": float(share.std(ddof=1) / np.sqrt(share.size)) if share.size > 1 else 0.0,
            "coins per round": float(run.metrics["coins_per_round"][-1].mean()),
            "reward per round": float(run.metrics["value"][-1].mean()),
        }
        if key in COIN_PUBLISHED:
            row["published share"], row["published"] = COIN_PUBLISHED[key]
        row["share per seed"] = " ".join(f"{x:.3f}" for x in share)
        rows.append(row)
    return {"coin_shares": rows}


def _coin_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ordered = list(runs.values())
    setting = ordered[0].config["agents"][0]["hparams"]
    fig = plot_curve_panels(
        ordered, (("own_coin_share", "own-coin share (mean of both players)"),
                  ("value", "reward per round (mean of both players)"),
                  ("coins_per_round", "coins per round (mean of both players)")),
        f"Coin Game 3 x 3: NL-PG, LOLA-DiCE, LOLA-DiCE-OM ({setting['policy']}, "
        f"{setting['batch_size']} episodes of {setting['rollout_len']} rounds, "
        f"{setting['optimizer']} {setting['lr_out']:g})", panel_width=5.0, height=4.4)
    return {"coin_game": fig}


COIN_SIZES: dict[str, dict[str, Any]] = {
    "full": {"n_seeds": 8, "n_updates": 50000, "log_every": 10},
    "cpu": {"n_seeds": 8, "n_updates": 800, "log_every": 10, "policy": "coin-mlp",
            "batch_size": 128, "optimizer": "adam", "lr_out": 0.01, "lr_in": 0.3},
    "quick": {"n_seeds": 4, "n_updates": 30, "log_every": 5, "policy": "coin-mlp",
              "batch_size": 64, "optimizer": "adam", "lr_out": 0.01, "lr_in": 0.3},
    "smoke": {"n_seeds": 2, "n_updates": 2, "policy": "coin-mlp", "hidden_size": 8,
              "batch_size": 4, "rollout_len": 6, "om_batch_size": 3},
}
"""Sizes of ``coin-game``: ``full`` is the POLA paper's LOLA-DiCE setting
(`lola_games.agents.pg.POLA_COIN`, 50,000 updates); ``cpu`` is what an hour of one CPU
core shows (an MLP policy, Adam steps on smaller batches); ``quick`` a shorter ``cpu``."""


COIN_GAME_EXPERIMENT = Experiment(
    name="coin-game",
    description="Coin Game (LOLA paper Sec. 5.3) in the POLA paper's LOLA-DiCE setting: "
    "NL-PG, LOLA-DiCE and LOLA-DiCE with opponent models, 50,000 updates "
    "(--size cpu: what an hour of CPU shows)",
    runs=_coin_runs(),
    sizes=COIN_SIZES,
    dtype="float32",
    figures=_coin_figures,
    requires="lola_games.agents.pg",
    tables=_coin_rows,
)
"""The ``coin-game`` experiment."""

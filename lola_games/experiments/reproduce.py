"""Paper reproductions: published settings, one command per figure.

Each experiment is a set of runs of `lola_games.runner.train.train` (one run directory each,
under ``out/<key>``) followed by its figures and a results table (``out/results.md`` and
``.csv``, see `lola_games.analysis.plots.results_table`)::

    lola-games reproduce lola-exact            # or: python scripts/reproduce_lola_exact.py
    lola-games reproduce lookahead --quick
    lola-games reproduce dice-paper --device cuda

Experiments (`EXPERIMENTS`):

* ``lola-exact`` -- the LOLA paper's exact-gradient experiments (Foerster et al. 2018,
  Sec. 4-5): NL-Ex vs NL-Ex, LOLA-Ex vs LOLA-Ex and LOLA-Ex vs NL-Ex on the IPD
  (gamma 0.96) and on matching pennies (gamma 0.9); delta = eta = 1 on the unnormalised
  discounted value, logits ~ N(0, 1), 200 updates.
* ``lookahead`` -- joint score against update with k = 0, 1, 2, 3 lookahead steps on the
  exact IPD (k = 0: naive learners; k >= 1: `LookaheadLOLA`):
  the exact-gradient counterpart of the DiCE paper's lookahead figure, with the learning
  rates of the published LOLA-DiCE code (Adam outer step 0.2, opponent's inner step 0.3).
* ``dice-paper`` -- the DiCE paper's IPD figure (Foerster et al. 2018b, Sec. 5) from the
  settings of the paper's own code (`lola_games.agents.pg.DICE_PAPER`: batch 64,
  150 rounds, plain outer steps 0.2, inner steps 0.1, rewards centred by their batch mean,
  truncated-normal initial logits, normalised discounted return logged): NL-PG, LOLA-DiCE
  with 1, 2, 3 lookaheads, 2 lookaheads with opponent modelling, 2 lookaheads without the
  magic box, the LOLA paper's original estimator (`LOLAPG`, batch
  64) and 1 lookahead with inner steps 0.3 (the script's value before its last change);
  figures show the stored runs of the paper's code (`DICE_PAPER_STORED`) next to ours.
* ``lola-dice`` -- NL-PG and LOLA-DiCE with 1, 2, 3 lookaheads in the setting of an
  unofficial PyTorch port (`lola_games.agents.pg.UNOFFICIAL_PORT`: batch 128, Adam
  outer steps 0.2, inner steps 0.3, learned value baseline with Adam 0.1, logits starting at
  0, mean reward per round logged).
* ``coin-game`` -- the Coin Game (LOLA paper Sec. 5.3, 3 x 3 board, gamma 0.96): NL-PG,
  LOLA-DiCE and LOLA-DiCE with opponent models (`COIN_OM`), ``full`` in the POLA
  paper's LOLA-DiCE setting (`lola_games.agents.pg.POLA_COIN`: the ``coin-gru``
  network, 2000 episodes of 50 rounds, one lookahead step of 0.003, outer steps of Adam 0.003
  restarted every update, a learned baseline, 50,000 updates); ``cpu`` (``--size cpu``) what
  an hour of one CPU core shows: the ``coin-mlp`` network, 128 episodes, Adam 0.01 outer
  steps, lookahead steps of 0.3, 800 updates. Figures of own-coin share, reward per round
  and coins per round against updates; a table of final own-coin shares beside the
  published ones (`COIN_PUBLISHED`).
* ``lola-pg`` -- the LOLA paper's policy-gradient results (Foerster et al. 2018, Table 1):
  NL-PG and LOLA-PG with the paper's estimator (`LOLAPG`) on the
  IPD (gamma 0.96) and matching pennies (gamma 0.9), batches of 4000 episodes of 150 rounds,
  150 updates of plain steps 1, 50 runs; LOLA-PG with the paper's correction weight
  ``eta = 1`` and with the halved weight of the released code (``eta = 0.5``).
* ``pola-exact`` -- the POLA paper's exact-IPD experiment (Zhao et al. 2022, Fig. 3) with
  the POLA code's commands: outer POLA and LOLA on its contribution-game IPD, factors 1.1 to
  1.6, tabular and MLP, and its success test (share of seeds finding TFT) as ``summary.md``.
* ``pola-dice`` -- the POLA paper's sampled IPD (Fig. 4): POLA-DiCE, POLA-OM and LOLA-DiCE
  on its contribution-game IPD, tabular policies sized for a CPU
  (`lola_games.experiments.pola_dice`).
* ``mfos`` -- the M-FOS paper's head-to-head table (Lu et al. 2022), its own meta-training
  loop (`lola_games.experiments.mfos`; sizes ``full``, ``medium``, ``quick``, ``smoke``).

* ``sos``, ``cola``, ``lola-higher-order`` -- the SOS paper, the COLA paper and the LOLA
  paper's higher-order LOLA on differentiable games (`lola_games.experiments.diffgames`).

The sampled experiments need `lola_games.agents.pg`.

Sizes: ``full`` (the published settings), ``quick`` (fewer seeds/updates/episodes; under a
minute on a laptop CPU) and ``smoke`` (tiny, for the test suite; numbers mean nothing). All
runs of an experiment share ``seed``, so runs with the same agents start from the same
parameters (paired comparisons).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.agents.base import AGENTS, accepted_hparams, make_agent
from lola_games.agents.published import DICE_PAPER, LOLA_PAPER_PG, POLA_COIN, UNOFFICIAL_PORT
from lola_games.analysis import plots as plotting
from lola_games.core.registry import load_entry
from lola_games.experiments.base import (
    EXPERIMENTS,
    OWN_LOOP,
    SIZES,
    AgentSpec,
    Experiment,
    Reproduction,
    RunSpec,
    write_rows,
)
from lola_games.games.paper import contribution_ipd, tft_threshold
from lola_games.runner.grid import RunTask, run_grid
from lola_games.runner.rundir import Run, load_run
from lola_games.runner.train import resolve_game

__all__ = ["RunSpec", "Experiment", "EXPERIMENTS", "SIZES", "Reproduction", "reproduce",
           "write_rows", "MATRIX_EXPERIMENTS", "DICE_PAPER_STORED", "LOLA_PAPER_PG_RESULTS"]

# -- lola-exact ----------------------------------------------------------------------------

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


def _two_panels(title: str):
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    fig.suptitle(title)
    return fig, fig.subplots(1, 2)


def _exact_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    ipd = [runs[k] for k in ("ipd_nl_nl", "ipd_lola_lola", "ipd_lola_nl")]
    imp = [runs[k] for k in ("imp_nl_nl", "imp_lola_lola", "imp_lola_nl")]
    fig_ipd, (a, b) = _two_panels("Iterated prisoner's dilemma, exact gradients (gamma 0.96)")
    plotting.plot_learning_curves(ipd, "joint", ax=a, title="joint score")
    plotting.plot_learning_curves(ipd, "value_0", ax=b, title="player 0 (LOLA-Ex in the mixed run)")
    fig_imp, (c, d) = _two_panels("Iterated matching pennies, exact gradients (gamma 0.9)")
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


# -- lookahead -----------------------------------------------------------------------------

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


# -- dice-paper ----------------------------------------------------------------------------

DICE_PAPER_STORED: dict[str, tuple[float, ...]] = {
    "k0": (-1.991, -1.991, -1.991, -1.992, -1.990),
    "k1": (-1.145, -1.115, -1.319, -1.196, -1.196),
    "k2": (-1.093, -1.148, -1.169, -1.112, -1.042),
    "k3": (-1.176, -1.016, -1.040, -1.105, -1.149),
    "om": (-1.103, -1.079, -1.058, -1.141, -1.080),
    "nobox": (-1.991, -1.991, -1.990, -1.991, -1.991),
    "original": (-1.956, -1.975, -1.995, -1.057, -1.717),
}
"""Final joint scores (mean of both agents' normalised discounted returns after 200 updates)
of the runs stored with the DiCE paper's code (alshedivat/lola ``notebooks/dice/results/``,
5 runs each: ``ipd_bs64_nl``, ``_magic`` (1 lookahead), ``_2inner``, ``_3inner``,
``_2inner_om``, ``_nomagic`` and ``_original``, the last at its 200th of 219 logged
updates, as the paper's notebook plots it)."""


def _dice_paper_runs() -> tuple[RunSpec, ...]:
    def dice(**kw: Any) -> tuple[AgentSpec, AgentSpec]:
        return (("lola-dice", {**DICE_PAPER, **kw}),) * 2

    naive = {k: v for k, v in DICE_PAPER.items()
             if k not in ("lr_in", "lr_om", "om_batch_size", "om_epochs")}
    return (
        RunSpec("k0", "NL-PG (0 lookaheads)", "ipd", 0.96, (("naive-pg", naive),) * 2),
        RunSpec("k1", "LOLA-DiCE, 1 lookahead", "ipd", 0.96, dice(n_lookaheads=1)),
        RunSpec("k2", "LOLA-DiCE, 2 lookaheads", "ipd", 0.96, dice(n_lookaheads=2)),
        RunSpec("k3", "LOLA-DiCE, 3 lookaheads", "ipd", 0.96, dice(n_lookaheads=3)),
        RunSpec("om", "LOLA-DiCE-OM, 2 lookaheads", "ipd", 0.96,
                dice(n_lookaheads=2, opponent_model=True)),
        RunSpec("nobox", "2 lookaheads, no magic box", "ipd", 0.96,
                dice(n_lookaheads=2, magic_box=False)),
        RunSpec("original", "LOLA, original estimator", "ipd", 0.96,
                (("lola-pg", {**LOLA_PAPER_PG, "batch_size": 64}),) * 2),
        RunSpec("k1_inner03", "1 lookahead, inner lr 0.3", "ipd", 0.96,
                dice(n_lookaheads=1, lr_in=0.3)),
    )


ABOVE = -1.3
"""Joint score a seed must beat to count as cooperating in the ``dice-paper`` tables."""


def _dice_paper_rows(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, run in runs.items():
        final = run.joint_score[-1]
        stored = np.asarray(DICE_PAPER_STORED.get(key, ()), dtype=float)
        row: dict[str, Any] = {
            "run": run.label, "seeds": run.n_seeds, "updates": int(run.updates[-1]),
            "mean": float(final.mean()),
            "stderr": float(final.std(ddof=1) / np.sqrt(final.size)) if final.size > 1 else 0.0,
            "above -1.3": float((final > ABOVE).mean()),
        }
        if stored.size:
            row.update({"stored mean": float(stored.mean()),
                        "stored stderr": float(stored.std(ddof=1) / np.sqrt(stored.size)),
                        "stored above -1.3": float((stored > ABOVE).mean())})
        row["per seed"] = " ".join(f"{x:.3f}" for x in final)
        rows.append(row)
    return {"comparison": rows}


def _dice_paper_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig = Figure(figsize=(13.0, 5.0), layout="constrained")
    curves, seeds = fig.subplots(1, 2, width_ratios=(3, 2))
    ordered = list(runs.values())
    plotting.plot_learning_curves(ordered, "joint", ax=curves, band="ci95",
                                  title="joint score (mean over seeds, 95% band)")
    curves.set_ylabel("normalised discounted return (mean of both players)")
    colors = [line.get_color() for line in curves.get_lines()]
    for i, (key, run) in enumerate(runs.items()):
        final = run.joint_score[-1]
        x = i + np.linspace(-0.25, 0.05, final.size)
        color = colors[i % len(colors)] if colors else None
        seeds.scatter(x, final, s=12, color=color, label="ours" if i == 0 else None)
        stored = DICE_PAPER_STORED.get(key)
        if stored:
            seeds.scatter(i + np.linspace(0.12, 0.3, len(stored)), stored, s=28, marker="D",
                          facecolors="none", edgecolors="k",
                          label="stored runs of the paper's code" if i == 0 else None)
    seeds.axhline(ABOVE, color="0.6", lw=0.8, ls="--")
    seeds.set_xticks(range(len(runs)), [r.label for r in ordered], rotation=35, ha="right",
                     fontsize=8)
    seeds.set_ylabel("final joint score per seed")
    seeds.set_title("per-seed outcome after the last update")
    seeds.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("IPD, DiCE paper's code settings: NL-PG, LOLA-DiCE and ablations")
    return {"dice_paper_ipd": fig,
            "dice_paper_policies_ipd": plotting.plot_policies(
                ordered, title="IPD: policies after training (DiCE paper's settings)")}


# -- lola-dice (the unofficial port's setting) ---------------------------------------------


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


# -- lola-pg (the LOLA paper's policy-gradient results) -------------------------------------

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
    fig, (a, b) = _two_panels("LOLA paper's policy-gradient estimator (NL-PG, LOLA-PG)")
    plotting.plot_learning_curves(ipd, "joint", ax=a, title="IPD: joint score")
    a.set_ylabel("normalised discounted return (mean of both players)")
    plotting.plot_learning_curves(imp, "nash_distance", ax=b,
                                  title="matching pennies: distance from the Nash policy")
    return {"lola_pg": fig,
            "lola_pg_policies_ipd": plotting.plot_policies(
                ipd, title="IPD: policies after training (policy gradient)"),
            "lola_pg_policies_imp": plotting.plot_policies(
                imp, title="Matching pennies: policies after training (policy gradient)")}


# -- coin-game (the Coin Game of the LOLA paper, the POLA paper's LOLA-DiCE setting) ----------

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
    fig = Figure(figsize=(15.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (name, label) in zip(axes, (
            ("own_coin_share", "own-coin share (mean of both players)"),
            ("value", "reward per round (mean of both players)"),
            ("coins_per_round", "coins per round (mean of both players)")), strict=True):
        plotting.plot_learning_curves(ordered, name, ax=ax, band="std", title=label)
        ax.set_ylabel(f"{label}\nmean, band = std over seeds")
    fig.suptitle(
        f"Coin Game 3 x 3: NL-PG, LOLA-DiCE, LOLA-DiCE-OM ({setting['policy']}, "
        f"{setting['batch_size']} episodes of {setting['rollout_len']} rounds, "
        f"{setting['optimizer']} {setting['lr_out']:g})")
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

DICE_SIZES: dict[str, dict[str, Any]] = {
    "full": {"n_seeds": 32, "n_updates": 200},
    "quick": {"n_seeds": 4, "n_updates": 40, "batch_size": 32, "rollout_len": 50},
    "smoke": {"n_seeds": 2, "n_updates": 3, "batch_size": 4, "rollout_len": 8},
}
"""Sizes of the two LOLA-DiCE experiments (smaller sizes shorten the episodes too)."""

# -- pola-exact ----------------------------------------------------------------------------

POLA_FACTORS = (1.1, 1.25, 1.33, 1.4, 1.6)
"""Contribution factors of the POLA paper's exact-IPD figure."""

_POLA_LR_IN = {1.1: 5.0, 1.25: 5.0, 1.33: 5.0, 1.4: 4.0, 1.6: 2.5}
"""Inner learning rate of outer POLA (tabular) per factor, as in the POLA README commands."""


def _pola_runs() -> tuple[RunSpec, ...]:
    exact = {"outer_steps": 5000, "tol": 1e-8, "init_std": 0.1}
    runs = []
    for cf in POLA_FACTORS:
        game = contribution_ipd(cf)
        pola = ("pola", {**exact, "lr_out": 0.3, "lr_in": _POLA_LR_IN[cf], "beta_out": 0.1})
        lola = ("pola", {**exact, "lr_out": 25.0, "lr_in": 3.0, "beta_out": 0.0,
                         "outer_steps": 1, "tol": None})
        runs.append(RunSpec(f"pola_cf{cf:g}", f"POLA, tabular, factor {cf:g}", game, 0.96,
                            (pola, pola), updates=2))
        runs.append(RunSpec(f"lola_cf{cf:g}", f"LOLA, tabular, factor {cf:g}", game, 0.96,
                            (lola, lola), updates=30))
    mlp = {"policy": "mlp", "hidden_size": 16, "mlp_init": "default"}
    game = contribution_ipd(1.33)
    runs.append(RunSpec("pola_mlp_cf1.33", "POLA, MLP, factor 1.33", game, 0.96,
                        (("pola", {**exact, **mlp, "lr_out": 0.02, "lr_in": 0.25,
                                   "beta_out": 0.13}),) * 2, updates=2))
    runs.append(RunSpec("lola_mlp_cf1.33", "LOLA, MLP, factor 1.33", game, 0.96,
                        (("pola", {**exact, **mlp, "lr_out": 0.05, "lr_in": 0.4,
                                   "beta_out": 0.0, "outer_steps": 1, "tol": None}),) * 2))
    code = {**mlp, "inputs": "actions"}  # the POLA code's network input
    runs.append(RunSpec("pola_mlp_actions_cf1.33", "POLA, MLP on actions, factor 1.33", game,
                        0.96, (("pola", {**exact, **code, "lr_out": 0.02, "lr_in": 0.25,
                                         "beta_out": 0.13}),) * 2, updates=2))
    runs.append(RunSpec("lola_mlp_actions_cf1.33", "LOLA, MLP on actions, factor 1.33", game,
                        0.96, (("pola", {**exact, **code, "lr_out": 0.05, "lr_in": 0.4,
                                         "beta_out": 0.0, "outer_steps": 1, "tol": None}),) * 2))
    return tuple(runs)


def _tft_found(run: Run) -> Any:
    """The POLA code's success test per seed: at some update after the first, both players
    retaliate (P(C) below 0.65 after DD and after being defected on, CD) and the mean reward
    per step exceeds 0.8 of mutual cooperation's."""
    factor = run.game.reference_levels["mutual cooperation"] + 1
    m = run.metrics
    retaliates = ((m["p_DD"] < 0.65) & (m["p_CD"] < 0.65)).all(axis=1)  # [U, S]
    scores = m["value"].mean(axis=1) > tft_threshold(factor)
    return np.any((retaliates & scores)[1:], axis=0)


POLA_PUBLISHED = {"pola_cf1.1": 1.0, "lola_cf1.1": 1.0, "pola_cf1.33": 1.0, "lola_cf1.33": 0.2,
                  "pola_cf1.25": 1.0, "lola_cf1.25": 1.0, "pola_cf1.4": 1.0, "lola_cf1.4": 0.0,
                  "pola_cf1.6": 1.0, "lola_cf1.6": 0.0, "pola_mlp_actions_cf1.33": 1.0,
                  "lola_mlp_actions_cf1.33": 0.3}
"""Share of 20 runs finding TFT with the POLA code's commands for the same runs (its README,
``--set_seed --seed 1 --repeats 20``), as measured by running that code. Its LOLA runs that
fail (16 at factor 1.33, all 20 at 1.4 and 1.6) end with NaN values (float32); its MLP
runs use the action input (``inputs="actions"``)."""


def _pola_summary(runs: dict[str, Run]) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for key, run in runs.items():
        found = _tft_found(run)
        theirs = POLA_PUBLISHED.get(key)
        joint = run.joint_score[-1]
        rows.append({"run": run.label, "updates": int(run.updates[-1]),
                     "seeds": run.n_seeds, "TFT found": f"{100 * found.mean():.0f}%",
                     "POLA code, 20 runs": "" if theirs is None else f"{100 * theirs:.0f}%",
                     "final reward per step": f"{joint.mean():.3f}",
                     "mutual cooperation": f"{run.game.reference_levels['mutual cooperation']:g}"})
    return {"summary": rows}


def _pola_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    factors = [cf for cf in POLA_FACTORS if f"pola_cf{cf:g}" in runs]
    for kind, color, offset in (("pola", "tab:blue", -0.012), ("lola", "tab:orange", 0.012)):
        shares = [100 * _tft_found(runs[f"{kind}_cf{cf:g}"]).mean() for cf in factors]
        left.bar([cf + offset for cf in factors], shares, width=0.022, color=color,
                 label=kind.upper())
    left.set_xlabel("contribution factor")
    left.set_title("tabular policies")
    variants = (("tabular", ""), ("MLP", "_mlp"), ("MLP on\nactions", "_mlp_actions"))
    bars = [(f"{kind.upper()}\n{policy}", f"{kind}{suffix}_cf1.33",
             "tab:blue" if kind == "pola" else "tab:orange")
            for policy, suffix in variants for kind in ("pola", "lola")]
    bars = [b for b in bars if b[1] in runs]
    right.bar([b[0] for b in bars], [100 * _tft_found(runs[b[1]]).mean() for b in bars],
              color=[b[2] for b in bars])
    right.set_title("factor 1.33: tabular and MLP")
    for ax in (left, right):
        ax.set_ylabel("seeds finding TFT (%)")
        ax.set_ylim(0, 105)
    left.legend(loc="lower left")
    fig.suptitle("Exact IPD, the POLA code's game and success test")
    ordered = [runs[k] for k in runs if k.startswith("pola_cf")]
    return {"pola_exact_tft": fig,
            "pola_exact_policies": plotting.plot_policies(
                ordered, title="POLA (tabular) policies after 2 updates")}


MATRIX_EXPERIMENTS: dict[str, Experiment] = {
    "lola-exact": Experiment(
        name="lola-exact",
        description="LOLA paper (Foerster et al. 2018), exact gradients: NL-Ex and LOLA-Ex "
        "on the IPD and matching pennies, delta = eta = 1, 200 updates",
        runs=_exact_runs(),
        sizes={"full": {"n_seeds": 256, "n_updates": 200},
               "quick": {"n_seeds": 64, "n_updates": 150},
               "smoke": {"n_seeds": 4, "n_updates": 5}},
        dtype="float64",
        figures=_exact_figures,
    ),
    "lookahead": Experiment(
        name="lookahead",
        description="LOLA with 0-3 exact lookahead steps on the IPD (learning rates of the "
        "published LOLA-DiCE code: Adam 0.2, opponent 0.3)",
        runs=_lookahead_runs(),
        sizes={"full": {"n_seeds": 256, "n_updates": 200},
               "quick": {"n_seeds": 32, "n_updates": 100},
               "smoke": {"n_seeds": 4, "n_updates": 5}},
        dtype="float64",
        figures=_lookahead_figures,
    ),
    "dice-paper": Experiment(
        name="dice-paper",
        description="DiCE paper (Foerster et al. 2018b) from its code's settings: NL-PG, "
        "LOLA-DiCE with 1-3 lookaheads, opponent modelling, no magic box, original LOLA",
        runs=_dice_paper_runs(),
        sizes=DICE_SIZES,
        dtype="float32",
        figures=_dice_paper_figures,
        requires="lola_games.agents.pg",
        tables=_dice_paper_rows,
    ),
    "lola-dice": Experiment(
        name="lola-dice",
        description="NL-PG and LOLA-DiCE with 1-3 lookaheads on the IPD in the setting of "
        "an unofficial PyTorch port (Adam, learned baseline, batch 128, inner lr 0.3)",
        runs=_dice_runs(),
        sizes=DICE_SIZES,
        dtype="float32",
        figures=_dice_figures,
        requires="lola_games.agents.pg",
    ),
    "lola-pg": Experiment(
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
    ),
    "coin-game": Experiment(
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
    ),
    "pola-exact": Experiment(
        name="pola-exact",
        description="POLA paper (Zhao et al. 2022), exact IPD (the POLA code's contribution "
        "game, factors 1.1-1.6): outer POLA and LOLA, tabular and MLP, share of seeds finding TFT",
        runs=_pola_runs(),
        sizes={"full": {"n_seeds": 64, "n_updates": 100},
               "quick": {"n_seeds": 16, "n_updates": 10},
               "smoke": {"n_seeds": 2, "n_updates": 2, "outer_steps": 20}},
        dtype="float64",
        figures=_pola_figures,
        tables=_pola_summary,
    ),
}
"""The reproductions by name."""

def _require(module: str, experiment: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise RuntimeError(
            f"the {experiment!r} reproduction needs {module} (sampled NaivePG / LOLA-DiCE "
            f"agents), which cannot be imported: {e}"
        ) from e


def reproduce(
    name: str,
    out: str | os.PathLike | None = None,
    *,
    size: str = "full",
    device: str = "cpu",
    seed: int = 0,
    figures_dir: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    overwrite: bool = False,
    resume: bool = False,
    plot_only: bool = False,
    progress: bool = False,
    backend: Any = None,
    n_seeds: int | None = None,
) -> Reproduction:
    """Run experiment ``name`` of `EXPERIMENTS`, then draw its figures and table.

    Args:
        name: a key of `EXPERIMENTS`.
        out: output directory (default ``runs/reproduce/<name>``); run ``key`` goes to
            ``out/<key>``, the table to ``out/results.md`` and ``out/results.csv``.
        size: ``"full"`` (published settings), ``"quick"``, ``"smoke"`` or a size of the
            experiment's own (see its ``sizes``).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        seed: the runs' seed (shared, see module docstring).
        figures_dir: where figures go (default ``out``), as ``<stem>.<fmt>`` per format.
        formats: figure file formats.
        overwrite: replace run directories that already hold runs.
        resume: continue run directories from their checkpoints (finished runs are kept).
        plot_only: train nothing; read the run directories in ``out`` and draw.
        progress: show a progress bar per run.
        backend: where the runs execute (a `lola_games.runner.grid` backend; default one
            after the other in this process).
        n_seeds: run this many seeds instead of the size's (e.g. the full setting with
            fewer seeds on a small machine).

    Raises:
        ValueError: unknown experiment or size, or bad settings.
        RuntimeError: the experiment needs a module that is not available.
        FileExistsError: a run directory already holds a run (use ``overwrite``/``resume``).
    """
    if name in OWN_LOOP:
        own_loop = load_entry(OWN_LOOP[name][0] + ":reproduce")
        return own_loop(out, size=size, device=device, seed=seed,
                                figures_dir=figures_dir, formats=formats, overwrite=overwrite,
                                plot_only=plot_only, progress=progress, n_seeds=n_seeds)
    if name not in EXPERIMENTS:
        known = ", ".join([*EXPERIMENTS, *OWN_LOOP])
        raise ValueError(f"unknown experiment {name!r}; known: {known}")
    exp = EXPERIMENTS[name]
    if size not in exp.sizes:
        raise ValueError(f"size must be one of {', '.join(exp.sizes)}, got {size!r}")
    if overwrite and resume:
        raise ValueError("overwrite and resume exclude each other")
    out = Path(out) if out is not None else Path("runs", "reproduce", name)
    figures_dir = Path(figures_dir) if figures_dir is not None else out
    settings = dict(exp.sizes[size])
    size_seeds, n_updates = settings.pop("n_seeds"), settings.pop("n_updates")
    log_every = settings.pop("log_every", exp.log_every)
    seeds_given = n_seeds is not None
    n_seeds = size_seeds if n_seeds is None else n_seeds

    runs: dict[str, Run] = {}
    if plot_only:
        for spec in exp.runs:
            runs[spec.key] = load_run(out / spec.key)
    else:
        if exp.requires:
            _require(exp.requires, name)
        if exp.prepare is not None:
            exp.prepare(out, size, device, seed, overwrite)
        tasks = []
        for spec in exp.runs:
            agents = [make_agent(a, **{**_in_out(hp, out), **_known(a, settings)})
                      for a, hp in spec.agents]
            run_dir = out / spec.key
            # --resume continues every run from its checkpoint; a run stopped before its
            # first checkpoint (it can hold update 0 at most) starts again
            checkpointed = (run_dir / "checkpoint.pt").exists()
            tasks.append(RunTask(
                spec.key, resolve_game(spec.game).spec(), tuple(agents), str(run_dir),
                dict(n_seeds=n_seeds if seeds_given else min(spec.seeds or n_seeds, n_seeds),
                     n_updates=min(spec.updates or n_updates, n_updates), gamma=spec.gamma,
                     device=device, seed=seed, dtype=exp.dtype, label=spec.label,
                     progress=progress,
                     log_every=log_every),
                resume=resume and checkpointed,
                overwrite=overwrite or (resume and not checkpointed)))
        run_grid(tasks, backend, replan=False)
        for spec in exp.runs:
            runs[spec.key] = load_run(out / spec.key)

    table = plotting.results_table([runs[s.key] for s in exp.runs])
    files = list(plotting.write_table(table, out / "results"))
    if exp.tables is not None:
        for stem, rows in exp.tables(runs).items():
            files += write_rows(rows, out / stem)
    for stem, fig in exp.figures(runs, size).items():
        files += plotting.save_figure(fig, figures_dir / stem, formats)
    if exp.report is not None:
        files += exp.report(runs, out, size, figures_dir, formats)
    return Reproduction(name, out, runs, table, files)


def _in_out(hparams: dict[str, Any], out: Path) -> dict[str, Any]:
    """``hparams`` with ``{out}`` in string values replaced by the output directory."""
    return {k: v.replace("{out}", str(out)) if isinstance(v, str) else v
            for k, v in hparams.items()}


def _known(agent: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The size overrides that ``agent``'s constructor takes."""
    accepted = set(accepted_hparams(AGENTS[agent]))
    return {k: v for k, v in overrides.items() if k in accepted}

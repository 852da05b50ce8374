"""Reproductions on differentiable games: the SOS paper, the COLA paper and the LOLA paper's
higher-order LOLA (registered in `lola_games.experiments.base.EXPERIMENTS`).

* ``sos`` -- Letcher et al. (2019), with the settings of the authors' notebook
  (``aletcher/stable-opponent-shaping``): Tandem (alpha 0.1, init N(0, 0.1^2), 100 runs of 30
  steps; NL, the paper's LOLA, LA, SOS), one-shot matching pennies (alpha 1, init N(0, 1),
  100 runs of 100 steps) and the IPD (alpha 1, gamma 0.96, init N(0, 1), 50 runs of 100 steps)
  with NL, LOLA, LA, SOS, CGD, SGA, CO and EG; plus the Hamiltonian game (ours: alpha 0.1,
  init N(0, 1), 100 runs of 500 steps), where CO, SGA and SOS converge and NL circles. Every
  learner uses one rate ``alpha`` for its step and its look-ahead, as the notebook does.
* ``cola`` -- Willi et al. (2022), with the settings of the authors' notebook
  (``Aidandos/cola``): the consistency loss of LOLA (exact, HOLA-1), HOLA-n and COLA over the
  region of interest at the papers' look-ahead rates (Tandem, matching pennies, the IPD), the
  cosine similarity of COLA's update with HOLA's, and learning with COLA, LOLA, HOLA-2 and CGD
  (Tandem at alpha 0.1 and 1, matching pennies at 10, the IPD at 0.03 and 1; 500 steps,
  init N(0, 1), IPD logits N(0, 0.1^2); learning rate = look-ahead rate). COLA's update
  functions are trained once per game and rate (several look-ahead rates batched as seeds)
  and read by the COLA agents of the learning runs (one trained pair for all seeds, as in the
  paper).
* ``lola-higher-order`` -- the LOLA paper's higher-order LOLA on the exact IPD (its Sec. 4.5
  and results table): NL-Ex, LOLA-Ex and second-order LOLA (HOLA-2 in the LOLA paper's Taylor
  form) against each other with the table's learning rate delta = 0.5 (stated under the
  table) and look-ahead eta = 0.5 (not stated; eta = 1, the authors' exact-LOLA code's value,
  is run too for the paper's two pairings), on the unnormalised value, gamma 0.96, logits ~
  N(0, 1) and 200 updates (the authors' exact-IPD code), 1,000 seeds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from lola_games.agents.cola import (
    COLA,
    init_update_networks,
    load_update_functions,
    save_update_functions,
    train_update_functions,
)
from lola_games.analysis import plots as plotting
from lola_games.analysis.consistency import (
    cosine_similarity,
    hola_updates,
    network_consistency,
    network_updates,
    sample_region,
    update_consistency,
)
from lola_games.core.device import resolve_device
from lola_games.experiments.base import AgentSpec, Experiment, RunSpec
from lola_games.games.differentiable import param_shapes
from lola_games.games.registry import get_any_game
from lola_games.runner.rundir import Run
from lola_games.values.iterated import IteratedGame, game_values

__all__ = ["DIFFGAME_EXPERIMENTS", "PAPER_CONSISTENCY", "PAPER_HIGHER_ORDER",
           "train_cola_networks"]


def _spec(name: str, alpha: float, **extra: Any) -> AgentSpec:
    """A learner with one rate ``alpha`` for its step and its look-ahead (the notebooks')."""
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


def _panels(n: int, title: str, width: float = 5.2):
    fig = Figure(figsize=(width * n, 4.2), layout="constrained")
    fig.suptitle(title)
    return fig, list(fig.subplots(1, n)) if n > 1 else [fig.subplots()]


# -- sos ---------------------------------------------------------------------------------------

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
                                0.96, (_spec(name, alpha),) * 2, updates=updates, seeds=seeds))
    return tuple(runs)


def _sos_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    def group(key: str) -> list[Run]:
        return [runs[f"{key}_{n}"] for n in _SOS_GAMES[key][4]]

    tandem, (a, b) = _panels(2, "Tandem (alpha 0.1, init N(0, 0.1^2))")
    plotting.plot_learning_curves(group("tandem"), "value_0", ax=a,
                                  title="player 0's value (minus its loss)")
    plotting.plot_learning_curves(group("tandem"), "x_plus_y", ax=b, title="x + y")
    b.axhline(1.0, color="0.35", ls=":", lw=1.2)
    b.axhline(4 / 3, color="0.35", ls="--", lw=1.0)
    mp, (c,) = _panels(1, "One-shot matching pennies (alpha 1)")
    plotting.plot_learning_curves(group("mp"), "nash_gap", ax=c,
                                  title="|P(heads) - 1/2|, mean over the players")
    ipd, (d, e) = _panels(2, "IPD (alpha 1, gamma 0.96)")
    plotting.plot_learning_curves(group("ipd"), "value_0", ax=d, title="player 0's value")
    plotting.plot_learning_curves(group("ipd"), "joint", ax=e, title="joint score")
    ham, (f,) = _panels(1, "Hamiltonian game (alpha 0.1)")
    plotting.plot_learning_curves(group("hamiltonian"), "radius", ax=f,
                                  title="distance from the fixed point (0, 0)")
    f.set_yscale("log")
    return {"sos_tandem": tandem, "sos_matching_pennies": mp, "sos_ipd": ipd,
            "sos_hamiltonian": ham}


# -- cola --------------------------------------------------------------------------------------

_COLA_GAMES: dict[str, tuple[Any, tuple[float, ...], tuple[int, ...]]] = {
    # key: (game, look-ahead rates of the paper's tables, HOLA orders of its tables (+ 3 in MP))
    "tandem": (get_any_game("tandem").with_init(1.0), (1.0, 0.5, 0.3, 0.1, 0.01), (1, 2, 6)),
    "mp": (get_any_game("one_shot_mp"), (10.0, 5.0, 1.0, 0.5, 0.01), (1, 2, 3, 4)),
    "ipd": (IteratedGame("ipd", init_std=0.1), (1.0, 0.03), (1, 2, 4)),
}

PAPER_CONSISTENCY: dict[str, dict[float, dict[str, float]]] = {
    # COLA paper, OpenReview (ICLR 2022 submission) version: Tables 1a, 2a, 3a; the mean of
    # sum_j |h_j - target_j|^2 over points of the region (the notebook's 100 samples)
    "tandem": {1.0: {"LOLA": 128.0, "HOLA2": 512.0, "HOLA6": 131072.0, "COLA": 4.84e-14},
               0.5: {"LOLA": 12.81, "HOLA2": 14.05, "HOLA6": 12.35, "COLA": 2.62e-14},
               0.3: {"LOLA": 2.61, "HOLA2": 2.05, "HOLA6": 0.66, "COLA": 4.09e-14},
               0.1: {"LOLA": 0.08, "HOLA2": 9.13e-3, "HOLA6": 1.62e-6, "COLA": 6.55e-14},
               0.01: {"LOLA": 1.41e-5, "HOLA2": 2.10e-8, "HOLA6": 3.69e-14, "COLA": 8.58e-14}},
    "mp": {10.0: {"LOLA": 0.06, "HOLA2": 0.70, "HOLA4": 6.56, "COLA": 0.24},
           5.0: {"LOLA": 4.59e-3, "HOLA2": 0.03, "HOLA4": 0.15, "COLA": 9.47e-3},
           1.0: {"LOLA": 8.79e-6, "HOLA2": 3.25e-8, "HOLA4": 4.37e-9, "COLA": 2.35e-7},
           0.5: {"LOLA": 4.80e-7, "HOLA2": 2.53e-10, "HOLA4": 5.18e-12, "COLA": 1.30e-7},
           0.01: {"LOLA": 1.07e-13, "HOLA2": 5.58e-17, "HOLA4": 5.30e-17, "COLA": 6.99e-8}},
    "ipd": {1.0: {"LOLA": 39.56, "HOLA2": 21.16, "HOLA4": 381.21, "COLA": 0.65},
            0.03: {"LOLA": 1.72e-3, "HOLA2": 4.72e-6, "HOLA4": 9.72e-8, "COLA": 0.33}},
}
"""The COLA paper's consistency losses (the version whose numbers these are: see README)."""

PAPER_COSINE: dict[str, dict[float, dict[str, float]]] = {
    # Tables 1b, 2b, 3b: cosine similarity of COLA's update with LOLA's and HOLA's
    "tandem": {1.0: {"LOLA": 0.57, "HOLA2": 0.58, "HOLA4": 0.60},
               0.5: {"LOLA": 0.61, "HOLA2": 0.46, "HOLA4": 0.15},
               0.3: {"LOLA": 0.92, "HOLA2": 0.51, "HOLA4": 0.72},
               0.1: {"LOLA": 0.94, "HOLA2": 0.98, "HOLA4": 0.99},
               0.01: {"LOLA": 0.99, "HOLA2": 1.0, "HOLA4": 1.0}},
    "mp": {10.0: {"LOLA": 0.90, "HOLA2": 0.87, "HOLA4": 0.68},
           5.0: {"LOLA": 0.98, "HOLA2": 0.95, "HOLA4": 0.89},
           1.0: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99},
           0.5: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99},
           0.01: {"LOLA": 0.99, "HOLA2": 0.99, "HOLA4": 0.99}},
    "ipd": {1.0: {"LOLA": 0.77, "HOLA2": 0.70, "HOLA4": 0.53},
            0.03: {"LOLA": 0.96, "HOLA2": 0.98, "HOLA4": 0.98}},
}

_COLA_SIZES = {
    # update-function training steps: None = the notebook's (120,000 / 80,000); repeats per
    # rate; points at which consistency is measured; more points, in groups of the notebook's
    # 100, for the spread of a 100-point mean (the papers' tables are such means)
    "full": {"steps": None, "repeats": 2, "points": 1000, "spread_points": 4000},
    "quick": {"steps": 1500, "repeats": 1, "points": 200, "spread_points": 400},
    "smoke": {"steps": 3, "repeats": 1, "points": 4, "spread_points": 0},
}
SAMPLE_POINTS = 100
"""Points of the notebook's consistency measurement (``num_samples``)."""

_COLA_RUNS = {
    # key: (game, alpha, updates, learners); COLA reads the networks trained for (game, alpha)
    "tandem_0.1": ("tandem", 0.1, 100, ("cola", "lola", "hola2", "cgd")),
    "tandem_1": ("tandem", 1.0, 20, ("cola", "lola", "hola2", "cgd")),
    "mp_10": ("mp", 10.0, 500, ("cola", "lola", "hola2", "cgd")),
    "ipd_0.03": ("ipd", 0.03, 500, ("cola", "lola", "hola2", "cgd")),
    "ipd_1": ("ipd", 1.0, 500, ("cola", "lola", "hola2", "cgd")),
}
_COLA_LABELS = {"cola": "COLA", "lola": "LOLA (HOLA-1)", "hola2": "HOLA-2", "cgd": "CGD"}


def _networks_file(out: Path | str, game: str, alpha: float, first: bool = False) -> str:
    return f"{out}/networks/{game}_{alpha:g}{'_0' if first else ''}.pt"


def _cola_agent(name: str, game: str, alpha: float) -> AgentSpec:
    if name == "cola":
        return _spec("cola", alpha, networks=_networks_file("{out}", game, alpha, first=True))
    if name == "lola":
        return _spec("hola", alpha, order=1)
    if name == "hola2":
        return _spec("hola", alpha, order=2)
    return _spec(name, alpha)


def _cola_runs() -> tuple[RunSpec, ...]:
    runs = []
    for key, (game, alpha, updates, learners) in _COLA_RUNS.items():
        for name in learners:
            agent = _cola_agent(name, game, alpha)
            runs.append(RunSpec(f"{key}_{name}", f"{_COLA_LABELS[name]} (alpha {alpha:g})",
                                _COLA_GAMES[game][0], 0.96, (agent, agent), updates=updates,
                                seeds=32))
    return tuple(runs)


def _summary(c: torch.Tensor) -> dict[str, float]:
    c = c.double()
    return {"mean": float(c.mean()), "se": float(c.std() / math.sqrt(len(c))) if len(c) > 1
            else 0.0, "median": float(c.median())}


def sample_mean_spread(c: torch.Tensor, group: int = SAMPLE_POINTS) -> list[float] | None:
    """The 10% and 90% quantiles of means over ``group`` points (consecutive groups of ``c``),
    or ``None`` with fewer than two groups: how far a table entry measured on ``group`` points
    can fall from the mean when the loss is heavy-tailed."""
    n = len(c) // group
    if n < 2:
        return None
    means = c[: n * group].double().reshape(n, group).mean(1)
    return [float(q) for q in torch.quantile(means, means.new_tensor([0.1, 0.9]))]


def train_cola_networks(out: Path | str, key: str, size: str = "full", seed: int = 0,
                        device: str = "cpu", overwrite: bool = False) -> list[Path]:
    """Train COLA's update functions for one game of the tables (a key of the experiment) at
    every look-ahead rate, with the notebook's settings: ``repeats`` network pairs per rate, all
    rates batched as seeds (each seed has its own rate). Writes, per rate, the networks, the
    first pair alone (for the learning runs) and the training curve under ``out/networks``;
    when all are there already they are kept unless ``overwrite``. Returns the rates' files."""
    game, rates = _COLA_GAMES[key][:2]
    paths = [Path(_networks_file(out, key, alpha)) for alpha in rates]
    if all(p.exists() for p in paths) and not overwrite:
        return paths
    cfg = _COLA_SIZES[size]
    settings = COLA(steps=cfg["steps"]).training_settings(game)
    shapes, repeats = param_shapes(game), cfg["repeats"]
    dev = resolve_device(device)
    generator = torch.Generator(device=dev).manual_seed(seed + list(_COLA_GAMES).index(key))
    etas = torch.tensor(rates, device=dev).repeat_interleave(repeats)
    nets = init_update_networks(shapes, len(etas), settings["net"], settings["width"],
                                generator, dev, torch.float32)
    nets, curve = train_update_functions(
        lambda th: game_values(game, th, 0.96), shapes, nets, settings["net"], etas,
        settings["steps"], settings["batch_size"], settings["train_lr"], settings["lr_decay"],
        settings["region"], generator)
    for r, (alpha, path) in enumerate(zip(rates, paths, strict=True)):
        mine = slice(r * repeats, (r + 1) * repeats)
        save_update_functions(path, {k: v[mine] for k, v in nets.items()}, settings["net"],
                              shapes)
        save_update_functions(_networks_file(out, key, alpha, first=True),
                              {k: v[mine][:1] for k, v in nets.items()}, settings["net"],
                              shapes)
        path.with_suffix(".curve.json").write_text(json.dumps(curve[:, mine].mean(1).tolist())
                                                   + "\n")
    return paths


def _cola_prepare(out: Path, size: str, device: str, seed: int, overwrite: bool) -> None:
    """Train COLA's update functions for every game and look-ahead rate of the tables
    (`train_cola_networks`; files already there are kept) and measure the consistency
    losses and cosine similarities into ``out/consistency.json``."""
    cfg = _COLA_SIZES[size]
    results: dict[str, Any] = {"size": size, "points": cfg["points"], "games": {}}
    for key, (game, rates, orders) in _COLA_GAMES.items():
        settings = COLA(steps=cfg["steps"]).training_settings(game)
        shapes, region = param_shapes(game), settings["region"]
        per_rate: dict[str, Any] = {}
        paths = train_cola_networks(out, key, size, seed, device, overwrite)
        for r_index, (alpha, path) in enumerate(zip(rates, paths, strict=True)):
            nets = load_update_functions(path, settings["net"], shapes, cfg["repeats"], "cpu",
                                         torch.float64)
            row: dict[str, Any] = {}
            points = torch.Generator().manual_seed(seed + 100 + r_index)
            for order in orders:
                theta = sample_region(game, cfg["points"], region, points)
                c = update_consistency(game, theta, hola_updates(game, alpha, order, 0.96),
                                       alpha, 0.96)
                row["LOLA" if order == 1 else f"HOLA{order}"] = _summary(c)
            cola = [network_consistency(game, {k: v[s:s + 1] for k, v in nets.items()},
                                        settings["net"], alpha, cfg["points"], region, 0.96,
                                        torch.Generator().manual_seed(seed + 200 + r_index))
                    for s in range(cfg["repeats"])]
            row["COLA"] = {**_summary(torch.cat(cola)),
                           "repeats": [float(c.mean()) for c in cola]}
            theta = sample_region(game, cfg["points"], region,
                                  torch.Generator().manual_seed(seed + 300 + r_index))
            mine = network_updates({k: v[:1] for k, v in nets.items()}, settings["net"])(theta)
            row["cosine"] = {("LOLA" if o == 1 else f"HOLA{o}"): float(cosine_similarity(
                mine, hola_updates(game, alpha, o, 0.96)(theta)).mean()) for o in orders}
            if cfg["spread_points"]:  # the spread of 100-point means, on points of their own
                spread = torch.Generator().manual_seed(seed + 400 + r_index)
                for order in orders:
                    theta = sample_region(game, cfg["spread_points"], region, spread)
                    c = update_consistency(game, theta, hola_updates(game, alpha, order, 0.96),
                                           alpha, 0.96)
                    row["LOLA" if order == 1 else f"HOLA{order}"]["spread100"] = \
                        sample_mean_spread(c)
                c = network_consistency(game, {k: v[:1] for k, v in nets.items()},
                                        settings["net"], alpha, cfg["spread_points"], region,
                                        0.96, spread)
                row["COLA"]["spread100"] = sample_mean_spread(c)
            row["curve"] = json.loads(path.with_suffix(".curve.json").read_text())
            per_rate[f"{alpha:g}"] = row
        results["games"][key] = {"rates": per_rate, "settings": settings}
    out.mkdir(parents=True, exist_ok=True)
    (out / "consistency.json").write_text(json.dumps(results, indent=1) + "\n")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _cola_report(runs: dict[str, Run], out: Path, size: str, figures_dir: Path,
                 formats: Sequence[str]) -> list[Path]:
    """``consistency.md``: our consistency losses and cosine similarities beside the paper's;
    the update functions' training curves."""
    result_file = out / "consistency.json"
    if not result_file.exists():
        return []
    results = json.loads(result_file.read_text())
    lines = [f"Consistency loss, mean over {results['points']} points of the region "
             f"(standard error; median; [10%, 90%] quantiles of means over "
             f"{SAMPLE_POINTS} points, the notebook's sample, where measured); paper: the COLA "
             f"paper's tables.\n"]
    for key, data in results["games"].items():
        rates = data["rates"]
        methods = [m for m in next(iter(rates.values())) if m not in ("cosine", "curve")]
        lines.append(f"\n{key}\n\n| look-ahead | " + " | ".join(
            f"{m} ours | {m} paper" for m in methods) + " |")
        lines.append("|---" * (1 + 2 * len(methods)) + "|")
        for rate, row in rates.items():
            paper = PAPER_CONSISTENCY[key].get(float(rate), {})
            cells = []
            for m in methods:
                s = row[m]
                spread = s.get("spread100")
                spread = f"; [{_fmt(spread[0])}, {_fmt(spread[1])}]" if spread else ""
                cells.append(f"{_fmt(s['mean'])} ({_fmt(s['se'])}; {_fmt(s['median'])}"
                             f"{spread})")
                cells.append(_fmt(paper[m]) if m in paper else "-")
            lines.append(f"| {rate} | " + " | ".join(cells) + " |")
        cos = [m for m in next(iter(rates.values()))["cosine"]]
        lines.append(f"\n{key}: cosine similarity of COLA's update with\n\n| look-ahead | "
                     + " | ".join(f"{m} ours | {m} paper" for m in cos) + " |")
        lines.append("|---" * (1 + 2 * len(cos)) + "|")
        for rate, row in rates.items():
            paper = PAPER_COSINE[key].get(float(rate), {})
            cells = []
            for m in cos:
                cells += [f"{row['cosine'][m]:.2f}",
                          f"{paper[m]:.2f}" if m in paper else "-"]
            lines.append(f"| {rate} | " + " | ".join(cells) + " |")
    md = out / "consistency.md"
    md.write_text("\n".join(lines) + "\n")
    fig, axes = _panels(len(results["games"]), "COLA: consistency loss while training the "
                        "update functions (mean of the last 100 steps)")
    for ax, (key, data) in zip(axes, results["games"].items(), strict=True):
        for rate, row in data["rates"].items():
            curve = row["curve"]
            ax.plot([100 * (k + 1) for k in range(len(curve))], curve, label=f"look-ahead {rate}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("consistency loss")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return [md, *plotting.save_figure(fig, figures_dir / "cola_consistency_training", formats)]


def _cola_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    figures = {}
    for key, (game, alpha, _, learners) in _COLA_RUNS.items():
        group = [runs[f"{key}_{n}"] for n in learners]
        fig, (a, b) = _panels(2, f"{game}, look-ahead rate = learning rate = {alpha:g}")
        plotting.plot_learning_curves(group, "value_0", ax=a,
                                      title="player 0's value (minus its loss)")
        second = {"tandem": "x_plus_y", "mp": "nash_gap", "ipd": "joint"}[game]
        plotting.plot_learning_curves(group, second, ax=b, title=second.replace("_", " "))
        figures[f"cola_{key.replace('.', '')}"] = fig
    return figures


# -- lola-higher-order ---------------------------------------------------------------------------

PAPER_HIGHER_ORDER = {
    "lola_nl": (-1.28, -1.54),  # LOLA-Ex vs NL-Ex
    "hola2_lola": (-1.14, -1.17),  # 2nd-order LOLA vs LOLA-Ex
}
"""The LOLA paper's higher-order results on the exact IPD (reward per step of each player)."""

HIGHER_ORDER_DELTA = 0.5
"""The learning rate of the LOLA paper's higher-order table (stated under the table)."""

_GROUP = 50
"""Runs per setting in the authors' exact-IPD code (``num_episodes``): the spread of a mean
over this many runs is reported beside the paper's numbers."""


def _higher_order_agents(eta: float) -> dict[str, AgentSpec]:
    """NL-Ex, LOLA-Ex and 2nd-order LOLA (the LOLA paper's Taylor form, HOLA-2) with the
    table's learning rate and look-ahead rate ``eta``."""
    delta = HIGHER_ORDER_DELTA
    return {"nl": ("naive", {"lr": delta}), "lola": ("lola", {"lr": delta, "eta": eta}),
            "hola2": ("hola", {"lr": delta, "eta": eta, "order": 2, "taylor": True})}


_HIGHER_ORDER_LABELS = {"nl": "NL-Ex", "lola": "LOLA-Ex", "hola2": "2nd-order LOLA"}
_HIGHER_ORDER_PAIRS = (("lola", "nl"), ("hola2", "lola"), ("hola2", "nl"), ("hola2", "hola2"),
                       ("lola", "lola"), ("nl", "nl"))
"""The pairings (player 0, player 1); the first two are the paper's (`PAPER_HIGHER_ORDER`)."""


def _higher_order_runs() -> tuple[RunSpec, ...]:
    """Every pairing with delta = eta = 0.5; the paper's two pairings also with eta = 1 (the
    look-ahead rate of the authors' exact-LOLA code: the table states only delta)."""
    runs = []
    for eta, pairs, suffix in ((HIGHER_ORDER_DELTA, _HIGHER_ORDER_PAIRS, ""),
                               (1.0, _HIGHER_ORDER_PAIRS[:2], "_eta1")):
        agents = _higher_order_agents(eta)
        for a, b in pairs:
            label = f"{_HIGHER_ORDER_LABELS[a]} vs {_HIGHER_ORDER_LABELS[b]}"
            if suffix:
                label += f" (eta {eta:g})"
            runs.append(RunSpec(f"{a}_{b}{suffix}", label, "ipd", 0.96, (agents[a], agents[b])))
    return tuple(runs)


def _higher_order_figures(runs: dict[str, Run], size: str) -> dict[str, Any]:
    fig, (a, b) = _panels(2, f"Higher-order LOLA on the exact IPD (delta = eta = "
                          f"{HIGHER_ORDER_DELTA:g})")
    ordered = [runs[f"{x}_{y}"] for x, y in _HIGHER_ORDER_PAIRS[:4]]
    plotting.plot_learning_curves(ordered, "value_0", ax=a, title="player 0 (the first named)")
    plotting.plot_learning_curves(ordered, "value_1", ax=b, title="player 1")
    return {"lola_higher_order_ipd": fig}


def group_means(values: np.ndarray, group: int = _GROUP) -> np.ndarray | None:
    """Means of consecutive groups of ``group`` seeds ``[G]`` (``None`` with fewer than two
    groups)."""
    n = len(values) // group
    return values[: n * group].reshape(n, group).mean(1) if n >= 2 else None


def _higher_order_report(runs: dict[str, Run], out: Path, size: str, figures_dir: Path,
                         formats: Sequence[str]) -> list[Path]:
    """``paper_comparison.md``: each player's per-step value after the last update, mean
    (standard deviation) over seeds, the 10-90% range of means over 50 runs, and the paper's."""
    lines = ["| run | ours, player 0 | ours, player 1 | means of 50 runs, 10-90% | LOLA paper |",
             "|---|---|---|---|---|"]
    for key, run in runs.items():
        v = run.metrics["value"][-1]
        paper = PAPER_HIGHER_ORDER.get(key.removesuffix("_eta1"))
        spread = []
        for p in range(2):
            g = group_means(v[p])
            spread.append("-" if g is None else
                          f"{np.quantile(g, 0.1):.2f} to {np.quantile(g, 0.9):.2f}")
        lines.append(f"| {run.label} | {v[0].mean():.2f} ({v[0].std():.2f}) | "
                     f"{v[1].mean():.2f} ({v[1].std():.2f}) | {'; '.join(spread)} | "
                     + (f"{paper[0]:.2f} vs {paper[1]:.2f}" if paper else "-") + " |")
    md = out / "paper_comparison.md"
    md.write_text("\n".join(lines) + "\n")
    return [md]


DIFFGAME_EXPERIMENTS: dict[str, Experiment] = {
    "sos": Experiment(
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
    ),
    "cola": Experiment(
        name="cola",
        description="COLA paper (Willi et al. 2022): consistency losses of LOLA, HOLA-n and "
        "COLA; learning with COLA, LOLA, HOLA-2 and CGD on Tandem, matching pennies and the "
        "IPD (update functions trained as in the authors' notebook)",
        runs=_cola_runs(),
        sizes={"full": {"n_seeds": 32, "n_updates": 500},
               "quick": {"n_seeds": 8, "n_updates": 100},
               "smoke": {"n_seeds": 2, "n_updates": 3}},
        dtype="float32",
        figures=_cola_figures,
        prepare=_cola_prepare,
        report=_cola_report,
    ),
    "lola-higher-order": Experiment(
        name="lola-higher-order",
        description="LOLA paper (Foerster et al. 2018), higher-order LOLA on the exact IPD: "
        "NL-Ex, LOLA-Ex and 2nd-order LOLA against each other, delta = eta = 0.5 (the table's "
        "delta), 200 updates",
        runs=_higher_order_runs(),
        sizes={"full": {"n_seeds": 1000, "n_updates": 200},
               "quick": {"n_seeds": 64, "n_updates": 200},
               "smoke": {"n_seeds": 3, "n_updates": 3}},
        dtype="float64",
        figures=_higher_order_figures,
        report=_higher_order_report,
    ),
}
"""The experiments of this module, by name."""

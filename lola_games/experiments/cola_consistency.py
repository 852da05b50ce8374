"""The COLA paper's consistency measurements (Willi et al. 2022), for the ``cola`` experiment.

COLA's update functions are trained once per game and look-ahead rate (several rates
batched as seeds, `train_cola_networks`); `measure_consistency` compares their consistency
loss and cosine similarity with LOLA's and HOLA-n's over the region of interest, as the
authors' notebook (``Aidandos/cola``) does, and writes ``consistency.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypedDict

import torch

from lola_games.agents.cola import COLA, train_update_functions
from lola_games.agents.cola_networks import (
    init_update_networks,
    load_update_functions,
    save_update_functions,
)
from lola_games.analysis.consistency import (
    cosine_similarity,
    hola_updates,
    network_consistency,
    network_updates,
    sample_region,
    update_consistency,
)
from lola_games.core.device import resolve_device
from lola_games.core.files import write_text
from lola_games.games.differentiable import param_shapes
from lola_games.games.registry import get_any_game
from lola_games.values.iterated import IteratedGame, game_values

__all__ = ["COLA_GAMES", "ColaSize", "COLA_SIZES", "SAMPLE_POINTS", "networks_file",
           "sample_mean_spread", "train_cola_networks", "measure_consistency"]

COLA_GAMES: dict[str, tuple[Any, tuple[float, ...], tuple[int, ...]]] = {
    # key: (game, look-ahead rates of the paper's tables, HOLA orders of its tables (+ 3 in MP))
    "tandem": (get_any_game("tandem").with_init(1.0), (1.0, 0.5, 0.3, 0.1, 0.01), (1, 2, 6)),
    "mp": (get_any_game("one_shot_mp"), (10.0, 5.0, 1.0, 0.5, 0.01), (1, 2, 3, 4)),
    "ipd": (IteratedGame("ipd", init_std=0.1), (1.0, 0.03), (1, 2, 4)),
}
"""The games of the COLA paper's tables: ``key -> (game, look-ahead rates, HOLA orders)``."""


class ColaSize(TypedDict):
    """The consistency measurement's settings of one size of the ``cola`` experiment.

    Attributes:
        steps: update-function training steps (``None``: the notebook's, 120,000 / 80,000).
        repeats: network pairs trained per look-ahead rate.
        points: points at which consistency is measured.
        spread_points: more points, in groups of the notebook's 100, for the spread of a
            100-point mean (the papers' tables are such means); 0 for none.
    """

    steps: int | None
    repeats: int
    points: int
    spread_points: int


COLA_SIZES: dict[str, ColaSize] = {
    "full": {"steps": None, "repeats": 2, "points": 1000, "spread_points": 4000},
    "quick": {"steps": 1500, "repeats": 1, "points": 200, "spread_points": 400},
    "smoke": {"steps": 3, "repeats": 1, "points": 4, "spread_points": 0},
}
"""The consistency measurement's settings by size of the ``cola`` experiment."""

SAMPLE_POINTS = 100
"""Points of the notebook's consistency measurement (``num_samples``)."""


def networks_file(out: Path | str, game: str, alpha: float, first: bool = False) -> str:
    """The file of COLA's update functions for game ``game`` (a key of `COLA_GAMES`) and
    look-ahead rate ``alpha`` under ``out/networks``.

    Args:
        out: the experiment's output directory (or ``"{out}"``, for agents' settings).
        game: a key of `COLA_GAMES`.
        alpha: the look-ahead rate.
        first: the file of the first network pair alone (read by the learning runs).

    Returns:
        The file's path.
    """
    return f"{out}/networks/{game}_{alpha:g}{'_0' if first else ''}.pt"


def _summary(c: torch.Tensor) -> dict[str, float]:
    c = c.double()
    return {"mean": float(c.mean()), "se": float(c.std() / math.sqrt(len(c))) if len(c) > 1
            else 0.0, "median": float(c.median())}


def sample_mean_spread(c: torch.Tensor, group: int = SAMPLE_POINTS) -> list[float] | None:
    """The 10% and 90% quantiles of means over ``group`` points (consecutive groups of ``c``),
    or ``None`` with fewer than two groups: how far a table entry measured on ``group`` points
    can fall from the mean when the loss is heavy-tailed.

    Args:
        c: ``[n]`` consistency losses.
        group: points per mean.

    Returns:
        ``[10% quantile, 90% quantile]``, or ``None``.
    """
    n = len(c) // group
    if n < 2:
        return None
    means = c[: n * group].double().reshape(n, group).mean(1)
    return [float(q) for q in torch.quantile(means, means.new_tensor([0.1, 0.9]))]


def train_cola_networks(out: Path | str, key: str, size: str = "full", seed: int = 0,
                        device: str = "cpu", overwrite: bool = False) -> list[Path]:
    """Train COLA's update functions for one game of the tables at every look-ahead rate.

    With the notebook's settings: ``repeats`` network pairs per rate, all rates batched as
    seeds (each seed has its own rate). Writes, per rate, the networks, the first pair alone
    (for the learning runs) and the training curve under ``out/networks``; when all are there
    already they are kept unless ``overwrite``.

    Args:
        out: the experiment's output directory.
        key: a key of `COLA_GAMES`.
        size: a key of `COLA_SIZES`.
        seed: the seed (the game's index in `COLA_GAMES` is added).
        device: where to train.
        overwrite: train again even if the files are there.

    Returns:
        The rates' files.
    """
    game, rates = COLA_GAMES[key][:2]
    paths = [Path(networks_file(out, key, alpha)) for alpha in rates]
    if all(p.exists() for p in paths) and not overwrite:
        return paths
    cfg = COLA_SIZES[size]
    settings = COLA(steps=cfg["steps"]).training_settings(game)
    shapes, repeats = param_shapes(game), cfg["repeats"]
    dev = resolve_device(device)
    generator = torch.Generator(device=dev).manual_seed(seed + list(COLA_GAMES).index(key))
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
        save_update_functions(networks_file(out, key, alpha, first=True),
                              {k: v[mine][:1] for k, v in nets.items()}, settings["net"],
                              shapes)
        write_text(path.with_suffix(".curve.json"),
                   json.dumps(curve[:, mine].mean(1).tolist()) + "\n")
    return paths


def _method(order: int) -> str:
    return "LOLA" if order == 1 else f"HOLA{order}"


def _rate_row(game: Any, alpha: float, nets: dict[str, torch.Tensor], orders: tuple[int, ...],
              cfg: ColaSize, settings: dict[str, Any], seed: int) -> dict[str, Any]:
    """One look-ahead rate's consistency losses (HOLA-n and COLA) and cosine similarities;
    ``seed`` already holds the rate's index."""
    row: dict[str, Any] = {}
    region = settings["region"]
    points = torch.Generator().manual_seed(seed + 100)
    for order in orders:
        theta = sample_region(game, cfg["points"], region, points)
        c = update_consistency(game, theta, hola_updates(game, alpha, order, 0.96), alpha, 0.96)
        row[_method(order)] = _summary(c)
    cola = [network_consistency(game, {k: v[s:s + 1] for k, v in nets.items()},
                                settings["net"], alpha, cfg["points"], region, 0.96,
                                torch.Generator().manual_seed(seed + 200))
            for s in range(cfg["repeats"])]
    row["COLA"] = {**_summary(torch.cat(cola)), "repeats": [float(c.mean()) for c in cola]}
    theta = sample_region(game, cfg["points"], region,
                          torch.Generator().manual_seed(seed + 300))
    mine = network_updates({k: v[:1] for k, v in nets.items()}, settings["net"])(theta)
    row["cosine"] = {_method(o): float(cosine_similarity(
        mine, hola_updates(game, alpha, o, 0.96)(theta)).mean()) for o in orders}
    if cfg["spread_points"]:  # the spread of 100-point means, on points of their own
        _add_spreads(row, game, alpha, nets, orders, cfg, settings, seed)
    return row


def _add_spreads(row: dict[str, Any], game: Any, alpha: float, nets: dict[str, torch.Tensor],
                 orders: tuple[int, ...], cfg: ColaSize, settings: dict[str, Any],
                 seed: int) -> None:
    """Add the spread of 100-point means (`sample_mean_spread`) to each method of ``row``."""
    region = settings["region"]
    spread = torch.Generator().manual_seed(seed + 400)
    for order in orders:
        theta = sample_region(game, cfg["spread_points"], region, spread)
        c = update_consistency(game, theta, hola_updates(game, alpha, order, 0.96), alpha, 0.96)
        row[_method(order)]["spread100"] = sample_mean_spread(c)
    c = network_consistency(game, {k: v[:1] for k, v in nets.items()}, settings["net"], alpha,
                            cfg["spread_points"], region, 0.96, spread)
    row["COLA"]["spread100"] = sample_mean_spread(c)


def measure_consistency(out: Path, size: str, device: str, seed: int, overwrite: bool) -> None:
    """Train COLA's update functions for every game and look-ahead rate of the tables
    (`train_cola_networks`; files already there are kept) and measure the consistency
    losses and cosine similarities into ``out/consistency.json``.

    Args:
        out: the experiment's output directory.
        size: a key of `COLA_SIZES`.
        device: where to train the update functions.
        seed: the seed.
        overwrite: train the update functions again even if their files are there.
    """
    cfg = COLA_SIZES[size]
    results: dict[str, Any] = {"size": size, "points": cfg["points"], "games": {}}
    for key, (game, rates, orders) in COLA_GAMES.items():
        settings = COLA(steps=cfg["steps"]).training_settings(game)
        shapes = param_shapes(game)
        per_rate: dict[str, Any] = {}
        paths = train_cola_networks(out, key, size, seed, device, overwrite)
        for r_index, (alpha, path) in enumerate(zip(rates, paths, strict=True)):
            nets = load_update_functions(path, settings["net"], shapes, cfg["repeats"], "cpu",
                                         torch.float64)
            row = _rate_row(game, alpha, nets, orders, cfg, settings, seed + r_index)
            row["curve"] = json.loads(path.with_suffix(".curve.json").read_text())
            per_rate[f"{alpha:g}"] = row
        results["games"][key] = {"rates": per_rate, "settings": settings}
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "consistency.json", json.dumps(results, indent=1) + "\n")

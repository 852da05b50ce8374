"""Runs as the analysis sees them: `as_runs` (run objects or directories), the curves that
figures draw (`metric`, `METRICS`) and the IPD tit-for-tat test (`tft_like`).

Conventions (those of `lola_games.runner.rundir`): values are rewards per step ``[U, S]``
(``U`` logged updates, ``S`` seeds); the *joint score* is the mean of both players' values;
policies are P(action 0) in the memory-one states (start, CC, CD, DC, DD), each player seen
from its own side (``CD`` = "I played C, the other D").
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from lola_games.runner.run import Run, load_run

__all__ = ["METRICS", "RunLike", "TFT_HIGH", "TFT_LOW", "as_runs", "metric", "metric_label",
           "metric_levels", "tft_like"]

METRICS = {
    "joint": "joint score (mean reward per step)",
    "value_0": "player 0 reward per step",
    "value_1": "player 1 reward per step",
    "nash_distance": "max |P(action 0) - 0.5| over states and players",
}
"""Curves `plot_learning_curves` draws under these names, with their axis labels. Any
named metric of a run works too: ``<metric>_<player>`` (e.g. ``own_coin_share_0``) for one
player, ``<metric>`` for its mean over the players."""

TFT_HIGH, TFT_LOW = 0.9, 0.1
"""Thresholds of `tft_like`."""

RunLike = Run | str | os.PathLike


def as_runs(runs: RunLike | Iterable[RunLike]) -> list[Run]:
    """Runs from `Run` objects and/or run directories (read with ``load_run``).

    Raises:
        ValueError: no runs, or a run with no logged update.
        TypeError: something that is neither a run nor a path.
    """
    if isinstance(runs, (Run, str, os.PathLike)):
        runs = [runs]
    out = []
    for r in runs:
        if isinstance(r, (str, os.PathLike)):
            r = load_run(r)
        if not isinstance(r, Run):
            raise TypeError(f"expected a Run or a run directory, got {type(r).__name__}")
        if len(r.updates) == 0:
            raise ValueError(f"run {r.label!r} has no logged update")
        out.append(r)
    if not out:
        raise ValueError("no runs given")
    return out


def metric(run: Run, name: str) -> np.ndarray:
    """``[U, S]`` curve ``name`` for every logged update and seed: a key of `METRICS`,
    a run metric of one player (``<metric>_<player>``) or a run metric averaged over the
    players (``<metric>``).

    Raises:
        ValueError: a name the run cannot give, listing what it can.
    """
    if name == "joint":
        return run.joint_score
    if name == "nash_distance" and run.memory_one:
        both = np.concatenate([run.probs(i) for i in range(run.n_players)], axis=-1)
        return np.abs(both - 0.5).max(axis=-1)
    if name in run.metrics:
        return run.metrics[name].mean(axis=1)
    base, _, player = name.rpartition("_")
    if base in run.metrics and player.isdigit() and int(player) < run.n_players:
        return run.metrics[base][:, int(player)]
    known = ["joint", *(["nash_distance"] if run.memory_one else []), *run.metrics,
             *(f"{m}_{i}" for m in run.metrics for i in range(run.n_players))]
    raise ValueError(f"unknown metric {name!r} for run {run.label!r}; known: {', '.join(known)}")


def metric_label(name: str) -> str:
    """The axis label of curve ``name`` (see `metric`)."""
    if name in METRICS:
        return METRICS[name]
    base, _, player = name.rpartition("_")
    if player.isdigit() and base:
        return f"player {player} {base.replace('_', ' ')}"
    return f"{name.replace('_', ' ')} (mean over players)"


def metric_levels(game: Any, name: str) -> dict[str, float]:
    """Reference levels that ``game`` states for a named metric, ``<metric>`` or
    ``<metric>_<player>`` (its ``metric_reference_levels``, e.g. the Coin Game's random play);
    none for games without them."""
    table = getattr(game, "metric_reference_levels", None) or {}
    base, _, player = name.rpartition("_")
    key = base if player.isdigit() and base in table else name
    return dict(table.get(key, {}))


def tft_like(probs: np.ndarray, high: float = TFT_HIGH, low: float = TFT_LOW) -> np.ndarray:
    """Whether memory-one policies ``probs [..., 5]`` (P(C) at start, CC, CD, DC, DD, own side)
    play tit-for-tat: P(C) > ``high`` after CC and DC and < ``low`` after CD and DD.

    The first move (index 0) is not judged. Returns a bool array ``[...]``.
    """
    probs = np.asarray(probs)
    if probs.shape[-1] != 5:
        raise ValueError(f"expected probabilities [..., 5], got shape {list(probs.shape)}")
    cooperate_after_c = (probs[..., 1] > high) & (probs[..., 3] > high)
    defect_after_d = (probs[..., 2] < low) & (probs[..., 4] < low)
    return cooperate_after_c & defect_after_d

"""Any logged metric of one or many runs, as ``lola-games plot`` draws it.

Curves are means over seeds with a band whose meaning the legend states: ``se`` (mean +- one
standard error) or ``ci95`` (mean +- 1.96 standard errors, the normal approximation of a 95%
confidence interval of the mean). Values are ``[U, S]`` arrays (`lola_games.analysis.runs`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lola_games.analysis.figures import plot_policies, save_figure
from lola_games.analysis.runs import RunLike, as_runs, metric, metric_label, metric_levels
from lola_games.runner.run import Run

__all__ = ["PLOT_BANDS", "is_zero_sum", "default_metric", "mean_band", "plot_metric",
           "plot_runs"]

PLOT_BANDS = {"se": "mean ± s.e.", "ci95": "mean ± 95% CI"}
"""Band names and what the legend says they are."""


def is_zero_sum(game: object) -> bool:
    """Whether a matrix game's payoffs sum to zero in every outcome (``payoffs [2, n, n]``,
    each player from its own side); other games are not."""
    payoffs = getattr(game, "payoffs", None)
    if payoffs is None:
        return False
    p = np.asarray(payoffs, dtype=float)
    return p.ndim == 3 and p.shape[0] == 2 and bool(np.allclose(p[0] + p[1].T, 0.0))


def default_metric(run: Run) -> tuple[str, str]:
    """The metric and the curves (``"joint"`` or ``"player"``) a run is plotted by default:
    each player's value in a zero-sum game (their mean is constant), else the joint score."""
    if is_zero_sum(run.game):
        return "value", "player"
    return "joint", "joint"


def mean_band(y: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[U]`` and band half-width ``[U]`` over the seed axis of ``y [U, S]``.

    Args:
        y: values per logged update and seed.
        band: ``"se"`` or ``"ci95"`` (see `PLOT_BANDS`).
    """
    if band not in PLOT_BANDS:
        raise ValueError(f"--band must be one of {', '.join(PLOT_BANDS)}, got {band!r}")
    mean = y.mean(axis=1)
    se = y.std(axis=1, ddof=1) / np.sqrt(y.shape[1]) if y.shape[1] > 1 else np.zeros_like(mean)
    return mean, se * (1.96 if band == "ci95" else 1.0)


def _curves(run: Run, name: str, per: str) -> list[tuple[str, np.ndarray]]:
    """(suffix, ``[U, S]``) per curve of ``run``: one (joint) or one per player."""
    if per == "joint":
        return [("", metric(run, name))]
    base = "value" if name in ("joint", "value") else name
    return [(f" player {i}", metric(run, f"{base}_{i}")) for i in range(run.n_players)]


def plot_metric(runs: RunLike | Iterable[RunLike], name: str | None = None, band: str = "se",
                per: str | None = None, *, title: str | None = None) -> tuple[Figure, str]:
    """Metric ``name`` of each run against update: mean over seeds with a ``band``.

    Args:
        runs: runs or run directories, all of the same game.
        name: a logged metric (``joint``, ``own_coin_share``, ``value_0``, ...); default
            `default_metric` of the first run.
        band: ``"se"`` or ``"ci95"``.
        per: ``"joint"`` (one curve per run, players averaged) or ``"player"`` (one per player
            and run); default: the metric's.
        title: axes title (default: the game's description).

    Returns:
        the figure and the metric's name.

    Raises:
        ValueError: a metric a run does not log (listing those it does), runs of different
            games, an unknown band or ``per``.
    """
    runs = as_runs(runs)
    if len({r.game.name for r in runs}) > 1:
        raise ValueError("the runs play different games; plot them apart")
    default, default_per = default_metric(runs[0])
    name = name or default
    per = per or (default_per if name == default else "joint")
    if per not in ("joint", "player"):
        raise ValueError(f"--per must be joint or player, got {per!r}")
    ax = Figure(figsize=(6.4, 4.0), layout="constrained").subplots()
    for run in runs:
        for suffix, y in _curves(run, name, per):
            mean, half = mean_band(y, band)
            (line,) = ax.plot(run.updates, mean, lw=1.8,
                              label=f"{run.label}{suffix} ({PLOT_BANDS[band]}, "
                              f"{run.n_seeds} seeds)")
            ax.fill_between(run.updates, mean - half, mean + half, color=line.get_color(),
                            alpha=0.2, lw=0)
    game = runs[0].game
    levels = dict(game.reference_levels) if name == "joint" else metric_levels(game, name)
    for label, level in levels.items():
        ax.axhline(level, color="0.35", ls=":", lw=1.2, zorder=0, label=f"{label} ({level:.3g})")
    ax.set_xlabel("update")
    ax.set_ylabel(metric_label(name) if name != "value" else "reward per step")
    ax.set_title(title if title is not None else getattr(game, "description", "") or game.name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax.figure, name  # type: ignore[return-value]


def plot_runs(runs: Sequence[str | os.PathLike], name: str | None = None, band: str = "se",
              per: str | None = None, *, policies: bool = False,
              out: str | os.PathLike | None = None, formats: Sequence[str] = ("png", "pdf"),
              title: str | None = None) -> list[Path]:
    """Draw and save `plot_metric` (or, with ``policies``, the memory-one policies).

    Args:
        runs: run directories.
        name: the metric (see `plot_metric`).
        band: ``"se"`` or ``"ci95"``.
        per: ``"joint"`` or ``"player"``.
        policies: plot the end-of-training memory-one policies instead.
        out: figure path without suffix (default: ``<first run>/<metric>`` or
            ``<first run>/policies``).
        formats: file suffixes.
        title: the title.

    Returns:
        the files written.

    Raises:
        ValueError: ``policies`` for a run without memory-one policies (e.g. a Coin Game run),
            or what `plot_metric` raises.
    """
    loaded = as_runs(list(runs))
    if policies:
        without = [r.label for r in loaded if not r.memory_one]
        if without:
            raise ValueError(f"--policies: run {without[0]!r} has no memory-one policies "
                             f"(its game is {loaded[0].game.name}); plot a --metric instead")
        fig, stem = plot_policies(loaded, title=title), "policies"
    else:
        fig, stem = plot_metric(loaded, name, band, per, title=title)
    target = Path(out) if out is not None else Path(runs[0]) / stem
    return save_figure(fig, target, formats)

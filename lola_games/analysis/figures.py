"""Figures of training runs: learning curves and end-of-training policies.

Every plot function takes runs (`Run` objects or run directories), draws with matplotlib's
object API (``Figure`` objects, never ``pyplot``, so no display and no global backend state
are involved; PNGs are rendered by Agg) and returns the `Figure`; `save_figure` writes it
as PNG and PDF.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from lola_games.analysis.runs import RunLike, as_runs, metric, metric_label, metric_levels
from lola_games.core.files import save_figure_file
from lola_games.runner.run import Run

__all__ = ["BANDS", "band_edges", "plot_learning_curves", "plot_curve_panels",
           "plot_joint_scores", "plot_policies", "save_figure"]

BANDS = ("std", "ci95")
"""Shaded band across seeds: ``std`` = mean +- one standard deviation; ``ci95`` = mean +-
1.96 standard errors (normal approximation of a 95% confidence interval of the mean)."""

def band_edges(y: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and band edges over the seed axis of ``y [U, S]``."""
    mean = y.mean(axis=1)
    std = y.std(axis=1, ddof=1) if y.shape[1] > 1 else np.zeros_like(mean)
    half = std if band == "std" else 1.96 * std / np.sqrt(y.shape[1])
    return mean, mean - half, mean + half


def _check_band(band: str) -> None:
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, got {band!r}")


def _single_game(runs: Sequence[Run]):
    names = sorted({r.game.name for r in runs})
    if len(names) > 1:
        raise ValueError(f"runs play different games ({', '.join(names)}); plot them apart")
    return runs[0].game


def plot_learning_curves(
    runs: RunLike | Iterable[RunLike],
    metric_name: str = "joint",
    band: str = "std",
    *,
    ax: Axes | None = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    reference_levels: bool = True,
) -> Figure:
    """One line per run: ``metric_name`` (see `METRICS`) against update, mean across
    seeds with a shaded ``band`` (see `BANDS`).

    For ``joint`` the game's ``reference_levels`` (e.g. IPD mutual cooperation -1 and mutual
    defection -2) are drawn as dotted lines; for ``nash_distance`` the 0.1 tolerance of the
    matching-pennies Nash outcome is; for other metrics the levels of the game's
    ``metric_reference_levels`` (e.g. the Coin Game's random play: own-coin share 0.5).

    Args:
        runs: runs or run directories, all of the same game.
        metric_name: a key of `METRICS`.
        band: ``"std"`` or ``"ci95"``.
        ax: draw into these axes (default: a new figure).
        title: axes title (default: the game's description).
        labels: legend entries (default: each run's ``label`` from its config).
        reference_levels: draw the reference lines.

    Returns:
        the figure holding the axes.
    """
    runs = as_runs(runs)
    _check_band(band)
    curves = [metric(run, metric_name) for run in runs]
    if labels is not None and len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs")
    game = _single_game(runs)
    if ax is None:
        ax = Figure(figsize=(6.4, 4.0), layout="constrained").subplots()
    # The axes' own figure: a Figure, or a SubFigure when the caller drew into one (returned
    # as it is, as before; it draws like a Figure).
    fig = cast(Figure, ax.figure)
    band_name = "std" if band == "std" else "95% CI"
    for i, (run, curve) in enumerate(zip(runs, curves, strict=True)):
        mean, lo, hi = band_edges(curve, band)
        label = labels[i] if labels is not None else run.label
        (line,) = ax.plot(run.updates, mean, lw=1.8, label=f"{label} ({run.n_seeds} seeds)")
        ax.fill_between(run.updates, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    if reference_levels:
        levels = dict(game.reference_levels) if metric_name == "joint" else {}
        if metric_name == "nash_distance":
            levels = {"Nash tolerance": 0.1}
        levels = levels or metric_levels(game, metric_name)
        for name, level in levels.items():
            ax.axhline(level, color="0.35", ls=":", lw=1.2, zorder=0)
            ax.annotate(f"{name} ({level:.3g})", (0.99, level), xycoords=("axes fraction", "data"),
                        ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("update")
    ax.set_ylabel(f"{metric_label(metric_name)}\nmean, band = {band_name} over seeds")
    ax.set_title(title if title is not None else game.description or game.name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig



def plot_curve_panels(
    runs: RunLike | Iterable[RunLike],
    curves: Sequence[tuple[str, str]],
    title: str,
    *,
    ylabel: str = "{label}\nmean, band = std over seeds",
    targets: Sequence[float | None] | None = None,
    panel_width: float = 5.5,
    height: float = 4.2,
) -> Figure:
    """One panel per ``(metric, label)`` of ``curves``, side by side: `plot_learning_curves`
    of every run with a ``"std"`` band, the axes titled ``label``.

    Args:
        runs: runs or run directories, all of the same game.
        curves: ``(metric_name, label)`` per panel.
        title: the figure's title.
        ylabel: each panel's y label, with ``{label}`` replaced by its label.
        targets: a level per panel drawn as a red dash-dotted line (``None``: none), e.g. a
            result the runs aim at.
        panel_width: inches per panel.
        height: the figure's height in inches.
    """
    runs = as_runs(runs)
    fig = Figure(figsize=(panel_width * len(curves), height), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(curves)))
    levels = list(targets) if targets is not None else [None] * len(curves)
    for ax, (name, label), level in zip(axes, curves, levels, strict=True):
        plot_learning_curves(runs, name, ax=ax, band="std", title=label)
        if level is not None:
            ax.axhline(level, color="tab:red", ls="-.", lw=0.8)
        ax.set_ylabel(ylabel.format(label=label))
    fig.suptitle(title)
    return fig


def plot_joint_scores(
    runs: RunLike | Iterable[RunLike], band: str = "std", **kwargs: Any
) -> Figure:
    """Joint score (mean of both players' reward per step) against update, one line per run,
    mean with a ``band`` across seeds and the game's reference levels; see
    `plot_learning_curves` for the keyword arguments."""
    return plot_learning_curves(runs, "joint", band, **kwargs)


def plot_policies(
    runs: RunLike | Iterable[RunLike],
    kind: str = "strip",
    *,
    update: int = -1,
    title: str | None = None,
    seed: int = 0,
) -> Figure:
    """Each memory-one state's P(action 0) across seeds, one row per run, one column per player.

    Strip plots (one dot per seed, jittered sideways, black bar at the median) or violin
    plots. In the IPD the tit-for-tat pattern (C after CC and DC, D after CD and DD) is drawn
    as grey squares; in matching pennies the Nash probability 0.5 as a dotted line.

    Args:
        runs: runs or run directories (games may differ).
        kind: ``"strip"`` or ``"violin"``.
        update: index into the logged updates (default: the last).
        title: figure title.
        seed: seeds the sideways jitter of the strip plot (it carries no information).
    """
    runs = as_runs(runs)
    _check_policy_runs(runs, kind)
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(8.0, 2.5 * len(runs) + 0.6), layout="constrained")
    axes = fig.subplots(len(runs), max(r.n_players for r in runs), squeeze=False, sharey=True)
    for row, run in zip(axes, runs, strict=True):
        for player, ax in enumerate(row):
            if player >= run.n_players:
                ax.set_visible(False)
                continue
            _draw_policy(ax, run, player, kind, update, rng)
    handles, names = _legend_entries(axes.flat)
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _check_policy_runs(runs: Sequence[Run], kind: str) -> None:
    if kind not in ("strip", "violin"):
        raise ValueError(f"kind must be 'strip' or 'violin', got {kind!r}")
    for run in runs:
        if not run.memory_one:
            raise ValueError(f"run {run.label!r} logged no memory-one policies to plot")


def _draw_policy(ax: Axes, run: Run, player: int, kind: str, update: int,
                 rng: np.random.Generator) -> None:
    """One player's P(action 0) per memory-one state across seeds, with the game's pattern."""
    states = run.game.state_names
    x = np.arange(len(states))
    probs = run.probs(player)[update]  # [S, 5]
    if kind == "violin":
        parts = ax.violinplot(probs, positions=x, widths=0.8, showmedians=True)
        # matplotlib's stubs type every entry as a Collection; "bodies" is a list of them.
        for body in cast(list[PolyCollection], parts["bodies"]):
            body.set_alpha(0.5)
    else:
        jitter = rng.uniform(-0.25, 0.25, size=probs.shape)
        ax.scatter(x + jitter, probs, s=9, alpha=0.55, lw=0, color="C0")
        ax.hlines(np.median(probs, axis=0), x - 0.3, x + 0.3, color="k", lw=2)
    if run.game.name == "ipd":
        ax.scatter(x[1:], [1, 0, 1, 0], marker="s", s=60, facecolor="none",
                   edgecolor="0.4", lw=1.2, label="tit-for-tat", zorder=3)
    elif run.game.name == "imp":
        ax.axhline(0.5, color="0.35", ls=":", lw=1.2, zorder=0, label="Nash (0.5)")
    ax.set_xticks(x, states)
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(f"{run.label}\nplayer {player} ({run.n_seeds} seeds, update "
                 f"{int(run.updates[update])})", fontsize=9)
    if player == 0:
        ax.set_ylabel(f"P({run.game.action_names[0]}) in state")
    ax.set_xlabel("previous outcome (own, other)")


def _legend_entries(axes: Iterable[Axes]) -> tuple[list[Any], list[str]]:
    """The legend handles and names of all axes, each name once."""
    handles: list[Any] = []
    names: list[str] = []
    for ax in axes:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    return handles, names


def save_figure(
    fig: Figure, path: str | os.PathLike, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats``; return the paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        target = path.with_suffix(f".{fmt}")
        save_figure_file(fig, target, dpi=dpi)
        out.append(target)
    return out

"""Figures and tables of training runs: learning curves, end-of-training policies, results.

Every plot function takes runs (`Run` objects or run directories),
draws with matplotlib's object API (``Figure`` objects, never ``pyplot``, so no display and no
global backend state are involved; PNGs are rendered by Agg) and returns the
`Figure`; `save_figure` writes it as PNG and PDF.

Conventions (those of `lola_games.runner.rundir`): values are rewards per step ``[U, S]``
(``U`` logged updates, ``S`` seeds); the *joint score* is the mean of both players' values;
policies are P(action 0) in the memory-one states (start, CC, CD, DC, DD), each player seen
from its own side (``CD`` = "I played C, the other D").

Outcome classes used by `results_table` (all judged after the last logged update):

* the game's named outcomes of `lola_games.runner.train.OUTCOMES`, e.g. IPD *cooperation*
  (joint score > -1.1), IPD *defection (Nash)* (joint score < -1.9), matching-pennies
  *Nash* (all 5 probabilities of both players within 0.1 of 0.5); see
  `lola_games.runner.train.outcome_shares`;
* IPD *TFT-like* (`tft_like`): a player whose P(C) is above 0.9 after CC and DC (the
  opponent cooperated) and below 0.1 after CD and DD (the opponent defected), from its own
  side; the first move is not judged (its weight is discounted away and learning barely
  moves it). The table reports, for each player, the share of seeds where it is TFT-like.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lola_games.runner.rundir import Run, load_run
from lola_games.runner.train import OUTCOMES, extra_metrics, outcome_shares

__all__ = [
    "BANDS",
    "METRICS",
    "as_runs",
    "metric",
    "tft_like",
    "plot_learning_curves",
    "plot_joint_scores",
    "plot_policies",
    "results_table",
    "table_markdown",
    "write_table",
    "save_figure",
]

BANDS = ("std", "ci95")
"""Shaded band across seeds: ``std`` = mean +- one standard deviation; ``ci95`` = mean +-
1.96 standard errors (normal approximation of a 95% confidence interval of the mean)."""

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


def _metric_label(name: str) -> str:
    if name in METRICS:
        return METRICS[name]
    base, _, player = name.rpartition("_")
    if player.isdigit() and base:
        return f"player {player} {base.replace('_', ' ')}"
    return f"{name.replace('_', ' ')} (mean over players)"


def _metric_levels(game: Any, name: str) -> dict[str, float]:
    """Reference levels that ``game`` states for a named metric, ``<metric>`` or
    ``<metric>_<player>`` (its ``metric_reference_levels``, e.g. the Coin Game's random play);
    none for games without them."""
    table = getattr(game, "metric_reference_levels", None) or {}
    base, _, player = name.rpartition("_")
    key = base if player.isdigit() and base in table else name
    return dict(table.get(key, {}))


def _band(y: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    fig = ax.figure
    band_name = "std" if band == "std" else "95% CI"
    for i, (run, curve) in enumerate(zip(runs, curves, strict=True)):
        mean, lo, hi = _band(curve, band)
        label = labels[i] if labels is not None else run.label
        (line,) = ax.plot(run.updates, mean, lw=1.8, label=f"{label} ({run.n_seeds} seeds)")
        ax.fill_between(run.updates, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    if reference_levels:
        levels = dict(game.reference_levels) if metric_name == "joint" else {}
        if metric_name == "nash_distance":
            levels = {"Nash tolerance": 0.1}
        levels = levels or _metric_levels(game, metric_name)
        for name, level in levels.items():
            ax.axhline(level, color="0.35", ls=":", lw=1.2, zorder=0)
            ax.annotate(f"{name} ({level:.3g})", (0.99, level), xycoords=("axes fraction", "data"),
                        ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel("update")
    ax.set_ylabel(f"{_metric_label(metric_name)}\nmean, band = {band_name} over seeds")
    ax.set_title(title if title is not None else game.description or game.name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_joint_scores(
    runs: RunLike | Iterable[RunLike], band: str = "std", **kwargs: Any
) -> Figure:
    """Joint score (mean of both players' reward per step) against update, one line per run,
    mean with a ``band`` across seeds and the game's reference levels; see
    `plot_learning_curves` for the keyword arguments."""
    return plot_learning_curves(runs, "joint", band, **kwargs)


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
    if kind not in ("strip", "violin"):
        raise ValueError(f"kind must be 'strip' or 'violin', got {kind!r}")
    for run in runs:
        if not run.memory_one:
            raise ValueError(f"run {run.label!r} logged no memory-one policies to plot")
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(8.0, 2.5 * len(runs) + 0.6), layout="constrained")
    axes = fig.subplots(len(runs), max(r.n_players for r in runs), squeeze=False, sharey=True)
    for row, run in zip(axes, runs, strict=True):
        states = run.game.state_names
        x = np.arange(len(states))
        for player, ax in enumerate(row):
            if player >= run.n_players:
                ax.set_visible(False)
                continue
            probs = run.probs(player)[update]  # [S, 5]
            if kind == "violin":
                parts = ax.violinplot(probs, positions=x, widths=0.8, showmedians=True)
                for body in parts["bodies"]:
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
    handles, names = [], []
    for ax in axes.flat:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    if handles:
        fig.legend(handles, names, loc="outside lower center", ncols=len(names), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def results_table(runs: RunLike | Iterable[RunLike]) -> list[dict[str, Any]]:
    """One row per run after its last logged update, as in the LOLA paper's results table.

    Columns: ``run`` (label), ``game``, ``seeds``, ``updates``, ``value_<i>`` and ``std_<i>``
    for each player ``i`` (mean and standard deviation over seeds of its final reward per
    step), ``joint``/``joint_std`` (of the joint score), the mean over seeds and players of
    every other named metric except memory-one probabilities (e.g. ``own_coin_share``), then
    the share of seeds (0..1) at each named outcome of
    `lola_games.runner.train.outcome_shares`, and for memory-one IPD runs
    ``TFT-like p<i>`` (share of seeds where player ``i`` is `tft_like`).
    Standard deviations are over seeds with ``ddof=0`` (as ``numpy.std``).
    """
    rows = []
    for run in as_runs(runs):
        joint = run.joint_score[-1]
        row: dict[str, Any] = {
            "run": run.label,
            "game": run.game.name,
            "seeds": run.n_seeds,
            "updates": int(run.updates[-1]),
        }
        for i in range(run.n_players):
            v = run.metric("value", i)[-1]
            row[f"value_{i}"] = float(v.mean())
            row[f"std_{i}"] = float(v.std())
        row["joint"] = float(joint.mean())
        row["joint_std"] = float(joint.std())
        for name in extra_metrics(run):
            row[name] = float(run.metrics[name][-1].mean())
        row.update(outcome_shares(run))
        if run.game.name == "ipd" and run.memory_one:
            for i in range(run.n_players):
                row[f"TFT-like p{i}"] = float(tft_like(run.probs(i)[-1]).mean())
        rows.append(row)
    return rows


def _players(rows: Sequence[dict[str, Any]]) -> int:
    return max((sum(1 for k in r if k.startswith("value_")) for r in rows), default=2)


def _fixed(rows: Sequence[dict[str, Any]]) -> list[str]:
    per_player = [k for i in range(_players(rows)) for k in (f"value_{i}", f"std_{i}")]
    return ["run", "game", "seeds", "updates", *per_player, "joint", "joint_std"]


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    fixed = _fixed(rows)
    extra = []
    for row in rows:
        extra += [k for k in row if k not in fixed and k not in extra]
    return [*fixed, *extra]


def _shares(rows: Sequence[dict[str, Any]]) -> set[str]:
    """Columns that hold shares of seeds (outcomes, TFT-like), shown in percent."""
    names = set()
    for row in rows:
        run_outcomes = set(OUTCOMES.get(row["game"], {}))
        names |= {k for k in row if k in run_outcomes or k.startswith("TFT-like")}
    return names


def table_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows of `results_table` as a markdown table: ``mean (std)`` per value, other
    metrics' means, and outcome shares in percent (``-`` where a run has no such column)."""
    n_players = _players(rows)
    extra = _columns(rows)[len(_fixed(rows)):]
    shares = _shares(rows)
    head = ["run", "game", "seeds", "updates", *(f"player {i}" for i in range(n_players)),
            "joint", *(f"% {k}" if k in shares else k for k in extra)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["run"], r["game"], str(r["seeds"]), str(r["updates"])]
        cells += [f"{r[f'value_{i}']:.3f} ({r[f'std_{i}']:.3f})" if f"value_{i}" in r else "-"
                  for i in range(n_players)]
        cells.append(f"{r['joint']:.3f} ({r['joint_std']:.3f})")
        for k in extra:
            if k not in r:
                cells.append("-")
            elif k in shares:
                cells.append(f"{100 * r[k]:.1f}")
            else:
                cells.append(f"{r[k]:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(
    rows: Sequence[dict[str, Any]], path: str | os.PathLike
) -> tuple[Path, Path]:
    """Write ``path`` with suffixes ``.md`` (`table_markdown`) and ``.csv`` (full
    precision, shares as fractions, empty where not applicable); returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    md, csv_path = path.with_suffix(".md"), path.with_suffix(".csv")
    md.write_text(table_markdown(rows))
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_columns(rows), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return md, csv_path


def save_figure(
    fig: Figure, path: str | os.PathLike, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats``; return the paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        target = path.with_suffix(f".{fmt}")
        fig.savefig(target, dpi=dpi)
        out.append(target)
    return out

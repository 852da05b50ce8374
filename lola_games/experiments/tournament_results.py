"""A tournament's results: `TournamentResult`, its tables (`results_markdown`,
`write_results`) and figures (`plot_heatmap`, `plot_ranking`, `plot_curves`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.analysis.plots import save_figure
from lola_games.core.files import write_csv, write_text

__all__ = ["TournamentResult", "ci95", "results_markdown", "write_results", "plot_heatmap",
           "plot_ranking", "plot_curves"]


@dataclass
class TournamentResult:
    """The outcome of a tournament.

    Attributes:
        names: entrant names in the tournament's order.
        game: the game.
        values: ``(i, j) -> [U, S]`` entrant ``i``'s value per step against ``j`` at each
            logged update (self-play: both players' mean).
        updates: ``[U]`` the logged updates.
        matrix: ``[N, N]`` final mean value (row against column).
        ci: ``[N, N]`` its 95% CI half-width.
        average: ``[N]`` mean over opponents.
        average_ci: ``[N]`` its 95% CI half-width.
        ranking: entrant indices from best to worst average.
        settings: the tournament's settings, as ``tournament.json`` holds them.
        out: the tournament directory (or ``None``).
        files: tables and figures written.
        run_seconds: ``key -> seconds`` the pairings took in this call (0 when skipped).
    """

    names: list[str]
    game: Any
    values: dict[tuple[int, int], np.ndarray]
    updates: np.ndarray
    matrix: np.ndarray
    ci: np.ndarray
    average: np.ndarray
    average_ci: np.ndarray
    ranking: list[int]
    settings: dict[str, Any] = field(default_factory=dict)
    out: Path | None = None
    files: list[Path] = field(default_factory=list)
    run_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_seeds(self) -> int:
        return next(iter(self.values.values())).shape[1]

    def average_curves(self) -> np.ndarray:
        """``[N, U, S]`` each entrant's value averaged over its opponents, per update."""
        n = len(self.names)
        return np.stack([np.mean([self.values[i, j] for j in range(n)], axis=0)
                         for i in range(n)])


def ci95(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Half-width of the 95% confidence interval of the mean along ``axis`` (1.96 standard
    errors; zeros with fewer than two values).

    Args:
        x: the values.
        axis: the axis of the samples.

    Returns:
        ``x``'s shape without ``axis``.
    """
    n = x.shape[axis]
    if n < 2:
        return np.zeros(np.delete(x.shape, axis))
    return 1.96 * x.std(axis=axis, ddof=1) / np.sqrt(n)


def _fmt(x: float, ci: float) -> str:
    return f"{x:.3f} ± {ci:.3f}"


def results_markdown(result: TournamentResult) -> str:
    """The results matrix and the ranking as Markdown tables."""
    names, n = result.names, len(result.names)
    s = result.settings
    head = (f"Tournament on {result.game.name}: {n} entrants, {n * (n + 1) // 2} pairings, "
            f"{result.n_seeds} seeds, {int(result.updates[-1])} updates"
            + (f", gamma {s['gamma']}" if "gamma" in s else "") + ".\n\n"
            "Row player's value per step against the column player after the last update "
            "(mean ± 95% CI over seeds):\n\n")
    lines = ["| | " + " | ".join(names) + " | average |",
             "|---" * (n + 2) + "|"]
    for i in range(n):
        cells = [_fmt(result.matrix[i, j], result.ci[i, j]) for j in range(n)]
        lines.append(f"| **{names[i]}** | " + " | ".join(cells)
                     + f" | {_fmt(result.average[i], result.average_ci[i])} |")
    published = s.get("published") or {}
    rank = ["| rank | agent | average over opponents |" + (" published |" if published else ""),
            "|---|---|---|" + ("---|" if published else "")]
    for r, i in enumerate(result.ranking, start=1):
        paper = (f" {published[names[i]]:.2f} |" if names[i] in published else " |"
                 ) if published else ""
        rank.append(f"| {r} | {names[i]} | {_fmt(result.average[i], result.average_ci[i])} |"
                    + paper)
    return head + "\n".join(lines) + "\n\nRanking:\n\n" + "\n".join(rank) + "\n"


def write_results(result: TournamentResult, out: str | os.PathLike,
                  formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``results.md``, ``results.csv`` and the figures into ``out``; return the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "results.md"
    write_text(md, results_markdown(result))
    path = out / "results.csv"
    names = result.names
    rows: list[list[Any]] = [["agent", "rank", "average", "average_ci95",
                              *(c for o in names for c in (f"vs_{o}", f"vs_{o}_ci95"))]]
    rank = {i: r for r, i in enumerate(result.ranking, start=1)}
    for i, name in enumerate(names):
        rows.append([name, rank[i], repr(float(result.average[i])),
                     repr(float(result.average_ci[i])),
                     *(repr(float(x)) for j in range(len(names))
                       for x in (result.matrix[i, j], result.ci[i, j]))])
    write_csv(path, rows)
    files = [md, path]
    if formats:
        for stem, fig in (("heatmap", plot_heatmap(result)), ("ranking", plot_ranking(result)),
                          ("curves", plot_curves(result))):
            files += save_figure(fig, out / stem, formats)
    return files


# -- figures -------------------------------------------------------------------------------


def plot_heatmap(result: TournamentResult, title: str | None = None) -> Figure:
    """The results matrix as a heatmap with each cell's mean and 95% CI written in it."""
    n = len(result.names)
    size = max(4.5, 0.75 * n + 2.5)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(result.matrix, cmap="viridis")
    fig.colorbar(image, ax=ax, shrink=0.8, label="row player's value per step")
    ax.set_xticks(range(n), result.names, rotation=45, ha="right")
    ax.set_yticks(range(n), result.names)
    ax.set_xlabel("opponent (column)")
    ax.set_ylabel("agent (row)")
    mid = (np.nanmax(result.matrix) + np.nanmin(result.matrix)) / 2
    fontsize = 8 if n <= 8 else 6 if n <= 14 else 4
    for i in range(n):
        for j in range(n):
            colour = "black" if result.matrix[i, j] > mid else "white"
            ax.text(j, i, f"{result.matrix[i, j]:.2f}\n±{result.ci[i, j]:.2f}", ha="center",
                    va="center", fontsize=fontsize, color=colour)
    ax.set_title(title or f"{result.game.name}: value per step after "
                          f"{int(result.updates[-1])} updates ({result.n_seeds} seeds)")
    return fig


def plot_ranking(result: TournamentResult, title: str | None = None) -> Figure:
    """Each entrant's average over opponents with its 95% CI, best at the top."""
    n = len(result.names)
    fig = Figure(figsize=(6.5, max(2.5, 0.35 * n + 1.2)), layout="constrained")
    ax = fig.subplots()
    order = result.ranking[::-1]
    ax.errorbar(result.average[order], range(n), xerr=result.average_ci[order], fmt="o",
                color="C0", capsize=3)
    ax.set_yticks(range(n), [result.names[i] for i in order])
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("average value per step over opponents (95% CI)")
    ax.set_title(title or f"{result.game.name}: ranking ({result.n_seeds} seeds)")
    return fig


def plot_curves(result: TournamentResult, title: str | None = None) -> Figure:
    """Each entrant's value averaged over its opponents against update, 95% CI bands."""
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    curves = result.average_curves()  # [N, U, S]
    for k, name in enumerate(result.names):
        mean = curves[k].mean(axis=1)
        half = ci95(curves[k], axis=1)
        ax.plot(result.updates, mean, label=name, color=f"C{k % 10}")
        ax.fill_between(result.updates, mean - half, mean + half, alpha=0.25,
                        color=f"C{k % 10}")
    ax.set_xlabel("update")
    ax.set_ylabel("value per step, average over opponents")
    ax.legend(ncol=3, fontsize=8)
    ax.set_title(title or f"{result.game.name}: average over the tournament "
                          f"({result.n_seeds} seeds, 95% CI)")
    return fig

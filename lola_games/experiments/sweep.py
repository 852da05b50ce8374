"""Hyper-parameter sweeps: one run per point of a grid over the agents' options.

``grid`` maps option names to values; every point of their Cartesian product is one run of
the same agents, each agent taking the options it knows (the sampled agents also read
``lr``, ``eta`` and ``lookahead_steps`` as their ``lr_out``, ``lr_in`` and
``n_lookaheads``, like the ``train`` command). Runs go to ``out/<key>=<value>,...`` through
a `lola_games.runner.grid` backend; ``results.md``/``results.csv`` hold one row per point
(`lola_games.analysis.plots.results_table`, each run labelled by its point) and
``heatmap`` draws the final joint score over the first two options.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.agents.base import accepted_hparams
from lola_games.agents.evaluation import check_agents
from lola_games.agents.registry import AGENTS, make_agent
from lola_games.analysis import plots as plotting
from lola_games.core.files import DirectoryLock, check_out_path
from lola_games.experiments.tournament import check_backend, check_formats
from lola_games.games.differentiable import custom_game
from lola_games.runner.backends import Backend
from lola_games.runner.grid import plan, run_grid
from lola_games.runner.run import load_run
from lola_games.runner.setup import resolve_game
from lola_games.runner.tasks import RunTask

__all__ = ["ALIASES", "SweepResult", "parse_grid", "sweep_points", "sweep"]

ALIASES = {"lr": "lr_out", "eta": "lr_in", "lookahead_steps": "n_lookaheads"}
"""Option names that the sampled agents take under another name."""


def _value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["lr=0.1,0.3", "eta=1"]`` -> ``{"lr": [0.1, 0.3], "eta": [1]}`` (ints, floats,
    booleans and strings; ``-`` in names reads as ``_``).

    Raises:
        ValueError: an item that is not ``name=v1,v2,...``, a name given twice, or a
            repeated value.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise ValueError(f"parse_grid takes a list of NAME=VALUE[,VALUE...] strings, got "
                         f"{items!r}")
    grid: dict[str, list[Any]] = {}
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"grid item {item!r} must be a string NAME=VALUE[,VALUE...]")
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        parts = [v for v in values.split(",") if v.strip()]
        if not sep or not name.isidentifier() or not parts:
            raise ValueError(f"grid item {item!r} must be NAME=VALUE[,VALUE...]")
        if name in grid:
            raise ValueError(f"grid option {name!r} is given twice")
        grid[name] = _distinct(name, [_value(v) for v in parts])
    if not grid:
        raise ValueError("the grid is empty; give NAME=VALUE[,VALUE...] items")
    return grid


def _distinct(name: str, values: list[Any]) -> list[Any]:
    """``values`` when no two are equal (``1`` and ``1.0`` are), else ``ValueError``."""
    for i, v in enumerate(values):
        if any(type(v) is type(w) and v == w or _number(v) and _number(w) and v == w
               or repr(v) == repr(w) for w in values[:i]):
            raise ValueError(f"grid option {name!r} repeats the value {v!r}")
    return values


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _accepted(agent: str) -> set[str]:
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known agents: {', '.join(AGENTS)}")
    return set(accepted_hparams(AGENTS[agent]))


def _with_aliases(options: Mapping[str, Any], accepted: set[str]) -> dict[str, Any]:
    out = dict(options)
    for name, alias in ALIASES.items():
        if name in out and alias in accepted and alias not in out:
            out[alias] = out[name]
    return out


def sweep_points(agents: Sequence[str], grid: Mapping[str, Sequence[Any]]
                 ) -> list[dict[str, Any]]:
    """The grid's points in order (the last option varies fastest).

    Raises:
        ValueError: an option no agent takes (listing what they take), or an empty value
            list.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping option -> list of values, got "
                         f"{grid!r}")
    takes = set().union(*(_accepted(a) for a in agents))
    takes |= {name for name, alias in ALIASES.items() if alias in takes}
    for name, values in grid.items():
        if name not in takes:
            raise ValueError(f"grid option {name!r} is taken by none of the agents "
                             f"({', '.join(agents)}); they take: {', '.join(sorted(takes))}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) \
                or not len(values):
            raise ValueError(f"grid option {name!r} needs a list of values, got {values!r}")
        _distinct(name, list(values))
    names = list(grid)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(grid[n] for n in names))]


def _key(point: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in point.items())


@dataclass
class SweepResult:
    """The points, their runs (by key), the table rows and the files written."""

    points: list[dict[str, Any]]
    runs: dict[str, Any]
    table: list[dict[str, Any]]
    out: Path
    files: list[Path] = field(default_factory=list)


def sweep(
    game: Any,
    agents: Sequence[str],
    grid: Mapping[str, Sequence[Any]],
    *,
    n_seeds: int = 16,
    n_updates: int = 200,
    gamma: float = 0.96,
    seed: int = 0,
    out: str | os.PathLike = "runs/sweep",
    hparams: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    dtype: str = "float32",
    device: str = "cpu",
    log_every: int = 1,
    overwrite: bool = False,
    formats: Sequence[str] = ("png", "pdf"),
    report=None,
) -> SweepResult:
    """Run every point of ``grid`` with ``agents`` (registry names, one per player).

    ``hparams`` are options fixed for every point. All runs share ``seed``, so the points
    start from the same parameters where the agents' parameters do not depend on the grid.

    Raises:
        ValueError: an unknown agent, a grid option no agent takes, a bad argument (named),
            or run directories that hold other runs; found before anything is written.
        DirectoryLockedError: another process writes ``out``.
    """
    game = resolve_game(game)
    if isinstance(agents, (str, bytes)) or not isinstance(agents, Sequence):
        raise ValueError(f"agents must be a list of registry names, got {agents!r}")
    if hparams is not None and not isinstance(hparams, Mapping):
        raise ValueError(f"hparams must be a mapping name -> value, got {hparams!r}")
    agents = list(agents)
    points = sweep_points(agents, grid)
    out = check_out_path(out)
    formats = check_formats(formats)
    backend = check_backend(backend)
    tasks = []
    for point in points:
        options = {**dict(hparams or {}), **point}
        built = tuple(make_agent(a, ignore_unknown=True,
                                 **_with_aliases(options, _accepted(a))) for a in agents)
        kwargs = dict(n_seeds=n_seeds, n_updates=n_updates, gamma=gamma, seed=seed,
                      dtype=dtype, device=device, label=_key(point), log_every=log_every)
        tasks.append(RunTask(_key(point), game.spec(), built, str(out / _key(point)), kwargs,
                             game=custom_game(game)))
    for task in tasks:
        check_agents(game, task.agents)
    plan(tasks, overwrite)  # every argument and directory checked before anything is written
    out.mkdir(parents=True, exist_ok=True)
    with DirectoryLock(out):
        run_grid(tasks, backend, overwrite=overwrite, report=report)
        runs = {t.key: load_run(t.out_dir) for t in tasks}
        table = plotting.results_table(list(runs.values()))  # each run's label is its point
        files = list(plotting.write_table(table, out / "results"))
        if formats:
            fig = plot_sweep(points, runs, list(grid))
            files += plotting.save_figure(fig, out / "heatmap", formats)
    return SweepResult(points, runs, table, out, files)


def plot_sweep(points: list[dict[str, Any]], runs: Mapping[str, Any], names: list[str]):
    """Final joint score (mean over seeds) over the first two grid options (a heatmap), or
    against the only option; further options are averaged over."""
    score = {_key(p): float(runs[_key(p)].joint_score[-1].mean()) for p in points}
    fig = Figure(figsize=(6.0, 4.5), layout="constrained")
    ax = fig.subplots()
    xs = list(dict.fromkeys(p[names[0]] for p in points))
    if len(names) == 1:
        ax.plot(range(len(xs)), [score[_key(p)] for p in points], "o-")
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_xlabel(names[0])
        ax.set_ylabel("final joint score")
        return fig
    ys = list(dict.fromkeys(p[names[1]] for p in points))
    grid = np.full((len(ys), len(xs)), np.nan)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            vals = [score[_key(p)] for p in points if p[names[0]] == x and p[names[1]] == y]
            grid[i, j] = np.mean(vals)
    image = ax.imshow(grid, cmap="viridis", origin="lower")
    fig.colorbar(image, ax=ax, label="final joint score (mean over seeds)")
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    for i in range(len(ys)):
        for j in range(len(xs)):
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white")
    return fig

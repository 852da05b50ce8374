"""Round-robin tournaments: every pairing of a set of agents, each for ``S`` seeds.

Every pair of entrants ``(A, B)`` with ``A`` listed before ``B``, and every entrant against a
second copy of itself (self-play: two players with their own params), is one run of the
runner, with ``A`` as player 0; all runs share the tournament's seed. The results::

    matrix[A, B]  = A's value per step against B after the last update, mean over seeds
    ci[A, B]      = half-width of its 95% confidence interval (1.96 standard errors)
    average[A]    = mean of matrix[A, :] over all opponents, self-play included (per seed,
                    then over seeds, with its 95% CI)

``matrix[A, A]`` is the mean of both players' values in self-play. Entrants are ranked by
their average. When every entrant has a memory-one policy, every pairing is evaluated with
exact values (`exact_evaluate`), so that all cells are the
same quantity; otherwise each pairing uses its runner default.

A tournament directory holds ``tournament.json`` (settings and entrants), one run directory
per pairing under ``runs/<A>__vs__<B>``, ``results.md`` and ``results.csv``, and the figures
``heatmap``, ``ranking`` and ``curves`` (the average over opponents against update, the LOLA
paper's Fig. 4). Running the same tournament again skips the pairings that finished, resumes
interrupted ones, and runs new ones (e.g. after adding an entrant).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lola_games.agents.base import Agent, check_agents, exact_evaluate, make_agent
from lola_games.agents.lola import LOLA
from lola_games.agents.naive import NaiveLearner
from lola_games.agents.online import (
    JointActionLearner,
    NaiveQLearner,
    PolicyHillClimbing,
    WoLFPolicyHillClimbing,
)
from lola_games.analysis.figures import save_figure
from lola_games.games.matrix import MatrixGame
from lola_games.interop.axelrod import AxelrodStrategy
from lola_games.runner.backends import Backend
from lola_games.runner.grid import plan, run_grid
from lola_games.runner.run import load_run
from lola_games.runner.setup import resolve_game
from lola_games.runner.tasks import RunResult, RunTask

__all__ = ["Entrant", "TournamentResult", "Preset", "PRESETS", "entrants", "pairings",
           "tournament", "tournament_tasks", "collect", "plot_heatmap", "plot_ranking",
           "plot_curves", "write_results", "results_markdown"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+:-]*")
SETTINGS = ("game_spec", "n_seeds", "gamma", "seed", "dtype", "log_every")
"""Settings that must match for a tournament directory to be continued."""


@dataclass(frozen=True)
class Entrant:
    """A named agent of a tournament (``name`` is unique; the run directories use it)."""

    name: str
    agent: Any

    @property
    def dir_name(self) -> str:
        return self.name.replace(":", "-")


def entrants(agents: Sequence[Any] | Mapping[str, Any],
             hparams: Mapping[str, Any] | None = None) -> list[Entrant]:
    """Named entrants from registry names, agent objects, or a mapping ``name -> agent``.

    A registry name is built with ``hparams`` (each agent takes the ones it knows, like the
    ``train`` command's options); an ``axl:<Strategy>`` name is an Axelrod strategy
    (`lola_games.interop.axelrod`). An agent object is named by its ``name``.

    Raises:
        ValueError: no agents, an unknown agent, a name used twice (give such entrants
            distinct names with a mapping), or a name that is not a plain identifier.
    """
    if isinstance(agents, (str, bytes)) or not isinstance(agents, (Sequence, Mapping)):
        raise ValueError(f"agents must be a list of agents or a mapping name -> agent, "
                         f"got {agents!r}")
    items = list(agents.items()) if isinstance(agents, Mapping) else [(None, a) for a in agents]
    if not items:
        raise ValueError("a tournament needs at least one agent")
    out, seen = [], {}
    for name, agent in items:
        if isinstance(agent, str):
            spec = agent
            if spec.startswith("axl:"):
                agent = AxelrodStrategy(spec[4:])
            else:
                agent = make_agent(spec, ignore_unknown=True, **dict(hparams or {}))
            name = spec if name is None else name
        if not isinstance(agent, Agent):
            raise TypeError(f"agents must be registry names or Agent objects, got "
                            f"{type(agent).__name__}")
        name = agent.name if name is None else name
        if not isinstance(name, str) or not _NAME.fullmatch(name) or "__" in name:
            raise ValueError(f"entrant name {name!r} must be letters, digits and . _ + : - "
                             f"(no '__'), starting with a letter or digit")
        entrant = Entrant(name, agent)
        if entrant.dir_name in seen:
            raise ValueError(f"duplicate entrant name {name!r} (entrants {seen[entrant.dir_name]}"
                             f" and {len(out)}); give each entrant its own name, e.g. "
                             f"{{'lola-fast': LOLA(lr=2), 'lola': LOLA()}}")
        seen[entrant.dir_name] = len(out)
        out.append(entrant)
    return out


def pairings(n: int) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` with ``i <= j`` in row order: ``n (n + 1) / 2`` pairings."""
    return [(i, j) for i in range(n) for j in range(i, n)]


def _pair_key(a: Entrant, b: Entrant) -> str:
    return f"{a.dir_name}__vs__{b.dir_name}"


@dataclass
class TournamentResult:
    """The outcome of a tournament.

    Attributes:
        names: entrant names in the tournament's order.
        game: the game.
        values: ``(i, j) -> [U, S]`` entrant ``i``'s value per step against ``j`` at each
            logged update (self-play: both players' mean).
        updates: ``[U]`` the logged updates.
        matrix, ci: ``[N, N]`` final mean value and 95% CI half-width (row against column).
        average, average_ci: ``[N]`` mean over opponents and its 95% CI.
        ranking: entrant indices from best to worst average.
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


def _ci95(x: np.ndarray, axis: int = -1) -> np.ndarray:
    n = x.shape[axis]
    if n < 2:
        return np.zeros(np.delete(x.shape, axis))
    return 1.96 * x.std(axis=axis, ddof=1) / np.sqrt(n)


def tournament_tasks(
    game: Any,
    roster: Sequence[Entrant],
    out: str | os.PathLike,
    *,
    n_seeds: int,
    n_updates: int,
    gamma: float,
    seed: int = 0,
    dtype: str = "float32",
    device: str = "cpu",
    log_every: int = 1,
    evaluate: Callable | None = None,
) -> list[RunTask]:
    """One `RunTask` per pairing (checked: each pair can play).

    Raises:
        ValueError: an entrant that cannot play the game, or a pair that cannot meet.
    """
    game = resolve_game(game)
    for e in roster:
        try:
            e.agent.check_game(game)
        except ValueError as err:
            raise ValueError(f"entrant {e.name!r} cannot play {game.name!r}: {err}") from None
    if evaluate is None and isinstance(game, MatrixGame) \
            and all(e.agent.is_memory_one() for e in roster):
        evaluate = exact_evaluate  # (other games: each run's default, the game's own)
    tasks = []
    for i, j in pairings(len(roster)):
        a, b = roster[i], roster[j]
        try:
            check_agents(game, (a.agent, b.agent))
        except ValueError as err:
            raise ValueError(f"pairing {a.name} vs {b.name} cannot be played: {err}") from None
        kwargs = dict(n_seeds=n_seeds, n_updates=n_updates, gamma=gamma, seed=seed,
                      dtype=dtype, device=device, label=f"{a.name} vs {b.name}",
                      log_every=log_every, evaluate=evaluate)
        # online learners play rollout_len rounds per update, the costly part of a run
        cost = n_updates * (1 + sum(getattr(e.agent, "rollout_len", 0) for e in (a, b)))
        tasks.append(RunTask(_pair_key(a, b), game.spec(), (a.agent, b.agent),
                             str(Path(out, "runs", _pair_key(a, b))), kwargs, cost=cost))
    return tasks


def collect(game: Any, roster: Sequence[Entrant], runs: Mapping[str, Any],
            settings: Mapping[str, Any] | None = None) -> TournamentResult:
    """The tournament's tables from its runs (``pair key -> Run``)."""
    n = len(roster)
    values: dict[tuple[int, int], np.ndarray] = {}
    updates = None
    for i, j in pairings(n):
        run = runs[_pair_key(roster[i], roster[j])]
        v = run.metrics["value"]  # [U, 2, S]
        if updates is None:
            updates = run.updates
        elif not np.array_equal(updates, run.updates):
            raise ValueError(f"pairing {roster[i].name} vs {roster[j].name} logged other "
                             f"updates than the others; run them with the same settings")
        if i == j:
            values[i, i] = v.mean(axis=1)
        else:
            values[i, j], values[j, i] = v[:, 0], v[:, 1]
    final = {k: v[-1] for k, v in values.items()}
    matrix = np.array([[final[i, j].mean() for j in range(n)] for i in range(n)])
    ci = np.array([[_ci95(final[i, j]) for j in range(n)] for i in range(n)])
    per_seed = np.stack([np.mean([final[i, j] for j in range(n)], axis=0) for i in range(n)])
    average, average_ci = per_seed.mean(axis=1), _ci95(per_seed)
    ranking = sorted(range(n), key=lambda k: -average[k])
    return TournamentResult([e.name for e in roster], game, values, updates, matrix, ci,
                            average, average_ci, ranking, dict(settings or {}))


def _write_settings(out: Path, settings: dict[str, Any], overwrite: bool) -> None:
    path = out / "tournament.json"
    if path.exists() and not overwrite:
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is damaged: {e}") from None
        diff = [k for k in SETTINGS if old.get(k) != settings.get(k)]
        if diff:
            raise ValueError(f"{out} holds a tournament with other settings "
                             f"({', '.join(diff)}); choose another directory or overwrite")
    out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(settings, indent=2) + "\n")
    os.replace(tmp, path)


def tournament(
    game: Any,
    agents: Sequence[Any] | Mapping[str, Any],
    *,
    n_seeds: int = 16,
    n_updates: int = 200,
    gamma: float = 0.96,
    seed: int = 0,
    out: str | os.PathLike = "runs/tournament",
    hparams: Mapping[str, Any] | None = None,
    backend: Backend | None = None,
    dtype: str = "float32",
    device: str = "cpu",
    log_every: int = 1,
    evaluate: Callable | None = None,
    overwrite: bool = False,
    formats: Sequence[str] = ("png", "pdf"),
    report: Callable[[RunResult, int, int], None] | None = None,
    published: Mapping[str, float] | None = None,
) -> TournamentResult:
    """Run (or continue) a round-robin tournament and write its tables and figures.

    Args:
        game: a game or its name.
        agents: registry names (``axl:<Strategy>`` for Axelrod strategies), agent objects,
            or a mapping ``name -> agent``; see `entrants`.
        n_seeds, n_updates, gamma, seed, dtype, device, log_every: of every pairing's run.
        out: the tournament directory.
        hparams: hyper-parameters of the agents given by name (each takes those it knows).
        backend: where the pairings run (`lola_games.runner.grid`; default in-process).
        evaluate: evaluator of every pairing (default: exact values when every entrant is
            memory-one, else each run's default).
        overwrite: rerun every pairing and replace what ``out`` holds.
        formats: figure formats.
        report: progress callback ``(result, done, total)``.
        published: published averages by entrant name, listed beside ours in the ranking.

    Raises:
        ValueError: bad entrants (see `entrants`), one that cannot play the game or
            meet another, or an ``out`` that holds a tournament with other settings. These
            are found before anything is written.
    """
    game = resolve_game(game)
    roster = entrants(agents, hparams)
    out = Path(out)
    tasks = tournament_tasks(game, roster, out, n_seeds=n_seeds, n_updates=n_updates,
                             gamma=gamma, seed=seed, dtype=dtype, device=device,
                             log_every=log_every, evaluate=evaluate)
    plan(tasks, overwrite)  # every directory checked before anything is written
    settings = json.loads(json.dumps({
        "game_spec": game.spec(), "n_seeds": n_seeds, "n_updates": n_updates,
        "gamma": gamma, "seed": seed, "dtype": dtype, "log_every": log_every,
        "entrants": [{"name": e.name, "agent": e.agent.name, "hparams": e.agent.hparams()}
                     for e in roster],
        "published": dict(published or {}),
    }))
    _write_settings(out, settings, overwrite)
    results = run_grid(tasks, backend, overwrite=overwrite, report=report)
    runs = {t.key: load_run(t.out_dir) for t in tasks}
    result = collect(game, roster, runs, settings)
    result.out = out
    result.run_seconds = {k: r.seconds for k, r in results.items()}
    result.files = write_results(result, out, formats)
    return result


# -- the LOLA paper's tournament -----------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """A published tournament: its game, discount, entrants and the published averages.

    Attributes:
        name: command-line name (``lola-games tournament --preset NAME``).
        game, gamma, n_updates, log_every: the tournament's settings.
        entrants: builds ``name -> agent`` in the published order.
        published: the published average over opponents after the last update, per entrant.
        source: where the settings and numbers come from.
    """

    name: str
    game: str
    gamma: float
    n_updates: int
    log_every: int
    entrants: Callable[[], dict[str, Any]]
    published: dict[str, float]
    source: str


def _lola_paper_entrants() -> dict[str, Any]:
    """The LOLA paper's tournament (Foerster et al. 2018, Fig. 4), published settings: the
    online learners with their published defaults and discount 0.96 in both games (the
    published script does not pass the game's discount to them), 200 rounds per episode;
    NL-Ex and LOLA-Ex with delta = eta = 1, one exact update per episode."""
    return {
        "NL-Q": NaiveQLearner(gamma=0.96, rollout_len=200),
        "JAL-Q": JointActionLearner(gamma=0.96, rollout_len=200),
        "PHC": PolicyHillClimbing(gamma=0.96, rollout_len=200),
        "WoLF-PHC": WoLFPolicyHillClimbing(gamma=0.96, rollout_len=200),
        "NL-Ex": NaiveLearner(lr=1.0),
        "LOLA-Ex": LOLA(lr=1.0, eta=1.0),
    }


_FIG4 = ("LOLA paper, Fig. 4: alshedivat/lola scripts/run_tournament.py (200 rounds per "
         "episode, gamma 0.96 IPD / 0.9 IMP) run for 1000 episodes, as its "
         "notebooks/tournament/analysis.ipynb plots them; averages at episode 1000 read off "
         "that figure")
PRESETS: dict[str, Preset] = {
    "lola-paper-ipd": Preset(
        "lola-paper-ipd", "ipd", 0.96, 1000, 10, _lola_paper_entrants,
        {"NL-Q": -1.6, "JAL-Q": -1.95, "PHC": -1.57, "WoLF-PHC": -1.33, "NL-Ex": -2.1,
         "LOLA-Ex": -1.08}, _FIG4),
    "lola-paper-imp": Preset(
        "lola-paper-imp", "imp", 0.9, 1000, 10, _lola_paper_entrants,
        {"NL-Q": 0.14, "JAL-Q": 0.10, "PHC": 0.10, "WoLF-PHC": 0.03, "NL-Ex": -0.25,
         "LOLA-Ex": -0.09}, _FIG4),
}
"""Published tournaments by name."""


# -- tables --------------------------------------------------------------------------------


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
    md.write_text(results_markdown(result))
    path = out / "results.csv"
    names = result.names
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["agent", "rank", "average", "average_ci95",
                    *(c for o in names for c in (f"vs_{o}", f"vs_{o}_ci95"))])
        rank = {i: r for r, i in enumerate(result.ranking, start=1)}
        for i, name in enumerate(names):
            w.writerow([name, rank[i], repr(float(result.average[i])),
                        repr(float(result.average_ci[i])),
                        *(repr(float(x)) for j in range(len(names))
                          for x in (result.matrix[i, j], result.ci[i, j]))])
    files = [md, path]
    if formats:
        for stem, fig in (("heatmap", plot_heatmap(result)), ("ranking", plot_ranking(result)),
                          ("curves", plot_curves(result))):
            files += save_figure(fig, out / stem, formats)
    return files


# -- figures -------------------------------------------------------------------------------


def plot_heatmap(result: TournamentResult, title: str | None = None):
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


def plot_ranking(result: TournamentResult, title: str | None = None):
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


def plot_curves(result: TournamentResult, title: str | None = None):
    """Each entrant's value averaged over its opponents against update, 95% CI bands."""
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.subplots()
    curves = result.average_curves()  # [N, U, S]
    for k, name in enumerate(result.names):
        mean = curves[k].mean(axis=1)
        half = _ci95(curves[k], axis=1)
        ax.plot(result.updates, mean, label=name, color=f"C{k % 10}")
        ax.fill_between(result.updates, mean - half, mean + half, alpha=0.25,
                        color=f"C{k % 10}")
    ax.set_xlabel("update")
    ax.set_ylabel("value per step, average over opponents")
    ax.legend(ncol=3, fontsize=8)
    ax.set_title(title or f"{result.game.name}: average over the tournament "
                          f"({result.n_seeds} seeds, 95% CI)")
    return fig

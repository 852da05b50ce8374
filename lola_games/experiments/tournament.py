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

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backend_bases import FigureCanvasBase

from lola_games.agents.base import Agent, exact_evaluate
from lola_games.agents.evaluation import check_agents
from lola_games.agents.registry import make_agent
from lola_games.core.files import DirectoryLock, check_out_path, read_untrusted_json, write_json
from lola_games.experiments.tournament_results import (
    TournamentResult,
    ci95,
    write_results,
)
from lola_games.games.differentiable import custom_game
from lola_games.games.matrix import MatrixGame
from lola_games.interop.axelrod import AxelrodStrategy
from lola_games.runner.backends import Backend
from lola_games.runner.grid import plan, run_grid
from lola_games.runner.run import load_run
from lola_games.runner.setup import resolve_game
from lola_games.runner.tasks import RunResult, RunTask

__all__ = ["Entrant", "entrants", "pairings", "tournament", "tournament_tasks", "collect",
           "read_settings", "check_formats", "check_backend"]

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
    if hparams is not None and not isinstance(hparams, Mapping):
        raise ValueError(f"hparams must be a mapping name -> value, got {hparams!r}")
    items = list(agents.items()) if isinstance(agents, Mapping) else [(None, a) for a in agents]
    if not items:
        raise ValueError("a tournament needs at least one agent")
    out: list[Entrant] = []
    seen: dict[str, int] = {}
    for name, agent in items:
        if isinstance(agent, str):
            spec = agent
            agent = _named_agent(spec, hparams)
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


def _named_agent(spec: str, hparams: Mapping[str, Any] | None) -> Agent:
    """The agent of a registry or ``axl:`` name, errors naming the entrant."""
    try:
        if spec.startswith("axl:"):
            return AxelrodStrategy(spec[4:])
        return make_agent(spec, ignore_unknown=True, **dict(hparams or {}))
    except TypeError as e:
        raise ValueError(f"entrant {spec!r} cannot be built from its name ({e}); give an "
                         f"agent object instead (e.g. MFOS(path=...) for a meta-trained "
                         f"M-FOS)") from None


def pairings(n: int) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` with ``i <= j`` in row order: ``n (n + 1) / 2`` pairings."""
    return [(i, j) for i in range(n) for j in range(i, n)]


def _pair_key(a: Entrant, b: Entrant) -> str:
    return f"{a.dir_name}__vs__{b.dir_name}"


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
                             str(Path(out, "runs", _pair_key(a, b))), kwargs, cost=cost,
                             game=custom_game(game)))
    return tasks


def collect(game: Any, roster: Sequence[Entrant], runs: Mapping[str, Any],
            settings: Mapping[str, Any] | None = None) -> TournamentResult:
    """The tournament's tables from its runs (``pair key -> Run``)."""
    n = len(roster)
    values: dict[tuple[int, int], np.ndarray] = {}
    updates: np.ndarray = runs[_pair_key(roster[0], roster[0])].updates
    for i, j in pairings(n):
        run = runs[_pair_key(roster[i], roster[j])]
        v = run.metrics["value"]  # [U, 2, S]
        if not np.array_equal(updates, run.updates):
            raise ValueError(f"pairing {roster[i].name} vs {roster[j].name} logged other "
                             f"updates than the others; run them with the same settings")
        if i == j:
            values[i, i] = v.mean(axis=1)
        else:
            values[i, j], values[j, i] = v[:, 0], v[:, 1]
    final = {k: v[-1] for k, v in values.items()}
    matrix = np.array([[final[i, j].mean() for j in range(n)] for i in range(n)])
    ci = np.array([[ci95(final[i, j]) for j in range(n)] for i in range(n)])
    per_seed = np.stack([np.mean([final[i, j] for j in range(n)], axis=0) for i in range(n)])
    average, average_ci = per_seed.mean(axis=1), ci95(per_seed)
    ranking = sorted(range(n), key=lambda k: -average[k])
    return TournamentResult([e.name for e in roster], game, values, updates, matrix, ci,
                            average, average_ci, ranking, dict(settings or {}))


def _roster_settings(roster: Sequence[Entrant]) -> list[dict[str, Any]]:
    """Each entrant's name, agent name and hyper-parameters, as ``tournament.json`` lists them."""
    return [{"name": e.name, "agent": e.agent.name, "hparams": e.agent.hparams()}
            for e in roster]


MAX_SETTINGS_BYTES = 1 << 20
"""The largest ``tournament.json`` read (settings and entrants: far smaller)."""
MAX_JSON_DEPTH = 64
"""The deepest nesting of ``tournament.json`` read."""


def read_settings(path: Path) -> dict[str, Any]:
    """A tournament's ``tournament.json`` (bounded in size and nesting).

    Args:
        path: the file.

    Raises:
        ValueError: a link, a file too large or too deep, not JSON, or not an object; the
            message names the file.
    """
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"{path} is not a regular file")
    old = read_untrusted_json(path, MAX_SETTINGS_BYTES, MAX_JSON_DEPTH)
    if not isinstance(old, dict):
        raise ValueError(f"{path} is damaged: it holds {type(old).__name__}, not the "
                         f"tournament's settings (a JSON object)")
    return old


def _check_settings(out: Path, settings: dict[str, Any], overwrite: bool) -> None:
    """Refuse an ``out`` whose ``tournament.json`` has other settings (nothing written)."""
    path = out / "tournament.json"
    if (path.exists() or path.is_symlink()) and not overwrite:
        old = read_settings(path)
        diff = [k for k in SETTINGS if old.get(k) != settings.get(k)]
        if diff:
            raise ValueError(f"{out} holds a tournament with other settings "
                             f"({', '.join(diff)}); choose another directory or overwrite")


def check_formats(formats: Any) -> tuple[str, ...]:
    """The figure formats, checked: a list of format names such as ``("png", "pdf")``.

    Args:
        formats: what the caller gave.

    Raises:
        ValueError: a string instead of a list, or a format matplotlib cannot write.
    """
    if isinstance(formats, (str, bytes)) or not isinstance(formats, Sequence):
        raise ValueError(f"formats must be a list of figure formats such as ['png', 'pdf'], "
                         f"got {formats!r}")
    known = set(FigureCanvasBase.get_supported_filetypes())
    for fmt in formats:
        if not isinstance(fmt, str) or fmt not in known:
            raise ValueError(f"formats: unknown figure format {fmt!r}; known: "
                             f"{', '.join(sorted(known))}")
    return tuple(formats)


def check_backend(backend: Any) -> Backend | None:
    """``backend`` checked: ``None`` or a `Backend` object (not its name).

    Args:
        backend: what the caller gave.

    Raises:
        TypeError: anything else (a string names how to build one).
    """
    if backend is not None and not isinstance(backend, Backend):
        raise TypeError(f"backend must be a Backend object such as LocalProcesses(2) or "
                        f"make_backend(ray='auto') (lola_games.runner.grid), got {backend!r}")
    return backend


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
        n_seeds: seeds of every pairing's run.
        n_updates: updates of every pairing's run.
        gamma: discount of every pairing's run.
        seed: seed of every pairing's run.
        dtype: params dtype of every pairing's run.
        device: device of every pairing's run.
        log_every: every pairing's run logs every this many updates.
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
    out = check_out_path(out)
    formats = check_formats(formats)
    backend = check_backend(backend)
    tasks = tournament_tasks(game, roster, out, n_seeds=n_seeds, n_updates=n_updates,
                             gamma=gamma, seed=seed, dtype=dtype, device=device,
                             log_every=log_every, evaluate=evaluate)
    settings = json.loads(json.dumps({
        "game_spec": game.spec(), "n_seeds": n_seeds, "n_updates": n_updates,
        "gamma": gamma, "seed": seed, "dtype": dtype, "log_every": log_every,
        "entrants": _roster_settings(roster), "published": dict(published or {})}))
    plan(tasks, overwrite)  # every argument and directory checked before anything is written
    _check_settings(out, settings, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    with DirectoryLock(out):
        _check_settings(out, settings, overwrite)  # again, under the lock
        write_json(out / "tournament.json", settings)
        results = run_grid(tasks, backend, overwrite=overwrite, report=report)
        runs = {t.key: load_run(t.out_dir) for t in tasks}
        result = collect(game, roster, runs, settings)
        result.out = out
        result.run_seconds = {k: r.seconds for k, r in results.items()}
        result.files = write_results(result, out, formats)
    return result

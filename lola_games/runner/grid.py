"""Run grids: many runs of `lola_games.runner.training.train` through one backend.

A grid is a list of `RunTask` (tournament pairings, a hyper-parameter sweep, a
reproduction's runs). `run_grid` checks every task's run directory first (nothing
runs when one of them holds a different run), skips runs that already finished, resumes
interrupted ones from their checkpoints, and executes the rest on a backend:

* `InProcess` -- one after the other in this process (the default);
* `LocalProcesses` -- ``n`` worker processes on this machine (``--workers N``);
* `RayCluster` -- the CPUs of a Ray cluster (``--ray auto``, ``--ray ADDRESS``, or a
  local instance started for the grid, ``--ray local``); needs ``pip install
  lola-games[ray]``.

Every run is seeded by its task alone and workers run torch with one thread, so a run's
directory and numbers are the same on every backend. Ray workers may sit on other machines:
each Ray task writes its run into a temporary directory on its worker and sends the run
files back, and this process writes them into the run directory (a resumed run's files
travel the other way first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lola_games.core.files import DirectoryLock, write_bytes
from lola_games.runner.backends import (
    Backend,
    InProcess,
    RayCluster,
)
from lola_games.runner.config import read_config
from lola_games.runner.files import RUN_FILES, RunDirectoryError, refuse_link
from lola_games.runner.run import load_run
from lola_games.runner.setup import prepare_run
from lola_games.runner.tasks import RunResult, RunTask, task_game

__all__ = [
    "run_grid",
    "plan",
    "check_tasks",
]



# -- the grid ------------------------------------------------------------------------------


def _expected_identity(task: RunTask) -> dict[str, Any]:
    """The settings a run directory of ``task`` records (compared before anything runs)."""
    kw = task.train_kwargs
    dtype = str(kw.get("dtype", "float32")).removeprefix("torch.")
    out = {
        "game_spec": task.game_spec,
        "agents": [{"name": a.name, "hparams": a.hparams()} for a in task.agents],
        "n_seeds": kw.get("n_seeds"),
        "gamma": kw.get("gamma"),
        "seed": kw.get("seed", 0),
        "dtype": dtype,
    }
    return json.loads(json.dumps(out))


def _state_of(task: RunTask) -> str:
    """``"new"``, ``"finished"``, ``"checkpointed"`` or ``"started"`` (files, no checkpoint).

    Raises:
        ValueError: the directory holds a run with other settings.
    """
    path = Path(task.out_dir)
    if not (path / "config.json").exists():
        return "started" if any((path / n).exists() for n in ("metrics.csv", "checkpoint.pt")) \
            else "new"
    try:
        config = read_config(path)
    except (RunDirectoryError, OSError) as e:
        raise ValueError(f"run {task.key!r}: {e}") from None
    want = _expected_identity(task)
    diff = [k for k, v in want.items() if config.get(k) != v]
    if diff:
        raise ValueError(f"{path} holds a run with other settings ({', '.join(diff)}); "
                         f"remove it, choose another output directory, or overwrite")
    n_updates = task.train_kwargs.get("n_updates")
    if (path / "final_params.pt").exists() and config.get("n_updates") == n_updates:
        try:
            run = load_run(path)
        except (RunDirectoryError, OSError):
            run = None
        if run is not None and len(run.updates) and int(run.updates[-1]) == n_updates:
            return "finished"
    return "checkpointed" if (path / "checkpoint.pt").exists() else "started"


def plan(tasks: Sequence[RunTask], overwrite: bool = False) -> tuple[list[RunTask], list[str]]:
    """The tasks still to run (with ``resume``/``overwrite`` set) and the keys already done.

    Raises:
        ValueError: a bad argument of a run (see `check_tasks`), duplicate keys or run
            directories, or a directory holding another run (unless ``overwrite``). Nothing
            is written.
    """
    check_tasks(tasks)
    keys = [t.key for t in tasks]
    dirs = [str(Path(t.out_dir).resolve()) for t in tasks]
    for what, items in (("key", keys), ("run directory", dirs)):
        seen = set()
        for item in items:
            if item in seen:
                raise ValueError(f"two runs of the grid have the same {what} {item!r}")
            seen.add(item)
    todo, done = [], []
    for task in tasks:
        if overwrite:
            todo.append(replace(task, overwrite=True, resume=False))
            continue
        state = _state_of(task)
        if state == "finished":
            done.append(task.key)
        elif state == "checkpointed":
            todo.append(replace(task, resume=True, overwrite=False))
        else:  # new, or stopped before its first checkpoint: start (again)
            todo.append(replace(task, overwrite=state == "started", resume=False))
    return todo, done


def _ship(task: RunTask) -> RunTask:
    """A task whose resumed run files travel with it (remote workers)."""
    if not task.resume:
        return replace(task, overwrite=False)
    path = Path(task.out_dir)
    return replace(task, files={n: (path / n).read_bytes() for n in RUN_FILES
                                if (path / n).exists()})


def _receive(result: RunResult) -> None:
    """Write a remote run's files into its run directory (each atomically, under its lock)."""
    path = result.path
    path.mkdir(parents=True, exist_ok=True)
    with DirectoryLock(path):
        for name in RUN_FILES:
            refuse_link(path / name)
            if name not in (result.files or {}):
                (path / name).unlink(missing_ok=True)
        for name, data in (result.files or {}).items():
            if name in RUN_FILES:
                write_bytes(path / name, data)
    result.files = None


def check_tasks(tasks: Sequence[RunTask]) -> None:
    """Check every task's arguments as `lola_games.runner.training.train` would (nothing is
    written): a grid refused for a bad argument leaves its directories as they were.

    Args:
        tasks: the runs.

    Raises:
        ValueError, TypeError: the first bad argument, named, with the run's key.
    """
    for task in tasks:
        kw = dict(_TRAIN_DEFAULTS, **task.train_kwargs)
        if str(task.out_dir) == "":
            raise ValueError(f"run {task.key!r}: its directory is empty")
        try:
            prepare_run(task_game(task), list(task.agents), kw["n_seeds"],
                        kw["n_updates"], kw["gamma"], kw["device"], kw["seed"], kw["dtype"],
                        kw["label"], kw["log_every"], kw["checkpoint_every"], kw["evaluate"])
        except (ValueError, TypeError) as e:
            raise type(e)(f"run {task.key!r}: {e}") from None


_TRAIN_DEFAULTS: dict[str, Any] = {
    "n_seeds": 64, "n_updates": 200, "gamma": 0.96, "device": "cpu", "seed": 0,
    "dtype": "float32", "label": None, "log_every": 1, "checkpoint_every": 10,
    "evaluate": None}
"""`lola_games.runner.training.train`'s defaults of the arguments a task may leave out."""


def run_grid(
    tasks: Sequence[RunTask],
    backend: Backend | None = None,
    *,
    overwrite: bool = False,
    report: Callable[[RunResult, int, int], None] | None = None,
    replan: bool = True,
) -> dict[str, RunResult]:
    """Execute ``tasks`` on ``backend`` (default `InProcess`); see the module docstring.

    Args:
        tasks: the runs (unique keys and run directories).
        backend: where they run.
        overwrite: start every run afresh, replacing what its directory holds.
        report: called as ``report(result, finished_so_far, total)`` after each run.
        replan: skip finished runs and resume or restart the others as `plan` finds
            them; ``False`` runs every task with its own ``resume``/``overwrite``.

    Returns:
        the result of every task by key (``skipped`` for runs that had finished before).

    Raises:
        ValueError: see `plan` (checked before anything runs).
        RuntimeError: a run failed (runs that finished keep their directories).
    """
    backend = backend or InProcess()
    todo, done = plan(tasks, overwrite) if replan else (list(tasks), [])
    results = {k: RunResult(k, Path(t.out_dir), skipped=True)
               for t in tasks for k in [t.key] if k in done}
    remote = isinstance(backend, RayCluster)
    if remote:
        todo = [_ship(t) for t in todo]
    total, count = len(tasks), len(results)
    for key in done:
        if report is not None:
            report(results[key], count, total)
    for result in backend.run(todo):
        if remote:
            _receive(result)
        results[result.key] = result
        count += 1
        if report is not None:
            report(result, count, total)
    return {t.key: results[t.key] for t in tasks}

"""One run of a grid: `RunTask` (the arguments of `lola_games.runner.training.train`),
`RunResult`, and `execute` that every backend's worker calls.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from lola_games.core.files import write_bytes
from lola_games.games.registry import game_from_spec
from lola_games.runner.files import RUN_FILES
from lola_games.runner.training import train

__all__ = ["RunTask", "RunResult", "task_game", "execute", "execute_shipped", "execute_in_worker"]

@dataclass(frozen=True)
class RunTask:
    """One run of a grid: the arguments of `lola_games.runner.training.train`.

    Attributes:
        key: the run's name in the grid (unique).
        game_spec: the game's ``spec()`` (rebuilt in the worker).
        agents: one agent object per player (pickled to worker processes).
        out_dir: the run directory.
        train_kwargs: the other keyword arguments of ``train`` (``n_seeds``, ``n_updates``,
            ``gamma``, ``seed``, ``dtype``, ``device``, ``label``, ``log_every``,
            ``checkpoint_every``, ``evaluate``).
    """

    key: str
    game_spec: dict[str, Any]
    agents: tuple[Any, ...]
    out_dir: str
    train_kwargs: dict[str, Any] = field(default_factory=dict)
    resume: bool = False
    overwrite: bool = False
    files: dict[str, bytes] | None = None
    """Run files to materialise in the worker before a resumed run (Ray)."""
    cost: float = 1.0
    """A rough relative cost; parallel backends start the costliest runs first, so that a
    long run does not start last (it changes no run's numbers)."""
    game: Any = None
    """The game object itself where ``game_spec`` cannot rebuild it (a custom
    `lola_games.games.differentiable.DifferentiableGame`); ``None`` rebuilds from the spec."""


def task_game(task: RunTask) -> Any:
    """The game ``task`` plays: its ``game`` object, else the one ``game_spec`` rebuilds."""
    return task.game if task.game is not None else game_from_spec(task.game_spec)


@dataclass
class RunResult:
    """What a backend reports for one finished run: its key, run directory, seconds spent
    (0 for a run that had finished before), and the run files when they came from a remote
    worker."""

    key: str
    path: Path
    seconds: float = 0.0
    skipped: bool = False
    files: dict[str, bytes] | None = None


def execute(task: RunTask, *, threads: int | None = None) -> RunResult:
    """Run ``task`` in this process (what every backend's worker calls)."""
    if threads is not None:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    train(task_game(task), list(task.agents), out_dir=task.out_dir,
          resume=task.resume, overwrite=task.overwrite, **task.train_kwargs)
    return RunResult(task.key, Path(task.out_dir), time.perf_counter() - start)


def execute_shipped(task: RunTask) -> RunResult:
    """Run ``task`` in a temporary directory and return its run files (remote workers)."""
    with tempfile.TemporaryDirectory(prefix="lola-games-run-") as tmp:
        run_dir = Path(tmp, "run")
        run_dir.mkdir()
        for name, data in (task.files or {}).items():
            if name in RUN_FILES:
                write_bytes(run_dir / name, data)
        result = execute(replace(task, out_dir=str(run_dir), files=None), threads=1)
        files = {n: (run_dir / n).read_bytes() for n in RUN_FILES if (run_dir / n).exists()}
    return RunResult(task.key, Path(task.out_dir), result.seconds, files=files)


def execute_in_worker(task: RunTask) -> RunResult:
    """Run ``task`` with one torch thread (a worker process)."""
    return execute(task, threads=1)


# -- backends ------------------------------------------------------------------------------

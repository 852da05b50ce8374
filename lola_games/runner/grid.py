"""Run grids: many runs of `lola_games.runner.train.train` through one backend.

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
import multiprocessing
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from lola_games.games.registry import game_from_spec
from lola_games.runner.rundir import RUN_FILES, RunDirectoryError, load_run, read_config
from lola_games.runner.train import train

__all__ = [
    "RunTask",
    "RunResult",
    "Backend",
    "InProcess",
    "LocalProcesses",
    "RayCluster",
    "make_backend",
    "run_grid",
    "execute",
]


@dataclass(frozen=True)
class RunTask:
    """One run of a grid: the arguments of `lola_games.runner.train.train`.

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


# -- one run -------------------------------------------------------------------------------


def execute(task: RunTask, *, threads: int | None = None) -> RunResult:
    """Run ``task`` in this process (what every backend's worker calls)."""
    if threads is not None:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    train(game_from_spec(task.game_spec), list(task.agents), out_dir=task.out_dir,
          resume=task.resume, overwrite=task.overwrite, **task.train_kwargs)
    return RunResult(task.key, Path(task.out_dir), time.perf_counter() - start)


def _execute_shipped(task: RunTask) -> RunResult:
    """Run ``task`` in a temporary directory and return its run files (remote workers)."""
    with tempfile.TemporaryDirectory(prefix="lola-games-run-") as tmp:
        run_dir = Path(tmp, "run")
        run_dir.mkdir()
        for name, data in (task.files or {}).items():
            (run_dir / name).write_bytes(data)
        result = execute(replace(task, out_dir=str(run_dir), files=None), threads=1)
        files = {n: (run_dir / n).read_bytes() for n in RUN_FILES if (run_dir / n).exists()}
    return RunResult(task.key, Path(task.out_dir), result.seconds, files=files)


def _execute_in_worker(task: RunTask) -> RunResult:
    return execute(task, threads=1)


# -- backends ------------------------------------------------------------------------------


class Backend:
    """Runs tasks and yields their results as they finish (any order)."""

    name = "backend"

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (worker processes, a Ray connection)."""

    def describe(self) -> str:
        return self.name


def _costliest_first(tasks: Sequence[RunTask]) -> list[RunTask]:
    return sorted(tasks, key=lambda t: -t.cost)  # stable: equal costs keep their order


class InProcess(Backend):
    """Every run in this process, one after the other."""

    name = "in-process"

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        for task in tasks:
            yield execute(task)


class LocalProcesses(Backend):
    """``workers`` processes on this machine (spawned; torch with one thread each)."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        self.workers = workers

    def describe(self) -> str:
        return f"{self.workers} local worker processes"

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                   mp_context=context)
        try:
            pending = {pool.submit(_execute_in_worker, t): t for t in _costliest_first(tasks)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as e:
                        raise RuntimeError(f"run {task.key!r} failed: {e}") from e
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class RayCluster(Backend):
    """Runs as Ray tasks of one CPU each.

    Args:
        address: ``"auto"`` (the cluster this machine belongs to), ``"HOST:PORT"`` or
            ``"ray://HOST:PORT"`` of a running cluster, or ``"local"`` to start a Ray instance
            on this machine for the grid.
        num_cpus: CPUs of a ``"local"`` instance (default: all).

    Raises:
        RuntimeError: Ray is not installed.
        ConnectionError: no cluster answers at ``address``.
    """

    name = "ray"

    def __init__(self, address: str = "auto", num_cpus: int | None = None) -> None:
        if not isinstance(address, str) or not address:
            raise ValueError(f"ray address must be 'auto', 'local', HOST:PORT or "
                             f"ray://HOST:PORT, got {address!r}")
        if num_cpus is not None and (isinstance(num_cpus, bool) or not isinstance(num_cpus, int)
                                     or num_cpus < 1):
            raise ValueError(f"num_cpus must be a positive int, got {num_cpus!r}")
        self.address = address
        self.num_cpus = num_cpus
        self._started = False
        self._ray = _import_ray()
        self._connect()

    def describe(self) -> str:
        cpus = int(self._ray.cluster_resources().get("CPU", 0))
        return f"Ray at {self.address} ({cpus} CPUs)"

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        quiet = {"log_to_driver": False, "logging_level": "ERROR", "include_dashboard": False}
        if self.address == "local":
            ray.init(num_cpus=self.num_cpus, **quiet)
        else:
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ConnectionError(f"no Ray cluster answers at {self.address!r}: "
                                      f"{str(e).splitlines()[0] if str(e) else e!r}") from None
        self._started = True

    def run(self, tasks: Sequence[RunTask]) -> Iterator[RunResult]:
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=0)(_execute_shipped)
        refs = {remote.remote(t): t for t in _costliest_first(tasks)}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    task = refs.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception as e:
                        raise RuntimeError(f"run {task.key!r} failed on Ray: {e}") from e
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError("the Ray backend needs Ray: pip install 'lola-games[ray]'") from None
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, with a clear error, when nothing listens at ``HOST:PORT``."""
    if address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"ray address must be 'auto', 'local', HOST:PORT or ray://HOST:PORT, "
                         f"got {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise ConnectionError(f"no Ray cluster answers at {address!r}: {e.strerror or e}"
                              ) from None


def make_backend(workers: int | None = None, ray: str | None = None,
                 ray_cpus: int | None = None) -> Backend:
    """The backend of the ``--workers``/``--ray`` command-line options.

    Raises:
        ValueError: both given, or a bad value.
        RuntimeError, ConnectionError: see `RayCluster`.
    """
    if workers is not None and ray is not None:
        raise ValueError("--workers and --ray exclude each other; choose one backend")
    if ray is not None:
        return RayCluster(ray, ray_cpus)
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if workers > 1:
            return LocalProcesses(workers)
    return InProcess()


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
        ValueError: duplicate keys or run directories, or a directory holding another run
            (unless ``overwrite``). Nothing is written.
    """
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
    """Write a remote run's files into its run directory (each atomically)."""
    path = result.path
    path.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        if name not in (result.files or {}):
            (path / name).unlink(missing_ok=True)
    for name, data in (result.files or {}).items():
        fd, tmp = tempfile.mkstemp(dir=path, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path / name)
    result.files = None


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

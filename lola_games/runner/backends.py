"""Backends of a run grid: where its runs execute.

* `InProcess` -- one after the other in this process (the default);
* `LocalProcesses` -- ``n`` worker processes on this machine (``--workers N``);
* `RayCluster` -- the CPUs of a Ray cluster (``--ray auto``, ``--ray ADDRESS``, or a
  local instance started for the grid, ``--ray local``); needs ``pip install
  lola-games[ray]``.

Workers run torch with one thread, so a run's numbers are the same on every backend.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from lola_games.runner.tasks import (
    RunResult,
    RunTask,
    execute,
    execute_in_worker,
    execute_shipped,
)

__all__ = ["Backend", "InProcess", "LocalProcesses", "RayCluster", "make_backend",
           "die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make this worker process end when its parent ``parent`` (a PID) dies, however it dies
    (SIGKILL included): the kernel's parent-death signal on Linux, and a watchdog thread
    that polls the parent everywhere.

    Args:
        parent: the PID of the main process.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the signal was set
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()


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
                                   mp_context=context, initializer=die_with_parent,
                                   initargs=(os.getpid(),))
        try:
            pending = {pool.submit(execute_in_worker, t): t for t in _costliest_first(tasks)}
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
        remote = ray.remote(num_cpus=1, max_retries=0)(execute_shipped)
        refs = {remote.remote(t): t for t in _costliest_first(tasks)}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    task = refs.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception as e:
                        cause = getattr(e, "cause", None) or e
                        lines = [x for x in str(cause).splitlines() if x.strip()]
                        raise RuntimeError(f"run {task.key!r} failed on Ray: "
                                           f"{lines[-1] if lines else type(cause).__name__}"
                                           ) from e
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
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            speaks_grpc = _answers_http2(conn)
    except OSError as e:
        raise ConnectionError(f"no Ray cluster answers at {address!r}: {e.strerror or e}"
                              ) from None
    if not speaks_grpc:
        raise ConnectionError(f"something listens at {address!r} but it is not a Ray cluster "
                              f"(no gRPC answer within {timeout:g} s); check --ray's HOST:PORT "
                              f"(the head's GCS port, 6379 by default, or ray://HOST:10001)")


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
"""An HTTP/2 client preface and an empty SETTINGS frame: what a gRPC client sends first."""


def _answers_http2(conn: socket.socket) -> bool:
    """Whether the server on ``conn`` answers an HTTP/2 preface with a SETTINGS frame, as
    the gRPC servers of a Ray cluster (GCS, Ray Client) do; a timeout counts as no."""
    try:
        conn.sendall(HTTP2_PREFACE)
        head = b""
        while len(head) < 9:
            chunk = conn.recv(9 - len(head))
            if not chunk:
                return False
            head += chunk
    except OSError:  # socket.timeout included
        return False
    return head[3] == 0x04  # frame type SETTINGS


def make_backend(workers: int | None = None, ray: str | None = None,
                 ray_cpus: int | None = None) -> Backend:
    """The backend of the ``--workers``/``--ray`` command-line options.

    Raises:
        ValueError: both given, or a bad value.
        RuntimeError, ConnectionError: see `RayCluster`.
    """
    if workers is not None and ray is not None:
        raise ValueError("--workers and --ray exclude each other; choose one backend")
    if ray is None and ray_cpus is not None:
        raise ValueError("ray_cpus (--ray-cpus) applies only with ray='local' (--ray local)")
    if ray is not None:
        return RayCluster(ray, ray_cpus)
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if workers > 1:
            return LocalProcesses(workers)
    return InProcess()

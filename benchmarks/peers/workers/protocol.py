"""The worker side of the protocol of `benchmarks.peers.harness`."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

Repetition = Callable[[], None]
"""Runs one repetition of the work and returns when its results are ready."""


def emit(message: dict[str, Any]) -> None:
    """Print one JSON line to stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def missing(reason: str) -> NoReturn:
    """Tell the harness that this worker's system is not there, and exit."""
    emit({"missing": reason})
    sys.exit(0)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send what libraries print while they are imported to stderr, not to the protocol."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def serve(build: Callable[[], Repetition], version: str = "") -> None:
    """Build and warm up the work (timed as ``compile_s``), say ready, then answer commands."""
    start = time.perf_counter()
    repetition = build()
    repetition()  # warm-up: compilation, first call
    emit({"ready": True, "compile_s": time.perf_counter() - start, "version": version})
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            return
        if command != "run":
            emit({"error": f"unknown command {command!r}"})
            continue
        cpu, wall = time.process_time(), time.perf_counter()
        repetition()
        emit({"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall})

"""Time lola-games against other systems on the same work, in alternating pairs of runs.

Each row of the table is one piece of work (an env stepped with random actions, a learner's
update, ...) done by two worker processes, the peer's and lola-games's. Both run one thread.

**Worker protocol.** A worker process sets one thread (``torch.set_num_threads(1)``; the
harness sets ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` to 1 and
``XLA_FLAGS`` to one intra-op thread for both sides), builds the work, warms up (JAX
compilation, first call), and prints ONE JSON line to stdout::

    {"ready": true, "compile_s": <seconds of the warm-up>}

(an optional ``"version"`` string names what it runs). It then reads lines from stdin:
``run`` runs one repetition (blocking until the results are ready, for JAX) and prints
``{"cpu_s": <time.process_time delta>, "wall_s": <time.perf_counter delta>}``; ``quit`` exits.
A worker whose system is not there (JAX not installed, no checkout given) prints
``{"missing": "<one-line reason>"}`` instead of ready and exits: its row is skipped. Lines
that are not JSON objects (a library's import banner) are ignored.

**Measurement.** Both workers of a row are started and warmed up, then the harness runs
``--pairs`` pairs of repetitions, alternating which side goes first. Each pair gives the
ratio of the peer's CPU time to ours (above 1: lola-games is faster); the table shows the
median ratio and its range over the pairs. CPU time of the worker process (not wall-clock
time) is compared, so that other jobs on a shared machine count little; pairs alternate so
that a change of load hits both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"
READMES = ("README.md", "docs/benchmarks.md")
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


@dataclass(frozen=True)
class Row:
    work: str  # what is measured, e.g. "IPD env, B = 4096, 100 rounds"
    peer: str  # e.g. "pax IteratedMatrixGame"
    peer_cmd: tuple[str, ...]  # argv of the peer's worker process
    ours_cmd: tuple[str, ...]  # argv of lola-games's worker process
    settings: str  # each side's settings, one line
    differences: str  # semantic differences between the two sides, one line


@dataclass
class Result:
    """What one row gave: per-pair CPU seconds of both sides, or why it was skipped."""

    row: Row
    ours_cpu: list[float] = field(default_factory=list)
    peer_cpu: list[float] = field(default_factory=list)
    ours_start: float = float("nan")
    peer_compile: float = float("nan")
    versions: tuple[str, str] = ("", "")
    skipped: str = ""

    @property
    def ratios(self) -> list[float]:
        """Peer CPU time over ours, one per pair (above 1: lola-games is faster)."""
        return [p / o for p, o in zip(self.peer_cpu, self.ours_cpu, strict=True)]


class WorkerError(RuntimeError):
    """A worker exited, timed out or broke the protocol."""


class Worker:
    """One worker process and the JSON messages it prints."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], timeout: float) -> None:
        self.argv, self.timeout = list(argv), timeout
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            self.argv, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self.proc.stdout, self.lines), daemon=True).start()

    def message(self) -> dict[str, Any]:
        """The next JSON object the worker prints (other lines are skipped)."""
        while True:
            try:
                line = self.lines.get(timeout=self.timeout)
            except queue.Empty:
                raise WorkerError(f"{self.argv[-1]}: no answer in {self.timeout:g} s") from None
            if line is None:
                raise WorkerError(f"worker {' '.join(self.argv)} exited: {self.stderr_tail()}")
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(msg, dict):
                return msg

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        lines = [s.strip() for s in self.stderr.read().splitlines() if s.strip()]
        return lines[-1] if lines else f"exit status {self.proc.poll()}"

    def ready(self) -> dict[str, Any]:
        msg = self.message()
        if "missing" not in msg and msg.get("ready") is not True:
            raise WorkerError(f"expected a ready message, got {msg}")
        return msg

    def run(self) -> float:
        """CPU seconds of one repetition."""
        self.send("run")
        msg = self.message()
        if "cpu_s" not in msg:
            raise WorkerError(f"expected a timing, got {msg}")
        return float(msg["cpu_s"])

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send("quit")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment, one thread for every library, this checkout first on
    ``PYTHONPATH`` (so that the workers import this lola-games)."""
    env = {**os.environ, **THREAD_ENV, **(extra or {})}
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + path if path else "")
    return env


def measure(row: Row, pairs: int, env: dict[str, str], timeout: float = 600.0) -> Result:
    """Start both workers of ``row``, wait until both are ready and time ``pairs`` pairs."""
    result = Result(row)
    ours = Worker(row.ours_cmd, env, timeout)
    peer = Worker(row.peer_cmd, env, timeout)
    try:
        ready_ours, ready_peer = ours.ready(), peer.ready()
        missing = ready_peer.get("missing") or ready_ours.get("missing")
        if missing:
            result.skipped = str(missing)
            return result
        result.ours_start = float(ready_ours["compile_s"])
        result.peer_compile = float(ready_peer["compile_s"])
        result.versions = (str(ready_ours.get("version", "")), str(ready_peer.get("version", "")))
        for i in range(pairs):
            first, second = (ours, peer) if i % 2 == 0 else (peer, ours)
            times = {id(first): first.run(), id(second): second.run()}
            result.ours_cpu.append(times[id(ours)])
            result.peer_cpu.append(times[id(peer)])
    finally:
        ours.close()
        peer.close()
    return result


def speed(ratios: Sequence[float]) -> str:
    """``"2.31x faster (2.10x to 2.52x)"`` from peer/ours ratios, or ``"... slower ..."``."""
    mid, lo, hi = statistics.median(ratios), min(ratios), max(ratios)
    if mid >= 1:
        return f"{mid:.2f}x faster ({lo:.2f}x to {hi:.2f}x)"
    return f"{1 / mid:.2f}x slower ({1 / hi:.2f}x to {1 / lo:.2f}x)"


def markdown(results: Sequence[Result], pairs: int, load: str = "") -> str:
    """The table of measured rows, then the settings and differences of each group of rows
    that share them."""
    done = [r for r in results if not r.skipped]
    lines = [
        "| work | peer | lola-games vs peer | peer's compile | ours' start-up |",
        "|---|---|---|---|---|",
    ]
    for r in done:
        lines.append(f"| {r.row.work} | {r.row.peer} | {speed(r.ratios)} | "
                     f"{r.peer_compile:.2f} s | {r.ours_start:.2f} s |")
    lines += ["", f"CPU time of each side's process per repetition, one thread, {pairs} "
              "alternating pairs per row: the median of the pairs' ratios and their range"
              + (f"; {load}." if load else ".")]
    groups: dict[tuple[str, ...], list[str]] = {}
    for r in done:
        key = (r.row.peer, r.row.settings, r.row.differences, *r.versions)
        groups.setdefault(key, []).append(r.row.work)
    for (peer, settings, differences, *versions), works in groups.items():
        named = " against ".join(v for v in versions if v)
        lines += ["", f"- **{'; '.join(works)}, {peer}**" + (f" ({named})" if named else "")
                  + f". Settings: {settings} Differences: {differences}"]
    return "\n".join(lines) + "\n"


def machine_load(before: tuple[float, ...], after: tuple[float, ...]) -> str:
    """``"load average 1.9 to 2.4 on 2 CPUs"`` from two ``os.getloadavg()`` readings."""
    low, high = sorted((before[0], after[0]))
    return f"load average {low:.1f} to {high:.1f} on {os.cpu_count()} CPUs"


def replace_block(text: str, block: str, name: str = "the file") -> str:
    """``text`` with what lies between the peers markers replaced by ``block``."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{name} has no {BEGIN} ... {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{block}{END}", text, count=1)


def _seconds(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peers", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs per row")
    parser.add_argument("--rows", default="", help="regular expression on a row's work and peer")
    parser.add_argument("--pax", help="checkout of ucl-dark/pax (default: $LOLA_GAMES_PAX)")
    parser.add_argument("--pola", help="checkout of the POLA code (default: $LOLA_GAMES_POLA)")
    parser.add_argument("--write", metavar="FILE", help="also write the table to FILE")
    parser.add_argument("--readme", action="store_true",
                        help=f"put the table between the peers markers of {', '.join(READMES)}")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per answer")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    return args


def main(rows: Sequence[Row], argv: Sequence[str] | None = None) -> int:
    """Measure the rows that match ``--rows``; print (and write) the table."""
    args = parse_args(argv)
    extra = {k: v for k, v in (("LOLA_GAMES_PAX", args.pax), ("LOLA_GAMES_POLA", args.pola)) if v}
    env = worker_env(extra)
    chosen = [r for r in rows if re.search(args.rows, f"{r.work} {r.peer}", re.I)]
    results, failed, load_before = [], 0, os.getloadavg()
    for row in chosen:
        try:
            result = measure(row, args.pairs, env, args.timeout)
        except WorkerError as err:
            print(f"failed: {row.work} vs {row.peer}: {err}", file=sys.stderr)
            failed += 1
            continue
        if result.skipped:
            print(f"skipped: {row.work} vs {row.peer}: {result.skipped}", file=sys.stderr)
        else:
            print(f"{row.work} vs {row.peer}: CPU s per repetition, ours "
                  f"{_seconds(result.ours_cpu)}, peer {_seconds(result.peer_cpu)}", file=sys.stderr)
        results.append(result)
    table = markdown(results, args.pairs, machine_load(load_before, os.getloadavg()))
    print(table, end="")
    if args.write:
        Path(args.write).write_text(table)
    if args.readme:
        complete = not args.rows and not failed and all(not r.skipped for r in results)
        if not complete:
            print("--readme: not written, the table must hold every row (no --rows, nothing "
                  "skipped or failed)", file=sys.stderr)
            return 1
        for name in READMES:
            path = REPO / name
            path.write_text(replace_block(path.read_text(), table, name))
    return 1 if failed else 0

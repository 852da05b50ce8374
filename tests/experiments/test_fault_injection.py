"""Fault injection: a tournament and a sweep SIGKILLed at random points, then resumed, end with
the same bytes as an uninterrupted run.

Each command runs in a child process that imports the package, says ``ready`` and then runs
the CLI; the parent kills it (SIGKILL) after a delay drawn from a seeded RNG over the run's
measured working time.  The child slows ``os.fsync`` by a few milliseconds, which widens the
window between an atomic write's temporary file and its ``os.replace`` (and the append of
``metrics.csv`` lines), so kills land in file writes, table writes included, not only in
arithmetic.  After the kills ``--resume`` (itself killed on the earlier tries) runs to the
end; ``results.csv``, ``results.md`` and every run's ``metrics.csv`` must then be
byte-identical to those of an uninterrupted run.

Kill count: ``KILLS`` = 5 SIGKILLs that land mid-run per command, two commands (tournament,
sweep): 10 kills in all.  A child that finishes before its kill is checked against the
uninterrupted bytes too, then the directory starts over with shorter delays.  About 40 s in all.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

KILLS = 5

CHILD = """
import os, sys, time
from lola_games.cli.app import main
import lola_games.experiments.tournament, lola_games.experiments.sweep  # noqa: F401
_fsync = os.fsync
def slow_fsync(fd):
    time.sleep(0.004)
    _fsync(fd)
os.fsync = slow_fsync
print("ready", flush=True)
sys.exit(main(sys.argv[1:]))
"""

TOURNAMENT = ["tournament", "--agents", "naive", "lola", "tft", "--seeds", "2",
              "--updates", "6", "--no-progress", "--formats", ""]
SWEEP = ["sweep", "--agents", "naive", "naive", "--grid", "lr=0.1,0.5", "--seeds", "2",
         "--updates", "6", "--no-progress", "--formats", ""]


def _start(args: list[str], out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")
    return proc


def _run(args: list[str], out: Path) -> float:
    """Run to the end; the seconds it worked after ``ready``."""
    proc = _start(args, out)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return time.monotonic() - t0


def _kill_after(args: list[str], out: Path, delay: float) -> bool:
    """Start, SIGKILL after ``delay`` seconds of work; True when the kill landed mid-run."""
    proc = _start(args, out)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.communicate()
        return True
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    return False


def _outputs(out: Path) -> dict[str, bytes]:
    files = [out / "results.csv", out / "results.md", *sorted(out.rglob("metrics.csv"))]
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


@pytest.mark.parametrize("args", [TOURNAMENT, SWEEP], ids=["tournament", "sweep"])
def test_killed_and_resumed_equals_uninterrupted(tmp_path: Path, args: list[str]) -> None:
    clean = tmp_path / "clean"
    work = _run(args, clean)
    expected = _outputs(clean)
    assert len(expected) >= 4
    rng = random.Random(20261207)
    out = tmp_path / "killed"
    landed, finished, upper = 0, 0, work
    while landed < KILLS and finished < KILLS:
        delay = rng.uniform(0.0, upper)
        if _kill_after(args + (["--resume"] if out.exists() else []), out, delay):
            landed += 1
            continue
        # the (resumed) child outran its kill: check it, then start over with shorter delays
        assert _outputs(out) == expected
        finished, upper = finished + 1, delay * 0.7
        shutil.rmtree(out)
    assert landed == KILLS, f"only {landed} of {KILLS} kills landed mid-run (work {work:.2f} s)"
    _run(args + (["--resume"] if out.exists() else []), out)
    assert _outputs(out) == expected

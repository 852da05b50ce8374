"""Minimal harness for the peer benchmarks: the `Row` of a comparison and an alternating
runner of its two worker processes (see `benchmarks.peers.workers.common` for the protocol).

    python -m benchmarks.peers.harness --pairs 5      # every row of LEARNER_ROWS
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from dataclasses import dataclass
from typing import Any

SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


@dataclass(frozen=True)
class Row:
    """One comparison: the same work done by a peer and by lola-games."""

    work: str
    peer: str
    peer_cmd: tuple[str, ...]
    ours_cmd: tuple[str, ...]
    settings: str
    differences: str


class Worker:
    """A worker process, started and warmed up."""

    def __init__(self, cmd: tuple[str, ...]) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env={**os.environ, **SINGLE_THREAD})
        self.ready = self.read()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"worker {self.proc.args} ended")
            if line.startswith("{"):
                return dict(json.loads(line))

    def run(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def compare(row: Row, pairs: int) -> dict[str, Any]:
    """CPU seconds of ``pairs`` alternating repetitions of each side; peer / ours ratios."""
    peer, ours = Worker(row.peer_cmd), Worker(row.ours_cmd)
    times: dict[str, list[float]] = {"peer": [], "ours": []}
    for _ in range(pairs):
        times["peer"].append(peer.run()["cpu_s"])
        times["ours"].append(ours.run()["cpu_s"])
    peer.close()
    ours.close()
    ratios = [p / o for p, o in zip(times["peer"], times["ours"], strict=True)]
    return {"work": row.work, "peer": row.peer, **times,
            "compile_s": {"peer": peer.ready["compile_s"], "ours": ours.ready["compile_s"]},
            "ratio_min": min(ratios), "ratio_median": statistics.median(ratios),
            "ratio_max": max(ratios), "load": os.getloadavg()}


def main() -> None:
    from benchmarks.peers.rows_learners import LEARNER_ROWS  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--only", default=None, help="one work by name")
    args = parser.parse_args()
    for row in LEARNER_ROWS:
        if args.only in (None, row.work):
            print(json.dumps(compare(row, args.pairs)), flush=True)


if __name__ == "__main__":
    main()

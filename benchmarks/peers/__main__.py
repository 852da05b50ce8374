"""``python -m benchmarks.peers [--pairs N] [--rows PATTERN] [--pax PATH] [--readme]``."""

from __future__ import annotations

import sys

from benchmarks.peers.harness import Row, main
from benchmarks.peers.rows_envs import ENV_ROWS

try:
    from benchmarks.peers.rows_learners import LEARNER_ROWS
except ModuleNotFoundError as err:  # no learner rows in this checkout
    if err.name != "benchmarks.peers.rows_learners":
        raise
    LEARNER_ROWS = []

ROWS: list[Row] = [*ENV_ROWS, *LEARNER_ROWS]

if __name__ == "__main__":
    sys.exit(main(ROWS))

"""What every benchmark worker process shares: the line protocol with the harness.

A worker builds its work, warms it up, prints one JSON line ``{"ready": true, "compile_s":
s}`` and then answers each ``run`` line on stdin with one repetition and a JSON line
``{"cpu_s": process CPU seconds, "wall_s": wall seconds}``; ``quit`` (or the end of stdin)
ends it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable


def serve(build: Callable[[], Callable[[], None]]) -> None:
    """Build the work (``build()`` returns one repetition), warm it up, then serve ``run``."""
    start = time.perf_counter()
    step = build()
    step()  # warm-up: compilation, first-call caches
    print(json.dumps({"ready": True, "compile_s": time.perf_counter() - start}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "run":
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
            continue
        cpu, wall = time.process_time(), time.perf_counter()
        step()
        print(json.dumps({"cpu_s": time.process_time() - cpu,
                          "wall_s": time.perf_counter() - wall}), flush=True)

"""lola-games against other systems (JaxMARL, pax, ...) on the same work: ``python -m
benchmarks.peers`` (see `benchmarks.peers.harness` and docs/benchmarks.md)."""

"""Worker processes of the peer benchmark (see `benchmarks.peers.harness` for the protocol)."""

"""lola-games's worker: `BatchedIteratedGame` on the IPD, random actions, whole episodes.

    python -m benchmarks.peers.workers.ours_ipd --batch 4096 --rounds 100

One repetition plays ``--episodes`` episodes of ``--rounds`` rounds in ``--batch`` games
(the env resets itself after each), with actions drawn uniformly before the timed loop.
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.peers.workers.protocol import Repetition, serve
from lola_games.envs.batched import BatchedIteratedGame


def build(batch: int, rounds: int, episodes: int) -> Repetition:
    env = BatchedIteratedGame("ipd", batch, rounds)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    actions = torch.randint(0, 2, (rounds, batch, 2), generator=gen).unbind(0)

    def repetition() -> None:
        for _ in range(episodes):
            for a in actions:
                env.step(a, check=False)

    return repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=1, help="episodes per repetition")
    args = parser.parse_args()
    torch.set_num_threads(1)
    serve(lambda: build(args.batch, args.rounds, args.episodes), f"torch {torch.__version__}")


if __name__ == "__main__":
    main()

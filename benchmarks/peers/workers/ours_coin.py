"""lola-games's worker: `BatchedCoinGame` (3 x 3), random actions, whole episodes.

    python -m benchmarks.peers.workers.ours_coin --batch 4096 --rounds 150

One repetition plays ``--episodes`` episodes of ``--rounds`` rounds in ``--batch`` games
(the env resets itself after each), with moves drawn uniformly before the timed loop.
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.peers.workers.protocol import Repetition, serve
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.games.coin import CoinGame


def build(batch: int, rounds: int, episodes: int) -> Repetition:
    env = BatchedCoinGame(CoinGame(3, rounds), batch)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    actions = torch.randint(0, 4, (rounds, batch, 2), generator=gen).unbind(0)

    def repetition() -> None:
        for _ in range(episodes):
            for a in actions:
                env.step(a, check=False)

    return repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--episodes", type=int, default=1, help="episodes per repetition")
    args = parser.parse_args()
    torch.set_num_threads(1)
    serve(lambda: build(args.batch, args.rounds, args.episodes), f"torch {torch.__version__}")


if __name__ == "__main__":
    main()

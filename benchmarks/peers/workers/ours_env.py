"""lola-games's worker for the env rows: `BatchedCoinGame` (3 x 3) or `BatchedIteratedGame` on
the IPD, random actions, whole episodes.

    python -m benchmarks.peers.workers.ours_env --game coin --batch 4096 --rounds 150
    python -m benchmarks.peers.workers.ours_env --game ipd --batch 4096 --rounds 100

One repetition plays ``--episodes`` episodes of ``--rounds`` rounds in ``--batch`` games
(the env resets itself after each), with actions drawn uniformly before the timed loop.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from benchmarks.peers.workers.protocol import Repetition, serve
from lola_games.envs.batched import BatchedIteratedGame
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.games.coin import CoinGame

GAMES = ("coin", "ipd")


def make_env(game: str, batch: int, rounds: int) -> tuple[Any, int]:
    """The batched env of ``game`` and its number of actions."""
    if game == "coin":
        return BatchedCoinGame(CoinGame(3, rounds), batch), 4
    return BatchedIteratedGame("ipd", batch, rounds), 2


def build(game: str, batch: int, rounds: int, episodes: int) -> Repetition:
    env, n_actions = make_env(game, batch, rounds)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    actions = torch.randint(0, n_actions, (rounds, batch, 2), generator=gen).unbind(0)

    def repetition() -> None:
        for _ in range(episodes):
            for a in actions:
                env.step(a, check=False)

    return repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", choices=GAMES, required=True)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--episodes", type=int, default=1, help="episodes per repetition")
    args = parser.parse_args()
    torch.set_num_threads(1)
    serve(lambda: build(args.game, args.batch, args.rounds, args.episodes),
          f"torch {torch.__version__}")


if __name__ == "__main__":
    main()

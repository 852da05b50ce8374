"""Benchmark worker: one update of both players of a lola-games Coin Game learner, in the
settings of the POLA code's commands that `benchmarks.peers.workers.pola_jax` runs.

    python -m benchmarks.peers.workers.lola_games_coin --work lola-dice

Works (one seed, one CPU thread, gamma 0.96, episodes of 50 rounds, ``coin-gru`` policy of
64 units, ``adam-reset`` / Adam outer steps of 0.003, the value baseline):

* ``lola-dice``: `LOLADiCE` at ``POLA_COIN`` with 500 episodes;
* ``nl-pg``: `NaivePG` at ``POLA_COIN`` (no lookahead) with 500 episodes;
* ``pola-dice``: `POLADiCE` at ``POLA_DICE_COIN`` with 200 episodes, 4 inner steps and 1
  outer step.

Each repetition updates player 0 and then player 1 (each from the same parameters, as the
runner does) and keeps the new parameters for the next one.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import torch

from benchmarks.peers.workers.protocol import serve
from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.pola_dice import POLADiCE
from lola_games.agents.published import POLA_COIN, POLA_DICE_COIN
from lola_games.games.coin import CoinGame

NAIVE = {k: v for k, v in POLA_COIN.items() if k not in ("n_lookaheads", "lr_in")}
WORKS: dict[str, Callable[[], Any]] = {
    "lola-dice": lambda: LOLADiCE(**{**POLA_COIN, "batch_size": 500}),
    "nl-pg": lambda: NaivePG(**{**NAIVE, "batch_size": 500}),
    "pola-dice": lambda: POLADiCE(**{**POLA_DICE_COIN, "batch_size": 200, "inner_steps": 4,
                                     "outer_steps": 1}),
}


def build(work: str, seed: int = 0) -> Callable[[], None]:
    """One update of both players of the learner of ``work`` (the same agent on both
    sides), the parameters carried from one call to the next."""
    torch.set_num_threads(1)
    agent = WORKS[work]()
    game = CoinGame(3, 50)
    gen = torch.Generator().manual_seed(seed)
    params = [agent.init_params(1, gen, "cpu", game=game, player=i) for i in range(2)]
    states = [agent.init_state(p) for p in params]

    def update() -> None:
        new = []
        for i in range(2):
            ctx = Context(game, 0.96, i, gen, torch.device("cpu"), agent)
            new.append(agent.update(params[i], params[1 - i], states[i], ctx))
        for i, (p, s) in enumerate(new):
            params[i], states[i] = p, s

    return update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", choices=sorted(WORKS), required=True)
    args = parser.parse_args()
    serve(lambda: build(args.work))


if __name__ == "__main__":
    main()

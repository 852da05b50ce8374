"""The LOLA paper's tournament between its exact learners, as the published code plays it.

The published tournament (alshedivat/lola ``lola/tournament.py``, ``lola/exact.py``) differs
from a correct run of the same learners in three ways, which this script reproduces with
exact values, batched over seeds:

1. Both players observe the last outcome from player 0's side (index ``2 a0 + a1``). Player
   1 acts on that index, while its exact value treats its parameters as its own side: the
   policy it plays is its parameters with CD and DC exchanged.
2. Its exact value reads the opponent's parameters in the learner's own state order, after
   converting them with a complement, ``p(CD), p(DC) -> 1 - p(CD), 1 - p(DC)`` in the IPD
   and ``p -> 1 - p`` in every state in matching pennies. Right would be no change for an
   opponent that acts on player 0's side (the learner is player 0) and a CD/DC exchange for
   an opponent's own-side parameters.
3. In matching pennies every exact learner computes its value as the matching player with
   discount 0.96 (the learners' default), whatever its side; the returns use 0.9.

It prints, for NL-Ex and LOLA-Ex (delta = eta = 1, logits ~ N(0, 1), one update per
episode, 1000 updates), each pairing's final values as played, beside the same pairing
run correctly::

    python scripts/published_tournament_exact.py [--seeds 64] [--updates 1000]
"""

from __future__ import annotations

import argparse

import torch

from lola_games.agents import LOLA, NaiveLearner
from lola_games.agents.base import Context
from lola_games.games.registry import get_game
from lola_games.values.exact import exact_values

SWAP = [0, 1, 3, 2, 4]  # exchange CD and DC (state order start, CC, CD, DC, DD)


def swap(logits: torch.Tensor) -> torch.Tensor:
    return logits[:, SWAP]


def complement(logits: torch.Tensor, game: str) -> torch.Tensor:
    """The published conversion of the opponent's parameters (logit of 1 - p is -logit)."""
    if game == "imp":
        return -logits
    out = logits.clone()
    out[:, 2:4] = -out[:, 2:4]
    return out


def run(game: str, agents, n_seeds: int, n_updates: int, published: bool, seed: int = 0):
    """Final per-step values ``[2, S]`` of player 0 and player 1 as they play."""
    g = get_game(game)
    gamma_eval = 0.96 if game == "ipd" else 0.9
    gen = torch.Generator().manual_seed(seed)
    theta = [torch.randn(n_seeds, 5, generator=gen, dtype=torch.float64) for _ in range(2)]
    for _ in range(n_updates):
        new = []
        for i, agent in enumerate(agents):
            own, other = theta[i], theta[1 - i]
            if published:  # models itself as player 0 with the converted opponent, whose
                # parameters the published value reads in the learner's own state order
                # (ours reads them in the opponent's: hence the exchange)
                ctx = Context(g, 0.96, 0)
                view = swap(complement(other, game))
            else:  # its own side, the opponent's true policy from the opponent's side
                ctx = Context(g, gamma_eval, i)
                view = other
            with torch.enable_grad():
                d = agent.direction(own, view, ctx)
            new.append(own + agent.lr * d)
        theta = new
    played = (theta[0], swap(theta[1])) if published else (theta[0], theta[1])
    return torch.stack(exact_values(g, played[0], played[1], gamma_eval))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    nl, lola = NaiveLearner(lr=1.0), LOLA(lr=1.0, eta=1.0)
    print("| game | pairing (player 0 vs player 1) | as published: values | correct: values |")
    print("|---|---|---|---|")
    for game in ("ipd", "imp"):
        for name, pair in (("NL-Ex vs NL-Ex", (nl, nl)), ("NL-Ex vs LOLA-Ex", (nl, lola)),
                           ("LOLA-Ex vs LOLA-Ex", (lola, lola))):
            cells = []
            for published in (True, False):
                v = run(game, pair, args.seeds, args.updates, published)
                ci = 1.96 * v.std(dim=1) / args.seeds ** 0.5
                cells.append(", ".join(f"{float(m):.2f} ± {float(c):.2f}"
                                       for m, c in zip(v.mean(dim=1), ci, strict=True)))
            print(f"| {game} | {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()

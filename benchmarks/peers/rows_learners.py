"""Rows of the peer benchmarks for the Coin Game learners: LOLA-DiCE, POLA-DiCE and NL-PG
updates of lola-games against the POLA paper's JAX code (Silent-Zebra/POLA, checkout path in
``LOLA_GAMES_POLA``), one CPU thread each.

Both sides do one update of both players (each player from the same start, as the POLA
code's ``play`` loop and the lola-games runner do); the workers are
`benchmarks.peers.workers.pola_jax` and `benchmarks.peers.workers.lola_games_coin`.
"""

from __future__ import annotations

import sys

from benchmarks.peers.harness import Row

__all__ = ["LEARNER_ROWS"]

PEER = "POLA (Silent-Zebra/POLA, JAX)"
COMMON = ("Coin Game 3x3, gamma 0.96, 50 rounds, GRU policy of 64 units after one dense "
          "layer of 64 (ReLU), Adam 0.003 outer steps restarted each update, value "
          "baseline in the Loaded-DiCE form (GAE lambda 1), value Adam 0.0005, 1 seed")
SHARED_DIFFERENCES = (
    "POLA code: the value function is a GRU like the policy (lola-games: an MLP of the "
    "board), both players see red's view of the board (lola-games: each its own), the "
    "value target bootstraps the state after the last round, the rollouts are differentiated "
    "directly (lola-games keeps the sampled logits of the GRU and differentiates those), "
    "actions sampled with jax.random.categorical")


def _cmd(module: str, work: str) -> tuple[str, ...]:
    return (sys.executable, "-m", f"benchmarks.peers.workers.{module}", "--work", work)


LEARNER_ROWS: list[Row] = [
    Row(work="coin LOLA-DiCE update, batch 500", peer=PEER,
        peer_cmd=_cmd("pola_jax", "lola-dice"), ours_cmd=_cmd("lola_games_coin", "lola-dice"),
        settings=f"{COMMON}; 500 episodes; 1 lookahead (SGD 0.003), 1 outer step",
        differences=f"{SHARED_DIFFERENCES}; the POLA code also computes its KL terms "
                    "with weight 0 (two more passes of the policy and value GRUs over each "
                    "rollout), its inner step also steps the opponent's value function "
                    "(lola-games: no)"),
    Row(work="coin POLA-DiCE update, batch 200", peer=PEER,
        peer_cmd=_cmd("pola_jax", "pola-dice"), ours_cmd=_cmd("lola_games_coin", "pola-dice"),
        settings=f"{COMMON}; 200 episodes; 4 inner steps (SGD 0.01, inner beta 5), 1 outer "
                 "step (outer beta 150)",
        differences=f"{SHARED_DIFFERENCES}; the POLA code's inner steps also step the "
                    "opponent's value function (lola-games: no)"),
    Row(work="coin NL-PG update, batch 500", peer=PEER,
        peer_cmd=_cmd("pola_jax", "nl-pg"), ours_cmd=_cmd("lola_games_coin", "nl-pg"),
        settings=f"{COMMON}; 500 episodes; no lookahead",
        differences=f"{SHARED_DIFFERENCES}; the POLA code has no naive learner: its README's "
                    "way is an inner learning rate of 0, so it still samples and "
                    "differentiates the inner rollout (lola-games: one rollout per player)"),
]

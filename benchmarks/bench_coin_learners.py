"""Seconds per update of the Coin Game learners at the published settings, and what a run of
the published length would take.

    python benchmarks/bench_coin_learners.py                 # CPU, one thread
    python benchmarks/bench_coin_learners.py --device cuda   # on a GPU (all seeds at once)
    python benchmarks/bench_coin_learners.py --only cpu      # one setting

Settings (both players updated, as the runner does; evaluations not included):

* ``pola-*``: the POLA paper's LOLA-DiCE setting (``POLA_COIN``: ``coin-gru`` of 64 units,
  2000 episodes of 50 rounds, 1 lookahead), LOLA-DiCE, LOLA-DiCE-OM (the ``coin-game``
  experiment's opponent models) and NL-PG; 50,000 updates published.
* ``lola-paper-nl``: the LOLA paper's setting (``LOLA_PAPER_COIN``: ``conv-gru``, 4000
  episodes of 150 rounds) with NL-PG; 100,000 updates published.
* ``cpu``: LOLA-DiCE at the ``coin-game`` experiment's ``cpu`` size (``coin-mlp``, 128
  episodes of 50 rounds), 8 seeds; ``cpu-conv-gru`` the same with the LOLA paper's
  ``conv-gru`` network.

On a CPU the time of an update grows in proportion to seeds x episodes (measured here:
the ``pola`` settings at 1 and 2 seeds of 200 episodes), so the published settings are timed
with one seed and a fraction of their batch (``--fraction``, default 1 for ``pola``, 1/8 for
the LOLA paper's 4000 episodes, whose graph would not fit the memory of a shared machine)
and scaled; each line says what was measured and how it was scaled. Times are the best of
``--repeats`` updates after one warm-up update.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.published import LOLA_PAPER_COIN, POLA_COIN
from lola_games.experiments.coin_game import COIN_OM, COIN_SIZES
from lola_games.games.coin import CoinGame

NAIVE_DROP = ("n_lookaheads", "lr_in")


def _naive(setting: dict[str, Any]) -> NaivePG:
    return NaivePG(**{k: v for k, v in setting.items() if k not in NAIVE_DROP})


def seconds_per_update(agent: LOLADiCE, n_seeds: int, device: str, repeats: int) -> float:
    """Best time of one update of both players (same agent on both sides)."""
    game = CoinGame()
    gen = torch.Generator(device=device).manual_seed(0)
    params = [agent.init_params(n_seeds, gen, device, game=game, player=i) for i in range(2)]
    states = [agent.init_state(p) for p in params]

    def update() -> None:
        for i in range(2):
            ctx = Context(game, 0.96, i, gen, torch.device(device), agent)
            agent.update(params[i], params[1 - i], states[i], ctx)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    update()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        update()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=8, help="seeds of the runs timed")
    parser.add_argument("--only", default=None, help="one setting by name")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(1)
    cpu = args.device == "cpu"
    cpu_size = {k: v for k, v in COIN_SIZES["cpu"].items()
                if k not in ("n_seeds", "n_updates", "log_every")}
    # name: (agent, published updates, fraction of the batch timed on a CPU)
    settings = {
        "pola-lola-dice": (LOLADiCE(**POLA_COIN), 50000, 1.0),
        "pola-lola-dice-om": (LOLADiCE(**{**POLA_COIN, **COIN_OM}), 50000, 1.0),
        "pola-nl-pg": (_naive(POLA_COIN), 50000, 1.0),
        "lola-paper-nl": (NaivePG(**LOLA_PAPER_COIN), 100000, 1 / 8),
        "cpu": (LOLADiCE(**{**POLA_COIN, **cpu_size}), COIN_SIZES["cpu"]["n_updates"], None),
        "cpu-conv-gru": (LOLADiCE(**{**POLA_COIN, **cpu_size, "policy": "conv-gru",
                                     "hidden_size": 32}), COIN_SIZES["cpu"]["n_updates"], None),
    }
    if args.only is not None:
        settings = {args.only: settings[args.only]}
    print(f"device {args.device}, torch threads 1, {args.seeds} seeds per run")
    if cpu and args.only is None:
        small = LOLADiCE(**{**POLA_COIN, "batch_size": 200})
        one, two = (seconds_per_update(small, s, "cpu", args.repeats) for s in (1, 2))
        print(f"  linearity: pola-lola-dice at 200 episodes, 1 seed {one:.2f} s, 2 seeds "
              f"{two:.2f} s (ratio {two / one:.2f})")
    for name, (agent, n_updates, fraction) in settings.items():
        if not cpu or fraction is None:
            seconds = seconds_per_update(agent, args.seeds, args.device, args.repeats)
            what = f"measured at {args.seeds} seeds x {agent.batch_size} episodes"
        else:
            batch = max(2, round(agent.batch_size * fraction))
            timed = type(agent)(**{**_init_args(agent), "batch_size": batch})
            seconds = seconds_per_update(timed, 1, "cpu", args.repeats) * args.seeds / fraction
            what = (f"measured at 1 seed x {batch} episodes, x {args.seeds} seeds "
                    f"x {1 / fraction:g} for {agent.batch_size} episodes")
        total = seconds * n_updates
        print(f"  {name:18s} {seconds:9.2f} s per update ({what}); {n_updates} updates: "
              f"{total / 3600:9.1f} h = {total / 86400:7.1f} days")


def _init_args(agent: LOLADiCE) -> dict[str, Any]:
    """Constructor arguments of ``agent`` (its options, the policy by name)."""
    hp = agent.hparams()
    hp["policy"], hp["value"] = agent.policy_option, agent.value_option
    return hp


if __name__ == "__main__":
    main()

"""Seconds per update of POLA-DiCE and POLA-OM on the POLA code's IPD and Coin Game, and what
a full run needs, in the CPU settings (``lola-games reproduce pola-dice``; the Coin Game run
of the README) and in the POLA code's own.

    python benchmarks/bench_pola_dice.py                  # CPU, 10 seeds
    python benchmarks/bench_pola_dice.py --device cuda    # on a GPU

Each configuration times one update of both players (after one warm-up update) with one
torch thread and reports the CPU seconds of this process (user + system; on a shared machine
the wall clock depends on the other jobs) and the wall clock. The POLA code's setting (GRU
of 64 units, 2000 episodes of 50 rounds, 200 outer steps of 2 inner steps each) is timed
with ``--outer`` outer steps and scaled to 200: every outer step costs the same; so is its
Coin Game setting (:data:`~lola_games.agents.pola_dice.POLA_DICE_COIN`, 251 updates).
"""

from __future__ import annotations

import argparse
import time

import torch

from lola_games.agents import POLADiCE
from lola_games.agents.base import Context
from lola_games.agents.published import POLA_DICE_COIN, POLA_OM_COIN
from lola_games.experiments.pola_dice import CPU_SETTING
from lola_games.games.coin import CoinGame
from lola_games.games.paper import contribution_ipd

COIN_CPU: dict = {
    **POLA_DICE_COIN, "hidden_size": 16, "batch_size": 100, "outer_steps": 10,
}
"""The Coin Game CPU setting of the README's short run: the POLA code's, with a network of 16
units, 100 episodes per rollout and 10 outer steps per update."""


def _time(agent: POLADiCE, n_seeds: int, device: str, scale: float, game: object = None
          ) -> tuple[float, float]:
    game = contribution_ipd(1.33) if game is None else game
    gen = torch.Generator(device=device).manual_seed(0)
    params = [agent.init_params(n_seeds, gen, device, game=game, player=i) for i in range(2)]

    def update() -> None:
        for me in (0, 1):
            ctx = Context(game, 0.96, me, gen, torch.device(device), agent)
            agent.update(params[me], params[1 - me], {}, ctx)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    update()
    wall, cpu = time.perf_counter(), time.process_time()
    update()
    return scale * (time.process_time() - cpu), scale * (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--outer", type=int, default=2,
                        help="outer steps timed in the POLA code's setting (scaled to 200)")
    parser.add_argument("--code-seeds", type=int, default=1,
                        help="seeds of the POLA code's setting (the code runs one per process)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    configs = [
        ("POLA-DiCE, CPU setting (tabular)", POLADiCE(**CPU_SETTING), 1.0, 100),
        ("POLA-OM, CPU setting (tabular)", POLADiCE(**CPU_SETTING, opponent_model=True),
         1.0, 100),
        ("LOLA-DiCE, CPU setting (tabular)", POLADiCE(**{**CPU_SETTING, "inner_steps": 1,
                                                         "outer_steps": 1, "beta_in": 0.0,
                                                         "beta_out": 0.0}), 1.0, 2000),
    ]
    coin = CoinGame(3, 50)
    coin_om = {**COIN_CPU, "inner_steps": POLA_OM_COIN["inner_steps"],
               "beta_in": POLA_OM_COIN["beta_in"]}
    # (label, agent, scale, updates of a full run, seeds, game); a full run of the Coin Game
    # CPU setting is the POLA code's 50,200 outer steps, 5020 updates of 10
    configs = [(*c, args.seeds, None) for c in configs] + [
        ("POLA-DiCE, Coin Game CPU setting (coin-gru 16, batch 100, 10 outer steps)",
         POLADiCE(**COIN_CPU), 1.0, 5020, 8, coin),
        ("POLA-OM, Coin Game CPU setting (coin-gru 16, batch 100, 10 outer steps)",
         POLADiCE(**coin_om, opponent_model=True), 1.0, 5020, 8, coin),
        ("POLA-DiCE, POLA code's IPD setting (GRU 64, batch 2000, 200 outer steps)",
         POLADiCE("gru", hidden_size=64, outer_steps=args.outer), 200 / args.outer, 100,
         args.code_seeds, None),
        ("POLA-DiCE, POLA code's Coin Game setting (coin-gru 64, batch 1000, 200 outer steps)",
         POLADiCE(**{**POLA_DICE_COIN, "outer_steps": args.outer}), 200 / args.outer, 251,
         args.code_seeds, coin),
    ]
    print(f"device {args.device}, torch threads 1")
    for label, agent, scale, updates, seeds, game in configs:
        cpu, wall = _time(agent, seeds, args.device, scale, game)
        print(f"{label}, {seeds} seeds: {cpu:.2f} CPU s ({wall:.2f} s wall) per update; "
              f"{updates} updates {updates * cpu / 3600:.2f} CPU h", flush=True)

if __name__ == "__main__":
    main()

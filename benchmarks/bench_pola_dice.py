"""Seconds per update of POLA-DiCE and POLA-OM on the POLA code's IPD, and what a full run
needs, in the CPU setting of ``lola-games reproduce pola-dice`` and in the POLA code's own.

    python benchmarks/bench_pola_dice.py                  # CPU, 10 seeds
    python benchmarks/bench_pola_dice.py --device cuda    # on a GPU

Each configuration times one update of both players (after one warm-up update) with one
torch thread and reports the CPU seconds of this process (user + system; on a shared machine
the wall clock depends on the other jobs) and the wall clock. The POLA code's setting (GRU
of 64 units, 2000 episodes of 50 rounds, 200 outer steps of 2 inner steps each) is timed
with ``--outer`` outer steps and scaled to 200: every outer step costs the same.
"""

from __future__ import annotations

import argparse
import time

import torch

from lola_games.agents import POLADiCE
from lola_games.agents.base import Context
from lola_games.paper_games import contribution_ipd
from lola_games.reproduce_pola_sampled import CPU_SETTING


def _time(agent: POLADiCE, n_seeds: int, device: str, scale: float) -> tuple[float, float]:
    game = contribution_ipd(1.33)
    gen = torch.Generator(device=device).manual_seed(0)
    params = [agent.init_params(n_seeds, gen, device) for _ in range(2)]

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
    code = ("POLA-DiCE, POLA code's setting (GRU 64, batch 2000, 200 outer steps)",
            POLADiCE("gru", hidden_size=64, outer_steps=args.outer), 200 / args.outer, 100)
    print(f"device {args.device}, torch threads 1")
    for (label, agent, scale, updates), seeds in [*((c, args.seeds) for c in configs),
                                                  (code, args.code_seeds)]:
        cpu, wall = _time(agent, seeds, args.device, scale)
        print(f"{label}, {seeds} seeds: {cpu:.2f} CPU s ({wall:.2f} s wall) per update; "
              f"{updates} updates {updates * cpu / 3600:.2f} CPU h")


if __name__ == "__main__":
    main()

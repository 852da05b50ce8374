"""Seconds for the whole ``lola-games reproduce dice-paper`` (all runs, figures and tables).

    python benchmarks/bench_dice_paper.py                  # full size (32 seeds), CPU
    python benchmarks/bench_dice_paper.py --quick          # the quick size
    python benchmarks/bench_dice_paper.py --device cuda    # on a GPU

Prints the wall-clock and CPU seconds of the whole experiment (one torch thread on the CPU)
and each run's final joint score. On a shared machine the wall clock depends on the other
jobs; the CPU seconds of this process (user + system) much less.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from lola_games.experiments import reproduce as rp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_const", const="quick", dest="size",
                        default="full")
    parser.add_argument("--seeds", type=int, default=None, help="default: the size's")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(1)
    exp = rp.EXPERIMENTS["dice-paper"]
    n_seeds = args.seeds or exp.sizes[args.size]["n_seeds"]
    print(f"reproduce dice-paper ({args.size}): {len(exp.runs)} runs of {n_seeds} seeds, "
          f"{exp.sizes[args.size]['n_updates']} updates, device {args.device}, torch threads 1")
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        result = rp.reproduce("dice-paper", out, size=args.size, device=args.device,
                              n_seeds=n_seeds, formats=("png",))
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  whole experiment: {wall:.1f} s wall, {cpu:.1f} s CPU of this process")
    for row in result.table:
        print(f"  {row['run']:32s} final joint score {row['joint']:.3f}")


if __name__ == "__main__":
    main()

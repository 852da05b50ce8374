"""Agent-steps per second: the torch-batched env against B PettingZoo envs in a Python loop.

    python benchmarks/bench_batched_env.py [--batch 4096] [--device cpu] [--threads 1]

Both sides play uniformly random actions (drawn in bulk before the timed loop) in the IPD
with 150-round episodes; an agent-step is one player's action in one game.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lola_games.envs import ipd_v0
from lola_games.envs.batched import BatchedIteratedGame


def bench_batched(batch: int, steps: int, device: str) -> float:
    env = BatchedIteratedGame("ipd", batch, 150, device=device)
    env.reset()
    gen = torch.Generator(device=device).manual_seed(0)
    actions = torch.randint(0, 2, (steps, batch, 2), generator=gen, device=device)
    env.step(actions[0])  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for t in range(steps):
        env.step(actions[t], check=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * batch * steps / (time.perf_counter() - start)


def bench_pettingzoo(batch: int, steps: int) -> float:
    envs = [ipd_v0.parallel_env(max_cycles=150) for _ in range(batch)]
    for b, e in enumerate(envs):
        e.reset(seed=b)
    actions = np.random.default_rng(0).integers(0, 2, (steps, batch, 2))
    start = time.perf_counter()
    for t in range(steps):
        for b, e in enumerate(envs):
            _, _, term, trunc, _ = e.step(
                {"player_0": int(actions[t, b, 0]), "player_1": int(actions[t, b, 1])}
            )
            if term["player_0"] or trunc["player_0"]:
                e.reset()
    return 2 * batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=300, help="batched env steps timed")
    parser.add_argument("--loop-steps", type=int, default=5, help="PettingZoo loop steps timed")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads)
    batched = bench_batched(args.batch, args.steps, args.device)
    loop = bench_pettingzoo(args.batch, args.loop_steps)
    print(f"IPD, B = {args.batch}, torch threads {args.threads}, device {args.device}")
    print(f"  batched torch env       : {batched:14,.0f} agent-steps/s")
    print(f"  {args.batch} PettingZoo envs : {loop:14,.0f} agent-steps/s")
    print(f"  ratio                   : {batched / loop:14,.1f}x (goal >= 100x)")


if __name__ == "__main__":
    main()

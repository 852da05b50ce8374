"""Seed-updates per second of LOLA-Ex on the IPD: batched over seeds vs a per-seed loop.

The per-seed loop is LOLA-Ex as it is commonly written: one seed at a time, 5 logits per
player, the value from an explicit ``torch.inverse(I - gamma P)``, and ``torch.autograd.grad``
for every gradient. The batched path is :class:`lola_games.agents.LOLA` updating both players
of ``S`` seeds at once. Both do the same work per seed-update (both players' LOLA steps).

    python benchmarks/bench_exact.py                 # CPU, one thread
    python benchmarks/bench_exact.py --device cuda --seeds 1 64 1024 8192 65536
"""

from __future__ import annotations

import argparse
import time

import torch

from lola_games.agents import LOLA, Context
from lola_games.core.device import resolve_device
from lola_games.games.registry import get_game

GAMMA = 0.96
PAYOFF_0 = torch.tensor([-1.0, -3.0, 0.0, -2.0])  # CC, CD, DC, DD from player 0's side
PAYOFF_1 = torch.tensor([-1.0, 0.0, -3.0, -2.0])


def loop_values(th0: torch.Tensor, th1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalised values of one seed, written the usual way."""
    p0, p1 = torch.sigmoid(th0), torch.sigmoid(th1)
    q1 = p1[[0, 1, 3, 2, 4]]  # player 1's states seen from player 0's side
    start = torch.stack([p0[0] * q1[0], p0[0] * (1 - q1[0]), (1 - p0[0]) * q1[0],
                         (1 - p0[0]) * (1 - q1[0])])
    a, b = p0[1:].unsqueeze(1), q1[1:].unsqueeze(1)
    trans = torch.cat([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], dim=1)
    visits = start @ torch.inverse(torch.eye(4) - GAMMA * trans)
    return visits @ PAYOFF_0, visits @ PAYOFF_1


def loop_lola_step(th: list[torch.Tensor], lr: float = 1.0, eta: float = 1.0) -> list[torch.Tensor]:
    """Both players' LOLA-Ex steps for one seed."""
    th = [t.detach().requires_grad_(True) for t in th]
    v = loop_values(th[0], th[1])
    new = []
    for i in range(2):
        j = 1 - i
        g_ii = torch.autograd.grad(v[i], th[i], retain_graph=True)[0]
        g_ji = torch.autograd.grad(v[i], th[j], retain_graph=True)[0]
        g_jj = torch.autograd.grad(v[j], th[j], retain_graph=True, create_graph=True)[0]
        shaping = torch.autograd.grad(torch.dot(g_ji.detach(), g_jj), th[i], retain_graph=True)[0]
        new.append((th[i] + lr * (g_ii + eta * shaping)).detach())
    return new


def time_loop(n_seeds: int, n_updates: int) -> float:
    g = torch.Generator().manual_seed(0)
    seeds = [[torch.randn(5, generator=g), torch.randn(5, generator=g)] for _ in range(n_seeds)]
    loop_lola_step(seeds[0])  # warm-up, as on the batched side
    t0 = time.perf_counter()
    for _ in range(n_updates):
        seeds = [loop_lola_step(th) for th in seeds]
    return n_seeds * n_updates / (time.perf_counter() - t0)


def time_batched(n_seeds: int, n_updates: int, device: torch.device) -> float:
    game, agent = get_game("ipd"), LOLA()
    g = torch.Generator(device=device).manual_seed(0)
    params = [agent.init_params(n_seeds, g, device) for _ in range(2)]
    states = [agent.init_state(p) for p in params]
    ctx = [Context(game, GAMMA, i, g, device, agent) for i in range(2)]

    def step(params):
        return [agent.update(params[i], params[1 - i], states[i], ctx[i])[0] for i in range(2)]

    params = step(params)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n_updates):
        params = step(params)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return n_seeds * n_updates / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 64, 1024, 8192])
    parser.add_argument("--updates", type=int, default=20, help="timed updates per size")
    parser.add_argument("--loop-seeds", type=int, default=16, help="seeds timed in the loop")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    loop = time_loop(args.loop_seeds, max(2, args.updates // 4))
    print(f"device {device}, {torch.get_num_threads()} CPU thread(s), LOLA-Ex on the IPD")
    print(f"per-seed loop (autograd, torch.inverse): {loop:12.1f} seed-updates/s")
    for n in args.seeds:
        rate = time_batched(n, args.updates, device)
        print(f"batched, {n:6d} seeds:                  {rate:12.1f} seed-updates/s  "
              f"= {rate / loop:8.1f} x the loop")


if __name__ == "__main__":
    main()

"""SOS updates and COLA training steps per second: batched over seeds vs a per-seed loop.

* SOS: both players' SOS steps (second derivatives of the values), on Tandem and on the exact
  IPD. The per-seed loop is written as SOS usually is (the SOS authors' notebook's structure):
  one seed at a time, parameters as lists of 1-D tensors, ``torch.autograd.grad`` for every
  gradient and a Python ``if`` for ``p``. The batched path is :class:`lola_games.agents.SOS`.
* COLA: one training step of the update functions (the consistency loss over a batch of
  points, its gradient through second derivatives of the values, an Adam step), with the
  official notebook's networks and batch sizes (Tandem: 8 points; IPD: 64). The per-seed loop
  trains one seed's pair of ``torch.nn`` networks with ``torch.optim.Adam`` (the notebook's
  structure); the batched path is :func:`lola_games.agents.cola.train_update_functions` with
  one network pair per seed.

Rates are seed-updates (seed-steps) per second; the loop is timed on ``--loop-seeds`` seeds.

    python benchmarks/bench_diffgames.py                    # CPU, one thread
    python benchmarks/bench_diffgames.py --device cuda
"""

from __future__ import annotations

import argparse
import time

import torch

from lola_games.agents import SOS, Context
from lola_games.agents.cola import train_update_functions
from lola_games.agents.cola_networks import init_update_networks
from lola_games.core.device import resolve_device
from lola_games.games.registry import get_any_game
from lola_games.values.exact import discounted_values
from lola_games.values.iterated import game_values

GAMMA = 0.96


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def loop_losses(game: str, th: list[torch.Tensor]) -> list[torch.Tensor]:
    """One seed's losses from 1-D parameter tensors."""
    if game == "tandem":
        x, y = th[0][0], th[1][0]
        return [(x + y) ** 2 - 2 * x, (x + y) ** 2 - 2 * y]
    v0, v1 = discounted_values("ipd", th[0], th[1], GAMMA)
    return [-v0, -v1]


def loop_sos_step(game: str, th: list[torch.Tensor], alpha: float = 0.1, a: float = 0.5,
                  b: float = 0.1) -> list[torch.Tensor]:
    """Both players' SOS steps for one seed, one player's block at a time."""
    th = [t.detach().requires_grad_(True) for t in th]
    losses = loop_losses(game, th)
    grads = [[torch.autograd.grad(losses[j], th[i], create_graph=True)[0] for j in range(2)]
             for i in range(2)]  # grads[i][j] = d L_j / d theta_i
    xi_0, chi = [], []
    for i in range(2):
        j = 1 - i
        term = torch.dot(grads[j][i], grads[j][j].detach())
        xi_0.append(grads[i][i] - alpha * torch.autograd.grad(term, th[i], retain_graph=True)[0])
        term = torch.dot(grads[j][i].detach(), grads[j][j])
        chi.append(torch.autograd.grad(term, th[i], retain_graph=True)[0])
    dot = torch.dot(-alpha * torch.cat(chi), torch.cat(xi_0)).item()
    p1 = 1.0 if dot >= 0 else min(1.0, -a * torch.cat(xi_0).norm().item() ** 2 / dot)
    xi_norm = torch.cat([grads[0][0], grads[1][1]]).norm().item()
    p = min(p1, xi_norm**2 if xi_norm < b else 1.0)
    return [(th[i] - alpha * (xi_0[i] - p * alpha * chi[i])).detach() for i in range(2)]


def _shape(game: str) -> int:
    return 1 if game == "tandem" else 5


def time_sos_loop(game: str, n_seeds: int, n_updates: int) -> float:
    g = torch.Generator().manual_seed(0)
    seeds = [[torch.randn(_shape(game), generator=g) for _ in range(2)] for _ in range(n_seeds)]
    loop_sos_step(game, seeds[0])  # warm-up
    t0 = time.perf_counter()
    for _ in range(n_updates):
        seeds = [loop_sos_step(game, th) for th in seeds]
    return n_seeds * n_updates / (time.perf_counter() - t0)


def time_sos_batched(game_name: str, n_seeds: int, n_updates: int, device: torch.device
                     ) -> float:
    game, agent = get_any_game(game_name), SOS(lr=0.1)
    g = torch.Generator(device=device).manual_seed(0)
    params = [agent.init_params(n_seeds, g, device, game=game, player=i) for i in range(2)]
    states = [agent.init_state(p) for p in params]
    ctx = [Context(game, GAMMA, i, g, device, agent) for i in range(2)]

    def step(params):
        return [agent.update(params[i], params[1 - i], states[i], ctx[i])[0] for i in range(2)]

    params = step(params)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n_updates):
        params = step(params)
    _sync(device)
    return n_seeds * n_updates / (time.perf_counter() - t0)


def _net(game: str) -> torch.nn.Module:
    """The notebook's update-function network for one player."""
    if game == "tandem":
        layers = [torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8),
                  torch.nn.Linear(8, 1)]
    else:
        layers = [torch.nn.Linear(10, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                  torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                  torch.nn.Linear(16, 5)]
    return torch.nn.Sequential(*layers)


def _points(game: str) -> tuple[int, float]:
    return (8, 1.0) if game == "tandem" else (64, 7.0)


def time_cola_loop(game_name: str, n_seeds: int, n_steps: int) -> float:
    """Training steps of one seed's networks at a time (torch.nn, torch.optim.Adam)."""
    game = get_any_game(game_name)
    batch, region = _points(game_name)
    d = _shape(game_name)
    nets = [[_net(game_name) for _ in range(2)] for _ in range(n_seeds)]
    opts = [torch.optim.Adam([p for n in pair for p in n.parameters()], lr=1e-3)
            for pair in nets]

    def train_step(pair, opt):
        th = [((2 * torch.rand(batch, d) - 1) * region).requires_grad_(True) for _ in range(2)]
        if game_name == "tandem":
            th = [t.squeeze(1) for t in th]
        inp = torch.stack(th, 1) if game_name == "tandem" else torch.cat(th, 1)
        h = [n(inp).reshape(th[0].shape) for n in pair]
        loss = 0
        for j in range(2):
            shifted = [t if k == j else t + 0.5 * h[k] for k, t in enumerate(th)]
            v = game_values(game, shifted, GAMMA)[j]
            target = torch.autograd.grad(v.sum(), th[j], create_graph=True)[0]
            loss = loss + ((h[j] - target) ** 2).reshape(batch, -1).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    train_step(nets[0], opts[0])  # warm-up
    t0 = time.perf_counter()
    for _ in range(n_steps):
        for pair, opt in zip(nets, opts, strict=True):
            train_step(pair, opt)
    return n_seeds * n_steps / (time.perf_counter() - t0)


def time_cola_batched(game_name: str, n_seeds: int, n_steps: int, device: torch.device
                      ) -> float:
    game = get_any_game(game_name)
    batch, region = _points(game_name)
    net, width = ("polynomial", 8) if game_name == "tandem" else ("probability", 16)
    shapes = ((), ()) if game_name == "tandem" else ((5,), (5,))
    g = torch.Generator(device=device).manual_seed(0)
    nets = init_update_networks(shapes, n_seeds, net, width, g, device, torch.float32)

    def values(th):
        return game_values(game, th, GAMMA)

    nets, _ = train_update_functions(values, shapes, nets, net, 0.5, 1, batch, 1e-3, 1.0,
                                     region, g)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    train_update_functions(values, shapes, nets, net, 0.5, n_steps, batch, 1e-3, 1.0, region, g)
    _sync(device)
    return n_seeds * n_steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--updates", type=int, default=10, help="timed updates/steps per size")
    parser.add_argument("--loop-seeds", type=int, default=8, help="seeds timed in the loop")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device}, {torch.get_num_threads()} CPU thread(s)")
    for label, loop_fn, batched_fn in (("SOS update", time_sos_loop, time_sos_batched),
                                       ("COLA training step", time_cola_loop,
                                        time_cola_batched)):
        for game in ("tandem", "ipd"):
            loop = loop_fn(game, args.loop_seeds, max(2, args.updates // 2))
            print(f"{label} on {game}: per-seed loop {loop:10.1f} seed-steps/s")
            for n in args.seeds:
                rate = batched_fn(game, n, args.updates, device)
                print(f"    batched, {n:5d} seeds: {rate:12.1f} seed-steps/s = "
                      f"{rate / loop:8.1f} x the loop")


if __name__ == "__main__":
    main()

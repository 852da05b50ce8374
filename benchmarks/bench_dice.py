"""Seconds per LOLA-DiCE update: lola_games (seed-batched) against a straightforward loop.

One update = both agents' LOLA-DiCE steps (n inner lookahead rollouts and one outer rollout
each) on the IPD, batch 128, 150 rounds, tabular memory-one policies, with the value
baseline, in the unofficial port's setting. The reference is
``scripts/unofficial_port_lola_dice.py``, written the way that PyTorch port is: a numpy
environment stepped in a Python loop, per-step tensors and ``torch.distributions.Bernoulli``
objects, lists stacked afterwards, one seed at a time. It runs with the value target of
lola_games (discounted returns-to-go) so that both sides do the same work.

    python benchmarks/bench_dice.py                 # CPU, one thread
    python benchmarks/bench_dice.py --device cuda   # lola_games on GPU (reference on CPU)

Prints seconds per update for 1 seed and 32 seeds, and the speed-up per seed-update.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import torch

from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE
from lola_games.agents.published import UNOFFICIAL_PORT
from lola_games.games.registry import get_game


# ---------------------------------------------------------------- the straightforward version
def _load_reference():
    """``scripts/unofficial_port_lola_dice.py``, the reference written as the port is."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "unofficial_port_lola_dice.py"
    spec = importlib.util.spec_from_file_location("unofficial_port_lola_dice", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference()
GAMMA, BATCH, LENGTH = reference.GAMMA, reference.BATCH, reference.LENGTH


def time_loop(n_updates: int, n_lookaheads: int) -> float:
    env = reference.NumpyIPD(BATCH, LENGTH)
    a1, a2 = (reference.LoopAgent(env, value_target="returns") for _ in range(2))
    reference.loop_update(a1, a2, n_lookaheads)  # warm-up
    start = time.perf_counter()
    for _ in range(n_updates):
        reference.loop_update(a1, a2, n_lookaheads)
    return (time.perf_counter() - start) / n_updates


# ------------------------------------------------------------------------------ lola_games
def time_batched(n_seeds: int, n_updates: int, n_lookaheads: int, device: str) -> float:
    game = get_game("ipd")
    setting = {**UNOFFICIAL_PORT, "batch_size": BATCH, "rollout_len": LENGTH,
               "lr_in": reference.LR_IN, "lr_out": reference.LR_OUT, "lr_v": reference.LR_V}
    agents = [LOLADiCE(n_lookaheads=n_lookaheads, **setting) for _ in range(2)]
    gen = torch.Generator(device=device).manual_seed(0)
    params = [a.init_params(n_seeds, gen, device) for a in agents]
    states = [a.init_state(p) for a, p in zip(agents, params, strict=True)]

    def update():
        nonlocal params
        new = []
        for i in range(2):
            ctx = Context(game, GAMMA, i, gen, torch.device(device), agents[1 - i])
            p, states[i] = agents[i].update(params[i], params[1 - i], states[i], ctx)
            new.append(p)
        params = new

    update()  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n_updates):
        update()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / n_updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lookaheads", type=int, default=1)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--loop-updates", type=int, default=3)
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(1)
    print(f"LOLA-DiCE update, IPD, batch {BATCH}, {LENGTH} rounds, "
          f"{args.lookaheads} lookahead(s), torch threads 1, device {args.device}")
    loop = time_loop(args.loop_updates, args.lookaheads)
    print(f"  loop reference (numpy env, per-step tensors), 1 seed: {loop * 1e3:9.2f} ms/update")
    for n_seeds, goal in ((1, 20), (32, 200)):
        t = time_batched(n_seeds, args.updates, args.lookaheads, args.device)
        speedup = loop * n_seeds / t
        print(f"  lola_games, {n_seeds:2d} seed(s) batched: {t * 1e3:9.2f} ms/update  "
              f"-> {speedup:7.1f}x per seed-update (goal {goal}x)")


if __name__ == "__main__":
    main()

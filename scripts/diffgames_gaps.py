"""Sensitivity checks behind the README's comparisons with the LOLA and COLA papers.

    python scripts/diffgames_gaps.py higher-order-eta [--seeds 1000] [--etas 0.3 0.5 0.7 1]
    python scripts/diffgames_gaps.py ipd-consistency [--points 2000] [--regions 1 2 3 5 7]

``higher-order-eta``: the LOLA paper's higher-order table (LOLA-Ex vs NL-Ex, 2nd-order LOLA vs
LOLA-Ex on the exact IPD, gamma 0.96, logits ~ N(0, 1), 200 updates) at the table's learning
rate delta = 0.5 for several look-ahead rates eta (the paper does not state eta): each
player's final value, mean over seeds and the 10-90% range of means over groups of 50 runs
(the authors' exact-IPD code averages 50).

``ipd-consistency``: the consistency loss of exact LOLA (HOLA-1), HOLA-2 and HOLA-4 on the IPD
(the COLA paper's Table 2 setting: points ~ U[-r, r]^10, look-ahead 1 and 0.03) for several
regions r and discounts gamma: the mean over all points and the 10-90% range of means over
groups of 100 points (the size of the paper's sample), beside the paper's entries. No region
or discount brings all three orders to the paper's values.

CPU, one thread; about a minute for each command with the defaults.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from lola_games.agents import HOLA, LOLA, NaiveLearner
from lola_games.analysis.consistency import hola_consistency
from lola_games.experiments.cola import PAPER_CONSISTENCY
from lola_games.experiments.lola_higher_order import (
    HIGHER_ORDER_DELTA,
    PAPER_HIGHER_ORDER,
    group_means,
)
from lola_games.runner.training import train
from lola_games.values.iterated import IteratedGame


def higher_order_eta(seeds: int, etas: list[float], seed: int) -> None:
    delta = HIGHER_ORDER_DELTA
    for eta in etas:
        pairs = {"lola_nl": (LOLA(lr=delta, eta=eta), NaiveLearner(lr=delta)),
                 "hola2_lola": (HOLA(lr=delta, eta=eta, order=2, taylor=True),
                                LOLA(lr=delta, eta=eta))}
        for key, agents in pairs.items():
            run = train("ipd", list(agents), n_seeds=seeds, n_updates=200, gamma=0.96,
                        dtype=torch.float64, seed=seed, log_every=200)
            v = run.metrics["value"][-1]
            cells = []
            for p in range(2):
                g = group_means(v[p])
                spread = "" if g is None else \
                    f" [{np.quantile(g, 0.1):.2f}, {np.quantile(g, 0.9):.2f}]"
                cells.append(f"{v[p].mean():.3f}{spread}")
            paper = PAPER_HIGHER_ORDER[key]
            print(f"delta {delta:g} eta {eta:g} {key}: {cells[0]} / {cells[1]} "
                  f"(paper {paper[0]:.2f} / {paper[1]:.2f})", flush=True)


def ipd_consistency(points: int, regions: list[float], gammas: list[float], seed: int) -> None:
    ipd = IteratedGame("ipd", init_std=0.1)
    paper = PAPER_CONSISTENCY["ipd"]
    for gamma in gammas:
        for region in regions:
            for eta in (1.0, 0.03):
                row = []
                for order, name in ((1, "LOLA"), (2, "HOLA2"), (4, "HOLA4")):
                    c = hola_consistency(ipd, eta, order, n=points, region=region, gamma=gamma,
                                         generator=torch.Generator().manual_seed(seed))
                    means = c[: len(c) // 100 * 100].reshape(-1, 100).mean(1).numpy()
                    row.append(f"{name} {float(c.mean()):.3g} [{np.quantile(means, 0.1):.2g}, "
                               f"{np.quantile(means, 0.9):.2g}] (paper {paper[eta][name]:.3g})")
                print(f"gamma {gamma:g} region {region:g} look-ahead {eta:g}: "
                      + " | ".join(row), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    h = sub.add_parser("higher-order-eta", help="the LOLA paper's higher-order table against eta")
    h.add_argument("--seeds", type=int, default=1000)
    h.add_argument("--etas", type=float, nargs="+", default=[0.3, 0.5, 0.7, 1.0])
    h.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("ipd-consistency", help="HOLA's IPD consistency against region and gamma")
    c.add_argument("--points", type=int, default=2000)
    c.add_argument("--regions", type=float, nargs="+", default=[1.0, 2.0, 3.0, 5.0, 7.0])
    c.add_argument("--gammas", type=float, nargs="+", default=[0.96, 0.9])
    c.add_argument("--seed", type=int, default=11)
    args = p.parse_args(argv)
    for name in ("seeds", "points"):
        if getattr(args, name, 1) < 1:
            p.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    torch.set_num_threads(1)
    if args.command == "higher-order-eta":
        higher_order_eta(args.seeds, args.etas, args.seed)
    else:
        ipd_consistency(args.points, args.regions, args.gammas, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

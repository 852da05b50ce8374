"""The ``lola-games tournament`` and ``lola-games sweep`` commands (run grids)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from lola_games.agents.base import agent_names
from lola_games.analysis import plots as plotting
from lola_games.cli.errors import guarded
from lola_games.experiments.sweep import ALIASES, SweepResult, parse_grid, sweep, sweep_points
from lola_games.experiments.tournament import (
    PRESETS,
    TournamentResult,
    results_markdown,
    tournament,
)
from lola_games.games.registry import game_names
from lola_games.interop.axelrod import memory_one_strategies
from lola_games.runner.backends import Backend, make_backend

__all__ = ["add_tournament", "add_sweep", "run_tournament", "run_sweep", "add_backend_options",
           "backend_of", "with_backend"]

T = TypeVar("T")


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--ray`` (see `lola_games.runner.grid`)."""
    g = p.add_argument_group("where the runs execute (default: one after the other here)")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on N local worker processes")
    g.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="run on a Ray cluster: auto (the cluster this machine is in), "
                        "HOST:PORT or ray://HOST:PORT, or local (start one here); needs "
                        "pip install 'lola-games[ray]'")
    g.add_argument("--ray-cpus", type=int, default=None, metavar="N",
                   help="CPUs of a --ray local instance (default: all)")


def backend_of(args: argparse.Namespace):
    return make_backend(args.workers, args.ray, args.ray_cpus)


def _add_common(p: argparse.ArgumentParser, seeds: int, updates: int) -> None:
    p.add_argument("--game", default=None, help=f"game: {', '.join(game_names())} "
                                                "(default ipd)")
    p.add_argument("--seeds", type=int, default=seeds, help="seeds per run, batched")
    p.add_argument("--updates", type=int, default=updates, help="updates per run")
    p.add_argument("--gamma", type=float, default=None, help="discount in [0, 1) (default 0.96)")
    p.add_argument("--seed", type=int, default=0, help="random seed of every run")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--log-every", type=int, default=None, help="log every N updates")
    p.add_argument("--overwrite", action="store_true", help="rerun every run, replacing them")
    p.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated")
    p.add_argument("--quiet", action="store_true", help="no line per finished run")
    h = p.add_argument_group("agent options (each agent takes those it knows)")
    h.add_argument("--lr", type=float, default=None, help="own learning rate")
    h.add_argument("--eta", type=float, default=None, help="opponent's assumed learning rate")
    h.add_argument("--alpha", type=float, default=None,
                   help="LA/SOS lookahead rate; Q-learning rate of the online learners")
    h.add_argument("--optimizer", choices=["sgd", "adam"], default=None, help="outer step")
    h.add_argument("--rollout-len", type=int, default=None, help="rounds per episode")
    h.add_argument("--eps", type=float, default=None, help="NL-Q/JAL-Q exploration")
    add_backend_options(p)


def _hparams(args: argparse.Namespace) -> dict[str, Any]:
    options = {"lr": args.lr, "eta": args.eta, "alpha": args.alpha, "optimizer": args.optimizer,
               "rollout_len": args.rollout_len, "eps": args.eps}
    options = {k: v for k, v in options.items() if v is not None}
    for name, alias in ALIASES.items():
        if name in options:
            options[alias] = options[name]
    return options


def with_backend(args: argparse.Namespace, work: Callable[[Backend], T]) -> T:
    """``work(backend)`` on the backend of ``--workers``/``--ray``, closed afterwards.

    Args:
        args: the parsed options.
        work: what runs on the backend.
    """
    backend = backend_of(args)
    try:
        return work(backend)
    finally:
        backend.close()


def _reporter(args: argparse.Namespace):
    if args.quiet:
        return None

    def report(result, done: int, total: int) -> None:
        what = "done before" if result.skipped else f"{result.seconds:.1f} s"
        print(f"[{done}/{total}] {result.key}: {what}", file=sys.stderr, flush=True)

    return report


def add_tournament(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tournament", help="round-robin tournament: every pairing, a results matrix, a ranking",
        description="Every pairing of the agents (self-play included) for many seeds, through "
        "the one runner; writes a run per pairing, results.md/.csv (row player's value with "
        "95%% CIs, averages over opponents, ranking), a heatmap and a ranking figure. Running "
        "it again skips finished pairings and resumes interrupted ones.")
    p.add_argument("--agents", nargs="+", default=None, metavar="AGENT",
                   help=f"entrants: {', '.join(agent_names())}, or axl:<Strategy> (an Axelrod "
                        f"strategy, needs lola-games[axelrod]), or axl:memory-one (all of "
                        f"Axelrod's memory-one strategies)")
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="a published tournament: its game, discount, entrants and settings; "
                        "its numbers go beside ours in the ranking")
    p.add_argument("--out", default=None, help="tournament directory (default runs/tournament "
                                               "or runs/<preset>)")
    _add_common(p, seeds=16, updates=200)
    p.set_defaults(func=run_tournament, updates=None)


def _expand(agents: list[str]) -> list[str]:
    out = []
    for a in agents:
        if a == "axl:memory-one":
            out += [f"axl:{name}" for name in memory_one_strategies()]
        else:
            out.append(a)
    return out


def _tournament(args: argparse.Namespace):
    if args.preset is not None:
        if args.agents is not None:
            raise ValueError("--preset fixes the entrants; leave out --agents")
        preset = PRESETS[args.preset]
        if args.game not in (None, preset.game):
            raise ValueError(f"--preset {preset.name} plays {preset.game}, not {args.game}")
        agents: Any = preset.entrants()
        game, gamma = preset.game, preset.gamma if args.gamma is None else args.gamma
        n_updates = preset.n_updates if args.updates is None else args.updates
        log_every = preset.log_every if args.log_every is None else args.log_every
        published = preset.published if gamma == preset.gamma else None
        out = args.out or f"runs/{preset.name}"
    else:
        if not args.agents:
            raise ValueError("give the entrants with --agents (or a --preset)")
        agents = _expand(args.agents)
        game = args.game or "ipd"
        gamma = 0.96 if args.gamma is None else args.gamma
        n_updates = 200 if args.updates is None else args.updates
        log_every = args.log_every or 1
        published = None
        out = args.out or "runs/tournament"
    return with_backend(args, lambda backend: tournament(
        game, agents, n_seeds=args.seeds, n_updates=n_updates, gamma=gamma, seed=args.seed,
        out=out, hparams=_hparams(args), backend=backend, dtype=args.dtype,
        device=args.device, log_every=log_every, overwrite=args.overwrite,
        formats=[f for f in args.formats.split(",") if f], report=_reporter(args),
        published=published))


def run_tournament(args: argparse.Namespace) -> int:
    result = guarded("lola-games tournament", lambda: _tournament(args))
    if not isinstance(result, TournamentResult):
        return result
    print(results_markdown(result), end="")
    for path in result.files:
        print(f"wrote {path}")
    return 0


def add_sweep(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep", help="one run per point of a grid over the agents' options",
        description="Train the same agents at every point of a grid over their options "
        "(e.g. --grid lr=0.1,0.3,1 eta=0.3,1); writes a run per point, results.md/.csv and a "
        "heatmap of the final joint score.")
    p.add_argument("--agents", nargs=2, default=["lola", "lola"], metavar=("A0", "A1"),
                   help=f"the two agents: {', '.join(agent_names())}")
    p.add_argument("--grid", nargs="+", required=True, metavar="NAME=V1,V2",
                   help="options and their values, e.g. lr=0.1,0.3,1 eta=0.3,1")
    p.add_argument("--out", default="runs/sweep", help="sweep directory")
    _add_common(p, seeds=16, updates=200)
    p.set_defaults(func=run_sweep)


def _sweep(args: argparse.Namespace):
    grid = parse_grid(args.grid)
    sweep_points(args.agents, grid)  # a bad option is an error before a backend starts
    return with_backend(args, lambda backend: sweep(
        args.game or "ipd", args.agents, grid, n_seeds=args.seeds, n_updates=args.updates,
        gamma=0.96 if args.gamma is None else args.gamma, seed=args.seed, out=args.out,
        hparams=_hparams(args), backend=backend, dtype=args.dtype, device=args.device,
        log_every=args.log_every or 1, overwrite=args.overwrite,
        formats=[f for f in args.formats.split(",") if f], report=_reporter(args)))


def run_sweep(args: argparse.Namespace) -> int:
    result = guarded("lola-games sweep", lambda: _sweep(args))
    if not isinstance(result, SweepResult):
        return result
    print(plotting.table_markdown(result.table), end="")
    for path in result.files:
        print(f"wrote {path}")
    return 0

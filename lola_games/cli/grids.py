"""The ``lola-games tournament`` and ``lola-games sweep`` commands (run grids)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from lola_games.agents.base import Agent
from lola_games.analysis import plots as plotting
from lola_games.cli.agent_settings import build_agents, check_shared_taken
from lola_games.cli.errors import guarded
from lola_games.cli.options import parse_agent_spec
from lola_games.cli.train_cmd import check_out
from lola_games.experiments.sweep import ALIASES, SweepResult, parse_grid, sweep, sweep_points
from lola_games.experiments.tournament import tournament
from lola_games.experiments.tournament_presets import PRESETS
from lola_games.experiments.tournament_results import TournamentResult, results_markdown
from lola_games.interop.axelrod import memory_one_strategies
from lola_games.runner.backends import Backend, make_backend

__all__ = ["run_tournament", "run_sweep", "backend_of", "with_backend"]

T = TypeVar("T")


def backend_of(args: argparse.Namespace) -> Backend:
    """The backend of ``--workers``/``--ray``/``--ray-cpus``."""
    return make_backend(args.workers, args.ray, args.ray_cpus)


def _shared(args: argparse.Namespace) -> dict[str, Any]:
    """The shared agent options given on the command line, by key."""
    options = {"lr": args.lr, "eta": args.eta, "alpha": args.alpha, "optimizer": args.optimizer,
               "rollout_len": args.rollout_len, "eps": args.eps}
    return {k: v for k, v in options.items() if v is not None}


def _hparams(args: argparse.Namespace) -> dict[str, Any]:
    options = _shared(args)
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
    if args.no_progress:
        return None

    def report(result, done: int, total: int) -> None:
        what = "done before" if result.skipped else f"{result.seconds:.1f} s"
        print(f"[{done}/{total}] {result.key}: {what}", file=sys.stderr, flush=True)

    return report


def _expand(agents: list[str]) -> list[str]:
    out = []
    for a in agents:
        if a == "axl:memory-one":
            out += [f"axl:{name}" for name in memory_one_strategies()]
        else:
            out.append(a)
    return out



def _entrants(specs: list[str], shared: dict[str, Any]) -> Any:
    """Entrant names as they are, or (per-agent settings given) built agents by label."""
    parsed = [parse_agent_spec(s) for s in specs]
    if not any(own for _, own in parsed):
        check_shared_taken(specs, shared)
        return specs
    agents: list[Agent] = build_agents(specs, shared)
    labels = [name + "".join(f"-{k}{v}" for k, v in own.items()) for name, own in parsed]
    return dict(zip(labels, agents, strict=True))


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
        agents = _entrants(_expand(args.agents), _shared(args))
        game = args.game or "ipd"
        gamma = 0.96 if args.gamma is None else args.gamma
        n_updates = 200 if args.updates is None else args.updates
        log_every = args.log_every or 1
        published = None
        out = args.out or "runs/tournament"
    check_out(out, args.resume, args.overwrite)
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


def _sweep(args: argparse.Namespace):
    grid = parse_grid(args.grid)
    if any(parse_agent_spec(a)[1] for a in args.agents):
        raise ValueError("--agents NAME:KEY=VALUE: sweep sets the agents' options through "
                         "--grid and the shared flags; give plain agent names")
    out = args.out or "runs/sweep"
    check_out(out, args.resume, args.overwrite)
    sweep_points(args.agents, grid)  # a bad option is an error before a backend starts
    return with_backend(args, lambda backend: sweep(
        args.game or "ipd", args.agents, grid, n_seeds=args.seeds,
        n_updates=200 if args.updates is None else args.updates,
        gamma=0.96 if args.gamma is None else args.gamma, seed=args.seed, out=out,
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

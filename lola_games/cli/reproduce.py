"""``lola-games reproduce NAME``: run a published experiment, draw its figures and table."""

from __future__ import annotations

import argparse

from lola_games.analysis import plots as plotting
from lola_games.cli.errors import guarded
from lola_games.cli.grids import add_backend_options, with_backend
from lola_games.experiments.base import EXPERIMENTS, OWN_LOOP, Reproduction
from lola_games.experiments.reproduce import reproduce
from lola_games.runner.backends import Backend

__all__ = ["add_reproduce", "run_reproduce"]


def _add_arguments(p: argparse.ArgumentParser, with_name: bool = True) -> None:
    if with_name:
        p.add_argument("name", choices=[*EXPERIMENTS, *OWN_LOOP], help="the experiment")
    sizes = p.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_const", const="quick", dest="size",
                       help="fewer seeds/updates: under a minute on a laptop CPU")
    sizes.add_argument("--smoke", action="store_const", const="smoke", dest="size",
                       help="tiny run that only checks the pipeline (numbers mean nothing)")
    sizes.add_argument("--size", dest="size",
                       help="a size by name: full, quick, smoke or one of the experiment's "
                       "own (coin-game: cpu; mfos: medium)")
    sizes.add_argument("--medium", action="store_const", const="medium", dest="size",
                       help="mfos only: the quick size with more meta-episodes")
    p.set_defaults(size="full")
    p.add_argument("--out", default=None, help="output directory (default runs/reproduce/NAME)")
    p.add_argument("--figures", default=None, help="directory for the figures (default --out)")
    p.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--seed", type=int, default=0, help="seed of every run")
    p.add_argument("--seeds", type=int, default=None,
                   help="number of seeds (default: the size's)")
    p.add_argument("--overwrite", action="store_true", help="replace runs already in --out")
    p.add_argument("--resume", action="store_true", help="continue runs in --out")
    p.add_argument("--plot-only", action="store_true",
                   help="train nothing: redraw the figures and table from the runs in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_backend_options(p)


def add_reproduce(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``reproduce`` subcommand to the ``lola-games`` command line."""
    lines = "\n".join([*(f"  {n}: {e.description}" for n, e in EXPERIMENTS.items()),
                       *(f"  {n}: {d}" for n, (_, d) in OWN_LOOP.items())])
    p = subparsers.add_parser(
        "reproduce", help="reproduce a paper's experiment: runs, figures and table",
        description=f"Run a published experiment, then draw its figures and table.\n\n{lines}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(p)
    p.set_defaults(func=run_reproduce)
    return p


def _reproduce(args: argparse.Namespace, backend: Backend) -> Reproduction:
    return reproduce(
        args.name, args.out, size=args.size, device=args.device, seed=args.seed,
        figures_dir=args.figures, formats=[f for f in args.formats.split(",") if f],
        overwrite=args.overwrite, resume=args.resume, plot_only=args.plot_only,
        progress=not args.no_progress, backend=backend, n_seeds=args.seeds,
    )


def run_reproduce(args: argparse.Namespace) -> int:
    """The ``reproduce`` command: run, print the table and the files written."""
    result = guarded("lola-games reproduce",
                     lambda: with_backend(args, lambda backend: _reproduce(args, backend)))
    if isinstance(result, int):
        return result
    if args.name in OWN_LOOP:  # its table is already written as markdown
        print(result.files[0].read_text(), end="")
    else:
        print(plotting.table_markdown(result.table), end="")
    for path in result.files:
        print(f"wrote {path}")
    return 0

"""``lola-games reproduce NAME``: run a published experiment, draw its figures and table."""

from __future__ import annotations

import argparse

from lola_games.analysis import plots as plotting
from lola_games.cli.errors import guarded
from lola_games.cli.grids import with_backend
from lola_games.experiments.base import OWN_LOOP, Reproduction
from lola_games.experiments.reproduce import reproduce
from lola_games.runner.backends import Backend

__all__ = ["run_reproduce"]


def _reproduce(args: argparse.Namespace, backend: Backend) -> Reproduction:
    out = args.out or f"runs/reproduce/{args.name}"
    return reproduce(
        args.name, out, size=args.size, device=args.device, seed=args.seed,
        figures_dir=args.figures, formats=[f for f in args.formats.split(",") if f],
        overwrite=args.overwrite, resume=args.resume, plot_only=args.plot_only,
        progress=not args.no_progress, backend=backend, n_seeds=args.seeds,
        trackers=args.log or (),
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

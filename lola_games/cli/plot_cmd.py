"""``lola-games plot RUN_DIR ...``: a logged metric (or the policies) of runs, saved as
figures (`lola_games.analysis.metric_plots`); with ``--evaluation`` the table of the runs'
``evaluation.csv`` (`lola_games.analysis.tables.evaluation_table`) and its figure
(`lola_games.analysis.evaluation_plots.plot_evaluation`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lola_games.analysis.evaluation_plots import plot_evaluation
from lola_games.analysis.figures import save_figure
from lola_games.analysis.metric_plots import plot_runs
from lola_games.analysis.tables import evaluation_table, write_evaluation_table
from lola_games.cli.errors import guarded

__all__ = ["run_plot"]


def run_plot(args: argparse.Namespace) -> int:
    """The ``plot`` command: draw (or tabulate the evaluation), save, print the files written.

    Args:
        args: the parsed ``plot`` options.
    """
    if args.evaluation:
        out = Path(args.out) if args.out else Path(args.runs[0]) / "evaluation_table"
        formats = [f for f in args.formats.split(",") if f]
        files = guarded("lola-games plot", lambda: [
            *write_evaluation_table(evaluation_table(args.runs), out),
            *save_figure(plot_evaluation(args.runs, args.title), out, formats)])
    else:
        files = guarded("lola-games plot", lambda: plot_runs(
            args.runs, args.metric, args.band, args.per, policies=args.policies, out=args.out,
            formats=[f for f in args.formats.split(",") if f], title=args.title))
    if isinstance(files, int):
        return files
    for path in files:
        print(f"wrote {path}")
    return 0

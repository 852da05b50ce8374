"""Joint score against update for one or more run directories (PNG and PDF).

    python scripts/plot_joint_scores.py runs/a runs/b --band ci95 --out figs/joint
    python scripts/plot_joint_scores.py runs/a --policies --table   # also policies and table

One line per run (mean across seeds, shaded std or 95% CI band), legend from each run's label,
the game's reference levels drawn. See :mod:`lola_games.analysis.plots`.
"""

from __future__ import annotations

import argparse
import sys

from lola_games.analysis import plots as plotting


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="run directories (all of the same game)")
    p.add_argument("--band", choices=plotting.BANDS, default="std",
                   help="std: mean +- one standard deviation; ci95: 95%% CI of the mean")
    p.add_argument("--metric", choices=list(plotting.METRICS), default="joint")
    p.add_argument("--out", default="joint_scores", help="output path without suffix")
    p.add_argument("--formats", default="png,pdf", help="comma-separated figure formats")
    p.add_argument("--title", default=None)
    p.add_argument("--labels", nargs="+", default=None, help="legend entries, one per run")
    p.add_argument("--policies", action="store_true",
                   help="also draw the end-of-training policies (<out>_policies)")
    p.add_argument("--table", action="store_true",
                   help="also write the results table (<out>_table.md and .csv) and print it")
    args = p.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    try:
        runs = plotting.as_runs(args.runs)
        fig = plotting.plot_learning_curves(runs, args.metric, args.band, title=args.title,
                                            labels=args.labels)
        files = plotting.save_figure(fig, args.out, formats)
        if args.policies:
            files += plotting.save_figure(plotting.plot_policies(runs), f"{args.out}_policies",
                                          formats)
        if args.table:
            rows = plotting.results_table(runs)
            print(plotting.table_markdown(rows), end="")
            files += plotting.write_table(rows, f"{args.out}_table")
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"plot_joint_scores: error: {e}", file=sys.stderr)
        return 2
    for f in files:
        print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

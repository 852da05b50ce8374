"""Every ``lola-games`` subcommand's parser, torch-free. A subcommand's handler is a lazy
``"module:attr"`` string (``handler``), loaded after parsing by `lola_games.cli.app.main`."""

from __future__ import annotations

import argparse
from typing import Any

from lola_games.cli.names import EXPERIMENT_NAMES, MFOS_OPPONENTS, PRESET_NAMES
from lola_games.cli.options import (
    Formatter,
    Parser,
    add_common,
    add_config_options,
    non_negative_int,
    positive_int,
)
from lola_games.cli.train_args import add_hparams, add_sampled_hparams
from lola_games.core.builtins import builtin_agent_names
from lola_games.core.version import __version__

__all__ = ["build_parser", "AGENTS_HELP"]

AGENTS_HELP = ("agents, each NAME or NAME:KEY=VALUE,... (per-agent settings, e.g. "
               "lola:lr=0.5,eta=1; they win over the shared flags): "
               f"{', '.join(builtin_agent_names())}")


def _sub(subparsers: argparse._SubParsersAction, name: str, handler: str, **kwargs: Any
         ) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, formatter_class=Formatter, **kwargs)
    p.set_defaults(handler=handler, subparser=p)
    return p


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "train", "lola_games.cli.train_cmd:run_train",
             help="train two agents against each other, many seeds at once",
             description="Train two agents against each other for many seeds at once and "
             "write a run directory (config.json, metrics.csv, checkpoint.pt, final_params.pt).")
    p.add_argument("--agents", nargs=2, default=["lola", "lola"], metavar=("A0", "A1"),
                   help=AGENTS_HELP)
    p.add_argument("--updates", type=positive_int, default=200, help="number of updates")
    add_common(p, seeds=64, out_help="run directory to write "
               "(default: runs/train/<game>-<agent0>-<agent1>)")
    p.add_argument("--label", default=None, help="human label of the run")
    p.add_argument("--checkpoint-every", type=positive_int, default=10,
                   help="checkpoint every N updates")
    e = p.add_argument_group("evaluation (IPD and Coin Game runs: evaluation.csv)")
    e.add_argument("--exploiter-updates", type=non_negative_int, default=0, metavar="N",
                   help="train a best-response exploiter for N updates against each frozen "
                        "player and report its gain over the player's self-play score "
                        "(0: none; self-play, always-cooperate and always-defect are always "
                        "evaluated)")
    e.add_argument("--exploiter", default="ppo", metavar="AGENT",
                   help="the exploiter's learner (registry name)")
    _add_log(p)
    add_hparams(p)
    add_sampled_hparams(p)


def _add_grid_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--updates", type=positive_int, default=None,
                   help="updates per run (default: 200, or the preset's)")
    add_common(p, seeds=16, out_help=f"directory to write (default: runs/{p.prog.split()[-1]})")
    p.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated")
    h = p.add_argument_group("agent options (shared: each agent that takes one gets it)")
    h.add_argument("--lr", type=float, default=None, help="own learning rate")
    h.add_argument("--eta", type=float, default=None, help="opponent's assumed learning rate")
    h.add_argument("--alpha", type=float, default=None,
                   help="LA/SOS lookahead rate; Q-learning rate of the online learners")
    h.add_argument("--optimizer", choices=["sgd", "adam"], default=None, help="outer step")
    h.add_argument("--rollout-len", type=int, default=None, help="rounds per episode")
    h.add_argument("--eps", type=float, default=None, help="NL-Q/JAL-Q exploration")
    add_backend_options(p)


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--ray`` (see `lola_games.runner.grid`)."""
    g = p.add_argument_group("where the runs execute (default: one after the other here)")
    g.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="run on N local worker processes")
    g.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="run on a Ray cluster: auto (the cluster this machine is in), "
                        "HOST:PORT or ray://HOST:PORT, or local (start one here); needs "
                        "pip install 'lola-games[ray]'")
    g.add_argument("--ray-cpus", type=positive_int, default=None, metavar="N",
                   help="CPUs of a --ray local instance (default: all)")


def _add_tournament(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "tournament", "lola_games.cli.grids:run_tournament",
             help="round-robin tournament: every pairing, a results matrix, a ranking",
             description="Every pairing of the agents (self-play included) for many seeds; "
             "writes a run per pairing, results.md/.csv (row player's value with 95% CIs, "
             "averages over opponents, ranking), a heatmap and a ranking figure. --resume "
             "skips finished pairings and continues interrupted ones.")
    p.add_argument("--agents", nargs="+", default=None, metavar="AGENT",
                   help=AGENTS_HELP + "; or axl:<Strategy> (an Axelrod strategy, needs "
                   "lola-games[axelrod]), or axl:memory-one (all memory-one strategies)")
    p.add_argument("--preset", choices=PRESET_NAMES, default=None,
                   help="a published tournament: its game, discount, entrants and settings")
    _add_grid_options(p)


def _add_sweep(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "sweep", "lola_games.cli.grids:run_sweep",
             help="one run per point of a grid over the agents' options",
             description="Train the same agents at every point of a grid over their options "
             "(e.g. --grid lr=0.1,0.3,1 eta=0.3,1); writes a run per point, results.md/.csv "
             "and a heatmap of the final joint score.")
    p.add_argument("--agents", nargs=2, default=["lola", "lola"], metavar=("A0", "A1"),
                   help=AGENTS_HELP)
    p.add_argument("--grid", nargs="+", required=True, metavar="NAME=V1,V2",
                   help="options and their values, e.g. lr=0.1,0.3,1 eta=0.3,1")
    _add_grid_options(p)


def _add_log(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log", nargs="+", default=None, choices=["tensorboard", "wandb"],
                   help="also log to these trackers")


def _add_reproduce(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "reproduce", "lola_games.cli.reproduce:run_reproduce",
             help="reproduce a paper's experiment: runs, figures and table",
             description="Run a published experiment, then draw its figures and table.")
    p.add_argument("name", choices=EXPERIMENT_NAMES, help="the experiment")
    sizes = p.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_const", const="quick", dest="size",
                       help="fewer seeds/updates: under two minutes of one CPU core")
    sizes.add_argument("--smoke", action="store_const", const="smoke", dest="size",
                       help="tiny run that only checks the pipeline (numbers mean nothing)")
    sizes.add_argument("--size", dest="size",
                       help="a size by name: full, quick, smoke or one of the experiment's "
                       "own (coin-game: cpu; loqa, advantage-alignment: cpu, paper; "
                       "mfos: medium)")
    sizes.add_argument("--medium", action="store_const", const="medium", dest="size",
                       help="mfos only: the quick size with more meta-episodes")
    p.set_defaults(size="full")
    add_common(p, seeds=None, out_help="output directory (default: runs/reproduce/NAME)",
               dtype=False, game=False, log_every=False)
    p.add_argument("--figures", default=None, help="directory for the figures (default: --out)")
    p.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated")
    p.add_argument("--plot-only", action="store_true",
                   help="train nothing: redraw the figures and table from the runs in --out")
    _add_log(p)
    add_backend_options(p)


def _add_meta_train(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "meta-train", "lola_games.cli.meta_train:run_meta_train",
             help="meta-train M-FOS against a learning opponent (PPO, exact games)",
             description="Meta-train M-FOS and write a meta-training directory (config.json, "
             "mfos.pt, meta_metrics.csv) that the 'mfos' agent loads (--path).")
    p.add_argument("--opponent", choices=MFOS_OPPONENTS, default="naive",
                   help="the learning opponent")
    add_common(p, seeds=1, out_help="meta-training directory (default: runs/meta-train/"
               "<game>-<opponent>); games: ipd, imp, ... or chicken_mfos (one-shot)",
               dtype=False, progress=False, resume=False, log_every=False)
    for field in ("batch_size", "meta_episodes", "inner_steps", "hidden_size"):
        p.add_argument(f"--{field.replace('_', '-')}", type=positive_int, default=None,
                       help=f"M-FOS {field.replace('_', ' ')} (default: MFOSConfig's)")
    for field in ("lr", "entropy", "anneal"):
        p.add_argument(f"--{field}", type=float, default=None,
                       help=f"M-FOS {field} (default: MFOSConfig's)")


def _add_plot(subparsers: argparse._SubParsersAction) -> None:
    p = _sub(subparsers, "plot", "lola_games.cli.plot_cmd:run_plot",
             help="plot a logged metric of one or many runs",
             description="Plot any logged metric of run directories: mean over seeds with a "
             "band (its meaning in the legend), per player or joint; or the memory-one "
             "policies.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories")
    p.add_argument("--metric", default=None,
                   help="logged metric (default: joint score in general-sum games, each "
                   "player's value in zero-sum games such as imp); e.g. own_coin_share")
    p.add_argument("--band", choices=["se", "ci95"], default="se",
                   help="se: mean +- one standard error; ci95: 95 percent CI of the mean")
    p.add_argument("--per", choices=["joint", "player"], default=None,
                   help="one curve per run (joint: mean over players) or per player and run "
                   "(default: the metric's kind)")
    p.add_argument("--policies", action="store_true",
                   help="plot the end-of-training memory-one policies instead")
    p.add_argument("--evaluation", action="store_true",
                   help="write the table of the runs' evaluation.csv instead (scores against "
                        "self-play, always-cooperate, always-defect, an exploiter): "
                        "<out>.md and <out>.csv (default out: <first run>/evaluation_table)")
    p.add_argument("--out", default=None,
                   help="figure path without suffix (default: <first run>/<metric>)")
    p.add_argument("--formats", default="png,pdf", help="figure formats, comma-separated")
    p.add_argument("--title", default=None, help="axes title (default: the game's)")
    add_config_options(p)


def build_parser() -> argparse.ArgumentParser:
    """The ``lola-games`` parser with every subcommand (no torch import)."""
    parser = Parser(prog="lola-games", formatter_class=Formatter,
                    description="Train and study learning agents that shape each other's "
                    "learning in iterated matrix games. Runs on CPU by default, GPU with "
                    "--device cuda.")
    parser.add_argument("--version", action="version", version=f"lola-games {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=Parser)
    _add_train(subparsers)
    _add_reproduce(subparsers)
    _add_tournament(subparsers)
    _add_sweep(subparsers)
    _add_meta_train(subparsers)
    _add_plot(subparsers)
    return parser

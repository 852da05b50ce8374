"""The ``lola-games`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lola_games.agents.base import AGENTS, accepted_hparams, agent_names, make_agent
from lola_games.cli.errors import TRAIN_ERRORS, guarded
from lola_games.cli.grids import add_sweep, add_tournament
from lola_games.cli.meta_train import add_meta_train
from lola_games.cli.reproduce import add_reproduce
from lola_games.core.version import __version__
from lola_games.games.registry import all_game_names
from lola_games.rollouts.games import COIN_POLICIES, MATRIX_POLICIES
from lola_games.runner.outcomes import summary_line
from lola_games.runner.run import Run
from lola_games.runner.training import train


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train two agents against each other, many seeds at once",
        description="Train two agents against each other for many seeds at once and write a "
        "run directory (config.json, metrics.csv, checkpoint.pt, final_params.pt).",
    )
    p.add_argument("--game", default="ipd", help=f"game: {', '.join(all_game_names())}")
    p.add_argument("--agents", nargs=2, default=["lola", "lola"], metavar=("A0", "A1"),
                   help=f"the two agents: {', '.join(agent_names())}")
    p.add_argument("--seeds", type=int, default=64, help="number of seeds, batched")
    p.add_argument("--updates", type=int, default=200, help="number of updates")
    p.add_argument("--gamma", type=float, default=0.96, help="discount in [0, 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the run")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--out", default=None, help="run directory to write")
    p.add_argument("--label", default=None, help="human label of the run")
    p.add_argument("--resume", action="store_true", help="continue --out from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    p.add_argument("--checkpoint-every", type=int, default=10)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_hparams(p)
    _add_sampled_hparams(p)
    p.set_defaults(func=run_train)


def _add_hparams(p: argparse.ArgumentParser) -> None:
    """The agents' options: common, and of the learners of differentiable games."""
    h = p.add_argument_group("agent hyper-parameters (each agent takes those it knows)")
    h.add_argument("--lr", type=float, default=None, help="own learning rate (delta)")
    h.add_argument("--eta", type=float, default=None,
                   help="opponent's assumed learning rate (LOLA's eta, lookahead inner lr)")
    h.add_argument("--alpha", type=float, default=None, help="LA/SOS lookahead rate")
    h.add_argument("--lookahead-steps", type=int, default=None, help="lookahead-lola's k")
    h.add_argument("--optimizer", choices=["sgd", "adam", "adam-reset"], default=None,
                   help="outer step (adam-reset: Adam restarted at every update, as the POLA "
                   "code; sampled agents)")
    h.add_argument("--full-taylor", action="store_true",
                   help="LOLA without the stop-gradient (full first-order Taylor form)")
    h.add_argument("--p", type=float, default=None, help="random agent's P(action 0)")
    d = p.add_argument_group("learners of differentiable games (hola, cola, cgd, sga, co, eg): "
                             "--eta is the look-ahead rate (hola, cola, cgd, eg)")
    d.add_argument("--order", type=int, default=None, help="HOLA's order n")
    d.add_argument("--taylor", action="store_true",
                   help="HOLA in the LOLA paper's Taylor form (default: exact lookahead)")
    d.add_argument("--cola-steps", type=int, default=None,
                   help="COLA: training steps of the update functions")
    d.add_argument("--consensus", type=float, default=None, help="CO's consensus weight")


def _add_sampled_hparams(p: argparse.ArgumentParser) -> None:
    """The options of sampled agents, POLA and M-FOS."""
    s = p.add_argument_group(
        "sampled agents (naive-pg, lola-dice, lola-pg; lola-om samples too): --lr is the outer "
        "rate, --eta the inner lookahead rate (lola-pg: the correction's weight), "
        "--lookahead-steps the number of lookaheads, --optimizer the outer step"
    )
    s.add_argument("--policy", choices=[*MATRIX_POLICIES, *COIN_POLICIES], default=None,
                   help=f"policy network: {', '.join(MATRIX_POLICIES)} on matrix games, "
                   f"{', '.join(COIN_POLICIES)} on the Coin Game")
    s.add_argument("--hidden-size", type=int, default=None, help="MLP/GRU hidden units")
    s.add_argument("--batch-size", type=int, default=None, help="rollouts per update and seed")
    s.add_argument("--rollout-len", type=int, default=None, help="rounds per rollout")
    s.add_argument("--lr-v", type=float, default=None, help="value-baseline learning rate")
    s.add_argument("--no-baseline", action="store_true", help="DiCE without a value baseline")
    s.add_argument("--baseline", choices=["none", "batch-mean", "value"], default=None,
                   help="DiCE baseline: rewards centred by their batch mean, a learned value")
    s.add_argument("--init", choices=["zeros", "normal", "truncated-normal", "uniform"],
                   default=None, help="initial distribution of tabular logits")
    s.add_argument("--init-scale", type=float, default=None, help="scale of --init")
    s.add_argument("--no-magic-box", action="store_true",
                   help="LOLA-DiCE without the magic box (first-order surrogate)")
    s.add_argument("--metric", choices=["reward", "discounted"], default=None,
                   help="logged value: mean reward per round or normalised discounted return")
    s.add_argument("--opponent-model", action="store_true",
                   help="lola-dice: fit and shape a model of the opponent instead of reading it")
    s.add_argument("--lr-om", type=float, default=None, help="opponent model's step size")
    s.add_argument("--om-batch-size", type=int, default=None,
                   help="rounds per minibatch of the opponent model's fit")
    s.add_argument("--om-epochs", type=int, default=None,
                   help="rollouts the opponent model is fitted on per update (pola-om too)")
    s.add_argument("--no-corrections", action="store_true",
                   help="lola-pg without the LOLA correction (the LOLA paper's NL-PG)")
    g = p.add_argument_group("pola (--lr is lr_out, --eta is lr_in, --policy tabular or mlp)")
    g.add_argument("--beta-out", type=float, default=None, help="outer proximity weight")
    g.add_argument("--beta-in", type=float, default=None, help="inner proximity weight")
    g.add_argument("--outer-steps", type=int, default=None, help="outer steps per update")
    g.add_argument("--inner-steps", type=int, default=None, help="inner (opponent) steps")
    g.add_argument("--divergence", choices=["kl", "l2"], default=None, help="proximity term")
    m = p.add_argument_group("mfos")
    m.add_argument("--path", default=None, help="the meta-training directory to load")


def train_hparams(args: argparse.Namespace) -> dict[str, Any]:
    """The agents' hyper-parameters given on the ``train`` command line (unset ones left out;
    the sampled agents' names of the same options added)."""
    hparams = {
        "lr": args.lr,
        "eta": args.eta,
        "alpha": args.alpha,
        "lookahead_steps": args.lookahead_steps,
        "optimizer": args.optimizer,
        "p": args.p,
        "policy": args.policy,
        "hidden_size": args.hidden_size,
        "batch_size": args.batch_size,
        "rollout_len": args.rollout_len,
        "lr_v": args.lr_v,
        "baseline": args.baseline,
        "init": args.init,
        "init_scale": args.init_scale,
        "metric": args.metric,
        "lr_om": args.lr_om,
        "om_batch_size": args.om_batch_size,
        "om_epochs": args.om_epochs,
        "magic_box": False if args.no_magic_box else None,
        "opponent_model": True if args.opponent_model else None,
        "corrections": False if args.no_corrections else None,
        "beta_out": args.beta_out,
        "beta_in": args.beta_in,
        "outer_steps": args.outer_steps,
        "inner_steps": args.inner_steps,
        "divergence": args.divergence,
        "path": args.path,
        "order": args.order,
        "steps": args.cola_steps,
        "consensus": args.consensus,
        "taylor": True if args.taylor else None,
    }
    hparams = {k: v for k, v in hparams.items() if v is not None}
    # the sampled agents' names for the same three options
    for name, alias in (("lr", "lr_out"), ("eta", "lr_in"), ("lookahead_steps", "n_lookaheads"),
                        ("om_epochs", "om_batches")):  # pola-om: model-fitting rollouts
        if name in hparams:
            hparams[alias] = hparams[name]
    if args.full_taylor:
        hparams["stop_gradient"] = False
    if args.no_baseline:
        hparams["baseline"] = False
    return hparams


def _train(args: argparse.Namespace, hparams: dict[str, Any]) -> Run:
    check_opponent_model(args.agents, hparams)
    agents = [make_agent(name, ignore_unknown=True, **hparams) for name in args.agents]
    return train(
        args.game,
        agents,
        n_seeds=args.seeds,
        n_updates=args.updates,
        gamma=args.gamma,
        device=args.device,
        seed=args.seed,
        out_dir=args.out,
        dtype=args.dtype,
        label=args.label,
        resume=args.resume,
        overwrite=args.overwrite,
        checkpoint_every=args.checkpoint_every,
        progress=not args.no_progress,
    )


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` command: build the agents, train, print a one-line summary."""
    hparams = train_hparams(args)
    run = guarded("lola-games train", lambda: _train(args, hparams), TRAIN_ERRORS)
    if isinstance(run, int):
        return run
    print(summary_line(run))
    if run.path is not None:
        print(f"run written to {run.path}")
    return 0


def check_opponent_model(names: list[str], hparams: dict[str, Any]) -> None:
    """``--opponent-model`` must reach an agent: an exact learner (e.g. ``pola``) would
    otherwise silently run without one.

    Args:
        names: the agents' registry names.
        hparams: the command line's hyper-parameters.

    Raises:
        ValueError: ``--opponent-model`` and no agent that takes an opponent model.
    """
    if not hparams.get("opponent_model"):
        return
    takes = [n for n in names if n in ("pola-om", "lola-om") or (
        n in AGENTS and "opponent_model" in accepted_hparams(AGENTS[n]))]
    if not takes:
        raise ValueError(
            f"--opponent-model: none of the agents {', '.join(names)} fits an opponent model "
            f"(sampled learners do: lola-dice, pola-dice; pola-om and lola-om always model "
            f"their opponent)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lola-games",
        description="Train and study learning agents that shape each other's learning "
        "in iterated matrix games.",
    )
    parser.add_argument("--version", action="version", version=f"lola-games {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(subparsers)
    add_reproduce(subparsers)
    add_tournament(subparsers)
    add_sweep(subparsers)
    add_meta_train(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""``lola-games train``: build the agents, train one run, write it and say where."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lola_games.agents.base import accepted_hparams
from lola_games.agents.registry import AGENTS
from lola_games.cli.agent_settings import build_agents
from lola_games.cli.errors import TRAIN_ERRORS, guarded
from lola_games.cli.options import parse_agent_spec
from lola_games.runner.outcomes import summary_line
from lola_games.runner.run import Run
from lola_games.runner.training import train

__all__ = ["run_train", "train_hparams", "check_opponent_model", "default_out", "check_out"]


def train_hparams(args: argparse.Namespace) -> dict[str, Any]:
    """The shared agent options given on the ``train`` command line, by key (unset ones left
    out); `lola_games.cli.agent_settings.build_agents` hands each agent those it takes."""
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
    if args.full_taylor:
        hparams["stop_gradient"] = False
    if args.no_baseline:
        hparams["baseline"] = False
    return hparams



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




def default_out(game: str, agents: list[str]) -> str:
    """``runs/train/<game>-<agent0>-<agent1>`` (agent names without their settings)."""
    names = [parse_agent_spec(a)[0].replace(":", "-") for a in agents]
    return str(Path("runs") / "train" / "-".join([game, *names]))


def check_out(out: str | Path, resume: bool, overwrite: bool) -> None:
    """A directory that holds results needs ``--resume`` or ``--overwrite``.

    Args:
        out: the output directory.
        resume: ``--resume`` was given.
        overwrite: ``--overwrite`` was given.

    Raises:
        ValueError: ``out`` holds files and neither flag was given (naming both).
    """
    path = Path(out)
    if not str(out) or resume or overwrite or not path.is_dir() or not any(path.iterdir()):
        return
    raise ValueError(f"--out {out} already holds results: pass --resume to continue them or "
                     f"--overwrite to replace them")


def _train(args: argparse.Namespace, hparams: dict[str, Any]) -> Run:
    game = args.game or "ipd"
    out = default_out(game, args.agents) if args.out is None else args.out
    check_out(out, args.resume, args.overwrite)
    check_opponent_model([parse_agent_spec(a)[0] for a in args.agents], hparams)
    agents = build_agents(args.agents, hparams)
    extra: dict[str, Any] = {"trackers": args.log} if args.log else {}
    return train(game, agents, n_seeds=args.seeds, n_updates=args.updates,
                 gamma=0.96 if args.gamma is None else args.gamma, device=args.device,
                 seed=args.seed, out_dir=out, dtype=args.dtype, label=args.label,
                 resume=args.resume, overwrite=args.overwrite,
                 checkpoint_every=args.checkpoint_every, log_every=args.log_every or 1,
                 progress=not args.no_progress, exploiter_updates=args.exploiter_updates,
                 exploiter=args.exploiter, **extra)


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` command: build the agents, train, print a summary and where it wrote.

    Args:
        args: the parsed ``train`` options.
    """
    hparams = train_hparams(args)
    run = guarded("lola-games train", lambda: _train(args, hparams), TRAIN_ERRORS)
    if isinstance(run, int):
        return run
    print(summary_line(run))
    if run.path is not None:
        print(f"run written to {run.path}")
    return 0

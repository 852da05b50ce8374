"""``lola-games meta-train``: meta-train M-FOS against a learning opponent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lola_games.agents.mfos.meta import (
    OPPONENTS,
    MetaTraining,
    MFOSConfig,
    meta_train,
    mfos_chicken,
)
from lola_games.cli.errors import TRAIN_ERRORS, guarded

__all__ = ["add_meta_train", "run_meta_train"]


def add_meta_train(subparsers: Any) -> Any:
    """The ``lola-games meta-train`` subcommand."""
    p = subparsers.add_parser(
        "meta-train", help="meta-train M-FOS against a learning opponent (PPO, exact games)",
        description="Meta-train M-FOS and write a meta-training directory (config.json, "
        "mfos.pt, meta_metrics.csv) that the 'mfos' agent loads (--path).")
    p.add_argument("--game", default="ipd", help="ipd, imp, ... or chicken_mfos (one-shot)")
    p.add_argument("--opponent", choices=OPPONENTS, default="naive")
    p.add_argument("--seeds", type=int, default=1, help="meta-training runs, batched")
    p.add_argument("--out", required=True, help="meta-training directory to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--overwrite", action="store_true")
    for field in ("batch_size", "meta_episodes", "inner_steps", "hidden_size"):
        p.add_argument(f"--{field.replace('_', '-')}", type=int, default=None)
    for field in ("lr", "entropy", "anneal"):
        p.add_argument(f"--{field}", type=float, default=None)
    p.set_defaults(func=run_meta_train)
    return p


def _meta_train(args: Any) -> MetaTraining:
    fields = ("batch_size", "meta_episodes", "inner_steps", "hidden_size", "lr", "entropy",
              "anneal")
    cfg = replace(MFOSConfig(), **{f: getattr(args, f) for f in fields
                                   if getattr(args, f) is not None})
    game, gamma = args.game, None
    if game == "chicken_mfos":
        game, gamma = mfos_chicken(), 0.0
    return meta_train(game, args.opponent, args.seeds, cfg, gamma=gamma, seed=args.seed,
                      device=args.device, out_dir=args.out, overwrite=args.overwrite)


def run_meta_train(args: Any) -> int:
    """The ``meta-train`` command: train, print the final rewards, return an exit code."""
    run = guarded("lola-games meta-train", lambda: _meta_train(args), TRAIN_ERRORS)
    if isinstance(run, int):
        return run
    final = run.final_rewards()
    print(f"M-FOS vs {args.opponent} on {run.game.name}: reward per step over the last "
          f"{min(50, run.rewards.shape[0])} meta-episodes {final[0].nanmean():.3f} "
          f"(opponent {final[1].nanmean():.3f}); written to {args.out}")
    return 0

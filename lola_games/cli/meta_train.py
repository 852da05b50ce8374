"""``lola-games meta-train``: meta-train M-FOS against a learning opponent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lola_games.agents.mfos import (
    MetaTraining,
    MFOSConfig,
    meta_train,
    mfos_chicken,
)
from lola_games.cli.errors import TRAIN_ERRORS, guarded

__all__ = ["run_meta_train", "meta_train_out"]


def _meta_train(args: Any) -> MetaTraining:
    fields = ("batch_size", "meta_episodes", "inner_steps", "hidden_size", "lr", "entropy",
              "anneal")
    cfg = replace(MFOSConfig(), **{f: getattr(args, f) for f in fields
                                   if getattr(args, f) is not None})
    game, gamma = args.game or "ipd", args.gamma
    if game == "chicken_mfos":  # one-shot
        game, gamma = mfos_chicken(), 0.0
    return meta_train(game, args.opponent, args.seeds, cfg, gamma=gamma, seed=args.seed,
                      device=args.device, out_dir=meta_train_out(args), overwrite=args.overwrite)


def meta_train_out(args: Any) -> str:
    """``--out``, or ``runs/meta-train/<game>-<opponent>``."""
    return args.out or f"runs/meta-train/{args.game or 'ipd'}-{args.opponent}"


def run_meta_train(args: Any) -> int:
    """The ``meta-train`` command: train, print the final rewards, return an exit code."""
    run = guarded("lola-games meta-train", lambda: _meta_train(args), TRAIN_ERRORS)
    if isinstance(run, int):
        return run
    final = run.final_rewards()
    print(f"M-FOS vs {args.opponent} on {run.game.name}: reward per step over the last "
          f"{min(50, run.rewards.shape[0])} meta-episodes {final[0].nanmean():.3f} "
          f"(opponent {final[1].nanmean():.3f}); written to {meta_train_out(args)}")
    return 0

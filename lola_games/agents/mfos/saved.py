"""Saved M-FOS meta-trainings: `MetaTraining`, and its directory (``config.json``,
``mfos.pt``, ``meta_metrics.csv``; see `lola_games.agents.mfos.meta`)."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import game_from_spec

__all__ = ["FORMAT", "MetaTraining", "save_meta_training", "load_meta_training", "read_config",
           "read_params", "read_rewards"]

FORMAT = 1
"""Format of the meta-training directory."""


@dataclass
class MetaTraining:
    """A meta-training run: its settings, the trained params ``[S, ...]`` (one actor-critic
    per seed; two with meta-self-play), and the reward log ``[E, 2, S]`` (per meta-episode:
    the meta-agent's and the opponent's mean reward per step; with meta-self-play both
    meta-agents', NaN in episodes played against naive learners)."""

    config: dict[str, Any]
    game: MatrixGame
    params: list[dict[str, Tensor]]
    rewards: Tensor
    path: Path | None = None

    def final_rewards(self, last: int = 50) -> Tensor:
        """Mean reward per step over the last ``last`` meta-episodes (NaN-aware): ``[2, S]``."""
        return self.rewards[-last:].nanmean(0)


def save_meta_training(out: Path, run: MetaTraining) -> None:
    (out / "config.json").write_text(json.dumps(run.config, indent=2) + "\n")
    torch.save({"params": [{k: v.cpu() for k, v in p.items()} for p in run.params]},
               out / "mfos.pt")
    with open(out / "meta_metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["meta_episode", "seed", "reward_0", "reward_1"])
        for e in range(run.rewards.shape[0]):
            for s in range(run.rewards.shape[2]):
                w.writerow([e + 1, s, repr(float(run.rewards[e, 0, s])),
                            repr(float(run.rewards[e, 1, s]))])


def load_meta_training(path: str | os.PathLike, map_location: Any = "cpu") -> MetaTraining:
    """Read a meta-training directory (JSON and tensors only; nothing in it is run).

    Raises:
        FileNotFoundError: missing files; ValueError: damaged or foreign files.
    """
    path = Path(path)
    for name in ("config.json", "mfos.pt"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path} is not an M-FOS meta-training directory: no {name}")
    config = read_config(path / "config.json")
    params = read_params(path / "mfos.pt", config, map_location)
    game = game_from_spec(config["game_spec"])
    rewards = read_rewards(path / "meta_metrics.csv", params[0]["actor.0.bias"].shape[0])
    return MetaTraining(config, game, params, rewards, path)


def read_config(path: Path) -> dict[str, Any]:
    """A meta-training's ``config.json``.

    Raises:
        ValueError: damaged, not an M-FOS config, or of an unknown format.
    """
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is damaged: {err}") from None
    if not isinstance(config, dict) or config.get("kind") != "mfos":
        raise ValueError(f"{path} is not an M-FOS meta-training config")
    if config.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown format {config.get('format')!r}")
    return config


def read_params(path: Path, config: dict[str, Any], map_location: Any
                ) -> list[dict[str, Tensor]]:
    """The actor-critic params ``[S, ...]`` in ``mfos.pt`` (``weights_only``), checked against
    the shapes ``config`` gives.

    Raises:
        ValueError: damaged, not an M-FOS file, or params that do not match ``config``.
    """
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is damaged or not an M-FOS file: "
                         f"{str(err).splitlines()[0][:200] if str(err) else type(err).__name__}"
                         ) from None
    params = blob.get("params") if isinstance(blob, dict) else None
    d, hidden = config.get("policy_dim"), config.get("mfos", {}).get("hidden_size")
    if not isinstance(params, list) or not params:
        raise ValueError(f"{path} holds no actor-critic params")
    if not isinstance(d, int) or not isinstance(hidden, int) or not all(
            _matches(p, d, hidden) for p in params):
        raise ValueError(f"{path}: params do not match config.json "
                         f"(policy_dim {d}, hidden_size {hidden})")
    return params


def _matches(params: Any, d: int, hidden: int) -> bool:
    expected = {"actor.0.weight": (hidden, 2 * d), "actor.0.bias": (hidden,),
                "actor.1.weight": (2 * d, hidden), "actor.1.bias": (2 * d,),
                "critic.0.weight": (hidden, 2 * d), "critic.0.bias": (hidden,),
                "critic.1.weight": (1, hidden), "critic.1.bias": (1,)}
    return isinstance(params, dict) and set(params) == set(expected) and all(
        isinstance(params[k], Tensor) and tuple(params[k].shape[1:]) == s
        and params[k].is_floating_point() for k, s in expected.items())


def read_rewards(path: Path, n_seeds: int) -> Tensor:
    """The reward log ``[E, 2, S]`` of ``meta_metrics.csv`` (``E = 0`` without one)."""
    rewards = torch.empty(0, 2, n_seeds, dtype=torch.float64)
    if path.is_file():
        rows = list(csv.DictReader(path.open()))
        if rows:
            n_episodes = max(int(r["meta_episode"]) for r in rows)
            rewards = torch.full((n_episodes, 2, n_seeds), float("nan"), dtype=torch.float64)
            for r in rows:
                e, s = int(r["meta_episode"]) - 1, int(r["seed"])
                rewards[e, 0, s], rewards[e, 1, s] = float(r["reward_0"]), float(r["reward_1"])
    return rewards

"""Saved M-FOS meta-trainings: `MetaTraining`, and its directory (``config.json``,
``mfos.pt``, ``meta_metrics.csv``; see `lola_games.agents.mfos`)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lola_games.core.files import atomic_write, read_untrusted_json, write_csv, write_json
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import game_from_spec

__all__ = ["FORMAT", "MetaTraining", "save_meta_training", "load_meta_training", "read_config",
           "read_params", "read_rewards", "SAVED_FILES"]

SAVED_FILES = ("config.json", "mfos.pt", "meta_metrics.csv")
"""The files of a meta-training directory."""

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
    """Write ``run`` into the directory ``out`` (each file atomically; links refused).

    Args:
        out: an existing directory.
        run: the meta-training.
    """
    write_json(out / "config.json", run.config)
    payload = {"params": [{k: v.cpu() for k, v in p.items()} for p in run.params]}
    atomic_write(out / "mfos.pt", lambda f: torch.save(payload, f))
    rows: list[list[Any]] = [["meta_episode", "seed", "reward_0", "reward_1"]]
    for e in range(run.rewards.shape[0]):
        for s in range(run.rewards.shape[2]):
            rows.append([e + 1, s, repr(float(run.rewards[e, 0, s])),
                         repr(float(run.rewards[e, 1, s]))])
    write_csv(out / "meta_metrics.csv", rows)


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
    try:
        game = game_from_spec(config["game_spec"])
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path / 'config.json'}: field 'game_spec' is not a game: {e}"
                         ) from None
    n_seeds = params[0]["actor.0.bias"].shape[0]
    rewards = read_rewards(path / "meta_metrics.csv", n_seeds,
                           int(config["mfos"]["meta_episodes"]))
    return MetaTraining(config, game, params, rewards, path)


MAX_CONFIG_BYTES = 1 << 20
"""The largest ``config.json`` read."""
MAX_JSON_DEPTH = 32
"""The deepest nesting of ``config.json`` read."""
MAX_METRICS_BYTES = 1 << 30
"""The largest ``meta_metrics.csv`` read."""
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "game_spec": dict, "gamma": (int, float), "opponent": str, "n_seeds": int,
    "seed": int, "policy_dim": int, "mfos": dict}
_MFOS_FIELDS = {"hidden_size": int, "meta_episodes": int}


def read_config(path: Path) -> dict[str, Any]:
    """A meta-training's ``config.json`` (bounded in size and nesting; fields checked).

    Args:
        path: the file.

    Raises:
        ValueError: damaged, not an M-FOS config, of an unknown format, or a missing or
            mistyped field (named).
    """
    config = read_untrusted_json(path, MAX_CONFIG_BYTES, MAX_JSON_DEPTH)
    if not isinstance(config, dict) or config.get("kind") != "mfos":
        raise ValueError(f"{path} is not an M-FOS meta-training config")
    if config.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown format {config.get('format')!r}")
    for table, fields, prefix in ((config, _FIELDS, ""),
                                  (config.get("mfos"), _MFOS_FIELDS, "mfos.")):
        for name, kind in fields.items():
            v = table.get(name) if isinstance(table, dict) else None
            bad_int = isinstance(v, int) and name != "seed" and not 1 <= v < 2 ** 31
            if isinstance(v, bool) or not isinstance(v, kind) or bad_int:
                raise ValueError(f"{path}: field {prefix}{name!r} is missing or not a valid "
                                 f"{getattr(kind, '__name__', 'number')}: {v!r}")
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


def read_rewards(path: Path, n_seeds: int, n_episodes: int) -> Tensor:
    """The reward log ``[E, 2, S]`` of ``meta_metrics.csv`` (``E = 0`` without one).

    Args:
        path: the file.
        n_seeds: seeds ``S`` of the params.
        n_episodes: meta-episodes of the config (the most ``E`` may be).

    Raises:
        ValueError: a damaged file, or a row whose episode or seed is out of range (named).
    """
    rewards = torch.empty(0, 2, n_seeds, dtype=torch.float64)
    if not path.is_file():
        return rewards
    if path.is_symlink() or path.stat().st_size > MAX_METRICS_BYTES:
        raise ValueError(f"{path} is damaged: a link or larger than {MAX_METRICS_BYTES} bytes")
    try:
        with path.open(newline="") as f:
            rows = [(int(r["meta_episode"]), int(r["seed"]), float(r["reward_0"]),
                     float(r["reward_1"])) for r in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError, csv.Error) as err:
        raise ValueError(f"{path} is damaged: {type(err).__name__}: {err}") from None
    for line, (e, s, _, _) in enumerate(rows, start=2):
        if not 1 <= e <= n_episodes:
            raise ValueError(f"{path}, line {line}: meta_episode {e} is outside 1 to "
                             f"{n_episodes} (config.json's meta_episodes)")
        if not 0 <= s < n_seeds:
            raise ValueError(f"{path}, line {line}: seed {s} is outside 0 to {n_seeds - 1}")
    if rows:
        rewards = torch.full((max(r[0] for r in rows), 2, n_seeds), float("nan"),
                             dtype=torch.float64)
        for e, s, r0, r1 in rows:
            rewards[e - 1, 0, s], rewards[e - 1, 1, s] = r0, r1
    return rewards

"""A finished (or interrupted) run as data: `Run`, and `load_run` that reads a run directory.

Conventions: values are rewards per step; every metric is ``[U, P, S]`` (logged update,
player, seed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lola_games.runner.config import game_of, read_config
from lola_games.runner.evaluation_io import read_evaluation
from lola_games.runner.files import CONFIG, METRICS, RunDirectoryError
from lola_games.runner.metrics_io import (
    LoggedUpdate,
    read_header,
    scan_metrics,
    stack_updates,
    to_metrics,
)

__all__ = ["Run", "load_run"]


@dataclass
class Run:
    """A run's configuration and named metrics.

    Attributes:
        config: the parsed ``config.json`` (see the module docstring).
        game: the game played.
        updates: ``[U]`` update index of each logged row group (0 = before any update).
        metrics: metric name -> ``[U, P, S]`` (logged update, player, seed); always holds
            ``"value"`` (each player's score, reward per step).
        path: the run directory, or ``None``.
        final_params: the players' final params when known (returned by ``train``).
        evaluation: the rows of ``evaluation.csv`` (scores against itself, always-cooperate,
            always-defect and an exploiter; see `lola_games.runner.evaluation_io`), or
            ``None`` for a run without one.
    """

    config: dict[str, Any]
    game: Any
    updates: np.ndarray
    metrics: dict[str, np.ndarray]
    path: Path | None = None
    final_params: tuple[Any, ...] | None = None
    evaluation: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        """One line: game, agents, seeds, updates and path (not the metrics arrays)."""
        agents = [a.get("name", "?") if isinstance(a, dict) else str(a)
                  for a in self.config.get("agents", [])]
        last = int(self.updates[-1]) if len(self.updates) else 0
        return (f"Run(game={getattr(self.game, 'name', self.game)!r}, agents={agents!r}, "
                f"seeds={self.n_seeds}, updates={last}/{self.config.get('n_updates', '?')} "
                f"({len(self.updates)} logged), metrics={list(self.metrics)!r}, "
                f"path={None if self.path is None else str(self.path)!r})")

    @property
    def n_players(self) -> int:
        return self.metrics["value"].shape[1]

    @property
    def n_seeds(self) -> int:
        return self.metrics["value"].shape[2]

    @property
    def label(self) -> str:
        return str(self.config.get("label", self.path.name if self.path else "run"))

    def metric(self, name: str, player: int | None = None) -> np.ndarray:
        """``[U, S]`` metric ``name`` of ``player``, or ``[U, P, S]`` when ``player`` is None."""
        if name not in self.metrics:
            raise KeyError(f"run {self.label!r} has no metric {name!r}; it has "
                           f"{', '.join(self.metrics)}")
        values = self.metrics[name]
        if player is None:
            return values
        if not 0 <= player < self.n_players:
            raise IndexError(f"player {player} out of range for {self.n_players} players")
        return values[:, player]

    @property
    def value_0(self) -> np.ndarray:
        """``[U, S]`` player 0's value (reward per step)."""
        return self.metric("value", 0)

    @property
    def value_1(self) -> np.ndarray:
        """``[U, S]`` player 1's value (reward per step)."""
        return self.metric("value", 1)

    @property
    def joint_score(self) -> np.ndarray:
        """``[U, S]`` mean per-step value of all players."""
        return self.metrics["value"].mean(axis=1)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Memory-one states with a logged ``p_<state>`` metric, in the game's order."""
        names = getattr(self.game, "state_names", ())
        return tuple(s for s in names if f"p_{s}" in self.metrics)

    @property
    def memory_one(self) -> bool:
        """Whether the run logged P(action 0) in every memory-one state of its game."""
        names = getattr(self.game, "state_names", ())
        return bool(names) and len(self.state_names) == len(names)

    def probs(self, player: int) -> np.ndarray:
        """``[U, S, n_states]`` P(action 0) per memory-one state of ``player`` (own side)."""
        if not self.memory_one:
            raise KeyError(f"run {self.label!r} logged no memory-one probabilities")
        return np.stack([self.metric(f"p_{s}", player) for s in self.game.state_names], -1)

    @property
    def probs_0(self) -> np.ndarray:
        """``[U, S, 5]`` player 0's P(action 0) per memory-one state."""
        return self.probs(0)

    @property
    def probs_1(self) -> np.ndarray:
        """``[U, S, 5]`` player 1's P(action 0) per memory-one state."""
        return self.probs(1)


def load_run(path: str | os.PathLike) -> Run:
    """Read a run directory (format 1 or 2), streaming ``metrics.csv``.

    A trailing update with fewer rows than seeds (a run killed while writing) is dropped;
    ``evaluation.csv`` is read when the run has one.
    Nothing in the directory is executed: ``config.json`` is JSON, checked field by field.

    Raises:
        FileNotFoundError: ``path`` has no ``config.json`` or ``metrics.csv``.
        RunDirectoryError (a ``ValueError``): a damaged or inconsistent file, named.
    """
    path = Path(path)
    config = read_config(path)
    metrics_path = path / METRICS
    if not metrics_path.exists() and not metrics_path.is_symlink():
        raise FileNotFoundError(f"{path} is not a run directory: no {METRICS}")
    game = game_of(config, path)
    names, n_players, order, _ = read_header(metrics_path, config.get("format", 1))
    if n_players != len(config["agents"]):
        raise RunDirectoryError(f"{metrics_path}: {n_players} players in the columns, "
                                f"{len(config['agents'])} agents in {CONFIG}")
    n_seeds = config["n_seeds"]
    groups = [LoggedUpdate(u, to_metrics(x, names, n_players, order))
              for u, x, _ in scan_metrics(metrics_path, n_seeds)]
    updates, metrics = stack_updates(groups, names, n_players, n_seeds)
    return Run(config=config, game=game, updates=updates, metrics=metrics, path=path,
               evaluation=read_evaluation(path))


"""Run directories: the writer used while training and :func:`load_run` to read one back.

A run directory holds:

* ``config.json`` -- ``game`` (name), ``game_payoffs`` and ``action_names`` (so a custom game
  can be rebuilt), ``agents`` (a list of two ``{"name", "hparams"}``), ``n_seeds``,
  ``n_updates``, ``gamma``, ``seed``, ``device``, ``dtype``, ``mode`` (``"exact"`` or
  ``"sampled"``), ``label`` (for humans and plot legends) and ``version`` (of the package).
* ``metrics.csv`` -- one row per (update, seed), update 0 being before any update::

      update,seed,value_0,value_1,p0_start,p0_CC,p0_CD,p0_DC,p0_DD,p1_start,...,p1_DD

  ``value_i`` is player i's value as reward per step; ``pi_<state>`` is player i's
  probability of action 0 in that memory-one state, from its own side (state names from
  ``game.state_names``). Rows are appended and flushed as the run goes, so an interrupted run
  keeps what it logged. Numbers are written with full precision.
* ``checkpoint.pt`` -- what :func:`lola_games.train.train` needs to resume (params, agent
  states, RNG state, update index), written atomically.
* ``final_params.pt`` -- both players' final params, ``{"params": (p0, p1)}``.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lola_games.games import GAMES, MatrixGame

__all__ = ["RunWriter", "Run", "load_run", "metric_columns"]

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.pt"
FINAL = "final_params.pt"


def metric_columns(game: MatrixGame) -> list[str]:
    """Header of ``metrics.csv`` for ``game``."""
    probs = [f"p{i}_{s}" for i in range(2) for s in game.state_names]
    return ["update", "seed", "value_0", "value_1", *probs]


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class RunWriter:
    """Writes one run directory as training goes.

    Args:
        path: the run directory (created if missing).
        config: the run's configuration (see module docstring), written to ``config.json``.
        game: the game (for the CSV header).
        resume: keep an existing directory and continue it: metrics logged after the last
            checkpoint are dropped (they will be recomputed). Without ``resume`` an existing
            run directory is an error unless ``overwrite``.
        overwrite: start afresh in a directory that already holds a run.

    Raises:
        FileExistsError: the directory holds a run and neither ``resume`` nor ``overwrite``.
        FileNotFoundError: ``resume`` but there is no checkpoint to resume from.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        config: dict[str, Any],
        game: MatrixGame,
        *,
        resume: bool = False,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        self.columns = metric_columns(game)
        self.n_states = len(game.state_names)
        has_run = (self.path / CONFIG).exists()
        if resume:
            if not (self.path / CHECKPOINT).exists():
                raise FileNotFoundError(f"cannot resume: no {CHECKPOINT} in {self.path}")
            last = int(self.load_checkpoint()["update"])
            self._truncate_metrics(last)
        elif has_run and not overwrite:
            raise FileExistsError(
                f"{self.path} already holds a run; resume it or choose another directory"
            )
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            for name in (METRICS, CHECKPOINT, FINAL):
                (self.path / name).unlink(missing_ok=True)
        with open(self.path / CONFIG, "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        new_file = not (self.path / METRICS).exists()
        self._file = open(self.path / METRICS, "a", newline="")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        if new_file:
            self._csv.writerow(self.columns)
            self._file.flush()

    def _truncate_metrics(self, last_update: int) -> None:
        path = self.path / METRICS
        if not path.exists():
            return
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        width = len(rows[0])
        keep = [rows[0]] + [r for r in rows[1:] if len(r) == width and int(r[0]) <= last_update]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows(keep)
        os.replace(tmp, path)

    def log(self, update: int, values: np.ndarray, probs: np.ndarray) -> None:
        """Append the rows of one update: ``values [2, S]``, ``probs [2, S, 5]``; flush."""
        values = np.asarray(values, dtype=np.float64)
        probs = np.asarray(probs, dtype=np.float64)
        n_seeds = values.shape[1]
        if values.shape != (2, n_seeds) or probs.shape != (2, n_seeds, self.n_states):
            raise ValueError(
                f"expected values [2, S] and probs [2, S, {self.n_states}], "
                f"got {list(values.shape)} and {list(probs.shape)}"
            )
        for s in range(n_seeds):
            row = [update, s, repr(float(values[0, s])), repr(float(values[1, s]))]
            row += [repr(float(x)) for x in probs[0, s]] + [repr(float(x)) for x in probs[1, s]]
            self._csv.writerow(row)
        self._file.flush()

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Write ``checkpoint.pt`` atomically (must hold the key ``"update"``)."""
        _atomic_save(checkpoint, self.path / CHECKPOINT)

    def load_checkpoint(self, map_location: Any = None) -> dict[str, Any]:
        """Read ``checkpoint.pt``."""
        return torch.load(self.path / CHECKPOINT, map_location=map_location, weights_only=False)

    def save_final(self, params: tuple[Any, Any]) -> None:
        """Write ``final_params.pt``."""
        _atomic_save({"params": params}, self.path / FINAL)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class Run:
    """A run's configuration and metrics.

    Attributes:
        config: the parsed ``config.json`` (empty for a run made without a directory).
        game: the game played.
        updates: ``[U]`` update index of each logged row group (0 = before any update).
        value_0, value_1: ``[U, S]`` each player's value as reward per step.
        probs_0, probs_1: ``[U, S, 5]`` each player's P(action 0) per memory-one state
            (start, CC, CD, DC, DD), from its own side.
        path: the run directory, or ``None``.
        final_params: both players' final params when known (returned by ``train``).
    """

    config: dict[str, Any]
    game: MatrixGame
    updates: np.ndarray
    value_0: np.ndarray
    value_1: np.ndarray
    probs_0: np.ndarray
    probs_1: np.ndarray
    path: Path | None = None
    final_params: tuple[Any, Any] | None = None

    @property
    def n_seeds(self) -> int:
        return self.value_0.shape[1]

    @property
    def label(self) -> str:
        return str(self.config.get("label", self.path.name if self.path else "run"))

    @property
    def joint_score(self) -> np.ndarray:
        """``[U, S]`` mean per-step reward of the two players."""
        return 0.5 * (self.value_0 + self.value_1)


def _game_from_config(config: dict[str, Any]) -> MatrixGame:
    name = config.get("game")
    if name in GAMES and "game_payoffs" not in config:
        return GAMES[name]
    if name in GAMES and np.array_equal(GAMES[name].payoffs, np.asarray(config["game_payoffs"])):
        return GAMES[name]
    if "game_payoffs" not in config:
        raise ValueError(f"config names unknown game {name!r} and has no game_payoffs")
    return MatrixGame(str(name), tuple(config["action_names"]), config["game_payoffs"])


def load_run(path: str | os.PathLike) -> Run:
    """Read a run directory written by :class:`RunWriter`.

    A trailing update with fewer rows than seeds (a run killed while writing) is dropped.

    Raises:
        FileNotFoundError: ``path`` has no ``config.json`` or ``metrics.csv``.
        ValueError: the metrics do not match the config (columns, seeds).
    """
    path = Path(path)
    for name in (CONFIG, METRICS):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path} is not a run directory: no {name}")
    config = json.loads((path / CONFIG).read_text())
    game = _game_from_config(config)
    n_states = len(game.state_names)
    with open(path / METRICS, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        rows = [r for r in reader if len(r) == len(header or [])]
    if header != metric_columns(game):
        raise ValueError(f"{path / METRICS}: unexpected columns {header}")
    n_seeds = int(config["n_seeds"])
    data = np.array(rows, dtype=np.float64).reshape(-1, len(header))
    n_updates = data.shape[0] // n_seeds
    data = data[: n_updates * n_seeds].reshape(n_updates, n_seeds, len(header))
    seeds = np.broadcast_to(np.arange(n_seeds), data.shape[:2])
    if n_updates and not np.array_equal(data[:, :, 1], seeds):
        raise ValueError(f"{path / METRICS}: rows are not grouped by update with seeds 0..S-1")
    return Run(
        config=config,
        game=game,
        updates=data[:, 0, 0].astype(np.int64),
        value_0=data[:, :, 2],
        value_1=data[:, :, 3],
        probs_0=data[:, :, 4 : 4 + n_states],
        probs_1=data[:, :, 4 + n_states : 4 + 2 * n_states],
        path=path,
    )

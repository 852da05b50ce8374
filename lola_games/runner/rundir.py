"""Run directories: written while training, read back by `load_run`.

A run directory holds four files, each written atomically (a fresh temporary file in the
directory, then ``os.replace``) except the append-only metrics; a run file that is a symbolic
link is refused, never followed.

* ``config.json`` -- ``format`` (`FORMAT`), ``game`` (name) and ``game_spec`` (what
  rebuilds the game, see `lola_games.games.matrix.game_from_spec`), ``n_players``, ``agents``
  (one ``{"name", "hparams"}`` per player), ``n_seeds``, ``n_updates``, ``gamma``, ``seed``,
  ``device``, ``dtype``, ``mode`` (``"exact"`` or ``"sampled"``), ``log_every``, ``label`` and
  ``version`` (of the package).
* ``metrics.csv`` -- one row per (update, seed), update 0 being before any update::

      update,seed,value_0,value_1,p_start_0,p_start_1,p_CC_0,...

  Column ``<metric>_<player>`` is a named metric of one player (``value`` -- the player's
  score, reward per step -- always; memory-one runs add ``p_<state>``, P(action 0) in that
  state from the player's own side; other games add their own). Rows are appended and flushed
  as the run goes, so an interrupted run keeps what it logged; numbers have full precision.
* ``checkpoint.pt`` -- what `lola_games.runner.training.train` resumes from: the update index,
  params, agent states and RNG state, the run's identity (seed and settings) and a SHA-256 of
  the metrics rows logged up to it, so that a checkpoint that does not belong to the run or
  metrics that were changed or lost are refused. Plain tensors and containers only; it is read
  with ``torch.load(weights_only=True)`` and never runs code.
* ``final_params.pt`` -- both players' final params, ``{"params": (p0, p1, ...)}``.

Directories of format 1 (lola-games 0.1, before named metrics) still load with
`load_run`; they cannot be resumed.

This module holds `RunDirectory` (writing and resuming); the files' formats live in
`lola_games.runner.config`, `lola_games.runner.metrics_io` and
`lola_games.runner.checkpoint`, reading a run in `lola_games.runner.run`. Their public names
are re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from lola_games.core.files import DirectoryLock
from lola_games.runner.checkpoint import (
    decode_state,
    encode_state,
    safe_load,
)
from lola_games.runner.config import FORMAT, read_config, run_identity
from lola_games.runner.files import (
    CHECKPOINT,
    CONFIG,
    FINAL,
    METRICS,
    RUN_FILES,
    RunDirectoryError,
    atomic_write,
    open_append,
    refuse_link,
    write_json,
)
from lola_games.runner.metrics_io import (
    LoggedUpdate,
    metric_columns,
    read_header,
    row_bytes,
    scan_metrics,
    to_metrics,
)

__all__ = [
    "RunDirectory",
]

_NAME = re.compile(r"[^\s,\"']+")


def _present_files(path: Path, overwrite: bool) -> list[str]:
    """The run files in ``path`` (to remove with ``overwrite``).

    Raises:
        FileExistsError: there are some and not ``overwrite``.
    """
    present = [n for n in RUN_FILES if (path / n).exists()]
    if present and not overwrite:
        what = "a run" if CONFIG in present else f"run files ({', '.join(present)})"
        raise FileExistsError(f"{path} already holds {what}: resume it (--resume, or "
                              f"resume=True), replace it (--overwrite, or overwrite=True) or "
                              f"choose another directory")
    return present


def _check_target(path: Path) -> Path:
    if str(path) == "":
        raise ValueError("the run directory path is empty")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a directory")
    for name in RUN_FILES:
        refuse_link(path / name)
    return path


def _check_checkpoint(ck: Any, path: Path) -> None:
    ok = (
        isinstance(ck, dict)
        and ck.get("format") == FORMAT
        and isinstance(ck.get("update"), int) and ck["update"] >= 0
        and isinstance(ck.get("run"), dict)
        and isinstance(ck.get("metrics"), dict)
        and isinstance(ck["metrics"].get("rows"), int)
        and isinstance(ck["metrics"].get("sha256"), str)
        and isinstance(ck.get("rng"), torch.Tensor)
        and "params" in ck and "states" in ck
    )
    if not ok:
        raise RunDirectoryError(f"{path} is damaged or not a lola-games checkpoint "
                                f"(format {FORMAT})")


def _resumable_checkpoint(path: Path, config: dict[str, Any], n_updates: int
                          ) -> dict[str, Any]:
    """The checkpoint of the run in ``path``, checked to belong to the run of ``config``."""
    old = read_config(path)
    if old.get("format", 1) < FORMAT:
        raise RunDirectoryError(
            f"{path / CONFIG}: run directory format {old.get('format', 1)} (an older "
            f"lola-games) can be loaded and plotted but not resumed")
    ck_path = path / CHECKPOINT
    if not ck_path.exists():
        raise FileNotFoundError(
            f"cannot resume {path}: no {CHECKPOINT} (the run was interrupted before its "
            f"first checkpoint): start it again with --overwrite (or overwrite=True)")
    ident = run_identity(config)
    diff = [k for k in ident if old.get(k) != ident[k]]
    if diff:
        raise ValueError(f"cannot resume {path}: settings differ from the run's "
                         f"({', '.join(diff)})")
    ck = safe_load(ck_path)
    _check_checkpoint(ck, ck_path)
    if ck["run"] != ident:
        diff = [k for k in ident if ck["run"].get(k) != ident[k]]
        raise RunDirectoryError(
            f"{ck_path} belongs to another run (its {', '.join(diff)} differ from "
            f"{path / CONFIG} and the settings given); refusing to resume")
    if n_updates < ck["update"]:
        raise ValueError(f"cannot resume {path} with {n_updates} updates: the run is "
                         f"already at update {ck['update']}")
    return ck


class RunDirectory:
    """One run directory being written: metrics rows, checkpoints, final params.

    Use `create` for a new run and `reopen` to continue one; then `log`
    each evaluation, `save_checkpoint` now and then, `save_final` at the end and
    `close`.
    """

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.n_seeds = int(config["n_seeds"])
        self.n_players = int(config["n_players"])
        self.names: list[str] | None = None
        self._file: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._rows = 0
        self._lock = DirectoryLock(path)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, config: dict[str, Any], *, overwrite: bool = False
               ) -> RunDirectory:
        """Start a new run in ``path`` (created if missing).

        Raises:
            FileExistsError: ``path`` holds run files (a run, or the remains of one) and not
                ``overwrite``; only the run files are removed with ``overwrite``.
        """
        path = _check_target(Path(path))
        _present_files(path, overwrite)  # refused before the directory is made
        path.mkdir(parents=True, exist_ok=True)
        self = cls(path, config)
        self._lock.acquire()
        try:
            for name in _present_files(path, overwrite):  # again, under the lock
                (path / name).unlink()
            write_json(path / CONFIG, config)
        except BaseException:
            self._lock.release()
            raise
        return self

    @classmethod
    def reopen(
        cls,
        path: str | os.PathLike,
        config: dict[str, Any],
        keep: Callable[[int], bool],
        n_updates: int,
        map_location: Any = None,
    ) -> tuple[RunDirectory, dict[str, Any], list[LoggedUpdate]]:
        """Continue the run in ``path`` from its checkpoint.

        Checks that the checkpoint belongs to the run given by ``config`` and that the
        metrics rows up to it are the ones it was written after; drops rows logged after it
        (they are recomputed) and rows for which ``keep(update)`` is false (updates that a run
        of the new length does not log); rewrites ``config.json`` (atomically) with
        ``config``.

        Returns:
            ``(directory, checkpoint, logged groups up to the checkpoint)``; the checkpoint's
            ``params`` and ``states`` are decoded onto ``map_location``.

        Raises:
            FileNotFoundError: no checkpoint (with a hint to ``--overwrite``).
            RunDirectoryError: a checkpoint that is damaged, of another run, or whose metrics
                do not match.
            ValueError: settings that differ from the run's, or ``n_updates`` below the
                checkpoint's update.

        Nothing is written unless every check passes.
        """
        path = _check_target(Path(path))
        self = cls(path, config)
        if path.is_dir():
            self._lock.acquire()
        try:
            ck = _resumable_checkpoint(path, config, n_updates)
            groups = self._rewrite_up_to(ck, keep)
            write_json(path / CONFIG, config)
            ck["params"] = decode_state(ck["params"], map_location)
            ck["states"] = decode_state(ck["states"], map_location)
        except BaseException:
            self._lock.release()
            raise
        return self, ck, groups

    def _rewrite_up_to(self, ck: dict[str, Any], keep: Callable[[int], bool]
                       ) -> list[LoggedUpdate]:
        """Rewrite ``metrics.csv`` up to the checkpoint (see `_rows_up_to`); its groups."""
        header, kept, groups = self._rows_up_to(ck, keep)

        def rewrite(f: BinaryIO) -> None:
            f.write(header)
            for raw in kept:
                f.write(raw)
                self._digest.update(raw)
                self._rows += self.n_seeds

        atomic_write(self.path / METRICS, rewrite)
        return groups

    def _rows_up_to(self, ck: dict[str, Any], keep: Callable[[int], bool]
                    ) -> tuple[bytes, list[bytes], list[LoggedUpdate]]:
        """The header, the raw rows to keep and their groups, up to the checkpoint's update;
        checks the rows against the checkpoint's digest and sets `names`."""
        update = ck["update"]
        metrics_path = self.path / METRICS
        if not metrics_path.exists():
            raise RunDirectoryError(f"{metrics_path} is missing but {CHECKPOINT} is at update "
                                    f"{update}")
        names, n_players, order, header = read_header(metrics_path, FORMAT)
        if n_players != self.n_players:
            raise RunDirectoryError(f"{metrics_path}: {n_players} players in the columns, "
                                    f"{self.n_players} in the run")
        old_digest, rows = hashlib.sha256(), 0
        groups: list[LoggedUpdate] = []
        kept: list[bytes] = []
        for u, numbers, raw in scan_metrics(metrics_path, self.n_seeds):
            if u > update:
                break
            old_digest.update(raw)
            rows += self.n_seeds
            if keep(u):
                kept.append(raw)
                groups.append(LoggedUpdate(u, to_metrics(numbers, names, n_players, order)))
        if (rows, old_digest.hexdigest()) != (ck["metrics"]["rows"], ck["metrics"]["sha256"]):
            raise RunDirectoryError(
                f"{metrics_path} does not match {CHECKPOINT} (update {update}): rows up to it "
                f"were changed or lost ({rows} rows found, {ck['metrics']['rows']} logged)")
        self.names = names
        return header, kept, groups

    # -- writing ---------------------------------------------------------------------------
    def _start_metrics(self, names: list[str], metrics: Mapping[str, np.ndarray]) -> None:
        """Check the first logged metrics' names and write the header."""
        if "value" not in metrics:
            raise ValueError("metrics must include 'value'")
        for name in names:
            if not _NAME.fullmatch(name):
                raise ValueError(f"metric name {name!r} must be non-empty without "
                                 f"spaces, commas or quotes")
        self.names = names
        header = ",".join(metric_columns(names, self.n_players)) + "\n"
        atomic_write(self.path / METRICS, lambda f: f.write(header.encode()))

    def log(self, update: int, metrics: Mapping[str, np.ndarray]) -> None:
        """Append one update's rows: each metric ``[P, S]``; flushed to the OS."""
        names = list(metrics)
        if self.names is None:
            self._start_metrics(names, metrics)
        elif names != self.names:
            raise ValueError(f"metrics {names} differ from the run's {self.names}")
        shape = (self.n_players, self.n_seeds)
        arrays = []
        for name in names:
            a = np.asarray(metrics[name], dtype=np.float64)
            if a.shape != shape:
                raise ValueError(f"metric {name!r} must have shape [P, S] = {list(shape)}, "
                                 f"got {list(a.shape)}")
            arrays.append(a)
        table = np.stack(arrays).reshape(-1, self.n_seeds)  # [M * P, S]
        data = b"".join(row_bytes(update, s, table[:, s].tolist()) for s in range(self.n_seeds))
        if self._file is None:
            self._file = open_append(self.path / METRICS)
        self._file.write(data)
        self._file.flush()
        self._digest.update(data)
        self._rows += self.n_seeds

    def mark(self) -> dict[str, Any]:
        """Where the metrics stand now (rows and their SHA-256), for `save_checkpoint`."""
        return {"rows": self._rows, "sha256": self._digest.hexdigest()}

    def save_checkpoint(
        self, update: int, params: Any, states: Any, rng: torch.Tensor,
        mark: dict[str, Any] | None = None,
    ) -> None:
        """Write ``checkpoint.pt`` atomically, after the metrics are on disk.

        ``mark`` (from `mark`) records the metrics as they stood after ``update``; by
        default, as they stand now.
        """
        if self._file is not None:
            os.fsync(self._file.fileno())
        payload = {
            "format": FORMAT,
            "update": int(update),
            "run": run_identity(self.config),
            "metrics": dict(mark) if mark is not None else self.mark(),
            "params": encode_state(params, "params"),
            "states": encode_state(states, "agent states"),
            "rng": rng.cpu(),
        }
        atomic_write(self.path / CHECKPOINT, lambda f: torch.save(payload, f))

    def save_final(self, params: Sequence[Any]) -> None:
        """Write ``final_params.pt``: ``{"params": tuple of each player's params}``."""
        payload = {"params": encode_state(tuple(params), "params")}
        atomic_write(self.path / FINAL, lambda f: torch.save(payload, f))

    def close(self) -> None:
        """Close the metrics file and release the directory's lock."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._lock.release()

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

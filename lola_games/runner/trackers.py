"""What a training run reports while it goes: experiment trackers and the progress display.

A tracker receives the run's config once and then, at every logged update (see ``log_every``
of `lola_games.runner.training.train`), the same named metrics as ``metrics.csv``: one scalar
per column ``<metric>_<player>`` (``value_0``, ``p_CC_1``, ...), the mean over seeds. Built-in
trackers (optional extras):

* ``"tensorboard"`` (``pip install lola-games[tensorboard]``): event files under
  ``<run directory>/tensorboard``, one scalar tag per column, step = update; the config as
  the text ``config`` (JSON).
* ``"wandb"`` (``pip install lola-games[wandb]``): Weights & Biases in offline mode
  (``WANDB_MODE=offline``), its files under ``<run directory>/wandb``; the config as the
  run's config, the metrics with ``step = update``. ``wandb sync`` uploads them later.

Any object with ``start(config)``, ``log(update, metrics)`` and ``close()`` (`Tracker`) may be
passed too. A resumed run logs only the updates after its checkpoint: the first ``log`` of a
session is the first update it computes, so no step is logged twice. TensorBoard hides the
events an interrupted session wrote past its checkpoint (``purge_step``); W&B continues the
same run id (kept in ``wandb/run_id``).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from lola_games.core.files import write_text

__all__ = [
    "Tracker",
    "TensorBoardTracker",
    "WandbTracker",
    "TRACKERS",
    "tracked_scalars",
    "resolve_trackers",
    "ProgressDisplay",
]

TRACKERS = ("tensorboard", "wandb")
"""Names of the built-in trackers."""


@runtime_checkable
class Tracker(Protocol):
    """An experiment tracker fed by `lola_games.runner.training.train`."""

    def start(self, config: dict[str, Any]) -> None:
        """Called once before the first update of a session with the run's ``config.json``."""

    def log(self, update: int, metrics: dict[str, float]) -> None:
        """Called at every logged update with ``{"<metric>_<player>": mean over seeds}``."""

    def close(self) -> None:
        """Called once when the session ends (finished, interrupted or failed)."""


def tracked_scalars(metrics: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The scalars trackers log for one update.

    Args:
        metrics: metric name -> ``[P, S]`` (player, seed), as the evaluator returned them.

    Returns:
        ``{"<metric>_<player>": mean over seeds}``, in the column order of ``metrics.csv``.
    """
    return {f"{name}_{p}": float(np.mean(values[p]))
            for name, values in metrics.items() for p in range(values.shape[0])}


class TensorBoardTracker:
    """TensorBoard event files in ``log_dir`` (``torch.utils.tensorboard``; needs the
    ``tensorboard`` package). The writer opens at the first logged update of the session with
    ``purge_step`` = that update, so events at or after it from an earlier session are hidden.

    Args:
        log_dir: the folder of the event files.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        from torch.utils.tensorboard import SummaryWriter  # optional extra

        self.log_dir = Path(log_dir)
        self._writer_class = SummaryWriter
        self._writer: Any = None
        self._config: dict[str, Any] = {}

    def start(self, config: dict[str, Any]) -> None:
        self._config = dict(config)

    def log(self, update: int, metrics: dict[str, float]) -> None:
        if self._writer is None:
            self._writer = self._writer_class(str(self.log_dir), purge_step=update)
            self._writer.add_text("config", json.dumps(self._config, indent=1), update)
        for tag, value in metrics.items():
            self._writer.add_scalar(tag, value, update)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class WandbTracker:
    """Weights & Biases in offline mode, its files under ``<directory>/wandb``; needs ``wandb``.

    The run starts at the first logged update of the session: a fresh run (update 0) gets a
    new id, a resumed one continues the id kept in ``<directory>/wandb/run_id``.

    Args:
        directory: the run directory (W&B adds its ``wandb`` folder).
        project: the W&B project name.
    """

    def __init__(self, directory: str | os.PathLike, project: str = "lola-games") -> None:
        import wandb  # optional extra

        self.directory = Path(directory)
        self.project = project
        self._wandb = wandb
        self.run: Any = None
        self._config: dict[str, Any] = {}

    def start(self, config: dict[str, Any]) -> None:
        self._config = dict(config)

    def _run_id(self, fresh: bool) -> str:
        id_file = self.directory / "wandb" / "run_id"
        if not fresh and id_file.is_file():
            return id_file.read_text().strip()
        run_id = secrets.token_hex(8)
        id_file.parent.mkdir(parents=True, exist_ok=True)
        write_text(id_file, run_id + "\n")
        return run_id

    def log(self, update: int, metrics: dict[str, float]) -> None:
        if self.run is None:
            self.run = self._wandb.init(
                project=self.project, dir=str(self.directory), mode="offline",
                id=self._run_id(fresh=update == 0), resume="allow",
                name=str(self._config.get("label", "")) or None, config=self._config,
                settings=self._wandb.Settings(silent=True, console="off"))
        self.run.log(metrics, step=update)

    def close(self) -> None:
        if self.run is not None:
            self.run.finish()
            self.run = None


def _builtin(name: str, out_dir: Path | None) -> Tracker:
    if out_dir is None:
        raise ValueError(f"trackers: {name!r} writes into the run directory; give out_dir")
    try:
        if name == "tensorboard":
            return TensorBoardTracker(out_dir / "tensorboard")
        return WandbTracker(out_dir)
    except ImportError as e:
        raise ImportError(f"trackers: {name!r} needs the {name} package: pip install "
                          f"'lola-games[{name}]' ({e})") from e


def resolve_trackers(trackers: Sequence[str | Tracker] | str | Tracker | None,
                     out_dir: str | os.PathLike | None) -> list[Tracker]:
    """The tracker objects of ``train(..., trackers=...)``, checked before anything is written.

    Args:
        trackers: built-in names (`TRACKERS`) and/or `Tracker` objects (one of them alone is
            taken as a sequence of one); ``None`` or empty for none.
        out_dir: the run directory (built-in trackers write into it).

    Raises:
        ValueError: an unknown name, a name repeated, or a built-in tracker without out_dir.
        TypeError: an object that is neither a name nor a `Tracker`.
        ImportError: a built-in tracker whose optional package is not installed.
    """
    if trackers is None:
        return []
    if isinstance(trackers, str) or isinstance(trackers, Tracker):
        trackers = [trackers]
    names = [t for t in trackers if isinstance(t, str)]
    for name in names:
        if name not in TRACKERS:
            raise ValueError(f"trackers: unknown tracker {name!r}; the built-in ones are "
                             f"{', '.join(TRACKERS)} (or pass an object with start/log/close)")
    if len(set(names)) != len(names):
        raise ValueError(f"trackers: a name is given twice in {list(names)}")
    for t in trackers:
        if not isinstance(t, (str, Tracker)):
            raise TypeError(f"trackers: {t!r} is neither a tracker name ({', '.join(TRACKERS)})"
                            f" nor an object with start(config), log(update, metrics), close()")
    path = None if out_dir is None else Path(out_dir)
    return [_builtin(t, path) if isinstance(t, str) else t for t in trackers]


class ProgressDisplay:
    """The progress of a run on stderr: a tqdm bar on a terminal; elsewhere (a log file, a
    pipe) one plain line every ``total // 10`` updates and at the end, never a carriage return.

    Args:
        total: the run's update count.
        initial: updates already done (a resumed run).
        desc: the run's label.
        enabled: show anything at all.
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(self, total: int, initial: int, desc: str, enabled: bool,
                 stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.desc = total, initial, desc
        self.enabled = enabled
        isatty = getattr(self.stream, "isatty", None)
        self.bar = (tqdm(total=total, initial=initial, desc=desc, file=self.stream)
                    if enabled and callable(isatty) and isatty() else None)
        self.every = max(1, total // 10)

    def update(self) -> None:
        """One more update done."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled and (self.done % self.every == 0 or self.done == self.total):
            self.stream.write(f"{self.desc}: update {self.done}/{self.total}\n")
            self.stream.flush()

    def close(self) -> None:
        """Close the bar (nothing for plain lines)."""
        if self.bar is not None:
            self.bar.close()

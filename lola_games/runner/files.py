"""Safe run files: the error type of run directories, atomic writes, links refused.

Every run file but the append-only metrics is written through the package's one writer,
`lola_games.core.files.atomic_write` (a fresh temporary file in its directory and
``os.replace``); a run file that is a symbolic link is refused, never followed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from lola_games.core import files

__all__ = [
    "CONFIG",
    "METRICS",
    "CHECKPOINT",
    "FINAL",
    "EVALUATION",
    "RUN_FILES",
    "RunDirectoryError",
    "refuse_link",
    "atomic_write",
    "write_json",
    "open_append",
]

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.pt"
FINAL = "final_params.pt"
EVALUATION = "evaluation.csv"
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, FINAL, EVALUATION)
"""The files of a run directory."""


class RunDirectoryError(files.UnsafeFileError):
    """A run directory (or one of its files) that cannot be used; the message names the file."""


def refuse_link(path: Path) -> None:
    """Raise `RunDirectoryError` when ``path`` is a symbolic link.

    Args:
        path: a run file.
    """
    if path.is_symlink():
        raise RunDirectoryError(
            f"{path} is a symbolic link; run files must be regular files (not following it)")


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a run file atomically (`lola_games.core.files.atomic_write`); a link is refused
    with `RunDirectoryError`.

    Args:
        path: the file to write.
        write: writes the contents to the open binary file it is given.
    """
    refuse_link(path)
    files.atomic_write(path, write)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to the run file ``path`` atomically.

    Args:
        path: the file to write.
        obj: a JSON-serialisable object.
    """
    refuse_link(path)
    files.write_json(path, obj)


def open_append(path: Path) -> BinaryIO:
    """Open an existing regular file for appending without following a link.

    Args:
        path: the file to append to.
    """
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if path.is_symlink():
            refuse_link(path)
        raise e
    return os.fdopen(fd, "ab")

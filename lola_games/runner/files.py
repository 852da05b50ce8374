"""Safe run files: the error type of run directories, atomic writes, links refused.

Every run file but the append-only metrics is written through a fresh temporary file in its
directory and ``os.replace``; a run file that is a symbolic link is refused, never followed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "CONFIG",
    "METRICS",
    "CHECKPOINT",
    "FINAL",
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
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, FINAL)
"""The files of a run directory."""


class RunDirectoryError(ValueError):
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
    """Write ``path`` through a fresh temporary file in its directory and ``os.replace``.

    The temporary file is created exclusively (a planted file or link is never written
    through) and ``os.replace`` swaps the directory entry, so a link at ``path`` is replaced,
    not followed, and a kill leaves either the old file or the new one.

    Args:
        path: the file to write.
        write: writes the contents to the open binary file it is given (its result is
            ignored).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        obj: a JSON-serialisable object.
    """
    atomic_write(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode()))


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

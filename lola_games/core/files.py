"""The package's only writer of files, and advisory directory locks.

Every file lola-games writes (run directories, tournaments, sweeps, meta-trainings, tables
and figures) but the append-only run metrics goes through `atomic_write`: a fresh temporary
file in the target's directory, then ``os.replace``, so that a kill leaves either the old
file or the new one, never a truncated one. A target that is a symbolic link is refused,
never followed, and a new file gets the permissions of the umask (``0o666 & ~umask``), as
``open(path, "w")`` would give it.

`DirectoryLock` is an advisory lock (``fcntl.flock`` on ``<dir>/.lola-games.lock``, which
records the holder's PID): a second process that writes the same directory is refused at
once with the holder's PID. The kernel drops the lock when its holder dies, so the lock of a
killed process is taken over by the next one (its stale PID is overwritten).
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["UnsafeFileError", "DirectoryLockedError", "DirectoryLock", "LOCK_FILE",
           "refuse_link", "atomic_write", "write_bytes", "write_text", "write_json",
           "write_csv", "write_dict_csv", "save_figure_file", "file_mode", "check_out_path",
           "json_depth", "read_untrusted_json"]

LOCK_FILE = ".lola-games.lock"
"""The lock file of a directory being written."""


class UnsafeFileError(ValueError):
    """A file that must not be written (a symbolic link); the message names it."""


class DirectoryLockedError(RuntimeError):
    """Another live process writes the directory; the message names it and the PID."""


def check_out_path(out: Any, what: str = "out") -> Path:
    """``out`` as a `Path`, after checking it is a non-empty path (nothing is created).

    Args:
        out: the output directory the user gave.
        what: the argument's name, for the error.

    Raises:
        ValueError: an empty path, or one that exists and is not a directory.
        TypeError: not a string or path.
    """
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"{what} must be a directory path, got {type(out).__name__}")
    if str(out) == "" or os.fspath(out) == "":
        raise ValueError(f"{what} is empty; give a directory")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} exists and is not a directory")
    return path


def refuse_link(path: Path, error: type[Exception] = UnsafeFileError) -> None:
    """Raise ``error`` when ``path`` is a symbolic link.

    Args:
        path: a file about to be written.
        error: the exception type to raise.
    """
    if Path(path).is_symlink():
        raise error(f"{path} is a symbolic link; refusing to write through it (not "
                    f"following it)")


def file_mode() -> int:
    """The permissions of a new file: ``0o666`` less the process's umask (as ``open``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a fresh temporary file in its directory and ``os.replace``.

    The temporary file is created exclusively (a planted file or link is never written
    through) and ``os.replace`` swaps the directory entry; a link at ``path`` is refused.

    Args:
        path: the file to write (its directory must exist).
        write: writes the contents to the open binary file it is given (its result is
            ignored).

    Raises:
        UnsafeFileError: ``path`` is a symbolic link.
    """
    path = Path(path)
    refuse_link(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        data: its contents.
    """
    atomic_write(path, lambda f: f.write(data))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        text: its contents.
    """
    write_bytes(path, text.encode())


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        obj: a JSON-serialisable object.
    """
    write_text(path, json.dumps(obj, indent=2) + "\n")


def write_csv(path: Path, rows: Iterable[Iterable[Any]]) -> None:
    """Write ``rows`` as CSV to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        rows: the rows, header first, each an iterable of cells (as ``csv.writer`` takes).
    """
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    write_text(path, buf.getvalue())


def write_dict_csv(path: Path, rows: Iterable[dict[str, Any]], fieldnames: list[str]) -> None:
    """Write dict ``rows`` as CSV (a header of ``fieldnames``, empty cells where a row has no
    such key) to ``path`` atomically (see `atomic_write`).

    Args:
        path: the file to write.
        rows: the rows.
        fieldnames: the columns, in order.
    """
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=fieldnames, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def save_figure_file(fig: Any, path: Path, dpi: int = 150) -> None:
    """Save a matplotlib figure to ``path`` atomically, in the format of its suffix.

    Args:
        fig: the figure (anything with matplotlib's ``savefig``).
        path: the file, e.g. ``heatmap.png``.
        dpi: resolution of raster formats.
    """
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format=path.suffix.lstrip("."), dpi=dpi))


def json_depth(text: str) -> int:
    """The deepest nesting of brackets in JSON ``text`` (strings skipped), without parsing.

    Args:
        text: JSON text.
    """
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_HELD: dict[str, tuple[int, int]] = {}
"""Locks this process holds: resolved directory -> (file descriptor, hold count)."""


class DirectoryLock:
    """An advisory lock on a directory being written (a context manager; re-entrant within
    one process).

    Args:
        path: the directory (it must exist when the lock is acquired).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._key = ""

    def acquire(self) -> DirectoryLock:
        """Take the lock, or raise at once.

        Raises:
            DirectoryLockedError: another live process holds it (the message has its PID).
            UnsafeFileError: the lock file is a symbolic link.
        """
        key = str(self.path.resolve())
        if key in _HELD:
            fd, count = _HELD[key]
            _HELD[key] = (fd, count + 1)
            self._key = key
            return self
        lock = self.path / LOCK_FILE
        refuse_link(lock)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(lock, flags, file_mode())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DirectoryLockedError(
                f"{self.path} is being written by another process (PID {holder}); wait for "
                f"it to finish or stop it, or choose another directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = (fd, 1)
        self._key = key
        return self

    def release(self) -> None:
        """Release the lock (the lock file stays; its PID is stale once released)."""
        if not self._key or self._key not in _HELD:
            return
        fd, count = _HELD[self._key]
        if count > 1:
            _HELD[self._key] = (fd, count - 1)
        else:
            del _HELD[self._key]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        self._key = ""

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def read_untrusted_json(path: Path, max_bytes: int, max_depth: int) -> Any:
    """The JSON value of a file that may have been tampered with, read only when it is at
    most ``max_bytes`` long and nested at most ``max_depth`` deep (checked before parsing).

    Args:
        path: the file.
        max_bytes: the largest size read.
        max_depth: the deepest nesting of arrays and objects parsed.

    Raises:
        ValueError: ``"<path> is damaged: ..."`` for a file that cannot be read, is too
            large, too deep, not UTF-8 or not JSON.
    """
    try:
        if path.stat().st_size > max_bytes:
            raise ValueError(f"larger than {max_bytes} bytes")
        text = path.read_bytes().decode()
        if json_depth(text) > max_depth:
            raise ValueError(f"nested deeper than {max_depth}")
        return json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path} is damaged: {err}") from None

"""How every subcommand reports a failed or interrupted run: one line on stderr, an exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from lola_games.runner.training import Interrupted

__all__ = ["EXIT_INTERRUPTED", "RUN_ERRORS", "TRAIN_ERRORS", "error_line", "interrupted",
           "guarded"]

T = TypeVar("T")

RUN_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, RuntimeError, OSError)
"""Errors a grid or an experiment reports as one line (a failed run is a ``RuntimeError``)."""

TRAIN_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, OSError)
"""Errors a single training run reports as one line (others keep their traceback)."""

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""


def error_line(prog: str, error: BaseException) -> int:
    """Print ``error`` as one line on stderr (no traceback); return exit code 2."""
    text = str(error) or type(error).__name__
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.filename}: {error.strerror}"
    print(f"{prog}: error: {' '.join(text.split())}", file=sys.stderr)
    return 2


def interrupted(prog: str, error: KeyboardInterrupt) -> int:
    """One line on where a run stopped after Ctrl-C and how to continue; exit code 130."""
    if isinstance(error, Interrupted) and error.path is not None:
        where = (f"interrupted after update {error.update}; the run in {error.path} is "
                 f"checkpointed there: run the same command with --resume to continue it")
    elif isinstance(error, Interrupted):
        where = f"interrupted after update {error.update}; nothing was saved (no --out)"
    else:
        where = "interrupted"
    print(f"{prog}: {where}", file=sys.stderr)
    return EXIT_INTERRUPTED


def guarded(prog: str, work: Callable[[], T], errors: tuple[type[Exception], ...] = RUN_ERRORS
            ) -> T | int:
    """``work()``, or an exit code: one line on stderr for one of ``errors`` (2), and where
    the run stopped after Ctrl-C (130). Every subcommand runs its work through it.

    Args:
        prog: the subcommand's name in messages, e.g. ``"lola-games train"``.
        work: the subcommand's work.
        errors: the exceptions reported as one line.
    """
    try:
        return work()
    except KeyboardInterrupt as e:
        return interrupted(prog, e)
    except errors as e:
        return error_line(prog, e)

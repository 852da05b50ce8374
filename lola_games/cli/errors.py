"""How every subcommand reports a failed or interrupted run: one line on stderr, an exit code."""

from __future__ import annotations

import sys

from lola_games.runner.train import Interrupted

__all__ = ["EXIT_INTERRUPTED", "error_line", "interrupted"]

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

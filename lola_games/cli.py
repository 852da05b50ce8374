"""The ``lola-games`` command line."""

from __future__ import annotations

import argparse
import sys

from lola_games import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lola-games",
        description="Train and study learning agents that shape each other's learning "
        "in iterated matrix games.",
    )
    parser.add_argument("--version", action="version", version=f"lola-games {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

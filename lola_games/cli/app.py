"""The ``lola-games`` command line: parse (torch-free), apply ``--config`` and ``--import``,
then load the subcommand's handler (a ``"module:attr"`` registry entry) and run it."""

from __future__ import annotations

import sys

from lola_games.cli.options import config_defaults
from lola_games.cli.parsers import build_parser
from lola_games.core.registry import import_modules, load_entry

__all__ = ["build_parser", "main"]

EXIT_INTERRUPTED = 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    prog = f"lola-games {args.command}"
    try:
        if args.config:
            args.subparser.set_defaults(**config_defaults(args.config, args.subparser))
            args = parser.parse_args(argv)
        import_modules(args.imports)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    return int(load_entry(args.handler)(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Run ``lola-games`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Ctrl-C before a subcommand's own handling (e.g. while torch loads) prints one line and
    returns 130.

    Args:
        argv: the arguments after the program name.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("lola-games: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

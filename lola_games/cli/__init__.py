"""The ``lola-games`` command line: parsing only; each subcommand builds its arguments, calls
the library and reports errors in one line (`lola_games.cli.errors`)."""

from lola_games.cli.app import build_parser, main

__all__ = ["build_parser", "main"]

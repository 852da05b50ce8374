"""Reproduce LOLA with 0-3 exact lookahead steps on the IPD: runs, figures and results table.

    python scripts/reproduce_lookahead.py [--quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce lookahead``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["lookahead", *sys.argv[1:]]))

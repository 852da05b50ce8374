"""Reproduce NL-PG and LOLA-DiCE (1-3 lookaheads) in the unofficial port's setting.

    python scripts/reproduce_lola_dice.py [--quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce lola-dice``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["lola-dice", *sys.argv[1:]]))

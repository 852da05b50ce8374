"""Reproduce the DiCE paper's IPD figure from its code's settings: runs, figures, tables.

    python scripts/reproduce_dice_paper.py [--quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce dice-paper``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["dice-paper", *sys.argv[1:]]))

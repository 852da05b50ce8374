"""Reproduce the Coin Game learners (NL-PG, LOLA-DiCE, LOLA-DiCE-OM): runs, figures, tables.

    python scripts/reproduce_coin_game.py [--size cpu | --quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce coin-game``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["coin-game", *sys.argv[1:]]))

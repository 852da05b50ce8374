"""Reproduce the LOLA paper's exact-gradient experiments (IPD, matching pennies) and figures.

    python scripts/reproduce_lola_exact.py [--quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce lola-exact``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["lola-exact", *sys.argv[1:]]))

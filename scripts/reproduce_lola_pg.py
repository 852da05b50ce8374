"""Reproduce the LOLA paper's policy-gradient results (NL-PG, LOLA-PG): runs, figures, tables.

    python scripts/reproduce_lola_pg.py [--quick] [--out DIR] [--device cuda] ...

Same as ``lola-games reproduce lola-pg``; see ``--help`` and :mod:`lola_games.experiments.reproduce`.
"""

import sys

from lola_games.experiments.reproduce import main

if __name__ == "__main__":
    sys.exit(main(["lola-pg", *sys.argv[1:]]))

"""Train two agents against each other; the same as ``lola-games train`` (see ``--help``).

Example::

    python scripts/train.py --game ipd --agents lola naive --seeds 64 --updates 200 \
        --gamma 0.96 --lr 1 --out runs/lola_vs_nl
"""

import sys

from lola_games.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))

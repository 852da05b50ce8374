"""``python -m lola_games.cli``: the ``lola-games`` command."""

import sys

from lola_games.cli.app import main

sys.exit(main())

"""The experiments of matrix games and the Coin Game by name (`MATRIX_EXPERIMENTS`), one
module each; `lola_games.experiments.base.EXPERIMENTS` loads them lazily."""

from __future__ import annotations

from lola_games.experiments.base import Experiment
from lola_games.experiments.coin_game import COIN_GAME_EXPERIMENT
from lola_games.experiments.dice_paper import DICE_PAPER_EXPERIMENT
from lola_games.experiments.lola_dice import LOLA_DICE_EXPERIMENT
from lola_games.experiments.lola_exact import LOLA_EXACT_EXPERIMENT
from lola_games.experiments.lola_pg import LOLA_PG_EXPERIMENT
from lola_games.experiments.lookahead_lola import LOOKAHEAD_EXPERIMENT
from lola_games.experiments.pola_exact import POLA_EXACT_EXPERIMENT

__all__ = ["MATRIX_EXPERIMENTS"]

MATRIX_EXPERIMENTS: dict[str, Experiment] = {
    exp.name: exp for exp in (LOLA_EXACT_EXPERIMENT, LOOKAHEAD_EXPERIMENT, DICE_PAPER_EXPERIMENT,
                              LOLA_DICE_EXPERIMENT, LOLA_PG_EXPERIMENT, COIN_GAME_EXPERIMENT,
                              POLA_EXACT_EXPERIMENT)
}
"""The reproductions of this group by name, in `EXPERIMENTS` order."""

"""lola-games: learning agents that shape each other's learning in iterated matrix games."""

from lola_games.core.version import __version__
from lola_games.games import coin as coin_game  # registers "coin_game" with get_any_game
from lola_games.games.differentiable import DifferentiableGame
from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import get_any_game, get_game
from lola_games.values.exact import discounted_values, exact_values
from lola_games.values.iterated import IteratedGame

__all__ = [
    "GAMES",
    "MatrixGame",
    "get_game",
    "get_any_game",
    "coin_game",
    "DifferentiableGame",
    "IteratedGame",
    "exact_values",
    "discounted_values",
    "__version__",
]

"""lola-games: learning agents that shape each other's learning in iterated matrix games."""

from lola_games import coin_game  # registers "coin_game" with get_any_game
from lola_games.diffgames import DifferentiableGame, IteratedGame  # registers its games
from lola_games.exact import discounted_values, exact_values
from lola_games.games import GAMES, MatrixGame, get_any_game, get_game

__version__ = "0.1.0"

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

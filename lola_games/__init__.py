"""lola-games: learning agents that shape each other's learning in iterated matrix games.

The names below load on first use (PEP 562), so that ``import lola_games.cli`` and
``lola-games --help`` do not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lola_games.core.registry import load_entry
from lola_games.core.version import __version__

if TYPE_CHECKING:
    from lola_games.games import coin as coin_game
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

_LAZY = {
    "GAMES": "lola_games.games.matrix:GAMES",
    "MatrixGame": "lola_games.games.matrix:MatrixGame",
    "get_game": "lola_games.games.registry:get_game",
    "get_any_game": "lola_games.games.registry:get_any_game",
    "DifferentiableGame": "lola_games.games.differentiable:DifferentiableGame",
    "IteratedGame": "lola_games.values.iterated:IteratedGame",
    "exact_values": "lola_games.values.exact:exact_values",
    "discounted_values": "lola_games.values.exact:discounted_values",
}


def __getattr__(name: str) -> Any:
    """The public names of `__all__`, imported on first use."""
    if name == "coin_game":
        return load_entry("lola_games.games:coin")
    if name in _LAZY:
        return load_entry(_LAZY[name])
    raise AttributeError(f"module 'lola_games' has no attribute {name!r}")

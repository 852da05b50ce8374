"""Games, each defined once: matrix games, the Coin Game, differentiable games, the papers'
variants, and the look-ups by name."""

from lola_games.games.coin import (
    ACTION_NAMES,
    CHANNELS,
    MOVES,
    CoinGame,
    random_play_rates,
)
from lola_games.games.differentiable import (
    DIFF_GAMES,
    CustomGameRecord,
    DifferentiableGame,
    diff_game_names,
    is_differentiable,
    matrix_game_of,
    param_shapes,
)
from lola_games.games.matrix import (
    GAMES,
    N_STATES,
    FrozenMapping,
    MatrixGame,
    check_game_action,
)
from lola_games.games.paper import (
    contribution_ipd,
    tft_threshold,
)
from lola_games.games.registry import (
    GAME_KINDS,
    OTHER_GAMES,
    all_game_names,
    game_from_spec,
    game_names,
    get_any_game,
    get_game,
    register_game,
    register_game_kind,
)

__all__ = [
    "N_STATES",
    "MatrixGame",
    "FrozenMapping",
    "GAMES",
    "check_game_action",
    "OTHER_GAMES",
    "GAME_KINDS",
    "game_names",
    "get_game",
    "register_game",
    "register_game_kind",
    "game_from_spec",
    "all_game_names",
    "get_any_game",
    "CoinGame",
    "ACTION_NAMES",
    "MOVES",
    "CHANNELS",
    "random_play_rates",
    "DifferentiableGame",
    "CustomGameRecord",
    "DIFF_GAMES",
    "diff_game_names",
    "is_differentiable",
    "matrix_game_of",
    "param_shapes",
    "contribution_ipd",
    "tft_threshold",
]

"""Games by name, and games rebuilt from the JSON spec a run directory stores.

`get_game` finds the built-in matrix games (`GAMES`);
`get_any_game` finds those and every other registered game (`OTHER_GAMES`: the
Coin Game and the built-in differentiable games, as lazy ``"module:attr"`` entries, and what
users add with `register_game`). `game_from_spec` rebuilds a game by its spec's
``"kind"`` through `GAME_KINDS`; nothing in a spec is run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from lola_games.core.builtins import OTHER_GAME_ENTRIES
from lola_games.core.protocols import Game
from lola_games.core.registry import Registry
from lola_games.games.matrix import GAMES, MatrixGame

__all__ = [
    "GAMES",
    "OTHER_GAMES",
    "GAME_KINDS",
    "game_names",
    "get_game",
    "register_game",
    "register_game_kind",
    "game_from_spec",
    "all_game_names",
    "get_any_game",
]

OTHER_GAMES: Registry[Any] = Registry("game", group="lola_games.games")
"""Built-in games that are not matrix games, by name (``"coin_game"``, ``"tandem"``, ...),
and the games users register."""
for _name, _entry in OTHER_GAME_ENTRIES:
    OTHER_GAMES.register(_name, _entry)

GAME_KINDS: Registry[Callable[[Mapping[str, Any]], Any]] = Registry("game kind")
"""Builders of games from their ``spec()`` by ``spec["kind"]``."""
GAME_KINDS.register("matrix", "lola_games.games.matrix:MatrixGame.from_spec")
GAME_KINDS.register("coin", "lola_games.games.coin:CoinGame.from_spec")
GAME_KINDS.register("differentiable",
                    "lola_games.games.differentiable:DifferentiableGame.from_spec")
GAME_KINDS.register("iterated", "lola_games.values.iterated:IteratedGame.from_spec")


def game_names() -> tuple[str, ...]:
    """Names of the built-in matrix games."""
    return tuple(GAMES)


def get_game(game: str | MatrixGame) -> MatrixGame:
    """Return a built-in game by name (a `MatrixGame` is passed through).

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    if isinstance(game, MatrixGame):
        return game
    try:
        return GAMES[game]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown game {game!r}; known games: {', '.join(GAMES)}"
        ) from None


def register_game_kind(kind: str, from_spec: Callable[[Mapping[str, Any]], Any] | str) -> None:
    """Let `game_from_spec` rebuild games whose spec has ``"kind": kind`` (``from_spec``
    a function or a ``"module:attr"`` string)."""
    GAME_KINDS.register(kind, from_spec, replace=True)


def game_from_spec(spec: Mapping[str, Any]) -> Any:
    """Rebuild a game from the JSON ``spec`` its ``spec()`` method wrote.

    Only the registered kinds of `GAME_KINDS` are known; nothing in ``spec`` is run.

    Raises:
        ValueError: not a mapping, an unknown kind, or a spec its kind rejects.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a game spec must be a mapping, got {type(spec).__name__}")
    kind = spec.get("kind")
    if kind not in GAME_KINDS:
        raise ValueError(f"unknown game kind {kind!r}; known: {', '.join(GAME_KINDS)}")
    try:
        return GAME_KINDS[cast(str, kind)](spec)  # a known kind, so a str
    except KeyError as e:
        raise ValueError(f"{kind} game spec lacks {e}") from None
    except TypeError as e:  # e.g. action names that are not strings
        raise ValueError(f"{kind} game spec is malformed: {e}") from None


def register_game(game: Game) -> None:
    """Make ``game`` (a game object of another kind, with a ``name``) a game that
    `get_any_game` finds by name.

    Raises:
        ValueError: the name is taken by another game.
    """
    known = GAMES.get(game.name)
    if known is None and game.name in OTHER_GAMES:
        known = OTHER_GAMES[game.name]
    if known is not None and known != game:
        raise ValueError(f"a game named {game.name!r} exists already")
    OTHER_GAMES.register(game.name, game, replace=True)


def all_game_names() -> tuple[str, ...]:
    """Names of all registered games: the matrix games, then the others."""
    return tuple(GAMES) + tuple(OTHER_GAMES)


def _game_types() -> tuple[type, ...]:
    return (MatrixGame, *{type(OTHER_GAMES[name]) for name in OTHER_GAMES})


def get_any_game(game: Any) -> Any:
    """Any registered game by name (a matrix game or e.g. ``"coin_game"``); a game object (a
    `MatrixGame` or of the type of a game in `OTHER_GAMES`) is passed through.

    `get_game` stays the lookup for code that needs a `MatrixGame`.

    Raises:
        ValueError: an unknown name (the message lists all known ones) or not a game.
    """
    if isinstance(game, str):
        if game in GAMES:
            return GAMES[game]
        if game in OTHER_GAMES:
            return OTHER_GAMES[game]
    elif isinstance(game, _game_types()):
        return game
    raise ValueError(f"unknown game {game!r}; known games: {', '.join(all_game_names())}")

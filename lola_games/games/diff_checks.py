"""Argument checks of `lola_games.games.differentiable.DifferentiableGame`."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import Any

from lola_games.games.matrix import FrozenMapping

__all__ = ["LossFn", "check_game_name", "check_init_std", "check_levels", "check_shapes",
           "count_players"]

LossFn = Callable[..., Any]


def check_game_name(name: Any) -> str:
    """``name``, if it is a non-empty str without spaces, commas or quotes; else ``ValueError``."""
    if not isinstance(name, str) or not name or any(c in name for c in " ,\"'"):
        raise ValueError(f"a game name must be a non-empty str without spaces, commas or "
                         f"quotes, got {name!r}")
    return name


def check_init_std(init_std: Any) -> float:
    """``init_std`` as a float, if it is a finite number >= 0; else ``ValueError``."""
    if isinstance(init_std, bool) or not isinstance(init_std, (int, float)) \
            or not math.isfinite(init_std) or init_std < 0:
        raise ValueError(f"init_std must be a finite number >= 0, got {init_std!r}")
    return float(init_std)


def check_levels(levels: Mapping[str, float] | None) -> Mapping[str, float]:
    """Reference levels as a frozen ``{str: float}`` (finite values; ``None`` gives ``{}``)."""
    out = {}
    for key, value in dict(levels or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"reference level {key!r} must be a finite number, got {value!r}")
        out[str(key)] = float(value)
    return FrozenMapping(out)


def check_shapes(name: str, shapes: Any, n_players: int) -> tuple[tuple[int, ...], ...]:
    """``shapes`` as a tuple of ``n_players`` shapes, each a tuple of positive ints.

    Args:
        name: the game's name, for the error messages.
        shapes: one parameter shape per player (without the seed dimension), e.g.
            ``[(), (3,)]``.
        n_players: the number of players.

    Raises:
        ValueError: not one shape per player, or a size that is not a positive int.
    """
    def bad(what: str) -> ValueError:
        return ValueError(f"game {name!r}: shapes must be one shape per player, each a tuple "
                          f"of positive ints such as () or (3,); {what}")
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Sequence):
        raise bad(f"got {shapes!r}")
    out = []
    for i, shape in enumerate(shapes):
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
            raise bad(f"player {i}'s shape is {shape!r} (in shapes={shapes!r})")
        for d in shape:
            if isinstance(d, bool) or not isinstance(d, (int, Integral)) or d < 1:
                raise bad(f"player {i}'s shape {tuple(shape)!r} has size {d!r}")
        out.append(tuple(int(d) for d in shape))
    if len(out) != n_players:
        raise ValueError(f"game {name!r}: {len(out)} shapes for {n_players} players")
    return tuple(out)


def count_players(fn: LossFn) -> int | None:
    """The number of positional parameters of ``fn`` (one per player), if it is fixed."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return None
    return sum(k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
               for k in kinds)


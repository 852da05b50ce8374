"""Structural types of what the layers pass around without importing each other: games of any
kind and memory-one agents (`typing.Protocol`, so no class needs to inherit from them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from torch import Tensor

from lola_games.core.tensors import ParamTree

__all__ = ["Game", "ValuedGame", "MemoryOneAgent"]


class Game(Protocol):
    """A game of any kind (matrix, Coin Game, differentiable, ...): a name and a JSON spec."""

    @property
    def name(self) -> str:
        """The game's name (its registry key)."""
        ...

    def spec(self) -> dict[str, Any]:
        """A JSON description that rebuilds (or records) the game."""
        ...


class ValuedGame(Protocol):
    """A game with exact, differentiable values: ``values(params, gamma)`` maps the players'
    per-seed parameters (``[S, ...]`` each) to their values ``[P, S]``."""

    def values(self, params: Sequence[Tensor], gamma: float | None = None) -> Tensor:
        """Every player's value ``[P, S]``."""
        ...


class MemoryOneAgent(Protocol):
    """An agent whose policy is memory-one: ``logits(params) -> [S, 5]`` (P(action 0) is the
    sigmoid of each state's logit)."""

    def logits(self, params: ParamTree) -> Tensor:
        """Memory-one logits ``[S, 5]`` of per-seed ``params``."""
        ...

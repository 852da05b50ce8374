"""Matrix games: the one definition of payoffs used by every env, value and agent.

Convention: ``payoffs`` has shape ``[2, n, n]`` and ``payoffs[i, own, other]`` is player
``i``'s reward when it plays ``own`` and the other player plays ``other``. Each player is
seen from its own side, so a symmetric game has ``payoffs[0] == payoffs[1]``.

Built-in games (actions listed as index 0, index 1; rewards for (own, other)):

* ``ipd`` -- iterated prisoner's dilemma, actions (C, D), as in the LOLA paper:
  CC -1, CD -3, DC 0, DD -2 for both players.
* ``imp`` -- iterated matching pennies, actions (H, T): player 0 gets +1 when the actions
  match and -1 otherwise; player 1 gets the opposite.
* ``stag_hunt`` -- actions (S, H) for stag and hare: SS 4, SH 1, HS 3, HH 2 for both
  (hunting stag together pays most, hare is the safe choice).
* ``chicken`` -- actions (S, T) for swerve and straight: SS 0, ST -1, TS +1, TT -10 for
  both (the textbook payoffs).

The Coin Game, a grid game, is defined in `lola_games.games.coin`; the look-ups by name
are in `lola_games.games.registry`.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

__all__ = [
    "N_STATES",
    "MatrixGame",
    "FrozenMapping",
    "GAMES",
    "check_game_action",
    "builtin_game",
]

N_STATES = 5
"""Memory-one states of a 2-action game: the first move, then CC, CD, DC, DD."""


@dataclass(frozen=True, eq=False)
class MatrixGame:
    """A two-player matrix game.

    Args:
        name: short identifier, e.g. ``"ipd"``.
        action_names: one short name per action, e.g. ``("C", "D")``.
        payoffs: real numbers (ints or floats), array-like of shape ``[2, n, n]``;
            ``payoffs[i, own, other]`` is player ``i``'s reward (see module docstring).
            Stored as a read-only float64 array.
        reference_levels: optional named joint scores (mean per-step reward of both
            players) worth drawing on plots, e.g. ``{"mutual cooperation": -1.0}``; stored
            as a read-only `FrozenMapping`.
        description: one line for humans.

    A game is immutable; ``copy.deepcopy`` and ``pickle`` rebuild it through the constructor
    (a built-in game is stored by name and loads as the same object).

    Raises:
        ValueError: on a wrong shape, fewer than two actions, payoffs that are not finite
            real numbers (bool, complex, strings, ...), action names that do not match the
            number of actions, or reference levels that are not finite numbers.
        TypeError: a name, action name or description that is not a str.
    """

    name: str
    action_names: tuple[str, ...]
    payoffs: np.ndarray
    reference_levels: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"game name must be a non-empty str, got {self.name!r}")
        payoffs = _real_array(self.name, self.payoffs)
        if payoffs.ndim != 3 or payoffs.shape[0] != 2 or payoffs.shape[1] != payoffs.shape[2]:
            raise ValueError(
                f"game {self.name!r}: payoffs must have shape [2, n, n] "
                f"(player, own action, other's action), got {list(payoffs.shape)}"
            )
        n = payoffs.shape[1]
        if n < 2:
            raise ValueError(f"game {self.name!r}: needs at least 2 actions, got n={n}")
        if not np.all(np.isfinite(payoffs)):
            raise ValueError(f"game {self.name!r}: payoffs contain NaN or infinite values")
        action_names = _names(self.name, self.action_names)
        if len(action_names) != n:
            raise ValueError(
                f"game {self.name!r}: {len(action_names)} action names for {n} actions"
            )
        if len(set(action_names)) != n:
            raise ValueError(f"game {self.name!r}: action names must be distinct")
        if not isinstance(self.description, str):
            raise TypeError(
                f"game {self.name!r}: description must be a str, got {self.description!r}"
            )
        payoffs.setflags(write=False)
        object.__setattr__(self, "payoffs", payoffs)
        object.__setattr__(self, "action_names", action_names)
        object.__setattr__(self, "reference_levels", _levels(self.name, self.reference_levels))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Copies and pickles are rebuilt through the constructor, so they are checked and
        # read-only again; a built-in game is stored by name (the same object on loading).
        if GAMES.get(self.name) is self:
            return builtin_game, (self.name,)
        args = (self.name, self.action_names, np.array(self.payoffs),
                dict(self.reference_levels), self.description)
        return MatrixGame, args

    @property
    def n_players(self) -> int:
        """Number of players: 2."""
        return 2

    @property
    def n_actions(self) -> int:
        """Number of actions ``n`` of each player."""
        return self.payoffs.shape[1]

    @property
    def outcome_names(self) -> tuple[str, ...]:
        """Names of the ``n * n`` outcomes (own, other), row-major: ``("CC", "CD", ...)``."""
        return tuple(a + b for a in self.action_names for b in self.action_names)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of a memory-one policy's states: ``("start",) + outcome_names``."""
        return ("start",) + self.outcome_names

    def rewards(self, action_0: int, action_1: int) -> tuple[float, float]:
        """Rewards ``(r0, r1)`` of one round where player 0 plays ``action_0``.

        Raises:
            TypeError: an action that is not an integer (bools included).
            ValueError: an action outside ``[0, n)``.
        """
        action_0 = self.check_action(action_0, "action_0")
        action_1 = self.check_action(action_1, "action_1")
        return (
            float(self.payoffs[0, action_0, action_1]),
            float(self.payoffs[1, action_1, action_0]),
        )

    def check_action(self, action: Any, name: str = "action") -> int:
        """``action`` as an int in ``[0, n)``; changes nothing (see `check_game_action`)."""
        return check_game_action(self, action, name)

    def payoff_tensor(
        self, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """The payoffs as a ``[2, n, n]`` tensor on ``device`` with ``dtype``."""
        return torch.tensor(self.payoffs.tolist(), dtype=dtype, device=device)

    def spec(self) -> dict[str, Any]:
        """A JSON description that `game_from_spec` turns back into this game."""
        return {
            "kind": "matrix",
            "name": self.name,
            "action_names": list(self.action_names),
            "payoffs": self.payoffs.tolist(),
            "reference_levels": dict(self.reference_levels),
            "description": self.description,
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> MatrixGame:
        """The game of `spec` (a built-in game when name and payoffs match one)."""
        name = spec["name"]
        builtin = GAMES.get(name)
        if builtin is not None and np.array_equal(builtin.payoffs, np.asarray(spec["payoffs"])):
            return builtin
        return cls(str(name), tuple(spec["action_names"]), spec["payoffs"],
                   spec.get("reference_levels", {}), str(spec.get("description", "")))

    def __repr__(self) -> str:
        return f"MatrixGame(name={self.name!r}, actions={self.action_names})"


def check_game_action(game: Any, action: Any, name: str = "action") -> int:
    """``action`` as an int in ``[0, game.n_actions)``; changes nothing.

    ``game`` is any game with ``name``, ``n_actions`` and ``action_names``.

    Raises:
        TypeError: not an integer (Python or numpy; bools and floats are refused).
        ValueError: outside ``[0, n)``. Messages start with ``name``.
    """
    n = game.n_actions
    if action is None or isinstance(action, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer in [0, {n}), got {action!r}")
    try:
        value = operator.index(action)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer in [0, {n}), got {action!r} "
            f"of type {type(action).__name__}"
        ) from None
    if not 0 <= value < n:
        raise ValueError(
            f"{name} out of range: {value} not in [0, {n}) "
            f"({game.name} actions: {', '.join(game.action_names)})"
        )
    return value


K = TypeVar("K")
V = TypeVar("V")


class FrozenMapping(Mapping[K, V]):
    """A read-only mapping that can be copied and pickled (unlike ``MappingProxyType``)."""

    __slots__ = ("_data",)
    _data: dict[K, V]

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        object.__setattr__(self, "_data", dict(data or {}))

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (self._data,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


def _is_real(x: Any) -> bool:
    """A real number that is not a bool (Python or numpy scalar)."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _real_array(name: str, payoffs: Any) -> np.ndarray:
    """``payoffs`` as a new float64 array; only real numbers (ints or floats) are accepted."""
    try:
        array = np.asarray(payoffs)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"game {name!r}: payoffs are not numeric: {e}") from None
    kind = array.dtype.kind
    if kind == "O":  # e.g. a ragged list or one holding strings or None
        bad = [x for x in array.flat if not _is_real(x)]
        if bad:
            raise ValueError(
                f"game {name!r}: payoffs are not numeric: found {bad[0]!r} in an object array"
            )
    elif kind == "b":
        raise ValueError(f"game {name!r}: payoffs must be real numbers, got booleans")
    elif kind == "c":
        raise ValueError(f"game {name!r}: payoffs must be real numbers, got complex values")
    elif kind not in "iuf":
        raise ValueError(f"game {name!r}: payoffs are not numeric (dtype {array.dtype})")
    return np.array(array, dtype=np.float64)


def _names(name: str, action_names: Any) -> tuple[str, ...]:
    if isinstance(action_names, str) or not isinstance(action_names, Iterable):
        raise TypeError(
            f"game {name!r}: action_names must be a sequence of str such as ('C', 'D'), "
            f"got {action_names!r}"
        )
    names = tuple(action_names)
    for a in names:
        if not isinstance(a, str) or not a:
            raise TypeError(f"game {name!r}: action names must be non-empty str, got {a!r}")
    return names


def _levels(name: str, levels: Any) -> FrozenMapping:
    if not isinstance(levels, Mapping):
        raise TypeError(
            f"game {name!r}: reference_levels must be a mapping {{label: level}}, got {levels!r}"
        )
    for key, value in levels.items():
        if not isinstance(key, str):
            raise TypeError(f"game {name!r}: reference_levels label {key!r} is not a str")
        if not _is_real(value) or not math.isfinite(value):
            raise ValueError(
                f"game {name!r}: reference_levels[{key!r}] must be a finite number, got {value!r}"
            )
    return FrozenMapping({k: float(v) for k, v in levels.items()})


def _symmetric(matrix: list[list[float]]) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    return np.stack([m, m])


_BUILTIN = (
    MatrixGame(
        name="ipd",
        action_names=("C", "D"),
        payoffs=_symmetric([[-1.0, -3.0], [0.0, -2.0]]),
        reference_levels={"mutual cooperation": -1.0, "mutual defection": -2.0},
        description="iterated prisoner's dilemma (LOLA paper payoffs)",
    ),
    MatrixGame(
        name="imp",
        action_names=("H", "T"),
        payoffs=np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]]),
        reference_levels={"Nash (zero-sum)": 0.0},
        description="iterated matching pennies (player 0 wants to match)",
    ),
    MatrixGame(
        name="stag_hunt",
        action_names=("S", "H"),
        payoffs=_symmetric([[4.0, 1.0], [3.0, 2.0]]),
        reference_levels={"both stag": 4.0, "both hare": 2.0},
        description="iterated stag hunt",
    ),
    MatrixGame(
        name="chicken",
        action_names=("S", "T"),
        payoffs=_symmetric([[0.0, -1.0], [1.0, -10.0]]),
        reference_levels={"both swerve": 0.0, "crash": -10.0},
        description="iterated chicken (swerve or go straight)",
    ),
)

GAMES: Mapping[str, MatrixGame] = FrozenMapping({g.name: g for g in _BUILTIN})
"""The built-in games by name."""


def builtin_game(name: str) -> MatrixGame:
    """The built-in game ``name`` (what copies and pickles of a built-in game are rebuilt
    from)."""
    return GAMES[name]

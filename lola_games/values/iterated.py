"""Iterated matrix games as differentiable games, and every player's exact value of any game.

`IteratedGame` plays a 2-action matrix game through the memory-one values of
`lola_games.values.exact` with an initialisation of its own; `game_values` is the
one entry point through which exact learners see any game.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from lola_games.core.protocols import ValuedGame
from lola_games.games.diff_checks import check_init_std
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_any_game
from lola_games.values.evaluate import exact_evaluate
from lola_games.values.exact import discounted_values

__all__ = ["IteratedGame", "game_values"]


class IteratedGame:
    """An iterated 2-action matrix game as a differentiable game with its own initialisation.

    Losses are minus the unnormalised discounted values of the players' memory-one logits
    ``[S, 5]`` (`lola_games.values.exact.discounted_values`, discount ``gamma`` of the run);
    evaluation is that of the matrix game (values per step and ``p_<state>``), so runs look
    exactly like runs on the matrix game itself.

    Args:
        game: a 2-action `MatrixGame` or its name.
        init_std: initial logits ``~ N(0, init_std^2)`` (the matrix game's learners draw
            ``N(0, 1)``).
    """

    kind = "iterated"
    family = "probability"
    n_players = 2
    shapes = ((5,), (5,))

    def __init__(self, game: MatrixGame | str, init_std: float = 1.0) -> None:
        matrix = get_any_game(game)
        if not isinstance(matrix, MatrixGame) or matrix.n_actions != 2:
            raise ValueError(f"an iterated game needs a 2-action matrix game, got {game!r}")
        self.matrix_game = matrix
        self.init_std = check_init_std(init_std)

    def __getattr__(self, name: str) -> Any:
        # name, description, reference_levels, state_names, action_names, ... of the matrix
        matrix = self.__dict__.get("matrix_game")
        if matrix is not None and name in ("name", "description", "reference_levels",
                                           "state_names", "action_names", "outcome_names",
                                           "n_actions"):
            return getattr(matrix, name)
        raise AttributeError(name)

    def values(self, params: Sequence[Tensor], gamma: float | None = None) -> Tensor:
        """Unnormalised discounted values ``[2, S]``."""
        if gamma is None:
            raise ValueError(f"iterated game {self.name!r} needs the discount gamma")
        if len(params) != 2:
            raise ValueError(f"iterated game {self.name!r} has 2 players, got {len(params)}")
        return torch.stack(discounted_values(self.matrix_game, params[0], params[1], gamma))

    def losses(self, params: Sequence[Tensor], gamma: float | None = None) -> Tensor:
        return -self.values(params, gamma)

    def init_params(self, player: int, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> Tensor:
        """Memory-one logits ``[n_seeds, 5]`` ~ ``N(0, init_std^2)``."""
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
        return torch.randn(n_seeds, 5, generator=generator, device=device,
                           dtype=dtype) * self.init_std

    def exact_evaluate(self, game: Any, agents: Sequence[Any], params: Sequence[Tensor],
                       gamma: float, generator: torch.Generator | None = None
                       ) -> dict[str, Tensor]:
        return exact_evaluate(self.matrix_game, tuple(agents), tuple(params), gamma, generator)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "matrix": self.matrix_game.spec(), "init_std": self.init_std}

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> IteratedGame:
        return IteratedGame(MatrixGame.from_spec(spec["matrix"]), spec.get("init_std", 1.0))

    def __repr__(self) -> str:
        return f"IteratedGame({self.matrix_game.name!r}, init_std={self.init_std})"




def game_values(
    game: MatrixGame | ValuedGame, params: Sequence[Tensor], gamma: float
) -> list[Tensor]:
    """Every player's value (unnormalised for iterated games) ``[S]``, in player order.

    The one entry point through which exact learners see any game: a matrix game's memory-one
    values (`lola_games.values.exact.discounted_values`, player 0's logits first), or the
    game's ``values(params, gamma)``.
    """
    if isinstance(game, MatrixGame):
        if len(params) != 2:
            raise ValueError(f"game {game.name!r} has 2 players, got {len(params)}")
        return list(discounted_values(game, params[0], params[1], gamma))
    return list(game.values(params, gamma).unbind(0))

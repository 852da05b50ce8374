"""Differentiable games: the players' parameters map to their losses, differentiable to any order.

A differentiable game (Balduzzi et al. 2018) has ``P >= 2`` players; player ``i`` controls
parameters ``theta_i`` of any shape and minimises its loss ``L_i(theta_1, ..., theta_P)``.
Every exact learner of `lola_games.agents` (naive, LOLA, lookahead LOLA, LA, SOS, HOLA,
COLA, CGD, SGA, CO, EG) plays any such game through `DifferentiableGame.values`.

Conventions:

* **params** are a tuple of ``P`` tensors in player order, player ``i``'s ``[S, *shape_i]``
  (a leading seed dimension, as everywhere in lola-games);
* `DifferentiableGame.losses` returns ``[P, S]``; values are ``-losses`` (learners
  ascend values, the scale on which their learning rates act);
* the evaluation (`DifferentiableGame.exact_evaluate`) logs ``value`` = ``-loss`` per
  player, the parameters of small games as ``theta`` (one number per player) or ``theta_<k>``,
  and the game's own metrics (e.g. ``p``, the probability of action 0 in the one-shot games).

A custom game is a function from the players' parameters to their losses::

    from lola_games.games.differentiable import DifferentiableGame
    game = DifferentiableGame("my_tandem", lambda x, y: ((x + y) ** 2 - 2 * x,
                                                         (x + y) ** 2 - 2 * y))
    run = train(game, [SOS(lr=0.1), SOS(lr=0.1)], n_seeds=100, n_updates=30)

Built-in games (losses; ``p = sigmoid(theta)`` where parameters are log-odds):

* ``tandem`` (Letcher et al. 2019): ``L1 = (x + y)^2 - 2x``, ``L2 = (x + y)^2 - 2y``; the
  stable fixed points are ``x + y = 1``; init ``N(0, 0.1^2)`` (the SOS notebook).
* ``one_shot_mp``: one-shot matching pennies, player 0 wins (+1) when the coins match,
  ``L1 = -(2 p1 - 1)(2 p2 - 1) = -L2``; the Nash equilibrium is ``p1 = p2 = 1/2``; init
  ``N(0, 1)``.
* ``ultimatum`` (the COLA paper's binary ultimatum game): player 0 proposes a fair (5, 5) or an
  unfair (8, 2) split of 10 with ``p_fair``, player 1 accepts an unfair split with
  ``p_accept`` (and always accepts a fair one); ``V1 = 5 p_fair + 8 (1 - p_fair) p_accept``,
  ``V2 = 5 p_fair + 2 (1 - p_fair) p_accept``; init ``N(0, 1)``.
* ``one_shot_chicken`` (the COLA notebook's payoffs): swerve (action 0) or go straight; SS 0,
  ST -1, TS +1, TT -100 for each player from its own side; init ``N(0, 1)``.
* ``balduzzi`` (Balduzzi et al. 2018): ``L1 = x^2 / 2 + 10 x y``, ``L2 = y^2 / 2 - 10 x y``;
  init ``N(0, 1)``.
* ``hamiltonian``: ``L1 = x y = -L2``, whose simultaneous gradient rotates around the fixed
  point ``(0, 0)``; init ``N(0, 1)``.

The iterated matrix games (``ipd``, ``imp``, ...) are differentiable games too: their losses are
minus the unnormalised discounted values of memory-one policies
(`lola_games.values.exact.discounted_values`). Learners play them directly, and
`IteratedGame` gives one a different initialisation (the COLA paper starts the IPD's
logits at ``N(0, 0.1^2)``).

Names: the built-in games resolve with `lola_games.games.registry.get_any_game` (and the CLI's
``--game``).

Run directories: built-in games and iterated games are stored by a JSON spec and rebuilt by
`lola_games.games.registry.game_from_spec`. A custom game is a Python function, which a JSON file
cannot hold: its spec records its name and shapes, and loading it back gives a
`CustomGameRecord` that plots and tables use (name, description, reference levels) and
that refuses to compute losses; resume such a run by passing the game object itself to
``train(..., resume=True)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor

from lola_games.core.tensors import transform_active
from lola_games.games.diff_checks import (
    LossFn,
    check_game_name,
    check_init_std,
    check_levels,
    check_shapes,
    count_players,
)
from lola_games.games.diff_losses import (
    balduzzi,
    chicken,
    hamiltonian,
    matching_pennies,
    pennies_metrics,
    probabilities,
    radius,
    tandem,
    tandem_metrics,
    ultimatum,
)
from lola_games.games.matrix import MatrixGame

__all__ = [
    "DifferentiableGame",
    "CustomGameRecord",
    "DIFF_GAMES",
    "diff_game_names",
    "is_differentiable",
    "custom_game",
    "matrix_game_of",
    "param_shapes",
]


class DifferentiableGame:
    """A game given by a function from the players' parameters to their losses.

    Args:
        name: short identifier (no spaces, commas or quotes).
        losses: ``fn(theta_1, ..., theta_P) -> (L_1, ..., L_P)``, each ``theta_i`` a tensor
            ``[S, *shape_i]`` and each ``L_i`` a tensor ``[S]`` (or a ``[P, S]`` tensor);
            written with tensor operations, so that it is batched over seeds and
            differentiable to any order.
        n_players: ``P``; by default the number of positional parameters of ``losses``.
        shapes: each player's parameter shape (without the seed dimension); by default one
            number per player (shape ``()``).
        init_std: initial parameters are drawn from ``N(0, init_std^2)``.
        values: ``losses`` returns values (to be maximised) rather than losses.
        description: one line for humans.
        reference_levels: named joint scores (mean value of the players) for plots.
        metrics: optional ``fn(params) -> {name: Tensor [P, S]}`` of extra evaluation metrics.
        family: ``"polynomial"`` (parameters are the actions themselves; COLA's training region
            ``[-1, 1]``) or ``"probability"`` (parameters are log-odds; region ``[-7, 7]``).

    Raises:
        ValueError: a bad name, player count (fewer than 2 players), shape or init.
        TypeError: ``losses`` is not callable.
    """

    kind = "differentiable"

    def __init__(
        self,
        name: str,
        losses: LossFn,
        *,
        n_players: int | None = None,
        shapes: Sequence[Sequence[int]] | None = None,
        init_std: float = 1.0,
        values: bool = False,
        description: str = "",
        reference_levels: Mapping[str, float] | None = None,
        metrics: Callable[[tuple[Tensor, ...]], dict[str, Tensor]] | None = None,
        family: str = "polynomial",
        builtin: str | None = None,
    ) -> None:
        self.name = check_game_name(name)
        if not callable(losses):
            raise TypeError(f"game {name!r}: losses must be a function of the players' "
                            f"parameters, got {type(losses).__name__}")
        if n_players is None:
            n_players = count_players(losses)
            if n_players is None and shapes is not None:
                n_players = len(shapes)
            if n_players is None:
                raise ValueError(f"game {name!r}: pass n_players (the loss function takes a "
                                 f"variable number of arguments)")
        if isinstance(n_players, bool) or not isinstance(n_players, int) or n_players < 2:
            raise ValueError(f"game {name!r}: a game needs at least 2 players, got "
                             f"n_players={n_players!r}")
        if shapes is None:
            shapes = [()] * n_players
        shapes = check_shapes(name, shapes, n_players)
        if family not in ("polynomial", "probability"):
            raise ValueError(f"family must be 'polynomial' or 'probability', got {family!r}")
        self._fn = losses
        self._sign = -1.0 if values else 1.0
        self.n_players = n_players
        self.shapes = shapes
        self.init_std = check_init_std(init_std)
        self.description = str(description)
        self.reference_levels = check_levels(reference_levels)
        self._metrics = metrics
        self.family = family
        self.builtin = builtin

    # -- the game ----------------------------------------------------------------------------
    def losses(self, params: Sequence[Tensor], gamma: float | None = None) -> Tensor:
        """Every player's loss ``[P, S]`` (``gamma`` is unused: a one-shot game).

        Raises:
            ValueError: wrong number of players, shapes or devices of ``params``; a loss
                function that does not return one loss per player and seed; non-finite
                losses (not checked inside ``torch.func`` transforms).
            TypeError: parameters that are not floating-point tensors.
        """
        n_seeds = self._check_params(params)
        out = self._fn(*params)
        stacked = self._stack(out, n_seeds)
        self._check_depends(params, out if isinstance(out, Tensor) else list(out))
        return self._sign * stacked

    def values(self, params: Sequence[Tensor], gamma: float | None = None) -> Tensor:
        """Every player's value ``[P, S]``: minus its loss."""
        return -self.losses(params, gamma)

    def _check_params(self, params: Sequence[Tensor]) -> int:
        if isinstance(params, Tensor) or not isinstance(params, Sequence):
            raise TypeError(f"game {self.name!r}: params must be a sequence of {self.n_players} "
                            f"tensors (one per player), got {type(params).__name__}")
        if len(params) != self.n_players:
            raise ValueError(f"game {self.name!r} has {self.n_players} players, got params "
                             f"for {len(params)}")
        n_seeds = None
        for i, (p, shape) in enumerate(zip(params, self.shapes, strict=True)):
            if not isinstance(p, Tensor) or not p.is_floating_point():
                raise TypeError(f"game {self.name!r}: player {i}'s params must be a "
                                f"floating-point tensor, got {type(p).__name__}"
                                + (f" of {p.dtype}" if isinstance(p, Tensor) else ""))
            if p.ndim != 1 + len(shape) or tuple(p.shape[1:]) != shape:
                raise ValueError(f"game {self.name!r}: player {i}'s params must have shape "
                                 f"[S, {', '.join(map(str, shape))}]".replace(", ]", "]")
                                 + f", got {list(p.shape)}")
            if n_seeds is None:
                n_seeds = p.shape[0]
            elif p.shape[0] != n_seeds:
                raise ValueError(f"game {self.name!r}: players' params have different seed "
                                 f"counts ({n_seeds} and {p.shape[0]})")
            if p.device != params[0].device:
                raise ValueError(f"game {self.name!r}: params on {params[0].device} and "
                                 f"{p.device}")
        assert n_seeds is not None  # zip(strict=True) over >= 2 players' params
        return int(n_seeds)

    def _check_depends(self, params: Sequence[Tensor], out: Tensor | list[Tensor]) -> None:
        """Refuse a loss cut off from its own player's parameters while they require
        gradients (that gradient would be None): a constant loss, or one computed from detached
        parameters."""
        if transform_active() or not torch.is_grad_enabled():
            return
        if isinstance(out, Tensor):
            cut = [0] if any(p.requires_grad for p in params) and not out.requires_grad else []
        else:
            cut = [i for i, (loss, p) in enumerate(zip(out, params, strict=True))
                   if p.requires_grad and not loss.requires_grad]
        if cut:
            who = "its losses" if isinstance(out, Tensor) else \
                f"player(s) {', '.join(map(str, cut))}'s loss"
            raise ValueError(f"game {self.name!r}: {who} do not depend on the players' "
                             f"parameters (no gradient reaches them); compute the losses "
                             f"from the params with tensor operations, without .detach(), "
                             f".item() or new tensors")

    def _stack(self, out: Any, n_seeds: int) -> Tensor:
        where = f"game {self.name!r}: the loss function"
        if isinstance(out, Tensor):
            if out.shape != (self.n_players, n_seeds):
                raise ValueError(f"{where} returned a tensor of shape {list(out.shape)}; it must "
                                 f"return one loss per player and seed, [P, S] = "
                                 f"[{self.n_players}, {n_seeds}]")
            stacked = out
        else:
            if not isinstance(out, Sequence) or len(out) != self.n_players:
                got = len(out) if isinstance(out, Sequence) else type(out).__name__
                raise ValueError(f"{where} must return {self.n_players} losses (one per "
                                 f"player), got {got}")
            for i, loss in enumerate(out):
                if not isinstance(loss, Tensor):
                    raise ValueError(f"{where} returned a {type(loss).__name__} for player {i}; "
                                     f"losses must be tensors [S] computed from the params")
                if loss.shape != (n_seeds,):
                    raise ValueError(f"{where} returned player {i}'s loss with shape "
                                     f"{list(loss.shape)}; it must be one loss per seed, "
                                     f"[S] = [{n_seeds}] (reduce a parameter's own dimensions, "
                                     f"keep the seed dimension)")
            stacked = torch.stack(list(out))
        if not stacked.is_floating_point():
            raise ValueError(f"{where} returned {stacked.dtype} losses; they must be "
                             f"floating-point")
        if not transform_active() and not bool(torch.isfinite(stacked).all()):
            bad = sorted({int(i) for i in (~torch.isfinite(stacked.detach())).nonzero()[:, 0]})
            raise ValueError(f"{where} returned NaN or infinite losses for player(s) "
                             f"{', '.join(map(str, bad))}")
        return stacked

    def init_params(
        self,
        player: int,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """Player ``player``'s initial parameters ``[n_seeds, *shape]`` ~ ``N(0, init_std^2)``."""
        if isinstance(player, bool) or not isinstance(player, int) \
                or not 0 <= player < self.n_players:
            raise ValueError(f"game {self.name!r}: player must be in [0, {self.n_players}), "
                             f"got {player!r}")
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
        shape = (n_seeds, *self.shapes[player])
        x = torch.randn(shape, generator=generator, device=device, dtype=dtype)
        return x * self.init_std

    def with_init(self, init_std: float) -> DifferentiableGame:
        """The same game with initial parameters ``~ N(0, init_std^2)``."""
        game = object.__new__(type(self))
        game.__dict__.update(self.__dict__)
        game.init_std = check_init_std(init_std)
        return game

    # -- evaluation ----------------------------------------------------------------------------
    @torch.no_grad()
    def exact_evaluate(self, game: Any, agents: Sequence[Any], params: Sequence[Tensor],
                       gamma: float, generator: torch.Generator | None = None
                       ) -> dict[str, Tensor]:
        """Metrics ``[P, S]``: ``value`` (minus each loss), the parameters of small games
        (``theta`` for one number per player, else ``theta_<k>`` for up to 8 numbers; NaN
        where a player has fewer) and the game's own metrics."""
        params = tuple(params)
        out = {"value": self.values(params, gamma)}
        sizes = [math.prod(s) for s in self.shapes]
        if max(sizes) == 1:
            out["theta"] = torch.stack([p.reshape(p.shape[0]) for p in params])
        elif max(sizes) <= 8:
            flat = [p.reshape(p.shape[0], -1) for p in params]
            nan = torch.full_like(flat[0][:, 0], float("nan"))
            for k in range(max(sizes)):
                out[f"theta_{k}"] = torch.stack([f[:, k] if k < f.shape[1] else nan
                                                 for f in flat])
        if self._metrics is not None:
            out.update(self._metrics(params))
        return out

    # -- run directories -------------------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        """A JSON description: built-in games rebuild exactly; a custom game is recorded."""
        spec: dict[str, Any] = {"kind": self.kind, "name": self.name, "builtin": self.builtin,
                "init_std": self.init_std}
        if self.builtin is None:
            spec.update(n_players=self.n_players, shapes=[list(s) for s in self.shapes],
                        description=self.description,
                        reference_levels=dict(self.reference_levels), family=self.family)
        return spec

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> DifferentiableGame | CustomGameRecord:
        builtin = spec.get("builtin")
        if builtin is None:
            return CustomGameRecord(spec)
        if builtin not in DIFF_GAMES:
            raise ValueError(f"unknown built-in differentiable game {builtin!r}")
        game = DIFF_GAMES[builtin]
        init_std = spec.get("init_std", game.init_std)
        return game if init_std == game.init_std else game.with_init(init_std)

    def __repr__(self) -> str:
        return (f"DifferentiableGame(name={self.name!r}, n_players={self.n_players}, "
                f"shapes={self.shapes}, init_std={self.init_std})")


class CustomGameRecord:
    """What a run directory keeps of a custom game: its name, players, shapes, description and
    reference levels. Plots and tables need no more; it computes no losses."""

    kind = "differentiable"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.name = check_game_name(spec["name"])
        self.n_players = int(spec.get("n_players", 2))
        self.shapes = tuple(tuple(s) for s in spec.get("shapes", [[]] * self.n_players))
        self.init_std = float(spec.get("init_std", 1.0))
        self.description = str(spec.get("description", ""))
        self.reference_levels = check_levels(spec.get("reference_levels", {}))
        self.family = str(spec.get("family", "polynomial"))
        self._spec = dict(spec)

    def spec(self) -> dict[str, Any]:
        return dict(self._spec)

    def _unavailable(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"custom game {self.name!r} was defined by a Python function, which "
                         f"config.json cannot hold; pass the game object itself (e.g. "
                         f"train(game, ..., resume=True)) to play it")

    losses = values = init_params = exact_evaluate = _unavailable

    def __repr__(self) -> str:
        return f"CustomGameRecord(name={self.name!r}, n_players={self.n_players})"


# -- helpers used by the learners -------------------------------------------------------------


def matrix_game_of(game: Any) -> MatrixGame | None:
    """The 2-action matrix game whose memory-one values ``game`` uses, else ``None``."""
    game = getattr(game, "matrix_game", game)
    return game if isinstance(game, MatrixGame) and game.n_actions == 2 else None


def is_differentiable(game: Any) -> bool:
    """Whether exact learners can play ``game``: a 2-action matrix game (memory-one values)
    or a game with a ``values(params, gamma)`` method."""
    return matrix_game_of(game) is not None or callable(getattr(game, "values", None)) \
        and not isinstance(game, CustomGameRecord)


def custom_game(game: Any) -> DifferentiableGame | None:
    """``game`` itself if it is a `DifferentiableGame` that its ``spec()`` cannot rebuild (a
    custom game, defined by a Python function), else ``None``: what a grid's runs carry with
    them besides the spec (`lola_games.runner.tasks.RunTask`)."""
    return game if isinstance(game, DifferentiableGame) and game.builtin is None else None


def param_shapes(game: Any) -> tuple[tuple[int, ...], ...]:
    """Each player's parameter shape (memory-one logits: ``(5,)``)."""
    if isinstance(game, MatrixGame):
        return ((5,), (5,))
    return tuple(game.shapes)




_BUILTIN = (
    DifferentiableGame(
        "tandem", tandem, init_std=0.1, builtin="tandem", metrics=tandem_metrics,
        description="Tandem (Letcher et al. 2019): L_i = (x + y)^2 - 2 theta_i",
        reference_levels={"x + y = 1 (stable fixed points)": 0.0,
                          "x + y = 4/3 (LOLA at alpha 0.1)": -4.0 / 9.0},
    ),
    DifferentiableGame(
        "one_shot_mp", matching_pennies, builtin="one_shot_mp", family="probability",
        metrics=pennies_metrics,
        description="one-shot matching pennies (player 0 wins on a match)",
        reference_levels={"Nash (zero-sum)": 0.0},
    ),
    DifferentiableGame(
        "ultimatum", ultimatum, builtin="ultimatum", family="probability",
        metrics=probabilities,
        description="binary ultimatum game (COLA paper): fair 5/5 or unfair 8/2, accept or not",
        reference_levels={"fair split": 5.0, "unfair split accepted": 5.0},
    ),
    DifferentiableGame(
        "one_shot_chicken", chicken, builtin="one_shot_chicken", family="probability",
        metrics=probabilities,
        description="one-shot chicken (COLA notebook): SS 0, ST -1, TS 1, TT -100",
        reference_levels={"both swerve": 0.0},
    ),
    DifferentiableGame(
        "balduzzi", balduzzi, builtin="balduzzi", metrics=radius,
        description="Balduzzi et al. (2018): L1 = x^2/2 + 10xy, L2 = y^2/2 - 10xy",
        reference_levels={"fixed point (0, 0)": 0.0},
    ),
    DifferentiableGame(
        "hamiltonian", hamiltonian, builtin="hamiltonian", metrics=radius,
        description="Hamiltonian game: L1 = xy = -L2 (rotation around (0, 0))",
        reference_levels={"fixed point (0, 0)": 0.0},
    ),
)

DIFF_GAMES: Mapping[str, DifferentiableGame] = MappingProxyType({g.name: g for g in _BUILTIN})
"""The built-in differentiable (one-shot) games by name."""


def diff_game_names() -> tuple[str, ...]:
    """Names of the built-in differentiable games."""
    return tuple(DIFF_GAMES)



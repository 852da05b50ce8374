"""Naive learning (NL-Ex) and the exact-gradient base class the other learners share.

Every exact learner follows its own ascent direction ``d`` on its value: the unnormalised
discounted value of memory-one logits in a matrix game (the scale on which the LOLA paper
states learning rates), or minus its loss in a differentiable game
(`lola_games.games.differentiable`)::

    own <- own + lr * d                  (optimizer "sgd", the paper's plain step)
    own <- Adam(lr) step on the loss -d  (optimizer "adam")

using the optimizers of `lola_games.functional.lookahead` on the loss ``-V``. The learners are
written for any number of players: ``other`` is the opponent's params, or the tuple of the
other players' params in player order.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context, joint_values
from lola_games.agents.joint import joint_leaves
from lola_games.core.tensors import Params
from lola_games.functional.optim import SGD, Adam, Optimizer
from lola_games.games.differentiable import is_differentiable, matrix_game_of

__all__ = ["GradientSettings", "GradientAgent", "NaiveLearner", "check_rate", "rate_or_lr",
           "opponent_logits"]

OPTIMIZERS = ("sgd", "adam")


def check_rate(name: str, value: Any, allow_zero: bool = True) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming the rate unless it is a
    finite real number (Python or numpy, not a bool) >= 0 (> 0 unless ``allow_zero``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (value > 0 or (allow_zero and value == 0)) or value == float("inf"):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def rate_or_lr(settings: GradientSettings, name: str) -> None:
    """Store the rate field ``name`` of frozen ``settings`` checked (`check_rate`), or ``lr``'s
    value where it is ``None`` (the default of the learners' lookahead rates); call it from
    ``__post_init__`` after `GradientSettings` has checked ``lr``."""
    value = getattr(settings, name)
    object.__setattr__(settings, name, settings.lr if value is None else check_rate(name, value))


@dataclass(frozen=True)
class GradientSettings(AgentSettings):
    """Settings of every exact-gradient learner.

    Attributes:
        lr: outer learning rate (the paper's delta), on the unnormalised value.
        optimizer: ``"sgd"`` (plain gradient step) or ``"adam"``.
    """

    lr: float = 1.0
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "lr", check_rate("lr", self.lr, allow_zero=False))
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")


class GradientAgent(Agent):
    """Exact-gradient learner on memory-one logits; subclasses define `direction`.
    Settings: `GradientSettings`."""

    Settings: ClassVar[type[AgentSettings] | None] = GradientSettings
    settings: GradientSettings
    reads_opponent_logits = True

    def _opt(self) -> Optimizer:
        return SGD(self.lr) if self.optimizer == "sgd" else Adam(self.lr)

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> Params:
        """Memory-one logits ``~ N(0, 1)`` in a matrix game, else the game's initial params
        for ``player`` (its ``init_params``, e.g. the papers' initialisations)."""
        if game is None or matrix_game_of(game) is game:
            return super().init_params(n_seeds, generator, device, dtype, game=game,
                                       player=player)
        return game.init_params(player, n_seeds, generator, device, dtype)

    def check_game(self, game: Any) -> None:
        """Raise ``ValueError`` unless ``game`` gives exact values: a two-action matrix game
        (memory-one values) or a differentiable game (`lola_games.games.differentiable`)."""
        if not is_differentiable(game):
            raise ValueError(
                f"agent {self.name!r} learns from exact gradients of the players' values: it "
                f"plays two-action matrix games and differentiable games, and "
                f"{getattr(game, 'name', game)!r} is neither")

    def init_state(self, params: Params) -> Any:
        """The outer optimizer's state (Adam moments; nothing for a plain step)."""
        return self._opt().init(cast(Tensor, params))

    def direction(self, own: Tensor, other: Tensor, ctx: Context) -> Tensor:
        """Ascent direction ``[S, 5]`` of this learner's objective."""
        raise NotImplementedError

    def update(self, own: Params, other: Any, state: Any, ctx: Context) -> tuple[Params, Any]:
        own = cast(Tensor, own)  # exact learners' params are tensors (`init_params`)
        with torch.enable_grad():
            d = self.direction(own, opponent_logits(other, ctx), ctx)
        return self._opt().step(own.detach(), -d.detach(), state)


def opponent_logits(other: Any, ctx: Context) -> Any:
    """The opponent's memory-one logits ``[S, 5]``: an exact agent's params as they are (or,
    for a parameterised policy, its logits, differentiable in the params), a sampled agent's
    memory-one policy (``ctx.other.logits``) as constants. With more than two players, the
    tuple of the others'."""
    if isinstance(other, tuple):
        agents = ctx.other if isinstance(ctx.other, tuple) else (None,) * len(other)
        return tuple(_logits_of(p, a) for p, a in zip(other, agents, strict=True))
    return _logits_of(other, ctx.other)


def _logits_of(params: Any, agent: Any) -> Any:
    if agent is None or (agent.mode == "exact" and isinstance(params, Tensor)):
        return params
    if agent.mode == "exact":
        return agent.logits(params)
    return agent.logits(params).detach()


class NaiveLearner(GradientAgent):
    """NL-Ex: gradient ascent on its own exact value, ``d = grad_i V_i``.

    The opponent is treated as fixed. Sums over seeds before differentiating give each seed
    its own gradient (seeds do not interact).
    """

    name = "naive"

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta, i = joint_leaves(own, other, ctx), ctx.player
        values = joint_values(ctx, theta)
        return torch.autograd.grad(values[i].sum(), theta[i])[0]

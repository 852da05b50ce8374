"""Higher-order LOLA (HOLA-n): each player assumes the others are (n-1)-th order LOLA learners.

Two forms, with look-ahead rate ``eta`` and values ``V_j`` (minus the losses):

* **exact** (the COLA paper's HOLA, Willi et al. 2022, and its official notebook)::

      h^0_j = grad_j V_j
      h^{m+1}_j = grad_j [ V_j(theta_j, theta_-j + eta h^m_-j(theta)) ]      (total derivative)

  so ``h^1`` is exact (lookahead) LOLA, ``lookahead-lola`` with one step, and HOLA-n follows
  ``h^n``. If ``h^n`` converges as ``n`` grows, its limit is consistent (the COLA paper's
  Proposition 1; see `lola_games.analysis.consistency`).

* **taylor** (the LOLA paper's higher-order LOLA, Foerster et al. 2018, Sec. 4.5)::

      d^0_j = grad_j V_j
      d^{m+1}_j = grad_j V_j + eta sum_{k != j} (grad_k V_j)^T (d/dtheta_j) d^m_k(theta)

  so ``d^1`` is the paper's LOLA rule (``lola`` with the stop-gradient) and ``d^2`` its
  second-order LOLA, which assumes the opponent is a first-order LOLA learner (third
  derivatives of the values). The factor ``grad_k V_j`` is held fixed in player ``j``'s own
  derivative (as LOLA holds it), and stays a function of the parameters for the higher orders.

Both are written for any number of players; ``theta_-j + eta h_-j`` shifts every other player.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values
from lola_games.agents.joint import add_all, joint_leaves
from lola_games.agents.naive import GradientAgent, GradientSettings, rate_or_lr

__all__ = ["HOLASettings", "HOLA", "hola_directions"]

ValuesFn = Callable[[Sequence[Tensor]], list[Tensor]]


def _grad(output: Tensor, wrt: Tensor, vector: Tensor | None = None) -> Tensor:
    """``d output / d wrt`` (vector-Jacobian product with ``vector``), kept differentiable."""
    return torch.autograd.grad(output, wrt, grad_outputs=vector, create_graph=True,
                               retain_graph=True)[0]


def hola_directions(
    values: ValuesFn,
    theta: Sequence[Tensor],
    eta: float,
    order: int,
    taylor: bool = False,
    players: Sequence[int] | None = None,
) -> dict[int, Tensor]:
    """HOLA-``order`` ascent directions ``{j: [S, ...]}`` of ``players`` (default: all).

    Args:
        values: all players' values ``[S]`` (a list in player order) from their params.
        theta: all players' params, differentiable leaves ``[S, ...]`` in player order.
        eta: look-ahead rate.
        order: ``n >= 0`` (0: the naive gradients).
        taylor: the LOLA paper's Taylor form instead of the exact (lookahead) form.
        players: the players whose order-``n`` directions are returned.

    The directions keep their graph (they are differentiable in ``theta``).
    """
    n_players = len(theta)
    players = list(range(n_players)) if players is None else list(players)
    every = list(range(n_players))
    v = values(theta)
    h = {j: _grad(v[j].sum(), theta[j]) for j in (every if order else players)}
    for m in range(1, order + 1):
        need = players if m == order else every
        if taylor:
            new = {}
            for j in need:
                g = torch.autograd.grad(v[j].sum(), theta, create_graph=True, retain_graph=True)
                shaping = [_grad(h[k], theta[j], g[k]) for k in every if k != j]
                new[j] = g[j] + eta * add_all(shaping)
        else:
            new = {}
            for j in need:
                shifted = [t if k == j else t + eta * h[k] for k, t in enumerate(theta)]
                new[j] = _grad(values(shifted)[j].sum(), theta[j])
        h = new
    return {j: h[j] for j in players}


@dataclass(frozen=True)
class HOLASettings(GradientSettings):
    """Settings of `HOLA` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        eta: look-ahead rate (the others' assumed learning rate); ``None`` (the default)
            stores ``lr``'s value (the COLA paper uses one rate for both).
        order: ``n >= 1``; ``order=1`` is exact LOLA (``taylor=False``) or the LOLA paper's
            rule (``taylor=True``).
        taylor: the LOLA paper's Taylor-expanded recursion instead of the exact lookahead.
    """

    eta: float | None = None
    order: int = 2
    taylor: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "eta")
        order = self.order
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"order must be an int >= 1, got {order!r}")
        if not isinstance(self.taylor, bool):
            raise ValueError(f"taylor must be True or False, got {self.taylor!r}")


class HOLA(GradientAgent):
    """HOLA-n: the order-``n`` higher-order LOLA direction (module docstring).

    Settings: `HOLASettings`.
    """

    name = "hola"
    Settings = HOLASettings
    settings: HOLASettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta, i = joint_leaves(own, other, ctx), ctx.player
        d = hola_directions(lambda th: joint_values(ctx, th), theta, self.eta, self.order,
                            self.taylor, players=[i])
        return d[i].detach()

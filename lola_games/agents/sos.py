"""LookAhead (Zhang & Lesser 2010) and Stable Opponent Shaping (SOS, Letcher et al. 2019).

Notation of the SOS paper, with losses ``L_i = -V_i`` (unnormalised discounted values of a
matrix game, or a differentiable game's losses) and all players' params ``theta = (theta_0,
..., theta_{P-1})``:

* ``xi = (grad_0 L_0, ..., grad_{P-1} L_{P-1})``, the simultaneous gradient;
* ``H = grad xi``, the game's Hessian, split as ``H = H_d + H_o`` into its diagonal and
  off-diagonal blocks, so ``(H_o xi)_i = sum_{j != i} (grad_j grad_i L_i) grad_j L_j``;
* ``chi = diag(H_o^T grad L)``, so ``chi_i = sum_{j != i} (grad_i grad_j L_j)^T grad_j L_i``.

With lookahead rate ``alpha``:

* LookAhead: ``xi_0 = (I - alpha H_o) xi`` -- each player differentiates its loss at the
  opponents' anticipated naive steps, with those steps held constant in its own parameters:
  ``xi_0,i = grad_i [L_i - alpha sum_j grad_j L_i . stop(grad_j L_j)]``.
* SOS: ``xi_p = xi_0 - p alpha chi`` with, per seed (over all players' joint vectors),

  - ``p1 = 1`` if ``<-alpha chi, xi_0> >= 0`` else ``min(1, -a |xi_0|^2 / <-alpha chi, xi_0>)``,
  - ``p2 = |xi|^2`` if ``|xi| < b`` else ``1``,
  - ``p = min(p1, p2)``; the published ``a = 0.5``, ``b = 0.1``.

  ``p = 1`` gives the SOS paper's LOLA, ``xi_0 - alpha chi``.

Each agent computes the joint quantities from all players' current params and steps along
its own block: ``theta_i <- theta_i - lr * xi_i`` (the direction returned is ``-xi_i``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values
from lola_games.agents.joint import add_all, joint_leaves, seed_dot
from lola_games.agents.naive import GradientAgent, GradientSettings, check_rate, rate_or_lr

__all__ = ["LookAheadSettings", "LookAhead", "SOSSettings", "SOS", "sos_terms"]


@dataclass(frozen=True)
class LookAheadSettings(GradientSettings):
    """Settings of `LookAhead` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        alpha: lookahead rate (the opponents' anticipated learning rate); ``None`` (the
            default) stores ``lr``'s value.
    """

    alpha: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "alpha")


@dataclass(frozen=True)
class SOSSettings(GradientSettings):
    """Settings of `SOS` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        alpha: lookahead rate; ``None`` (the default) stores ``lr``'s value (the paper uses
            one rate for both).
        a: in (0, 1), bounds how far the shaping term may turn ``xi_0`` (published 0.5).
        b: gradient norm below which ``p`` shrinks as ``|xi|^2`` (published 0.1).
    """

    alpha: float | None = None
    a: float = 0.5
    b: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "alpha")
        a = check_rate("a", self.a, allow_zero=False)
        if a >= 1:
            raise ValueError(f"a must be in (0, 1), got {self.a}")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", check_rate("b", self.b, allow_zero=False))


def _dot(x: Tensor, y: Tensor) -> Tensor:
    """Dot products of ``[S, ...]`` tensors, summed over seeds (for autograd)."""
    return (x * y).sum()


def sos_terms(
    theta: list[Tensor], ctx: Context, alpha: float, need_chi: bool = True
) -> tuple[list[Tensor], list[Tensor], list[Tensor] | None]:
    """``(xi, xi_0, chi)`` at all players' params ``theta`` (differentiable leaves, player
    order), each a list of ``[S, ...]`` blocks in player order.

    ``chi`` is ``None`` when not ``need_chi``.
    """
    n = len(theta)
    losses = [-v.sum() for v in joint_values(ctx, theta)]
    # g[i][j] = grad_j L_i
    g = [torch.autograd.grad(loss, theta, create_graph=True) for loss in losses]
    xi = [g[i][i] for i in range(n)]
    xi_0, chi = [], []
    for i in range(n):
        opponents = [j for j in range(n) if j != i]
        lookahead = add_all([_dot(g[i][j], g[j][j].detach()) for j in opponents])
        h_o_xi = torch.autograd.grad(lookahead, theta[i], retain_graph=True)[0]
        xi_0.append(xi[i] - alpha * h_o_xi)
        if need_chi:
            shaping = add_all([_dot(g[i][j].detach(), g[j][j]) for j in opponents])
            chi.append(torch.autograd.grad(shaping, theta[i], retain_graph=True)[0])
    return ([x.detach() for x in xi], [x.detach() for x in xi_0],
            [c.detach() for c in chi] if need_chi else None)


class LookAhead(GradientAgent):
    """LookAhead (Zhang & Lesser 2010, as written in the SOS paper): step along ``-xi_0``.

    Settings: `LookAheadSettings`.
    """

    name = "la"
    Settings = LookAheadSettings
    settings: LookAheadSettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        _, xi_0, _ = sos_terms(joint_leaves(own, other, ctx), ctx, self.alpha, need_chi=False)
        return -xi_0[ctx.player]


class SOS(GradientAgent):
    """Stable Opponent Shaping: step along ``-xi_p = -(xi_0 - p alpha chi)`` (module docstring).

    Settings: `SOSSettings`.
    """

    name = "sos"
    Settings = SOSSettings
    settings: SOSSettings

    def p(self, xi: list[Tensor], xi_0: list[Tensor], chi: list[Tensor]) -> Tensor:
        """The SOS coefficient ``p`` per seed ``[S]`` from the joint vectors."""
        dot = add_all([seed_dot(-self.alpha * c, x) for c, x in zip(chi, xi_0, strict=True)])
        xi0_sq = add_all([seed_dot(x, x) for x in xi_0])
        safe = torch.where(dot < 0, dot, -torch.ones_like(dot))
        p1 = torch.where(dot >= 0, torch.ones_like(dot), (-self.a * xi0_sq / safe).clamp(max=1.0))
        xi_sq = add_all([seed_dot(x, x) for x in xi])
        p2 = torch.where(xi_sq.sqrt() < self.b, xi_sq, torch.ones_like(xi_sq))
        return torch.minimum(p1, p2)

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        i = ctx.player
        xi, xi_0, chi = sos_terms(joint_leaves(own, other, ctx), ctx, self.alpha)
        assert chi is not None  # need_chi
        p = self.p(xi, xi_0, chi).reshape(-1, *([1] * (own.ndim - 1)))
        return -(xi_0[i] - p * self.alpha * chi[i])

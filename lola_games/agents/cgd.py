"""Competitive gradient descent (CGD, Schaefer & Anandkumar 2019).

Each step is the Nash equilibrium of a local bilinear approximation of the game; for any
number of players it solves, per seed, ::

    (I + eta H_o) x = xi,        theta <- theta - lr * x

with ``xi`` the simultaneous gradient of the losses and ``H_o`` the off-diagonal blocks of the
game's Hessian, ``(H_o)_{ij} = grad_j grad_i L_i`` (as the SOS and COLA papers' code writes it;
for two players it is the CGD paper's update). ``H_o`` is built explicitly, one backward pass
per parameter, and the system is solved with a batched LU solve (``torch.linalg.solve``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Context
from lola_games.agents.joint import flat, joint_leaves, simultaneous_gradient, unflat
from lola_games.agents.naive import GradientAgent, GradientSettings, rate_or_lr

__all__ = ["CGDSettings", "CGD", "off_diagonal_hessian"]


@dataclass(frozen=True)
class CGDSettings(GradientSettings):
    """Settings of `CGD` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        eta: the rate in ``I + eta H_o`` (the CGD paper's single step size); ``None`` (the
            default) stores ``lr``'s value.
    """

    eta: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "eta")


def off_diagonal_hessian(xi: list[Tensor], theta: list[Tensor]) -> Tensor:
    """``H_o`` per seed ``[S, D, D]`` from ``xi`` (with a graph) at ``theta`` (player order);
    row ``r`` is the gradient of the ``r``-th entry of ``xi`` with its own block set to 0."""
    rows = []
    for i, xi_i in enumerate(xi):
        entries = xi_i.reshape(xi_i.shape[0], -1)
        for c in range(entries.shape[1]):
            grads = torch.autograd.grad(entries[:, c].sum(), theta, retain_graph=True,
                                        allow_unused=True, materialize_grads=True)
            rows.append(flat([torch.zeros_like(g) if j == i else g
                              for j, g in enumerate(grads)]))
    return torch.stack(rows, dim=1)


class CGD(GradientAgent):
    """CGD: step along ``-[(I + eta H_o)^{-1} xi]_i`` (module docstring).

    Settings: `CGDSettings`.
    """

    name = "cgd"
    Settings = CGDSettings
    settings: CGDSettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta = joint_leaves(own, other, ctx)
        xi = simultaneous_gradient(ctx, theta)
        h_o = off_diagonal_hessian(xi, theta)
        eye = torch.eye(h_o.shape[-1], dtype=h_o.dtype, device=h_o.device)
        x = torch.linalg.solve(eye + self.eta * h_o.detach(), flat(xi).detach())
        return -unflat(x, theta)[ctx.player]

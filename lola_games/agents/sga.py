"""Symplectic gradient adjustment (SGA, Balduzzi et al. 2018) and consensus optimisation (CO,
Mescheder et al. 2017): the simultaneous gradient corrected with the game's Hessian.

With ``xi`` the simultaneous gradient of the losses and ``H = grad xi`` the game's Hessian
(``H^T xi = grad (|xi|^2 / 2)``), for any number of players:

* CO: ``theta <- theta - lr (xi + gamma H^T xi)`` (gradient descent on ``|xi|^2 / 2`` added);
* SGA: ``theta <- theta - lr (xi + lambda A^T xi)`` with ``A = (H - H^T) / 2`` the
  antisymmetric part and the alignment sign, per seed,
  ``lambda = sign(<xi, H^T xi> <A^T xi, H^T xi> / d + epsilon)`` (``d`` parameters in all,
  ``epsilon = 0.1``), as in the SGA paper and the SOS paper's code.

``H xi`` is computed as ``(H xi)_i = grad_i sum_j grad_j L_i . stop(xi_j)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values
from lola_games.agents.joint import add_all, joint_leaves, seed_dot, total_dot
from lola_games.agents.naive import GradientAgent, GradientSettings, check_rate

__all__ = ["SGASettings", "SGA", "COSettings", "CO", "hamiltonian_terms"]


@dataclass(frozen=True)
class COSettings(GradientSettings):
    """Settings of `CO` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        consensus: the weight ``gamma`` of the consensus term (the SOS paper's code: 1).
    """

    consensus: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "consensus", check_rate("consensus", self.consensus))


@dataclass(frozen=True)
class SGASettings(GradientSettings):
    """Settings of `SGA` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        epsilon: the alignment threshold (the SGA paper's and SOS code's 0.1).
        align: choose the sign ``lambda`` per seed by alignment; else ``lambda = 1``.
    """

    epsilon: float = 0.1
    align: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "epsilon", check_rate("epsilon", self.epsilon))
        if not isinstance(self.align, bool):
            raise ValueError(f"align must be True or False, got {self.align!r}")


def hamiltonian_terms(theta: list[Tensor], ctx: Context, need_h_xi: bool = True
                      ) -> tuple[list[Tensor], list[Tensor], list[Tensor] | None]:
    """``(xi, H^T xi, H xi)`` at all players' params ``theta`` (leaves, player order), each a
    list of ``[S, ...]`` blocks; ``H xi`` is ``None`` when not ``need_h_xi``."""
    losses = [-v.sum() for v in joint_values(ctx, theta)]
    g = [torch.autograd.grad(loss, theta, create_graph=True) for loss in losses]  # grad_j L_i
    xi = [g[i][i] for i in range(len(theta))]
    ham = add_all([total_dot(x, x.detach()) for x in xi])
    ht_xi = list(torch.autograd.grad(ham, theta, retain_graph=True))
    if not need_h_xi:
        return [x.detach() for x in xi], [x.detach() for x in ht_xi], None
    h_xi = [torch.autograd.grad(add_all([total_dot(g[i][j], xi[j].detach())
                                         for j in range(len(theta))]),
                                theta[i], retain_graph=True)[0]
            for i in range(len(theta))]
    return ([x.detach() for x in xi], [x.detach() for x in ht_xi],
            [x.detach() for x in h_xi])


class CO(GradientAgent):
    """Consensus optimisation: step along ``-(xi + gamma H^T xi)_i`` (module docstring).

    Settings: `COSettings`.
    """

    name = "co"
    Settings = COSettings
    settings: COSettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        xi, ht_xi, _ = hamiltonian_terms(joint_leaves(own, other, ctx), ctx, need_h_xi=False)
        i = ctx.player
        return -(xi[i] + self.consensus * ht_xi[i])


class SGA(GradientAgent):
    """Symplectic gradient adjustment with alignment: step along ``-(xi + lambda A^T xi)_i``.

    Settings: `SGASettings`.
    """

    name = "sga"
    Settings = SGASettings
    settings: SGASettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta = joint_leaves(own, other, ctx)
        xi, ht_xi, h_xi = hamiltonian_terms(theta, ctx)
        assert h_xi is not None  # need_h_xi
        at_xi = [(a - b) / 2 for a, b in zip(ht_xi, h_xi, strict=True)]
        i = ctx.player
        if not self.align:
            return -(xi[i] + 1.0 * at_xi[i])
        d = sum(t[0].numel() for t in theta)
        dot_xi = add_all([seed_dot(x, h) for x, h in zip(xi, ht_xi, strict=True)])
        dot_a = add_all([seed_dot(a, h) for a, h in zip(at_xi, ht_xi, strict=True)])
        lam = torch.sign(dot_xi * dot_a / d + self.epsilon)
        return -(xi[i] + lam.reshape(-1, *([1] * (own.ndim - 1))) * at_xi[i])

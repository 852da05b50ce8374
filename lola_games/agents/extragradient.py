"""Extragradient (EG, Korpelevich 1976; for games e.g. Gidel et al. 2019).

Every player extrapolates with a simultaneous gradient step, then steps from the current
params along the simultaneous gradient at the extrapolated point::

    theta' = theta - eta xi(theta),        theta <- theta - lr xi(theta')

(the SOS paper's code uses ``eta = lr``). ``xi(theta')_i`` is the partial gradient of
``L_i`` at ``theta'``, not differentiated through the extrapolation.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lola_games.agents.base import Context
from lola_games.agents.joint import joint_leaves, simultaneous_gradient
from lola_games.agents.naive import GradientAgent, check_rate

__all__ = ["EG"]


class EG(GradientAgent):
    """Extragradient: step along ``-xi_i(theta - eta xi(theta))`` (module docstring).

    Args:
        lr: own learning rate.
        eta: extrapolation step; default ``lr``.
        optimizer: ``"sgd"`` or ``"adam"``.
    """

    name = "eg"

    def __init__(self, lr: float = 1.0, eta: float | None = None, optimizer: str = "sgd") -> None:
        super().__init__(lr, optimizer)
        self.eta = self.lr if eta is None else check_rate("eta", eta)

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta = joint_leaves(own, other, ctx)
        xi = simultaneous_gradient(ctx, theta, create_graph=False)
        ahead = [(t - self.eta * x).detach().requires_grad_(True)
                 for t, x in zip(theta, xi, strict=True)]
        return -simultaneous_gradient(ctx, ahead, create_graph=False)[ctx.player]

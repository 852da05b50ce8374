"""Extragradient (EG, Korpelevich 1976; for games e.g. Gidel et al. 2019).

Every player extrapolates with a simultaneous gradient step, then steps from the current
params along the simultaneous gradient at the extrapolated point::

    theta' = theta - eta xi(theta),        theta <- theta - lr xi(theta')

(the SOS paper's code uses ``eta = lr``). ``xi(theta')_i`` is the partial gradient of
``L_i`` at ``theta'``, not differentiated through the extrapolation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from lola_games.agents.base import Context
from lola_games.agents.joint import joint_leaves, simultaneous_gradient
from lola_games.agents.naive import GradientAgent, GradientSettings, rate_or_lr

__all__ = ["EGSettings", "EG"]


@dataclass(frozen=True)
class EGSettings(GradientSettings):
    """Settings of `EG` (and ``lr``, ``optimizer`` of `GradientSettings`).

    Attributes:
        eta: extrapolation step; ``None`` (the default) stores ``lr``'s value.
    """

    eta: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "eta")


class EG(GradientAgent):
    """Extragradient: step along ``-xi_i(theta - eta xi(theta))`` (module docstring).

    Settings: `EGSettings`.
    """

    name = "eg"
    Settings = EGSettings
    settings: EGSettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta = joint_leaves(own, other, ctx)
        xi = simultaneous_gradient(ctx, theta, create_graph=False)
        ahead = [(t - self.eta * x).detach().requires_grad_(True)
                 for t, x in zip(theta, xi, strict=True)]
        return -simultaneous_gradient(ctx, ahead, create_graph=False)[ctx.player]

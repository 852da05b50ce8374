"""Consistency of update functions under mutual opponent shaping (the COLA paper's measure).

Update functions ``h_j(theta)`` (ascent directions; a player steps ``theta_j + lr * h_j``) are
consistent with look-ahead rate ``eta`` when every ``h_j`` equals
``grad_j V_j(theta_j, theta_-j + eta h_-j(theta))`` (`lola_games.agents.cola`). The
consistency loss of a point ``theta`` is

    C(theta) = sum_j || h_j(theta) - grad_j V_j(theta_j, theta_-j + eta h_-j(theta)) ||^2

and the COLA paper reports its mean over points drawn uniformly from the training region
``[-r, r]^D`` (``r = 1`` in polynomial games, ``7`` where parameters are log-odds), in the
scaling of its official notebook (``h`` without the learning rate): LOLA's is 128 on Tandem at
look-ahead rate 1. This module measures it for HOLA-n (`lola_games.agents.hola`), COLA's
trained networks and any other update, and the cosine similarity between two updates.

Points are a batch (the seed dimension), so thousands are measured at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.cola import consistency_loss
from lola_games.agents.cola_networks import update_functions
from lola_games.agents.hola import hola_directions
from lola_games.games.differentiable import param_shapes
from lola_games.values.iterated import game_values

__all__ = [
    "sample_region",
    "hola_consistency",
    "network_consistency",
    "update_consistency",
    "hola_updates",
    "network_updates",
    "cosine_similarity",
]

UpdateFn = Callable[[list[Tensor]], list[Tensor]]


def sample_region(game: Any, n: int, region: float, generator: torch.Generator | None = None,
                  device: Any = None, dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """``n`` points ``~ U[-region, region]`` in every parameter, as leaves ``[n, ...]`` per
    player (they require grad)."""
    return [((2 * torch.rand(n, *s, generator=generator, device=device, dtype=dtype) - 1)
             * region).requires_grad_(True) for s in param_shapes(game)]


def _values(game: Any, gamma: float) -> Callable[[Sequence[Tensor]], list[Tensor]]:
    return lambda theta: game_values(game, theta, gamma)


def update_consistency(game: Any, theta: list[Tensor], update: UpdateFn, eta: float,
                       gamma: float = 0.96) -> Tensor:
    """The consistency loss ``[n]`` of ``update`` (all players' ``h_j`` from ``theta``, kept
    differentiable in ``theta``) at the points ``theta``."""
    h = update(theta)
    return consistency_loss(_values(game, gamma), theta, h, eta).detach()


def hola_updates(game: Any, eta: float, order: int, gamma: float = 0.96, taylor: bool = False
                 ) -> UpdateFn:
    """All players' HOLA-``order`` directions as a differentiable function of ``theta``."""
    def update(theta: list[Tensor]) -> list[Tensor]:
        h = hola_directions(_values(game, gamma), theta, eta, order, taylor)
        return [h[j] for j in range(len(theta))]

    return update


def network_updates(nets: dict[str, Tensor], net: str) -> UpdateFn:
    """COLA's update functions (one network per player, ``[1, ...]`` weights) on any points."""
    def update(theta: list[Tensor]) -> list[Tensor]:
        n = theta[0].shape[0]
        wide = {k: v.expand(1, *v.shape[1:]) for k, v in nets.items()}
        return [h.reshape(n, *t.shape[1:]) for h, t in
                zip(update_functions(wide, net, theta, 1), theta, strict=True)]

    return update


def hola_consistency(game: Any, eta: float, order: int, n: int = 1000, region: float = 1.0,
                     gamma: float = 0.96, generator: torch.Generator | None = None,
                     taylor: bool = False, dtype: torch.dtype = torch.float64) -> Tensor:
    """HOLA-``order``'s consistency loss ``[n]`` at ``n`` points of ``[-region, region]^D``
    (``order=1``: exact LOLA, the COLA paper's "LOLA")."""
    theta = sample_region(game, n, region, generator, dtype=dtype)
    return update_consistency(game, theta, hola_updates(game, eta, order, gamma, taylor), eta,
                              gamma)


def network_consistency(game: Any, nets: dict[str, Tensor], net: str, eta: float,
                        n: int = 1000, region: float = 1.0, gamma: float = 0.96,
                        generator: torch.Generator | None = None) -> Tensor:
    """The consistency loss ``[n]`` of COLA's update functions ``nets`` (one network per
    player: weights ``[1, ...]``) at ``n`` points of ``[-region, region]^D``."""
    dtype = next(iter(nets.values())).dtype
    theta = sample_region(game, n, region, generator, dtype=dtype)
    return update_consistency(game, theta, network_updates(nets, net), eta, gamma)


def cosine_similarity(a: Sequence[Tensor], b: Sequence[Tensor], eps: float = 1e-15) -> Tensor:
    """Cosine similarity ``[n]`` of two updates, all players' directions joined per point."""
    def join(parts: Sequence[Tensor]) -> Tensor:
        return torch.cat([p.detach().reshape(p.shape[0], -1) for p in parts], dim=1)

    x, y = join(a), join(b)
    return (x * y).sum(1) / (x.norm(dim=1) * y.norm(dim=1)).clamp(min=eps)

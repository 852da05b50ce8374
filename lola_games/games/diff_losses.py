"""The losses and metrics of the built-in differentiable games (`lola_games.games.DIFF_GAMES`).

Each loss maps the two players' parameters ``x``, ``y`` (any matching shape, e.g. ``[S]``)
to their losses; each metric maps the parameters to metrics ``[2, S]``.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["p_action_0", "probabilities", "both_players", "tandem_metrics", "pennies_metrics",
           "radius", "tandem", "matching_pennies", "ultimatum", "chicken", "balduzzi",
           "hamiltonian"]


def p_action_0(theta: Tensor) -> Tensor:
    """Probability of action 0, ``sigmoid(theta)``."""
    return torch.sigmoid(theta)


def probabilities(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """``p``: each player's probability of action 0, ``sigmoid(theta)``."""
    return {"p": torch.stack([torch.sigmoid(p) for p in params])}


def both_players(x: Tensor) -> Tensor:
    """A joint quantity ``[S]`` as a metric of both players ``[2, S]``."""
    return torch.stack([x, x])


def tandem_metrics(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """``x_plus_y``: the sum of the pedalling forces (1 at the stable fixed points)."""
    return {"x_plus_y": both_players(params[0] + params[1])}


def pennies_metrics(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """``p`` and ``nash_gap = |p - 1/2|`` of each player."""
    p = probabilities(params)["p"]
    return {"p": p, "nash_gap": (p - 0.5).abs()}


def radius(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """``radius``: the distance of ``(x, y)`` from the fixed point ``(0, 0)``."""
    return {"radius": both_players(torch.sqrt(params[0] ** 2 + params[1] ** 2))}


def tandem(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Tandem: ``L_i = (x + y)^2 - 2 theta_i``."""
    return (x + y) ** 2 - 2 * x, (x + y) ** 2 - 2 * y


def matching_pennies(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """One-shot matching pennies (player 0 wins on a match)."""
    match = (2 * p_action_0(x) - 1) * (2 * p_action_0(y) - 1)  # E[+1 if the coins match, else -1]
    return -match, match


def ultimatum(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Binary ultimatum game: fair 5/5 or unfair 8/2, accept or not."""
    fair, accept = p_action_0(x), p_action_0(y)
    return -(5 * fair + 8 * (1 - fair) * accept), -(5 * fair + 2 * (1 - fair) * accept)


def chicken(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """One-shot chicken: SS 0, ST -1, TS 1, TT -100."""
    def value(own: Tensor, other: Tensor) -> Tensor:  # P(swerve): SS 0, ST -1, TS 1, TT -100
        return -own * (1 - other) + (1 - own) * other - 100 * (1 - own) * (1 - other)

    a, b = p_action_0(x), p_action_0(y)
    return -value(a, b), -value(b, a)


def balduzzi(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Balduzzi et al. (2018): ``L1 = x^2/2 + 10xy, L2 = y^2/2 - 10xy``."""
    return 0.5 * x**2 + 10 * x * y, 0.5 * y**2 - 10 * x * y


def hamiltonian(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Hamiltonian game: ``L1 = xy = -L2``."""
    return x * y, -x * y

"""LOLA with exact gradients (LOLA-Ex, Foerster et al. 2018) and its k-step lookahead form.

Notation: ``theta_i`` is this learner's params, ``theta_j`` an opponent's; ``V_i``/``V_j`` are
their values (`lola_games.agents.base.joint_values`: unnormalised discounted values of
memory-one logits in a matrix game, minus the losses in a differentiable game); ``grad_j`` is
the gradient with respect to ``theta_j``. With more than two players the shaping terms are
summed over the opponents (the LOLA paper's N-agent form).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values
from lola_games.agents.joint import add_all, joint_leaves
from lola_games.agents.naive import GradientAgent, GradientSettings, check_rate

__all__ = ["LOLASettings", "LOLA", "LookaheadLOLASettings", "LookaheadLOLA"]


@dataclass(frozen=True)
class LOLASettings(GradientSettings):
    """Settings of `LOLA` (and ``lr``, ``optimizer`` of `GradientSettings`:
    own learning rate delta; ``"sgd"``, the paper's, or ``"adam"`` for the outer step).

    Attributes:
        eta: the opponents' assumed learning rate.
        stop_gradient: hold ``grad_j V_i`` constant (the paper's rule).
    """

    eta: float = 1.0
    stop_gradient: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "eta", check_rate("eta", self.eta))
        if not isinstance(self.stop_gradient, (bool, np.bool_)):
            raise TypeError(f"stop_gradient must be True or False, got {self.stop_gradient!r}")
        object.__setattr__(self, "stop_gradient", bool(self.stop_gradient))


@dataclass(frozen=True)
class LookaheadLOLASettings(GradientSettings):
    """Settings of `LookaheadLOLA` (and those of `GradientSettings`).

    Attributes:
        eta: the opponents' inner (lookahead) learning rate.
        lookahead_steps: k >= 1.
    """

    eta: float = 1.0
    lookahead_steps: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "eta", check_rate("eta", self.eta))
        k = self.lookahead_steps
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"lookahead_steps must be an int >= 1, got {k!r}")
        object.__setattr__(self, "lookahead_steps", int(k))


class LOLA(GradientAgent):
    """LOLA-Ex, the paper's update rule (its Eq. 4)::

        d_theta_i = delta * grad_i V_i + delta * eta * sum_j grad_i( stop(grad_j V_i) . grad_j V_j )

    ``grad_j V_j`` is opponent ``j``'s naive gradient, differentiated with respect to
    ``theta_i`` through ``V_j``'s dependence on it; ``grad_j V_i`` is held constant. With
    ``stop_gradient=False`` it is the full first-order Taylor form, the gradient of
    ``V_i + eta * sum_j grad_j V_i . grad_j V_j`` (``~ grad_i V_i(theta_i, theta_j + eta
    grad_j V_j)``), which adds ``eta * (grad_i grad_j V_i) grad_j V_j`` (the SOS paper's "LOLA").

    Settings: `LOLASettings`.
    """

    name = "lola"
    Settings = LOLASettings
    settings: LOLASettings

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta, i = joint_leaves(own, other, ctx), ctx.player
        opponents = [j for j in range(len(theta)) if j != i]
        values = joint_values(ctx, theta)
        # one backward pass of V_i gives grad_i V_i and every grad_j V_i (kept differentiable
        # only for the full Taylor form); sums over seeds give each seed its own gradient
        grad_vi = torch.autograd.grad(
            values[i].sum(), [theta[i]] + [theta[j] for j in opponents], retain_graph=True,
            create_graph=not self.stop_gradient)
        terms = []
        for j, grad_j_vi in zip(opponents, grad_vi[1:], strict=True):
            grad_j_vj = torch.autograd.grad(values[j].sum(), theta[j], create_graph=True)[0]
            if self.stop_gradient:
                grad_j_vi = grad_j_vi.detach()
            terms.append((grad_j_vi * grad_j_vj).sum())
        shaping = torch.autograd.grad(add_all(terms), theta[i])[0]
        return grad_vi[0].detach() + self.eta * shaping


class LookaheadLOLA(GradientAgent):
    """LOLA through an explicit lookahead of the opponents' learning::

        theta_j^0 = theta_j
        theta_j^{m+1} = theta_j^m + eta * grad_j V_j(theta_i, theta_-i^m)     m < k, j != i
        d_theta_i = delta * grad_i V_i(theta_i, theta_-i^k(theta_i))

    The k naive steps of the opponents (simultaneous, with more than two players) keep their
    graph, so the gradient flows through the opponents' anticipated learning. With ``k = 1``
    and a first-order expansion this is `LOLA` with ``stop_gradient=False``.

    Settings: `LookaheadLOLASettings`.
    """

    name = "lookahead-lola"
    Settings = LookaheadLOLASettings
    settings: LookaheadLOLASettings

    def lookahead(self, theta: list[Tensor], ctx: Context) -> list[Tensor]:
        """All players' params after the opponents' k naive steps (player ``ctx.player``
        unchanged), differentiable in ``theta[ctx.player]``."""
        i = ctx.player
        theta = list(theta)
        for _ in range(self.lookahead_steps):
            values = joint_values(ctx, theta)
            theta = [t if j == i else
                     t - self.eta * torch.autograd.grad((-values[j]).sum(), t, create_graph=True,
                                                        retain_graph=True)[0]
                     for j, t in enumerate(theta)]
        return theta

    def direction(self, own: Tensor, other: Any, ctx: Context) -> Tensor:
        theta, i = joint_leaves(own, other, ctx), ctx.player
        values = joint_values(ctx, self.lookahead(theta, ctx))
        return torch.autograd.grad(values[i].sum(), theta[i])[0]

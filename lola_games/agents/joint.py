"""Joint quantities of a game that the exact learners share.

Every exact learner sees a game through all players' parameters ``theta = (theta_0, ...,
theta_{P-1})`` in player order, each ``[S, ...]``, and their values ``V_j(theta)`` ``[S]``
(`lola_games.agents.base.joint_values`); losses are ``L_j = -V_j``. Gradients are taken of
sums over seeds, which gives each seed its own gradient (seeds never interact).

Notation (the SOS paper's): ``xi = (grad_0 L_0, ..., grad_{P-1} L_{P-1})`` is the simultaneous
gradient and ``H = grad xi`` the game's Hessian, ``H_o`` its off-diagonal blocks.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values

__all__ = [
    "joint_leaves",
    "others_of",
    "seed_dot",
    "total_dot",
    "add_all",
    "simultaneous_gradient",
    "flat",
    "unflat",
]


def others_of(other: Any) -> list[Tensor]:
    """The other players' params as a list (``other`` is one tensor with two players)."""
    return list(other) if isinstance(other, (tuple, list)) else [other]


def joint_leaves(own: Tensor, other: Any, ctx: Context) -> list[Tensor]:
    """Fresh differentiable copies of all players' params in player order (own at
    ``ctx.player``)."""
    rest = others_of(other)
    players = rest[:ctx.player] + [own] + rest[ctx.player:]
    return [p.detach().requires_grad_(True) for p in players]


def seed_dot(a: Tensor, b: Tensor) -> Tensor:
    """Per-seed dot products ``[S]`` of two ``[S, ...]`` tensors."""
    return (a * b).reshape(a.shape[0], -1).sum(-1)


def total_dot(a: Tensor, b: Tensor) -> Tensor:
    """Dot products summed over seeds (a scalar to differentiate; seeds stay independent)."""
    return (a * b).sum()


def add_all(terms: Sequence[Tensor]) -> Tensor:
    """The sum of a non-empty sequence of tensors."""
    return functools.reduce(operator.add, terms)


def simultaneous_gradient(ctx: Context, theta: Sequence[Tensor], create_graph: bool = True
                          ) -> list[Tensor]:
    """``xi = [grad_j L_j]`` in player order, each ``[S, ...]`` (with a graph when
    ``create_graph``)."""
    values = joint_values(ctx, theta)
    return [torch.autograd.grad(-v.sum(), t, create_graph=create_graph, retain_graph=True)[0]
            for v, t in zip(values, theta, strict=True)]


def flat(parts: Sequence[Tensor]) -> Tensor:
    """All players' ``[S, ...]`` blocks as one ``[S, D]`` tensor."""
    return torch.cat([p.reshape(p.shape[0], -1) for p in parts], dim=1)


def unflat(x: Tensor, like: Sequence[Tensor]) -> list[Tensor]:
    """The inverse of `flat`: ``[S, D]`` back into blocks shaped as ``like``."""
    out, start = [], 0
    for p in like:
        size = p[0].numel()
        out.append(x[:, start:start + size].reshape(p.shape))
        start += size
    return out

"""Exact, differentiable discounted values of memory-one policies in 2-action games.

A memory-one policy is a tensor of 5 logits ``[..., 5]``: index 0 for the first move, then
indices 1..4 for the previous outcome (own action, other's action) in the order
CC, CD, DC, DD, **seen from the player's own side** (``C`` = action 0, ``D`` = action 1).
``sigmoid(logit)`` is the probability of action 0.

The joint play is a Markov chain over the 4 outcomes ``(a0, a1)`` (index ``2 * a0 + a1``,
player 0's side). With start distribution ``p0`` and transition matrix ``P``, the expected
discounted visits are ``x = p0^T (I - gamma P)^-1``, found with a linear solve, and a
player's discounted return is ``x . r``. :func:`discounted_values` returns that sum
(the scale on which the LOLA paper states its learning rates); :func:`exact_values`
normalises it to reward per step, ``(1 - gamma) * sum_t gamma^t E[r_t]``.

Everything is batched over any broadcastable leading dimensions, works on any device and
floating dtype, and is differentiable (twice and more) in both players' logits.
"""

from __future__ import annotations

import math

import torch

from lola_games.games import MatrixGame, get_game

__all__ = [
    "N_STATES",
    "discounted_visits",
    "discounted_values",
    "exact_values",
    "check_logits",
    "check_gamma",
]

N_STATES = 5
"""Number of memory-one states (start, CC, CD, DC, DD) and so of logits per policy."""

def check_gamma(gamma: float | torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``gamma`` is a real scalar in ``[0, 1)``."""
    if isinstance(gamma, torch.Tensor):
        if gamma.numel() != 1:
            raise ValueError(f"gamma must be a scalar, got a tensor of shape {list(gamma.shape)}")
        value = float(gamma.detach())
    else:
        try:
            value = float(gamma)
        except (TypeError, ValueError):
            raise ValueError(f"gamma must be a number in [0, 1), got {gamma!r}") from None
    if not (0.0 <= value < 1.0) or math.isnan(value):
        raise ValueError(f"gamma must be in [0, 1), got {value}")


def check_logits(logits: torch.Tensor, name: str = "logits") -> None:
    """Raise unless ``logits`` is a finite floating-point ``[..., 5]`` tensor."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {logits.dtype}")
    if logits.ndim == 0 or logits.shape[-1] != N_STATES:
        raise ValueError(
            f"{name} must have shape [..., {N_STATES}] (start, CC, CD, DC, DD), "
            f"got {list(logits.shape)}"
        )
    if not bool(torch.isfinite(logits).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_pair(logits_0: torch.Tensor, logits_1: torch.Tensor) -> None:
    check_logits(logits_0, "logits_0")
    check_logits(logits_1, "logits_1")
    if logits_0.device != logits_1.device:
        raise ValueError(
            f"logits_0 is on {logits_0.device} but logits_1 is on {logits_1.device}"
        )
    try:
        torch.broadcast_shapes(logits_0.shape, logits_1.shape)
    except RuntimeError:
        raise ValueError(
            f"logits_0 {list(logits_0.shape)} and logits_1 {list(logits_1.shape)} "
            f"do not broadcast"
        ) from None


def _joint(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Outcome probabilities ``[..., 4]`` (CC, CD, DC, DD) from P(a0=0)=x and P(a1=0)=y."""
    return torch.stack([x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)], dim=-1)


def _visits(logits_0: torch.Tensor, logits_1: torch.Tensor, gamma) -> torch.Tensor:
    """Discounted visits ``[..., 4]``; inputs already checked."""
    dtype = torch.promote_types(logits_0.dtype, logits_1.dtype)
    p0 = torch.sigmoid(logits_0.to(dtype))
    p1 = torch.sigmoid(logits_1.to(dtype))
    # Player 1's own states (start, CC, CD, DC, DD) seen from player 0's side: CD <-> DC.
    p1 = torch.cat([p1[..., :2], p1[..., 3:4], p1[..., 2:3], p1[..., 4:]], dim=-1)
    p0, p1 = torch.broadcast_tensors(p0, p1)
    start = _joint(p0[..., 0], p1[..., 0])  # [..., 4]
    trans = _joint(p0[..., 1:], p1[..., 1:])  # [..., 4 (from), 4 (to)]
    eye = torch.eye(4, dtype=dtype, device=p0.device)
    # visits^T (I - gamma P) = start^T  <=>  (I - gamma P)^T visits = start
    system = (eye - gamma * trans).transpose(-1, -2)
    return torch.linalg.solve(system, start.unsqueeze(-1)).squeeze(-1)


def discounted_visits(
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """Expected discounted visits of each outcome, ``sum_t gamma^t P(o_t = s)``.

    Args:
        logits_0, logits_1: memory-one logits ``[..., 5]`` of players 0 and 1, each from
            its own side; leading dimensions broadcast.
        gamma: discount in ``[0, 1)``.

    Returns:
        ``[..., 4]`` over outcomes (CC, CD, DC, DD) from player 0's side; sums to
        ``1 / (1 - gamma)``.
    """
    check_gamma(gamma)
    _check_pair(logits_0, logits_1)
    return _visits(logits_0, logits_1, gamma)


def discounted_values(
    game: MatrixGame | str,
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalised discounted returns ``(V0, V1)``, each ``sum_t gamma^t E[r_t]``.

    Shapes as :func:`exact_values`. This is the scale of the LOLA paper's learning rates.
    """
    game = get_game(game)
    if game.n_actions != 2:
        raise ValueError(
            f"exact values of memory-one policies need a 2-action game; "
            f"{game.name!r} has {game.n_actions} actions"
        )
    visits = discounted_visits(logits_0, logits_1, gamma)
    payoffs = game.payoff_tensor(device=visits.device, dtype=visits.dtype)
    r0 = payoffs[0].reshape(4)  # outcome (a0, a1) -> payoffs[0, a0, a1]
    r1 = payoffs[1].transpose(0, 1).reshape(4)  # outcome (a0, a1) -> payoffs[1, a1, a0]
    return visits @ r0, visits @ r1


def exact_values(
    game: MatrixGame | str,
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each player's discounted value normalised to reward per step.

    ``v_i = (1 - gamma) * sum_t gamma^t E[r_i,t]`` for memory-one policies.

    Args:
        game: a 2-action :class:`~lola_games.games.MatrixGame` or the name of one.
        logits_0, logits_1: ``[..., 5]`` logits (start, CC, CD, DC, DD), each from its own
            player's side; leading dimensions broadcast; same device.
        gamma: discount in ``[0, 1)`` (a float or a scalar tensor).

    Returns:
        ``(v0, v1)``, each of the broadcast leading shape ``[...]``.

    Raises:
        ValueError: gamma outside [0, 1), wrong or non-broadcastable shapes, non-finite
            logits, mismatched devices, or a game that does not have 2 actions.
    """
    v0, v1 = discounted_values(game, logits_0, logits_1, gamma)
    return (1 - gamma) * v0, (1 - gamma) * v1

"""Exact, differentiable discounted values of memory-one policies in 2-action games.

A memory-one policy is a tensor of 5 logits ``[..., 5]``: index 0 for the first move, then
indices 1..4 for the previous outcome (own action, other's action) in the order
CC, CD, DC, DD, **seen from the player's own side** (``C`` = action 0, ``D`` = action 1).
``sigmoid(logit)`` is the probability of action 0.

The joint play is a Markov chain over the 4 outcomes ``(a0, a1)`` (index ``2 * a0 + a1``,
player 0's side). With start distribution ``p0`` and transition matrix ``P``, the expected
discounted visits are ``x = p0^T (I - gamma P)^-1``, found with a linear solve, and a
player's discounted return is ``x . r``. `discounted_values` returns that sum
(the scale on which the LOLA paper states its learning rates); `exact_values`
normalises it to reward per step, ``(1 - gamma) * sum_t gamma^t E[r_t]``.

Everything is batched over any broadcastable leading dimensions, works on any device and
floating dtype (half precision is computed in float32 and returned in its own dtype), and is
differentiable (twice and more) in both players' logits.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from lola_games.core.tensors import transform_active
from lola_games.games.matrix import N_STATES, MatrixGame
from lola_games.games.registry import get_game

__all__ = [
    "N_STATES",
    "discounted_visits",
    "discounted_values",
    "exact_values",
    "check_logits",
    "check_gamma",
]


def check_gamma(gamma: float | torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``gamma`` is a real number in ``[0, 1)``: a Python or numpy
    number (not a bool or str), or a real tensor with one element."""
    if isinstance(gamma, torch.Tensor):
        if gamma.numel() != 1:
            raise ValueError(f"gamma must be a scalar, got a tensor of shape {list(gamma.shape)}")
        if gamma.dtype == torch.bool or gamma.is_complex():
            raise ValueError(f"gamma must be a real number, got a tensor of dtype {gamma.dtype}")
        value = float(gamma.detach())
    elif isinstance(gamma, numbers.Real) and not isinstance(gamma, (bool, np.bool_)):
        value = float(gamma)
    else:
        raise ValueError(f"gamma must be a number in [0, 1), got {gamma!r}")
    if not (0.0 <= value < 1.0) or math.isnan(value):
        raise ValueError(f"gamma must be in [0, 1), got {value}")


def _scalar_gamma(gamma: float | torch.Tensor) -> float | torch.Tensor:
    """A checked gamma as a float or a 0-d tensor (so a ``[1]`` tensor adds no dimension)."""
    check_gamma(gamma)
    return gamma.reshape(()) if isinstance(gamma, torch.Tensor) else float(gamma)


def _dtypes(logits_0: torch.Tensor, logits_1: torch.Tensor) -> tuple[torch.dtype, torch.dtype]:
    """``(dtype of the result, dtype of the computation)``: half precision (float16,
    bfloat16) is computed in float32, since ``(I - gamma P)`` is ill-conditioned for gamma
    near 1 (float16 gets values wrong by up to ~0.2 per step at gamma = 0.99, bfloat16 by
    more than 3)."""
    dtype = torch.promote_types(logits_0.dtype, logits_1.dtype)
    return dtype, torch.promote_types(dtype, torch.float32)


def check_logits(logits: torch.Tensor, name: str = "logits") -> None:
    """Raise unless ``logits`` is a finite floating-point ``[..., 5]`` tensor.

    Finiteness is not checked inside ``torch.func`` transforms (``vmap``, ``grad``, ...).
    """
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {logits.dtype}")
    if logits.ndim == 0 or logits.shape[-1] != N_STATES:
        raise ValueError(
            f"{name} must have shape [..., {N_STATES}] (start, CC, CD, DC, DD), "
            f"got {list(logits.shape)}"
        )
    # (inside torch.func transforms such as vmap, data-dependent checks cannot run)
    if not transform_active() and not bool(torch.isfinite(logits).all()):
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


def _visits(logits_0: torch.Tensor, logits_1: torch.Tensor, gamma) -> torch.Tensor:
    """Discounted visits ``[..., 4]`` in the computation dtype; inputs already checked.

    Internally the batch is the last dimension (``[5, B]``, ``[4, 4, B]``), so that every
    operation works on contiguous rows of ``B`` numbers.
    """
    _, dtype = _dtypes(logits_0, logits_1)
    logits_0, logits_1 = torch.broadcast_tensors(logits_0.to(dtype), logits_1.to(dtype))
    batch = logits_0.shape[:-1]
    x = torch.sigmoid(logits_0.reshape(-1, N_STATES).T.contiguous())  # [5, B] P(a0 = 0)
    # player 1's own states (start, CC, CD, DC, DD) seen from player 0's side: CD <-> DC
    y = torch.sigmoid(logits_1.reshape(-1, N_STATES).T[[0, 1, 3, 2, 4]])  # [5, B] P(a1 = 0)
    xy = x * y
    # outcome probabilities (CC, CD, DC, DD) of the next move in each state: [5, 4, B]
    joint = torch.stack([xy, x - xy, y - xy, 1 - x - y + xy], dim=1)
    start, trans = joint[0], joint[1:]  # [4, B], [4 (from), 4 (to), B]
    eye = torch.eye(4, dtype=dtype, device=x.device).unsqueeze(-1)
    # visits^T (I - gamma P) = start^T  <=>  (I - gamma P)^T visits = start
    visits = _solve_dominant(eye - gamma * trans, start, transpose=True)  # [4, B]
    return visits.T.reshape(*batch, 4)


# ---------------------------------------------------------------------------------------
# The linear solve, for strictly diagonally dominant systems
# ---------------------------------------------------------------------------------------
# ``I - gamma P`` with a row-stochastic P and gamma < 1 is strictly row diagonally dominant
# (``1 - gamma P_ii > gamma (1 - P_ii)``), and diagonal dominance survives every step of
# Gaussian elimination, so an LU factorisation without pivoting is stable for it. For
# thousands of 4 x 4 systems, elimination written as tensor operations over the batch is
# faster than a batched LAPACK call per matrix, and a custom autograd function lets the
# forward and every backward solve (of any order) reuse one factorisation and form the
# matrix gradient as an outer product. Layout: matrices ``[n, n, B]``, vectors ``[n, B]``.


def _lu_nopivot(a: torch.Tensor) -> torch.Tensor:
    """Packed LU ``[n, n, B]`` (unit L below the diagonal, U on and above) of ``a``."""
    lu = a.clone()
    n = lu.shape[0]
    for k in range(n - 1):
        lu[k + 1 :, k] /= lu[k, k]
        lu[k + 1 :, k + 1 :] -= lu[k + 1 :, k].unsqueeze(1) * lu[k, k + 1 :].unsqueeze(0)
    return lu


def _lu_apply(lu: torch.Tensor, b: torch.Tensor, transpose: bool) -> torch.Tensor:
    """Solve ``A x = b`` (or ``A^T x = b``) for ``x [n, B]`` from the packed LU of ``A``."""
    n = lu.shape[0]
    # A = L U: solve L z = b (unit diagonal), then U x = z.
    # A^T = U^T L^T: solve U^T z = b, then L^T x = z (unit diagonal).
    lower = lu.transpose(0, 1) if transpose else lu
    upper = lu if transpose else lu.transpose(0, 1)  # read as upper[j, i] for j > i
    z: list[torch.Tensor] = []
    for i in range(n):
        zi = b[i]
        for j in range(i):
            zi = zi - lower[i, j] * z[j]
        z.append(zi / lu[i, i] if transpose else zi)
    x: list[torch.Tensor] = [z[-1]] * n
    for i in reversed(range(n)):
        xi = z[i]
        for j in range(i + 1, n):
            xi = xi - upper[j, i] * x[j]
        x[i] = xi if transpose else xi / lu[i, i]
    return torch.stack(x)


class _DominantSolve(torch.autograd.Function):
    """``x = A^-1 b`` (``transpose=False``) or ``A^-T b`` from ``lu``, the LU of ``A``.

    ``A [n, n, B]``, ``b [n, B]``. Differentiable in ``A`` and ``b`` to any order (``lu`` is
    a constant): the backward is this same solve with the other transpose, reusing the
    factorisation, plus an outer product for ``A``'s gradient. Works under ``torch.func``.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(a, b, lu, transpose):
        return _lu_apply(lu, b, transpose)

    @staticmethod
    def setup_context(ctx, inputs, output):
        a, _, lu, transpose = inputs
        ctx.save_for_backward(a, lu, output)
        ctx.transpose = transpose

    @staticmethod
    def backward(ctx, grad_x):
        a, lu, x = ctx.saved_tensors
        grad_b = _DominantSolve.apply(a, grad_x, lu, not ctx.transpose)
        # A x = b: dA = -grad_b x^T;  A^T x = b: dA = -x grad_b^T
        first, second = (x, grad_b) if ctx.transpose else (grad_b, x)
        return -(first.unsqueeze(1) * second.unsqueeze(0)), grad_b, None, None


def _solve_dominant(a: torch.Tensor, b: torch.Tensor, transpose: bool) -> torch.Tensor:
    """``x [n, B]`` with ``a x = b`` (or ``a^T x = b``) for diagonally dominant ``a [n, n, B]``."""
    with torch.no_grad():
        lu = _lu_nopivot(a.detach())
    return _DominantSolve.apply(a, b, lu, transpose)


def discounted_visits(
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """Expected discounted visits of each outcome, ``sum_t gamma^t P(o_t = s)``.

    Args:
        logits_0: player 0's memory-one logits ``[..., 5]`` from its own side.
        logits_1: player 1's memory-one logits ``[..., 5]`` from its own side; leading
            dimensions broadcast with ``logits_0``.
        gamma: discount in ``[0, 1)``.

    Returns:
        ``[..., 4]`` over outcomes (CC, CD, DC, DD) from player 0's side; sums to
        ``1 / (1 - gamma)``. In the logits' dtype (half precision is computed in float32).
    """
    gamma = _scalar_gamma(gamma)
    _check_pair(logits_0, logits_1)
    dtype, _ = _dtypes(logits_0, logits_1)
    return _visits(logits_0, logits_1, gamma).to(dtype)


def _values(
    game: MatrixGame | str,
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
    per_step: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    game = get_game(game)
    if game.n_actions != 2:
        raise ValueError(
            f"exact values of memory-one policies need a 2-action game; "
            f"{game.name!r} has {game.n_actions} actions"
        )
    gamma = _scalar_gamma(gamma)
    _check_pair(logits_0, logits_1)
    dtype, _ = _dtypes(logits_0, logits_1)
    visits = _visits(logits_0, logits_1, gamma)  # in the computation dtype
    if per_step:
        visits = (1 - gamma) * visits
    payoffs = game.payoff_tensor(device=visits.device, dtype=visits.dtype)
    r0 = payoffs[0].reshape(4)  # outcome (a0, a1) -> payoffs[0, a0, a1]
    r1 = payoffs[1].transpose(0, 1).reshape(4)  # outcome (a0, a1) -> payoffs[1, a1, a0]
    return (visits @ r0).to(dtype), (visits @ r1).to(dtype)


def discounted_values(
    game: MatrixGame | str,
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unnormalised discounted returns ``(V0, V1)``, each ``sum_t gamma^t E[r_t]``.

    Shapes, dtypes and errors as `exact_values`. This is the scale of the LOLA paper's
    learning rates.
    """
    return _values(game, logits_0, logits_1, gamma, per_step=False)


def exact_values(
    game: MatrixGame | str,
    logits_0: torch.Tensor,
    logits_1: torch.Tensor,
    gamma: float | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each player's discounted value normalised to reward per step.

    ``v_i = (1 - gamma) * sum_t gamma^t E[r_i,t]`` for memory-one policies.

    Args:
        game: a 2-action `MatrixGame` or the name of one.
        logits_0: player 0's ``[..., 5]`` logits (start, CC, CD, DC, DD) from its own side;
            leading dimensions broadcast with ``logits_1``; any floating dtype.
        logits_1: player 1's ``[..., 5]`` logits from its own side, on the same device.
        gamma: discount in ``[0, 1)``: a number or a one-element tensor (which may require
            grad).

    Returns:
        ``(v0, v1)``, each of the broadcast leading shape ``[...]``, in the logits' (promoted)
        dtype. Half precision (float16, bfloat16) is computed in float32 and rounded once at
        the end, values and gradients alike.

    Raises:
        ValueError: gamma not a number in [0, 1), wrong or non-broadcastable shapes, non-finite
            logits, mismatched devices, or a game that does not have 2 actions.
        TypeError: logits that are not floating-point tensors.
    """
    return _values(game, logits_0, logits_1, gamma, per_step=True)

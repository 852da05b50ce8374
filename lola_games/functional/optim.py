"""Out-of-place optimizers: the same numbers as ``torch.optim.SGD`` / ``torch.optim.Adam``,
but differentiable, with explicit state (`SGDState`, `AdamState`)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import torch
from torch import Tensor

from lola_games.core.tensors import Params, transform_active
from lola_games.functional.trees import (
    check_finite,
    check_match,
    check_params,
    map_leaves,
    named_leaves,
    scaled_lr,
)

__all__ = ["SGD", "SGDState", "Adam", "AdamState", "Optimizer", "OptimizerState",
           "optimizer_step"]


def _check_lr(lr: float | Tensor) -> float | Tensor:
    if isinstance(lr, Tensor):
        if not lr.is_floating_point():
            raise TypeError(f"lr must be a floating-point tensor, got {lr.dtype}")
        if not transform_active():
            if not bool(torch.isfinite(lr.detach()).all()):
                raise ValueError("lr contains NaN or infinite values")
            if bool((lr.detach() < 0).any()):
                raise ValueError(f"lr must be >= 0, got {lr.detach().tolist()}")
        return lr
    if isinstance(lr, bool) or not isinstance(lr, int | float):
        raise TypeError(f"lr must be a float or a tensor, got {type(lr).__name__}")
    if not math.isfinite(lr) or lr < 0:
        raise ValueError(f"lr must be a finite number >= 0, got {lr}")
    return float(lr)


def _check_hyper(name: str, value: float, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (low <= value < high):
        raise ValueError(f"{name} must be in [{low}, {high}), got {value}")
    return float(value)


def _check_lr_shape(lr: float | Tensor, params: Params) -> None:
    if not isinstance(lr, Tensor) or lr.ndim == 0:
        return
    for key, p in named_leaves(params):
        try:
            shape = torch.broadcast_shapes(lr.shape, p.shape)
        except RuntimeError:
            shape = None
        if shape != p.shape:
            where = f"params[{key!r}]" if key else "params"
            raise ValueError(
                f"lr of shape {list(lr.shape)} does not broadcast to {where} of shape "
                f"{list(p.shape)}"
            )


class SGDState(NamedTuple):
    """State of `SGD`: number of steps taken and the momentum buffer (or None)."""

    step: int
    momentum_buffer: Params | None


class SGD:
    """Out-of-place ``torch.optim.SGD``: same update, but differentiable.

    ``g = grad + weight_decay * p``; with momentum ``buf = g`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * g``; the step direction is ``buf`` (or
    ``g + momentum * buf`` with Nesterov); ``p <- p - lr * direction``.

    Args:
        lr: learning rate, a float or a tensor (a tensor that requires grad receives
            hyper-gradients; a non-scalar tensor must broadcast to every parameter, e.g.
            ``[S, 1]`` per-seed rates for parameters ``[S, 5]``).
        momentum: momentum factor, as in ``torch.optim.SGD``.
        dampening: dampening of the momentum, as in ``torch.optim.SGD``.
        nesterov: Nesterov momentum, as in ``torch.optim.SGD``.
        weight_decay: L2 penalty, as in ``torch.optim.SGD``.
    """

    def __init__(
        self,
        lr: float | Tensor,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        self.lr = _check_lr(lr)
        self.momentum = _check_hyper("momentum", momentum)
        self.dampening = _check_hyper("dampening", dampening)
        self.weight_decay = _check_hyper("weight_decay", weight_decay)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, dampening={self.dampening}, "
            f"nesterov={self.nesterov}, weight_decay={self.weight_decay})"
        )

    def init(self, params: Params) -> SGDState:
        """Fresh state for ``params`` (the momentum buffer is created on the first step)."""
        check_params(params)
        return SGDState(step=0, momentum_buffer=None)

    def step(self, params: Params, grads: Params, state: SGDState) -> tuple[Params, SGDState]:
        """One descent step on the loss whose gradient is ``grads``; returns new params/state."""
        _check_step_args(params, grads, state, SGDState)
        _check_lr_shape(self.lr, params)
        lr, mu, damp, wd = self.lr, self.momentum, self.dampening, self.weight_decay

        g = map_leaves(lambda gr, p: gr + wd * p, grads, params) if wd else grads
        buf = state.momentum_buffer
        if mu:
            if buf is None:
                buf = g
            else:
                check_match(params, buf, "params", "state.momentum_buffer")
                buf = map_leaves(lambda b, gr: mu * b + (1 - damp) * gr, buf, g)
            g = map_leaves(lambda gr, b: gr + mu * b, g, buf) if self.nesterov else buf
        new_params = map_leaves(lambda p, d: p - scaled_lr(lr, p) * d, params, g)
        return new_params, SGDState(step=state.step + 1, momentum_buffer=buf)


class AdamState(NamedTuple):
    """State of `Adam`: steps taken, first and second moment estimates."""

    step: int
    exp_avg: Params
    exp_avg_sq: Params


def _safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt(x)`` for ``x >= 0`` with derivative 0 (not inf) at exactly 0, at every order.

    In Adam, ``v = 0`` only where the gradient has been exactly 0, and there the update's
    derivative does not depend on d sqrt(v)/dv (it multiplies ``m = 0``), so 0 is the right
    value; ``torch.sqrt`` would give ``inf * 0 = nan`` under double backward.
    """
    positive = x > 0
    safe = torch.where(positive, x, torch.ones_like(x))
    return torch.where(positive, torch.sqrt(safe), torch.zeros_like(x))


class Adam:
    """Out-of-place ``torch.optim.Adam`` (L2 ``weight_decay``, no amsgrad), differentiable.

    ``g = grad + weight_decay * p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    The square root has derivative 0 at ``v = 0``, so second-order gradients stay finite
    (and correct) when a gradient is exactly zero.

    Args:
        lr: learning rate, a float or a tensor (see `SGD`).
        betas: decay rates of the moment estimates, as in ``torch.optim.Adam``.
        eps: term added to the denominator, as in ``torch.optim.Adam`` (must be > 0).
        weight_decay: L2 penalty, as in ``torch.optim.Adam``.
    """

    def __init__(
        self,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.lr = _check_lr(lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_hyper("betas[0]", betas[0], 0.0, 1.0),
                      _check_hyper("betas[1]", betas[1], 0.0, 1.0))
        self.eps = _check_hyper("eps", eps)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.weight_decay = _check_hyper("weight_decay", weight_decay)

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )

    def init(self, params: Params) -> AdamState:
        """Fresh state: zero moments shaped like ``params``."""
        check_params(params)
        zeros = map_leaves(lambda p: torch.zeros_like(p.detach()), params)
        return AdamState(step=0, exp_avg=zeros, exp_avg_sq=map_leaves(torch.clone, zeros))

    def step(self, params: Params, grads: Params, state: AdamState) -> tuple[Params, AdamState]:
        """One descent step on the loss whose gradient is ``grads``; returns new params/state."""
        _check_step_args(params, grads, state, AdamState)
        check_match(params, state.exp_avg, "params", "state.exp_avg")
        check_match(params, state.exp_avg_sq, "params", "state.exp_avg_sq")
        _check_lr_shape(self.lr, params)
        lr, (b1, b2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay

        t = state.step + 1
        g = map_leaves(lambda gr, p: gr + wd * p, grads, params) if wd else grads
        m = map_leaves(lambda m_, gr: b1 * m_ + (1 - b1) * gr, state.exp_avg, g)
        v = map_leaves(lambda v_, gr: b2 * v_ + (1 - b2) * gr * gr, state.exp_avg_sq, g)
        step_size = lr / (1 - b1**t)
        bc2_sqrt = math.sqrt(1 - b2**t)
        new_params = map_leaves(
            lambda p, m_, v_: p - scaled_lr(step_size, p) * m_ / (_safe_sqrt(v_) / bc2_sqrt + eps),
            params, m, v,
        )
        return new_params, AdamState(step=t, exp_avg=m, exp_avg_sq=v)


def _check_step_args(
    params: Params, grads: Params, state: Any, state_type: type[SGDState] | type[AdamState]
) -> None:
    check_params(params, "params")
    check_params(grads, "grads")
    check_finite(params=params, grads=grads)
    check_match(params, grads, "params", "grads")
    if not isinstance(state, state_type):
        raise TypeError(
            f"state must be a {state_type.__name__} (from optimizer.init), "
            f"got {type(state).__name__}"
        )
    if isinstance(state.step, bool) or not isinstance(state.step, int) or state.step < 0:
        raise ValueError(f"state.step must be an int >= 0, got {state.step!r}")


Optimizer = SGD | Adam
OptimizerState = SGDState | AdamState


def optimizer_step(
    optimizer: Optimizer, params: Params, grads: Params, state: OptimizerState
) -> tuple[Params, OptimizerState]:
    """``optimizer.step(params, grads, state)`` for either optimizer (the step itself raises
    ``TypeError`` if ``state`` is not the optimizer's kind of state)."""
    if isinstance(optimizer, SGD):
        return optimizer.step(params, grads, cast(SGDState, state))
    return optimizer.step(params, grads, cast(AdamState, state))

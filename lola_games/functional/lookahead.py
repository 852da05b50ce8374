"""Differentiable lookahead: gradients through another model's optimizer steps.

Opponent shaping (LOLA), meta-learning and hyper-parameter learning all need the gradient
of an outer objective *through* the parameter updates that a model takes on its own loss.
This module does it the functional way (as ``torch.func``'s MAML example):

* parameters are a plain tensor (e.g. tabular logits ``[S, 5]``) or a dict of tensors
  (from `params_of`), never updated in place;
* a module is run on such a dict with `functional_call`, not monkey-patched;
* `SGD` and `Adam` are out-of-place copies of ``torch.optim.SGD`` /
  ``torch.optim.Adam`` (same numbers) with explicit state, so every step stays in the graph;
* `unroll` takes ``k`` such steps on a loss and returns parameters differentiable
  w.r.t. the initial parameters and anything the loss depends on.

Example (LOLA-style lookahead on tabular logits)::

    opp_new, _ = unroll(lambda th1: -value_1(th0, th1), th1, steps=1, lr=1.0)
    outer_grad, = torch.autograd.grad(value_0(th0, opp_new).sum(), th0)

Batching over seeds: give parameters a leading seed dimension ``[S, ...]`` and let the loss
return per-seed losses ``[S]``. The loss is summed before differentiation, and seeds never
mix, so each seed gets its own gradient. Alternatively, ``torch.func.vmap`` over a per-seed
function that calls `unroll` also works (the inner gradient then uses
``torch.func.grad``). Everything runs on the device of the parameters.

Memory: the graph of an unroll lives as long as its results do. In a long training loop,
commit updates with `detach` (or `load_params`) so nothing keeps the graphs of
earlier outer iterations alive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from lola_games.core.tensors import Params, transform_active
from lola_games.functional.optim import (
    SGD,
    Adam,
    AdamState,
    Optimizer,
    SGDState,
    optimizer_step,
)
from lola_games.functional.trees import check_finite, check_params, map_leaves, tree_leaves

__all__ = ["unroll"]


def _total_loss(loss: Any) -> Tensor:
    if not isinstance(loss, Tensor):
        raise TypeError(f"loss_fn must return a tensor, got {type(loss).__name__}")
    if not loss.is_floating_point():
        raise TypeError(f"loss_fn must return a floating-point tensor, got {loss.dtype}")
    return loss.sum()


def _loss_grad(loss_fn: Callable[[Params], Tensor], params: Params, first_order: bool) -> Params:
    """Gradient of ``loss_fn(params).sum()``; zero for parameters the loss does not use.

    Computed with grad mode on even under ``torch.no_grad()`` (the steps then just keep no
    graph), so an unroll never silently takes zero steps.
    """
    with torch.enable_grad():
        return _loss_grad_enabled(loss_fn, params, first_order)


def _loss_grad_enabled(
    loss_fn: Callable[[Params], Tensor], params: Params, first_order: bool
) -> Params:
    if transform_active():
        # Inside vmap/grad, torch.autograd.grad cannot see through the transform.
        grads = torch.func.grad(lambda p: _total_loss(loss_fn(p)))(params)
        return map_leaves(torch.Tensor.detach, grads) if first_order else grads
    params = map_leaves(_trackable, params)  # under no_grad, earlier steps kept no graph
    loss = _total_loss(loss_fn(params))
    leaves = tree_leaves(params)
    gs: Sequence[Tensor]
    if not loss.requires_grad:  # the loss does not depend on params at all
        gs = [torch.zeros_like(p) for p in leaves]
    else:
        gs = torch.autograd.grad(
            loss,
            leaves,
            create_graph=not first_order,
            retain_graph=True,  # the loss may share graph with tensors the caller still needs
            allow_unused=True,
            materialize_grads=True,
        )
    if isinstance(params, Tensor):
        return gs[0]
    return dict(zip(params.keys(), gs, strict=True))


def _trackable(p: Tensor) -> Tensor:
    """A tensor autograd can differentiate the loss against (a new leaf if need be)."""
    if p.requires_grad or transform_active():
        return p
    return p.detach().requires_grad_()


def _checked_optimizer(
    loss_fn: Any, steps: Any, optimizer: Optimizer | None, lr: float | Tensor | None
) -> Optimizer:
    """The optimizer of `unroll` (``SGD(lr)`` when given ``lr``), after checking ``loss_fn``,
    ``steps`` and that exactly one of ``optimizer`` and ``lr`` is given."""
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if optimizer is None:
        if lr is None:
            raise ValueError("unroll needs an optimizer (SGD(...) or Adam(...)) or lr=...")
        optimizer = SGD(lr)
    elif lr is not None:
        raise ValueError("give either optimizer or lr, not both")
    if not isinstance(optimizer, SGD | Adam):
        raise TypeError(f"optimizer must be an SGD or Adam, got {type(optimizer).__name__}")
    return optimizer


def unroll(
    loss_fn: Callable[[Params], Tensor],
    params: Params,
    steps: int = 1,
    optimizer: Optimizer | None = None,
    state: SGDState | AdamState | None = None,
    *,
    lr: float | Tensor | None = None,
    first_order: bool = False,
) -> tuple[Params, SGDState | AdamState]:
    """Take ``steps`` optimizer steps on ``loss_fn``, keeping them in the autograd graph.

    ``params_{t+1}, state_{t+1} = optimizer.step(params_t, grad loss_fn(params_t), state_t)``.

    The returned parameters are differentiable w.r.t. the initial ``params`` (if they require
    grad) and w.r.t. anything ``loss_fn`` depends on: another agent's parameters, a
    hyper-parameter, another model's output, a tensor learning rate.

    Args:
        loss_fn: maps params to a loss of any shape; it is summed before differentiation, so
            per-seed losses ``[S]`` over per-seed params ``[S, ...]`` give independent
            per-seed gradients. Parameters it does not use get a zero gradient.
        params: a tensor or a dict of tensors (e.g. from `params_of`). Leaves that do
            not require grad are differentiated through detached copies.
        steps: number of steps ``k >= 0``.
        optimizer: an `SGD` or `Adam`; or give ``lr=`` for plain SGD.
        state: optimizer state to continue from (default: ``optimizer.init(params)``).
        lr: shorthand for ``optimizer=SGD(lr)``.
        first_order: detach the loss gradients (drop second-order terms, as first-order
            MAML): the result then depends on the initial params and a tensor ``lr`` only
            through the optimizer's arithmetic, and not on ``loss_fn``'s other inputs.

    Returns:
        ``(params_k, state_k)``, params of the same structure as the input.
    """
    optimizer = _checked_optimizer(loss_fn, steps, optimizer, lr)
    check_params(params)
    check_finite(params=params)

    if state is None:
        state = optimizer.init(params)
    for _ in range(steps):
        grads = _loss_grad(loss_fn, params, first_order)
        params, state = optimizer_step(optimizer, params, grads, state)
    return params, state

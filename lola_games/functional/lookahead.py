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

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from lola_games.core.tensors import transform_active

__all__ = [
    "Params",
    "params_of",
    "buffers_of",
    "functional_call",
    "load_params",
    "detach",
    "SGD",
    "SGDState",
    "Adam",
    "AdamState",
    "unroll",
]

Params = Tensor | dict[str, Tensor]
"""A plain tensor (e.g. tabular policy logits) or a dict of named tensors."""


# ---------------------------------------------------------------------------------------
# Small tree utilities over Params (a tensor, or a flat dict of tensors)
# ---------------------------------------------------------------------------------------


def _check_params(params: Any, name: str = "params") -> None:
    if isinstance(params, Tensor):
        leaves = {"": params}
    elif isinstance(params, dict):
        if not params:
            raise ValueError(f"{name} is an empty dict")
        leaves = params
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or a dict of tensors, got {type(params).__name__}"
        )
    for key, value in leaves.items():
        where = f"{name}[{key!r}]" if key else name
        if not isinstance(value, Tensor):
            raise TypeError(f"{where} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{where} must be a floating-point tensor, got {value.dtype}")


def _check_match(a: Params, b: Params, name_a: str, name_b: str) -> None:
    """Same kind (tensor / dict), same keys, and leaf by leaf the same shape, dtype, device.

    A dtype mismatch would silently promote the result (float32 params with float64 grads
    gave float64 params), so it is an error, as in ``torch.optim``.
    """
    if isinstance(a, Tensor) != isinstance(b, Tensor):
        raise TypeError(
            f"{name_a} is a {type(a).__name__} but {name_b} is a {type(b).__name__}; "
            f"both must be tensors or both dicts"
        )
    if isinstance(a, Tensor):
        _check_leaf_match(a, b, name_a, name_b)
        return
    if a.keys() != b.keys():
        missing, extra = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise ValueError(
            f"{name_a} and {name_b} have different keys: missing from {name_b}: {missing}, "
            f"not in {name_a}: {extra}"
        )
    for key in a:
        _check_leaf_match(a[key], b[key], f"{name_a}[{key!r}]", f"{name_b}[{key!r}]")


def _check_leaf_match(x: Tensor, y: Any, name_x: str, name_y: str) -> None:
    if not isinstance(y, Tensor):
        raise TypeError(f"{name_y} must be a torch.Tensor, got {type(y).__name__}")
    if x.shape != y.shape:
        raise ValueError(
            f"{name_x} has shape {list(x.shape)} but {name_y} has shape {list(y.shape)}"
        )
    if x.dtype != y.dtype:
        raise TypeError(
            f"{name_y} has dtype {y.dtype} but {name_x} has dtype {x.dtype}; they must match "
            f"(cast {name_y} with .to({x.dtype}))"
        )
    if x.device != y.device:
        raise ValueError(f"{name_y} is on {y.device} but {name_x} is on {x.device}")


def _scaled(lr: float | Tensor, p: Tensor) -> float | Tensor:
    """``lr`` in ``p``'s dtype, so that a float64 tensor rate does not promote the params."""
    return lr.to(p.dtype) if isinstance(lr, Tensor) else lr


def _leaves(params: Params) -> list[Tensor]:
    return [params] if isinstance(params, Tensor) else list(params.values())


def _map(fn: Callable[..., Tensor], *trees: Params) -> Params:
    """Apply ``fn`` leaf-wise over trees of the same structure."""
    first = trees[0]
    if isinstance(first, Tensor):
        return fn(*trees)
    return {key: fn(*(tree[key] for tree in trees)) for key in first}


def _check_finite(**trees: Params) -> None:
    """Raise ``ValueError`` on NaN/inf in any of the named trees (one device sync; skipped
    inside torch.func transforms, where data-dependent checks cannot run)."""
    if transform_active():
        return
    flags = [torch.isfinite(leaf.detach()).all() for t in trees.values() for leaf in _leaves(t)]
    if bool(torch.stack(flags).all()):
        return
    for label, tree in trees.items():
        for key, value in _named(tree):
            if not bool(torch.isfinite(value.detach()).all()):
                where = f"{label}[{key!r}]" if key else label
                raise ValueError(f"{where} contains NaN or infinite values")


def _named(params: Params) -> list[tuple[str, Tensor]]:
    return [("", params)] if isinstance(params, Tensor) else list(params.items())


def detach(params: Params, *, requires_grad: bool = False) -> Params:
    """Cut the graph: detached copies of ``params`` (new leaves; values shared, not copied).

    Use it to commit an outer update so later iterations do not keep earlier graphs alive.
    """
    _check_params(params)
    return _map(lambda p: p.detach().requires_grad_(requires_grad), params)


# ---------------------------------------------------------------------------------------
# nn.Module <-> parameter dicts
# ---------------------------------------------------------------------------------------


def params_of(module: nn.Module, *, requires_grad: bool = True) -> dict[str, Tensor]:
    """The module's parameters as ``{name: tensor}``: detached clones, new leaves."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return {
        name: p.detach().clone().requires_grad_(requires_grad)
        for name, p in module.named_parameters()
    }


def buffers_of(module: nn.Module) -> dict[str, Tensor]:
    """The module's buffers as ``{name: tensor}`` (detached clones).

    A forward pass in training mode may update them in place (BatchNorm running stats),
    exactly as it would update the module's own buffers.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return {name: b.detach().clone() for name, b in module.named_buffers()}


def _check_names(module: nn.Module, given: dict[str, Tensor], known: dict, kind: str) -> None:
    if not isinstance(given, dict):
        raise TypeError(f"{kind} must be a dict of tensors, got {type(given).__name__}")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(
            f"{type(module).__name__} has no {kind} named {unknown}; it has {sorted(known)}"
        )
    if transform_active():  # shapes are per-sample under vmap
        return
    for name, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{kind}[{name!r}] must be a tensor, got {type(value).__name__}")
        if value.shape != known[name].shape:
            raise ValueError(
                f"{kind}[{name!r}] has shape {list(value.shape)}, the module's has "
                f"{list(known[name].shape)}"
            )


def functional_call(
    module: nn.Module,
    params: dict[str, Tensor],
    buffers: dict[str, Tensor] | None = None,
    args: Any = (),
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """Run ``module(*args, **kwargs)`` with ``params`` (and ``buffers``) in place of its own.

    A checked wrapper on `torch.func.functional_call`: unknown names or wrong shapes
    raise ``ValueError``. Names missing from ``params``/``buffers`` use the module's own
    tensors. The module itself is not modified (except buffers updated in place by the
    forward pass, e.g. BatchNorm running stats, which are those of ``buffers`` if given).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    _check_names(module, params, dict(module.named_parameters()), "params")
    dicts: tuple[dict[str, Tensor], ...] = (params,)
    if buffers is not None:
        _check_names(module, buffers, dict(module.named_buffers()), "buffers")
        dicts = (params, buffers)
    return torch.func.functional_call(module, dicts, args, kwargs)


def load_params(module: nn.Module, params: dict[str, Tensor]) -> None:
    """Commit an update: copy ``params``' values into the module's parameters (no graph kept).

    ``params`` must name every parameter of the module, with matching shapes.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    own = dict(module.named_parameters())
    _check_names(module, params, own, "params")
    missing = sorted(set(own) - set(params))
    if missing:
        raise ValueError(f"params is missing the module's parameters {missing}")
    _check_finite(params=params)
    with torch.no_grad():
        for name, p in own.items():
            p.copy_(params[name])


# ---------------------------------------------------------------------------------------
# Out-of-place optimizers (same numbers as torch.optim, differentiable, explicit state)
# ---------------------------------------------------------------------------------------


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
    for key, p in _named(params):
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
        momentum, dampening, nesterov, weight_decay: as in ``torch.optim.SGD``.
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
        _check_params(params)
        return SGDState(step=0, momentum_buffer=None)

    def step(self, params: Params, grads: Params, state: SGDState) -> tuple[Params, SGDState]:
        """One descent step on the loss whose gradient is ``grads``; returns new params/state."""
        _check_step_args(params, grads, state, SGDState)
        _check_lr_shape(self.lr, params)
        lr, mu, damp, wd = self.lr, self.momentum, self.dampening, self.weight_decay

        g = _map(lambda gr, p: gr + wd * p, grads, params) if wd else grads
        buf = state.momentum_buffer
        if mu:
            if buf is None:
                buf = g
            else:
                _check_match(params, buf, "params", "state.momentum_buffer")
                buf = _map(lambda b, gr: mu * b + (1 - damp) * gr, buf, g)
            g = _map(lambda gr, b: gr + mu * b, g, buf) if self.nesterov else buf
        new_params = _map(lambda p, d: p - _scaled(lr, p) * d, params, g)
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
        betas, eps, weight_decay: as in ``torch.optim.Adam`` (``eps`` must be > 0).
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
        _check_params(params)
        zeros = _map(lambda p: torch.zeros_like(p.detach()), params)
        return AdamState(step=0, exp_avg=zeros, exp_avg_sq=_map(torch.clone, zeros))

    def step(self, params: Params, grads: Params, state: AdamState) -> tuple[Params, AdamState]:
        """One descent step on the loss whose gradient is ``grads``; returns new params/state."""
        _check_step_args(params, grads, state, AdamState)
        _check_match(params, state.exp_avg, "params", "state.exp_avg")
        _check_match(params, state.exp_avg_sq, "params", "state.exp_avg_sq")
        _check_lr_shape(self.lr, params)
        lr, (b1, b2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay

        t = state.step + 1
        g = _map(lambda gr, p: gr + wd * p, grads, params) if wd else grads
        m = _map(lambda m_, gr: b1 * m_ + (1 - b1) * gr, state.exp_avg, g)
        v = _map(lambda v_, gr: b2 * v_ + (1 - b2) * gr * gr, state.exp_avg_sq, g)
        step_size = lr / (1 - b1**t)
        bc2_sqrt = math.sqrt(1 - b2**t)
        new_params = _map(
            lambda p, m_, v_: p - _scaled(step_size, p) * m_ / (_safe_sqrt(v_) / bc2_sqrt + eps),
            params, m, v,
        )
        return new_params, AdamState(step=t, exp_avg=m, exp_avg_sq=v)


def _check_step_args(params: Params, grads: Params, state: Any, state_type: type) -> None:
    _check_params(params, "params")
    _check_params(grads, "grads")
    _check_finite(params=params, grads=grads)
    _check_match(params, grads, "params", "grads")
    if not isinstance(state, state_type):
        raise TypeError(
            f"state must be a {state_type.__name__} (from optimizer.init), "
            f"got {type(state).__name__}"
        )
    if isinstance(state.step, bool) or not isinstance(state.step, int) or state.step < 0:
        raise ValueError(f"state.step must be an int >= 0, got {state.step!r}")


Optimizer = SGD | Adam


# ---------------------------------------------------------------------------------------
# Unrolled optimisation
# ---------------------------------------------------------------------------------------


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
        return _map(torch.Tensor.detach, grads) if first_order else grads
    params = _map(_trackable, params)  # under no_grad, earlier steps kept no graph
    loss = _total_loss(loss_fn(params))
    leaves = _leaves(params)
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
    _check_params(params)
    _check_finite(params=params)

    if state is None:
        state = optimizer.init(params)
    for _ in range(steps):
        grads = _loss_grad(loss_fn, params, first_order)
        params, state = optimizer.step(params, grads, state)
    return params, state

"""Proximal problems solved by a fixed number of gradient steps (POLA's inner and outer loops).

POLA (Zhao et al. 2022) replaces LOLA's gradient steps by proximal steps: each update
minimises a loss plus ``beta`` times a divergence from the point the update starts at,

    params' = argmin_p  loss(p) + beta * D(p, anchor)

and approximates the argmin with ``steps`` optimizer steps from the anchor. The divergence is
the KL divergence between policies (`memory_one_kl`, policy space: the same for any
parameterisation of the same policy) or the squared L2 distance of the params
(`params_l2`, parameter space). `solve` takes the steps either differentiably
(POLA's inner problem, through `lola_games.functional.lookahead.unroll`, so the outer loss sees how
the solution depends on the other player) or not (the outer problem), optionally stopping
each seed once its policy no longer moves (the authors' fixed-point test).

Losses are per seed ``[S]`` and params have a leading seed dimension, so seeds never mix.
Nothing here knows about exact values: a sampled learner passes DiCE losses and a KL measured
on rollouts instead.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import cast

import torch
from torch import Tensor
from torch.nn.functional import logsigmoid

from lola_games.core.tensors import ParamDict, Params
from lola_games.functional.lookahead import unroll
from lola_games.functional.optim import SGD, Adam, optimizer_step

__all__ = ["memory_one_kl", "params_l2", "solve", "proximal_loss", "DIVERGENCES"]

DIVERGENCES = ("kl", "l2")


def memory_one_kl(anchor_logits: Tensor, logits: Tensor) -> Tensor:
    """``KL(pi_anchor || pi)`` of memory-one policies, summed over the 5 states: ``[S]``.

    In each state the policy is a Bernoulli with ``P(action 0) = sigmoid(logit)``; as in the
    POLA code, the anchor (the policy before the update) is the first argument and is held
    constant.
    """
    a = anchor_logits.detach()
    p0, p1 = torch.sigmoid(a), torch.sigmoid(-a)
    kl = p0 * (logsigmoid(a) - logsigmoid(logits)) + p1 * (logsigmoid(-a) - logsigmoid(-logits))
    return kl.sum(-1)


def params_l2(anchor: Params, params: Params) -> Tensor:
    """Squared L2 distance ``||params - anchor||^2`` per seed ``[S]`` (anchor held constant)."""
    if isinstance(params, Tensor):
        return (params - cast(Tensor, anchor).detach()).pow(2).flatten(1).sum(-1)
    anchors = cast(ParamDict, anchor)
    terms = [(params[k] - anchors[k].detach()).pow(2).flatten(1).sum(-1) for k in params]
    return functools.reduce(operator.add, terms)


def proximal_loss(loss_fn: Callable[[Params], Tensor], beta: float, divergence: str,
                  anchor: Params, to_logits: Callable[[Params], Tensor]
                  ) -> Callable[[Params], Tensor]:
    """``p -> loss_fn(p) + beta * D(p, anchor)`` with ``D`` the policy KL or the params L2."""
    if divergence not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {', '.join(DIVERGENCES)}, got {divergence!r}")
    if beta == 0:
        return loss_fn
    if divergence == "kl":
        anchor_logits = to_logits(anchor).detach()
        return lambda p: loss_fn(p) + beta * memory_one_kl(anchor_logits, to_logits(p))
    return lambda p: loss_fn(p) + beta * params_l2(anchor, p)


def _where(done: Tensor, old: Params, new: Params) -> Params:
    def pick(o: Tensor, n: Tensor) -> Tensor:
        return torch.where(done.view(-1, *([1] * (n.ndim - 1))), o, n)

    if isinstance(new, Tensor):
        return pick(cast(Tensor, old), new)
    olds = cast(ParamDict, old)
    return {k: pick(olds[k], new[k]) for k in new}


def solve(
    loss_fn: Callable[[Params], Tensor],
    params: Params,
    steps: int,
    optimizer: SGD | Adam,
    *,
    differentiable: bool = False,
    policy_of: Callable[[Params], Tensor] | None = None,
    tol: float | None = None,
) -> tuple[Params, int]:
    """Minimise the per-seed ``loss_fn`` from ``params`` with at most ``steps`` steps.

    Args:
        loss_fn: params -> per-seed losses ``[S]``.
        params: the starting point (the anchor of a proximal problem).
        steps: number of optimizer steps (the maximum when ``tol`` is given).
        optimizer: a `lola_games.functional.lookahead` optimizer.
        differentiable: keep the steps in the autograd graph (the inner problem); the result
            is then differentiable in whatever ``loss_fn`` depends on.
        policy_of: params -> logits ``[S, 5]``; with ``tol``, a seed stops (its params stay)
            once the KL between its policies before and after a step is below ``tol`` both
            ways (the POLA code's fixed-point test), and the loop ends when every seed has.
        tol: see ``policy_of``; not with ``differentiable``.

    Returns:
        ``(params, steps_taken)``; without ``differentiable`` the params are detached.
    """
    if differentiable:
        if tol is not None:
            raise ValueError("tol (early stopping per seed) is for the outer problem only; "
                             "a differentiable solve takes a fixed number of steps")
        new, _ = unroll(loss_fn, params, steps=steps, optimizer=optimizer)
        return new, steps
    if tol is not None and policy_of is None:
        raise ValueError("tol needs policy_of (params -> logits) to test for a fixed point")
    state = optimizer.init(params)
    params = _detached(params)
    done = None
    taken = 0
    for _ in range(steps):
        grads = _plain_grads(loss_fn, params)
        new, state = optimizer_step(optimizer, params, grads, state)
        taken += 1
        if tol is None:
            params = new
            continue
        assert policy_of is not None  # checked above: tol needs policy_of
        with torch.no_grad():
            before, after = policy_of(params), policy_of(new)
            moved = torch.maximum(memory_one_kl(before, after), memory_one_kl(after, before))
            params = new if done is None else _where(done, params, new)
            now_done = moved < tol
            done = now_done if done is None else done | now_done
        if bool(done.all()):
            break
    return params, taken


def _plain_grads(loss_fn: Callable[[Params], Tensor], params: Params) -> Params:
    """The gradient of ``loss_fn(params).sum()`` at detached ``params``, keeping no graph."""
    with torch.enable_grad():
        p = _detached(params, requires_grad=True)
        loss = loss_fn(p).sum()
        leaves = [p] if isinstance(p, Tensor) else list(p.values())
        gs = torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)
    return gs[0] if isinstance(p, Tensor) else dict(zip(p, gs, strict=True))


def _detached(params: Params, requires_grad: bool = False) -> Params:
    if isinstance(params, Tensor):
        return params.detach().requires_grad_(requires_grad)
    return {k: v.detach().requires_grad_(requires_grad) for k, v in params.items()}

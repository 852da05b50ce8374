"""The DiCE objective (Foerster et al. 2018, "DiCE: the infinitely differentiable Monte Carlo
estimator"): a surrogate whose value is the sampled return and whose derivatives of every
order, taken by autograd, are unbiased estimates of the derivatives of the expected return.

For a rollout with rewards ``r_t``, the stochastic nodes of round ``t`` are both players'
actions, with log-probability ``w_t = log pi_own(a_t) + log pi_other(b_t)``; reward ``r_t``
depends on all of them up to ``t``, ``W_t = sum_{k <= t} w_k``. With the magic box
``box(x) = exp(x - x.detach())`` (value 1, derivative ``box(x) * dx``):

    L = sum_t box(W_t) gamma^t r_t                                   (DiCE, Eq. 4)
      + sum_t (1 - box(w_t)) gamma^t b_t                             (baseline="dice")
      + sum_t (1 - box(w_t)) box(W_{t-1}) gamma^t b_t                (baseline="mao")

Without the magic box (``use_magic_box=False``, the DiCE paper's "no DiCE" ablation) the
weights ``box(W_t)`` become ``W_t`` and ``1 - box(w_t)`` becomes ``-w_t``: the first derivative
is the same, but the second has no cross terms between the two players' log-probabilities,
so an opponent's gradient step no longer depends on the agent's parameters.

The value baselines use an estimate ``b_t = V(s_t)`` of the state before round ``t``
(which does not depend on the actions of round ``t``). They evaluate to zero and every
derivative of them has zero expectation given the history, so estimates of every order stay
unbiased. ``"dice"`` is the variance-reduction term of the DiCE paper (Sec. 4) used by the
published LOLA-DiCE code; ``"mao"`` is the form of Mao et al. 2019 ("A baseline for any order
gradient estimation in stochastic computation graphs"), which also reduces the variance of
second-order terms. Both reduce to ``-sum_t grad(log pi(a_t)) gamma^t b_t`` at first order.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

__all__ = ["magic_box", "dice_objective", "centre_by_batch_mean", "discounted_returns",
           "discounts", "normalised_discounted_return"]


def magic_box(x: Tensor) -> Tensor:
    """``exp(x - x.detach())``: evaluates to 1, ``d box(x) = box(x) dx``."""
    return torch.exp(x - x.detach())


def discounts(length: int, gamma: float, like: Tensor) -> Tensor:
    """``[gamma^0, ..., gamma^(length-1)]`` with ``like``'s dtype and device."""
    return gamma ** torch.arange(length, dtype=like.dtype, device=like.device)


def _check_gamma(gamma: float) -> None:
    if (isinstance(gamma, bool) or not isinstance(gamma, numbers.Real)
            or not 0.0 <= float(gamma) <= 1.0):
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")


def _check_dice_args(
    rewards: Tensor,
    logp_own: Tensor,
    logp_other: Tensor | None,
    gamma: float,
    values: Tensor | None,
    baseline: str,
    use_magic_box: bool,
) -> None:
    """The checks of `dice_objective` (``ValueError`` on a bad argument)."""
    _check_gamma(gamma)
    shapes = {tuple(t.shape) for t in (rewards, logp_own, logp_other, values) if t is not None}
    if len(shapes) != 1:
        raise ValueError(
            "rewards, logp_own, logp_other and values must have the same shape [..., T], got "
            + ", ".join(
                f"{name}={list(t.shape)}"
                for name, t in zip(
                    ("rewards", "logp_own", "logp_other", "values"),
                    (rewards, logp_own, logp_other, values),
                    strict=True,
                )
                if t is not None
            )
        )
    if rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(f"need a non-empty time axis, got shape {list(rewards.shape)}")
    if baseline not in ("dice", "mao"):
        raise ValueError(f"baseline must be 'dice' or 'mao', got {baseline!r}")
    if not use_magic_box and values is not None and baseline == "mao":
        raise ValueError("baseline 'mao' needs the magic box (use_magic_box=True)")


def dice_objective(
    rewards: Tensor,
    logp_own: Tensor,
    logp_other: Tensor | None,
    gamma: float,
    values: Tensor | None = None,
    baseline: str = "dice",
    *,
    use_magic_box: bool = True,
) -> Tensor:
    """Per-episode DiCE objective (to be *maximised*), summed over rounds.

    Args:
        rewards: ``[..., T]`` the agent's rewards.
        logp_own: ``[..., T]`` log-probabilities of the agent's sampled actions.
        logp_other: ``[..., T]`` the other player's, or ``None`` to treat it as part of the
            environment (then no derivative flows through its policy).
        gamma: discount in ``[0, 1]``.
        values: optional ``[..., T]`` value estimates ``V(s_t)`` of the states before each
            round (the baseline; gradients flow into them only through the baseline term's
            value, which is zero, so train them with a separate loss).
        baseline: ``"dice"`` or ``"mao"`` (see the module docstring).
        use_magic_box: ``False`` weights the rewards by the summed log-probabilities
            themselves (see the module docstring; the value is then not the return).

    Returns:
        ``[...]``: the objective of each episode; average it over episodes.

    Raises:
        ValueError: shapes that differ, an empty time axis, bad ``gamma`` or ``baseline``.
    """
    _check_dice_args(rewards, logp_own, logp_other, gamma, values, baseline, use_magic_box)
    disc = discounts(rewards.shape[-1], gamma, rewards)
    stochastic = logp_own if logp_other is None else logp_own + logp_other  # w_t
    dependencies = torch.cumsum(stochastic, dim=-1)  # W_t
    weights = magic_box(dependencies) if use_magic_box else dependencies
    objective = (weights * disc * rewards).sum(-1)
    if values is not None:
        weight = 1 - magic_box(stochastic) if use_magic_box else -stochastic
        if baseline == "mao":
            weight = weight * magic_box(dependencies - stochastic)  # W_{t-1}
        objective = objective + (weight * disc * values).sum(-1)
    return objective


def centre_by_batch_mean(rewards: Tensor, dim: int = -2) -> Tensor:
    """``rewards - mean(rewards over episodes)``, per round: the batch-mean baseline.

    ``rewards [..., B, T]`` (episodes on ``dim``). Passed to `dice_objective` in place
    of the rewards, it centres every discounted reward ``gamma^t r_t`` by its mean over the
    batch at the same round ``t``, as the DiCE paper's code does when it uses no learned
    baseline. The mean is a constant of the sample (no gradient flows into it).

    Raises:
        ValueError: fewer than 2 episodes on ``dim`` (every centred reward would be 0).
    """
    if rewards.ndim == 0 or rewards.shape[dim] < 2:
        raise ValueError(
            f"the batch-mean baseline needs at least 2 episodes on dim {dim}, got shape "
            f"{list(rewards.shape)}"
        )
    return rewards - rewards.detach().mean(dim, keepdim=True)


def normalised_discounted_return(rewards: Tensor, gamma: float) -> Tensor:
    """``(1 - gamma) * sum_t gamma^t r_t`` of ``rewards [..., T]`` -> ``[...]``.

    The score the DiCE paper's code logs (reward per round when every reward is equal, up
    to the truncation factor ``1 - gamma^T``).
    """
    _check_gamma(gamma)
    return (1 - gamma) * (discounts(rewards.shape[-1], gamma, rewards) * rewards).sum(-1)


def discounted_returns(rewards: Tensor, gamma: float) -> Tensor:
    """Returns-to-go ``G_t = sum_{k >= t} gamma^(k-t) r_k`` of ``rewards [..., T]``.

    Computed as a reversed cumulative sum of ``gamma^k r_k`` divided by ``gamma^t`` (in
    float64), or as ``rewards @ M`` with ``M[k, t] = gamma^(k - t)`` when ``gamma^T`` would
    underflow.
    """
    _check_gamma(gamma)
    length = rewards.shape[-1]
    if gamma > 0 and (length - 1) * math.log(gamma) > -600:
        disc = discounts(length, gamma, rewards.double())
        tail = torch.flip(torch.cumsum(torch.flip(rewards.double() * disc, [-1]), -1), [-1])
        return (tail / disc).to(rewards.dtype)
    k = torch.arange(length, device=rewards.device)
    lag = (k[:, None] - k[None, :]).to(rewards.dtype)  # [k, t] = k - t
    weights = torch.where(lag >= 0, gamma ** lag.clamp(min=0), torch.zeros_like(lag))
    return rewards @ weights

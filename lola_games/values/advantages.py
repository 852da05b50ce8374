"""Advantage estimates and the surrogates of actor-critic learners (PPO, Advantage Alignment).

Pure tensor functions over ``[..., T]`` time series (the leading dimensions are seeds and
episodes, ``[S, B, T]`` in the learners):

* `gae` -- generalised advantage estimates (Schulman et al. 2016) of the first ``T - 1``
  rounds, bootstrapped from the value of the last state seen;
* `normalise` -- advantages centred and scaled per seed;
* `alignment_term` -- the term Advantage Alignment (Duque et al. 2025) adds to the agent's
  advantage: the agent's past advantages times the opponent's present one;
* `policy_surrogate` -- the plain policy-gradient surrogate ``A log pi`` or PPO's clipped one.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["gae", "discounted_returns_to_go", "normalise", "alignment_term", "ALIGNMENT_FORMS",
           "policy_surrogate", "NORMALISE_EPS", "LOG_RATIO_CLAMP"]

NORMALISE_EPS = 1e-8
"""Added to the standard deviation when advantages are normalised."""
LOG_RATIO_CLAMP = 10.0
"""The log importance ratio ``log pi - log pi_old`` is clamped to ``[-10, 10]``."""
ALIGNMENT_FORMS = ("code", "paper")
"""Forms of `alignment_term`: the authors' code or the paper's equation."""


def gae(rewards: Tensor, values: Tensor, gamma: float, lam: float) -> Tensor:
    """Generalised advantage estimates ``[..., T - 1]`` of rounds ``0 .. T - 2``.

    ``delta_t = r_t + gamma V(s_{t+1}) - V(s_t)`` and ``A_t = delta_t + gamma lam A_{t+1}``,
    the recursion starting from ``A_{T-1} = 0``: the last round only supplies the bootstrap
    value ``V(s_{T-1})`` and gets no advantage of its own.

    Args:
        rewards: ``[..., T]`` rewards of rounds ``0 .. T - 1``.
        values: ``[..., T]`` value estimates of the states before each round.
        gamma: discount; lam: the GAE parameter in ``[0, 1]``.
    """
    deltas = rewards[..., :-1] + gamma * values[..., 1:] - values[..., :-1]
    out = []
    running = torch.zeros_like(deltas[..., 0])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * running
        out.append(running)
    return torch.stack(out[::-1], dim=-1)


def discounted_returns_to_go(rewards: Tensor, gamma: float) -> Tensor:
    """``G_t = sum_{k >= t} gamma^(k - t) r_k`` ``[..., T]`` of rewards ``[..., T]`` (no
    bootstrap after the last round)."""
    out = []
    running = torch.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):
        running = rewards[..., t] + gamma * running
        out.append(running)
    return torch.stack(out[::-1], dim=-1)


def normalise(*advantages: Tensor) -> tuple[Tensor, ...]:
    """Advantages ``[S, ...]`` centred and scaled by one mean and one standard deviation per
    seed, taken over all entries of all of them together (the unbiased standard deviation plus
    `NORMALISE_EPS`)."""
    flat = torch.cat([a.flatten(1) for a in advantages], dim=1)  # [S, N]
    shape = (-1,) + (1,) * (advantages[0].ndim - 1)
    mean = flat.mean(1).view(shape)
    std = flat.std(1).view(shape)
    return tuple((a - mean) / (std + NORMALISE_EPS) for a in advantages)


def alignment_term(own: Tensor, other: Tensor, gamma: float, form: str = "code") -> Tensor:
    """What Advantage Alignment adds (times its weight beta) to the agent's advantage
    ``[..., T']`` at each round ``t``, from the agent's advantages ``own`` and the opponent's
    ``other`` (both ``[..., T']``).

    * ``"code"`` (the authors' code): ``(1 / t) (sum_{k < t} A1_k) A2_t``, the mean of the
      agent's past advantages times the opponent's present one (zero at ``t = 0``);
    * ``"paper"`` (the paper's equation): ``gamma (sum_{k < t} gamma^(t - k) A1_k) A2_t``.

    Raises:
        ValueError: an unknown ``form``.
    """
    if form not in ALIGNMENT_FORMS:
        raise ValueError(f"form must be one of {', '.join(ALIGNMENT_FORMS)}, got {form!r}")
    if form == "code":
        past = torch.cumsum(own, dim=-1)[..., :-1]  # sum_{k <= t-1}, for t = 1 ..
        steps = torch.arange(1, own.shape[-1], device=own.device, dtype=own.dtype)
        weighted = past / steps
    else:
        running = torch.zeros_like(own[..., 0])
        sums = []
        for t in range(1, own.shape[-1]):
            running = gamma * (running + own[..., t - 1])  # sum_{k < t} gamma^(t-k) A1_k
            sums.append(running)
        weighted = gamma * torch.stack(sums, dim=-1) if sums else own[..., :0]
    term = weighted * other[..., 1:]
    return torch.cat([torch.zeros_like(own[..., :1]), term], dim=-1)


def policy_surrogate(advantages: Tensor, log_probs: Tensor, old_log_probs: Tensor,
                     clip_range: float | None) -> Tensor:
    """The surrogate to maximise, per entry ``[...]``.

    ``clip_range=None``: the policy-gradient surrogate ``A log pi(a)``; otherwise PPO's
    ``min(A r, A clip(r, 1 - eps, 1 + eps))`` with the ratio
    ``r = exp(clamp(log pi - log pi_old, -10, 10))`` (``old_log_probs`` without gradient).
    """
    if clip_range is None:
        return advantages * log_probs
    ratio = torch.exp(torch.clamp(log_probs - old_log_probs.detach(), -LOG_RATIO_CLAMP,
                                  LOG_RATIO_CLAMP))
    clipped = torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return torch.min(advantages * clipped, advantages * ratio)

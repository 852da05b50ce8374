"""The M-FOS actor-critic, batched over seeds, and the official code's PPO update.

Actor and critic: ``Linear(2d, 256) - tanh - Linear(256, 2d | 1)`` with per-seed weights
``[S, ...]``; the actor's outputs are the mean and (through softplus) the variance of each
logit of a diagonal Gaussian policy.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor
from torch.nn.functional import softplus

from lola_games.agents.mfos.config import MFOSConfig
from lola_games.agents.sampled import param_dict
from lola_games.functional import Adam

__all__ = ["init_actor_critic", "act", "ppo_update"]


def init_actor_critic(n_seeds: int, d: int, hidden: int, generator: torch.Generator | None,
                      device: Any = None, dtype: torch.dtype = torch.float32
                      ) -> dict[str, Tensor]:
    """Actor and critic params ``[S, ...]`` with ``nn.Linear``'s default initialisation."""

    def linear(name: str, n_in: int, n_out: int) -> dict[str, Tensor]:
        bound = 1.0 / math.sqrt(n_in)

        def u(*shape: int) -> Tensor:
            x = torch.rand(n_seeds, *shape, generator=generator, device=device, dtype=dtype)
            return (2 * x - 1) * bound

        return {f"{name}.weight": u(n_out, n_in), f"{name}.bias": u(n_out)}

    return {**linear("actor.0", 2 * d, hidden), **linear("actor.1", hidden, 2 * d),
            **linear("critic.0", 2 * d, hidden), **linear("critic.1", hidden, 1)}


def _mlp(params: dict[str, Tensor], name: str, x: Tensor) -> Tensor:
    """``Linear - tanh - Linear`` with per-seed weights: ``x [S, N, in] -> [S, N, out]``."""
    h = torch.tanh(torch.baddbmm(params[f"{name}.0.bias"].unsqueeze(1), x,
                                 params[f"{name}.0.weight"].transpose(1, 2)))
    return torch.baddbmm(params[f"{name}.1.bias"].unsqueeze(1), h,
                         params[f"{name}.1.weight"].transpose(1, 2))


def _dist(params: dict[str, Tensor], obs: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std of the diagonal Gaussian policy ``[S, N, d]`` (variance via softplus)."""
    mean, var = _mlp(params, "actor", obs).chunk(2, dim=-1)
    return mean, softplus(var).sqrt()


def _log_prob(mean: Tensor, std: Tensor, action: Tensor) -> Tensor:
    z = (action - mean) / std
    return (-0.5 * z * z - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)


def act(params: dict[str, Tensor], obs: Tensor, generator: torch.Generator | None,
        sample: bool = True) -> tuple[Tensor, Tensor]:
    """Sample (or take the mean of) the policy at ``obs [S, N, 2d]``: action ``[S, N, d]`` and
    its log-probability ``[S, N]``."""
    mean, std = _dist(params, obs)
    if not sample:
        return mean, _log_prob(mean, std, mean)
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    action = mean + std * noise
    return action, _log_prob(mean, std, action)


def ppo_update(params: dict[str, Tensor], opt_state: Any, optimizer: Adam, obs: Tensor,
               actions: Tensor, logps: Tensor, rewards: Tensor, cfg: MFOSConfig
               ) -> tuple[dict[str, Tensor], Any]:
    """The official code's PPO update on one meta-batch, for every seed at once.

    ``obs [S, T, B, 2d]``, ``actions [S, T, B, d]``, ``logps``/``rewards [S, T, B]``.
    """
    S, T = rewards.shape[:2]
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(T)):
        running = rewards[:, t] + cfg.meta_gamma * running
        returns[:, t] = running
    flat = returns.reshape(S, -1)
    returns = (flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + 1e-5)
    obs, actions, logps = obs.reshape(S, -1, obs.shape[-1]), actions.reshape(
        S, -1, actions.shape[-1]), logps.reshape(S, -1)
    for _ in range(cfg.ppo_epochs):
        with torch.enable_grad():
            p = {k: v.detach().requires_grad_() for k, v in params.items()}
            mean, std = _dist(p, obs)
            logp = _log_prob(mean, std, actions)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + std.log()).sum(-1)
            value = _mlp(p, "critic", obs).squeeze(-1)
            ratio = torch.exp(logp - logps)
            adv = returns - value.detach()
            surrogate = torch.minimum(ratio * adv,
                                      ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv)
            value_loss = (value - returns).pow(2).mean(1, keepdim=True)
            loss = -surrogate + cfg.value_coef * value_loss - cfg.entropy * entropy
            grads = torch.autograd.grad(loss.mean(1).sum(), list(p.values()))
        new, opt_state = optimizer.step(params, dict(zip(p, grads, strict=True)), opt_state)
        params = param_dict(new)
    return params, opt_state

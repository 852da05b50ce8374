"""Meta-episodes per second of M-FOS on the exact IPD against naive learners.

The reference is the structure of the official M-FOS code, written out here: an
``nn.Module`` actor-critic whose policy is a ``MultivariateNormal`` with a ``diag_embed``
covariance, a meta-environment that forms each game's value with ``torch.inverse(I - gamma P)``
and steps the naive learners with ``torch.autograd.grad``, a Python list per quantity filled
step by step, and a PPO update of 4 full-batch epochs with ``torch.optim.Adam``. The batched
side is `lola_games.agents.mfos` (the same meta-episode: 100 inner steps, then the same PPO
update): the LU solve of :mod:`lola_games.values.exact`, a diagonal Gaussian written out, and seeds
batched (``--seeds``: meta-training runs at once, compared per seed-meta-episode).

    python benchmarks/bench_mfos.py                       # CPU, batch 4096, one thread
    python benchmarks/bench_mfos.py --device cuda --seeds 1 8
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.distributions import MultivariateNormal
from torch.nn.functional import softplus

from lola_games.agents.mfos import (
    MetaGame,
    MFOSConfig,
    episode,
    init_actor_critic,
    opponent_agent,
)
from lola_games.agents.mfos import ppo_update as batched_ppo
from lola_games.core.device import resolve_device
from lola_games.functional import Adam
from lola_games.games.registry import get_game

GAMMA = 0.96


class LoopActorCritic(nn.Module):
    def __init__(self, d: int = 5, hidden: int = 256) -> None:
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(2 * d, hidden), nn.Tanh(), nn.Linear(hidden, 2 * d))
        self.critic = nn.Sequential(nn.Linear(2 * d, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.d = d

    def dist(self, obs: torch.Tensor) -> MultivariateNormal:
        mean, var = self.actor(obs).split(self.d, -1)
        return MultivariateNormal(mean, torch.diag_embed(softplus(var)))


def loop_values(own: torch.Tensor, opp: torch.Tensor, payoff: torch.Tensor) -> torch.Tensor:
    """Each game's value ``[B, 2]`` the usual way: explicit inverse, one matrix per game."""
    x, y = torch.sigmoid(own), torch.sigmoid(opp[:, [0, 1, 3, 2, 4]])
    joint = torch.stack([x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)], -1)  # [B, 5, 4]
    inv = torch.inverse(torch.eye(4, device=own.device) - GAMMA * joint[:, 1:])
    visits = (joint[:, :1] @ inv).squeeze(1)  # [B, 4]
    return visits @ payoff  # [B, 2]: own, opponent (unnormalised)


def loop_meta_episode(net: LoopActorCritic, opt: torch.optim.Optimizer, B: int, T: int,
                      device: torch.device) -> None:
    payoff = torch.tensor([[-1.0, -1.0], [-3.0, 0.0], [0.0, -3.0], [-2.0, -2.0]], device=device)
    opp = torch.randn(B, 5, device=device)
    own = torch.randn(B, 5, device=device)
    states, actions, logps, rewards = [], [], [], []

    def step(own: torch.Tensor, opp: torch.Tensor):
        opp = opp.detach().requires_grad_()
        v = loop_values(own.detach(), opp, payoff)
        (grad,) = torch.autograd.grad(v[:, 1].sum(), opp)
        return (opp + grad).detach(), (1 - GAMMA) * v[:, 0].detach()

    obs = torch.sigmoid(torch.cat([own, opp], -1))
    opp, _ = step(own, opp)
    for _ in range(T):
        with torch.no_grad():
            dist = net.dist(obs)
            action = dist.sample()
            states.append(obs)
            actions.append(action)
            logps.append(dist.log_prob(action))
        new_obs = torch.sigmoid(torch.cat([action, opp], -1))
        opp, reward = step(action, opp)
        rewards.append(reward)
        obs = new_obs
    returns, running = [], torch.zeros(B, device=device)
    for r in reversed(rewards):
        running = r + 0.99 * running
        returns.insert(0, running)
    returns = torch.stack(returns)
    returns = (returns - returns.mean()) / (returns.std() + 1e-5)
    s, a, lp = torch.stack(states), torch.stack(actions), torch.stack(logps)
    for _ in range(4):
        dist = net.dist(s)
        value = net.critic(s).squeeze(-1)
        ratio = torch.exp(dist.log_prob(a) - lp)
        adv = returns - value.detach()
        loss = (-torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv)
                + 0.5 * nn.functional.mse_loss(value, returns) - 0.01 * dist.entropy())
        opt.zero_grad()
        loss.mean().backward()
        opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--inner-steps", type=int, default=100)
    parser.add_argument("--episodes", type=int, default=2, help="timed meta-episodes per side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = resolve_device(args.device)
    B, T = args.batch, args.inner_steps

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    torch.manual_seed(0)
    net = LoopActorCritic().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=0.002)
    loop_meta_episode(net, opt, B, 2, device)  # warm-up
    sync()
    t0 = time.perf_counter()
    for _ in range(args.episodes):
        loop_meta_episode(net, opt, B, T, device)
    sync()
    loop_rate = args.episodes / (time.perf_counter() - t0)
    print(f"official structure, batch {B}: {loop_rate:.3f} meta-episodes/s")

    cfg = MFOSConfig(batch_size=B, inner_steps=T)
    meta = MetaGame(get_game("ipd"), GAMMA, opponent_agent("naive", 1.0))
    g = torch.Generator(device=device).manual_seed(0)
    for S in args.seeds:
        params = init_actor_critic(S, 5, 256, g, device)
        adam = Adam(0.002)
        state = adam.init(params)
        warm = MFOSConfig(batch_size=B, inner_steps=2)
        params, state = batched_ppo(params, state, adam,
                                    *episode(meta, params, warm, S, g, device, torch.float32)[:4],
                                    warm)
        sync()
        t0 = time.perf_counter()
        for _ in range(args.episodes):
            ep = episode(meta, params, cfg, S, g, device, torch.float32)
            params, state = batched_ppo(params, state, adam, *ep[:4], cfg)
        sync()
        rate = S * args.episodes / (time.perf_counter() - t0)
        print(f"lola_games.agents.mfos, batch {B}, {S} seed(s): {rate:.3f} seed-meta-episodes/s, "
              f"{rate / loop_rate:.2f}x")


if __name__ == "__main__":
    main()

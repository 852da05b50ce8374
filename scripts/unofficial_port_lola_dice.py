"""LOLA-DiCE on the IPD written as an unofficial PyTorch port is: a reference to compare with.

One seed at a time: a numpy environment stepped in a Python loop, per-step tensors and
``torch.distributions.Bernoulli`` objects, lists stacked afterwards, ``torch.optim.Adam`` on
``nn.Parameter``\\ s. Same settings as ``lola-games reproduce lola-dice``: gamma 0.96, batch
128, 150 rounds, inner lr 0.3 (plain step), outer Adam 0.2, value Adam 0.1, DiCE baseline,
logits and values starting at 0. The value function regresses on per-step rewards as in the
port (``--value-target rewards``) or on discounted returns-to-go as
:class:`lola_games.agents.LOLADiCE` does (``--value-target returns``).

    python scripts/unofficial_port_lola_dice.py --lookaheads 2 --seeds 16   # ~2 min per seed

prints each seed's final joint score (mean reward per round of both players on a fresh batch)
and the mean over seeds. ``benchmarks/bench_dice.py`` times this code against lola_games.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch
from torch import nn

from lola_games.games.registry import get_game

GAMMA, BATCH, LENGTH = 0.96, 128, 150
LR_IN, LR_OUT, LR_V = 0.3, 0.2, 0.1


class NumpyIPD:
    """Batched IPD in numpy; states 0 (start) then 1 + 2 * own + other."""

    def __init__(self, batch_size: int, max_steps: int) -> None:
        self.batch_size, self.max_steps = batch_size, max_steps
        self.payout = get_game("ipd").payoffs[0]

    def reset(self):
        self.t = 0
        start = np.zeros(self.batch_size, dtype=np.int64)
        return (start, start.copy()), None

    def step(self, a1, a2):
        self.t += 1
        r1, r2 = self.payout[a1, a2], self.payout[a2, a1]
        s1, s2 = 1 + 2 * a1 + a2, 1 + 2 * a2 + a1
        return (s1, s2), (r1, r2), self.t >= self.max_steps, None


def act(states, theta, values):
    probs = torch.sigmoid(theta)[states]
    m = torch.distributions.Bernoulli(1 - probs)  # action 1 (defect) w.p. 1 - P(C)
    actions = m.sample()
    return actions.numpy().astype(int), m.log_prob(actions), values[states]


def magic_box(x):
    return torch.exp(x - x.detach())


class Memory:
    def __init__(self, value_target: str = "rewards"):
        self.value_target = value_target
        self.self_logprobs, self.other_logprobs, self.values, self.rewards = [], [], [], []

    def add(self, lp, other_lp, v, r):
        self.self_logprobs.append(lp)
        self.other_logprobs.append(other_lp)
        self.values.append(v)
        self.rewards.append(r)

    def dice_objective(self):
        self_logprobs = torch.stack(self.self_logprobs, dim=1)
        other_logprobs = torch.stack(self.other_logprobs, dim=1)
        values = torch.stack(self.values, dim=1)
        rewards = torch.stack(self.rewards, dim=1)
        cum_discount = torch.cumprod(GAMMA * torch.ones(*rewards.size()), dim=1) / GAMMA
        discounted_rewards = rewards * cum_discount
        discounted_values = values * cum_discount
        dependencies = torch.cumsum(self_logprobs + other_logprobs, dim=1)
        stochastic_nodes = self_logprobs + other_logprobs
        objective = torch.mean(torch.sum(magic_box(dependencies) * discounted_rewards, dim=1))
        baseline = torch.mean(torch.sum((1 - magic_box(stochastic_nodes)) * discounted_values,
                                        dim=1))
        return -(objective + baseline)

    def value_loss(self):
        values = torch.stack(self.values, dim=1)
        targets = torch.stack(self.rewards, dim=1)
        if self.value_target == "returns":
            returns = torch.zeros_like(targets)
            running = torch.zeros(targets.shape[0])
            for t in reversed(range(targets.shape[1])):
                running = targets[:, t] + GAMMA * running
                returns[:, t] = running
            targets = returns
        return torch.mean((targets - values) ** 2)


class LoopAgent:
    def __init__(self, env, value_target: str = "rewards"):
        self.env, self.value_target = env, value_target
        self.theta = nn.Parameter(torch.zeros(5))
        self.values = nn.Parameter(torch.zeros(5))
        self.theta_optimizer = torch.optim.Adam((self.theta,), lr=LR_OUT)
        self.value_optimizer = torch.optim.Adam((self.values,), lr=LR_V)

    def rollout(self, other_theta, other_values, for_other: bool) -> Memory:
        """One batch of episodes against ``other_theta``, recorded for this agent or the other."""
        (s1, s2), _ = self.env.reset()
        memory = Memory(self.value_target)
        for _ in range(LENGTH):
            a1, lp1, v1 = act(s1, self.theta, self.values)
            a2, lp2, v2 = act(s2, other_theta, other_values)
            (s1, s2), (r1, r2), _, _ = self.env.step(a1, a2)
            if for_other:
                memory.add(lp2, lp1, v2, torch.from_numpy(r2).float())
            else:
                memory.add(lp1, lp2, v1, torch.from_numpy(r1).float())
        return memory

    def in_lookahead(self, other_theta, other_values):
        objective = self.rollout(other_theta, other_values, for_other=True).dice_objective()
        return torch.autograd.grad(objective, other_theta, create_graph=True)[0]

    def out_lookahead(self, other_theta, other_values):
        memory = self.rollout(other_theta, other_values, for_other=False)
        self.theta_optimizer.zero_grad()
        memory.dice_objective().backward(retain_graph=True)
        self.theta_optimizer.step()
        self.value_optimizer.zero_grad()
        memory.value_loss().backward()
        self.value_optimizer.step()


def loop_update(agent1: LoopAgent, agent2: LoopAgent, n_lookaheads: int) -> None:
    theta1_ = agent1.theta.detach().clone().requires_grad_(True)
    values1_ = agent1.values.detach().clone().requires_grad_(True)
    theta2_ = agent2.theta.detach().clone().requires_grad_(True)
    values2_ = agent2.values.detach().clone().requires_grad_(True)
    for _ in range(n_lookaheads):
        grad2 = agent1.in_lookahead(theta2_, values2_)
        grad1 = agent2.in_lookahead(theta1_, values1_)
        theta2_ = theta2_ - LR_IN * grad2
        theta1_ = theta1_ - LR_IN * grad1
    agent1.out_lookahead(theta2_, values2_)
    agent2.out_lookahead(theta1_, values1_)


@torch.no_grad()
def joint_score(env: NumpyIPD, agent1: LoopAgent, agent2: LoopAgent) -> float:
    """Mean reward per round of both players on a fresh batch of episodes."""
    (s1, s2), _ = env.reset()
    total = 0.0
    for _ in range(LENGTH):
        a1, _, _ = act(s1, agent1.theta, agent1.values)
        a2, _, _ = act(s2, agent2.theta, agent2.values)
        (s1, s2), (r1, r2), _, _ = env.step(a1, a2)
        total += 0.5 * (np.mean(r1) + np.mean(r2))
    return total / LENGTH


def train_seed(seed: int, n_lookaheads: int, n_updates: int, value_target: str) -> list[float]:
    """Joint score after each update of one seed."""
    torch.manual_seed(seed)
    env = NumpyIPD(BATCH, LENGTH)
    agent1, agent2 = LoopAgent(env, value_target), LoopAgent(env, value_target)
    scores = []
    for _ in range(n_updates):
        loop_update(agent1, agent2, n_lookaheads)
        scores.append(joint_score(env, agent1, agent2))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookaheads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=16, help="seeds 0 .. N-1, one at a time")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--value-target", choices=("rewards", "returns"), default="rewards")
    parser.add_argument("--json", help="write every seed's score curve to this file")
    args = parser.parse_args()
    if args.lookaheads < 0 or args.seeds < 1 or args.updates < 1:
        parser.error("--lookaheads must be >= 0, --seeds and --updates >= 1")
    torch.set_num_threads(1)
    curves = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        curves[seed] = train_seed(seed, args.lookaheads, args.updates, args.value_target)
        print(f"seed {seed}: final joint score {curves[seed][-1]:.3f}", flush=True)
    final = np.array([c[-1] for c in curves.values()])
    spread = ""
    if len(final) > 1:
        spread = f" (standard error {final.std(ddof=1) / math.sqrt(len(final)):.3f})"
    print(f"{len(final)} seeds, {args.lookaheads} lookahead(s), value target "
          f"{args.value_target}: final joint score {final.mean():.3f}{spread}; "
          f"above -1.3 in {100 * (final > -1.3).mean():.0f}% of seeds")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({str(k): v for k, v in curves.items()}, f)


if __name__ == "__main__":
    main()

"""Seconds per LOLA-DiCE update: lola_games (seed-batched) against a straightforward loop.

One update = both agents' LOLA-DiCE steps (n inner lookahead rollouts and one outer rollout
each) on the IPD, batch 128, 150 rounds, tabular memory-one policies, with the value
baseline. The reference is written the way such code usually is, with the structure of the
published LOLA-DiCE PyTorch code: a numpy environment stepped in a Python loop, per-step
tensors and ``torch.distributions.Bernoulli`` objects, lists stacked afterwards, one seed at
a time. Its value function regresses on discounted returns-to-go, as lola_games' does (the
published code regresses on per-step rewards), so that both sides do the same work.

    python benchmarks/bench_dice.py                 # CPU, one thread
    python benchmarks/bench_dice.py --device cuda   # lola_games on GPU (reference on CPU)

Prints seconds per update for 1 seed and 32 seeds, and the speed-up per seed-update.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE
from lola_games.games import get_game

GAMMA, BATCH, LENGTH = 0.96, 128, 150
LR_IN, LR_OUT, LR_V = 0.3, 0.2, 0.1


# ---------------------------------------------------------------- the straightforward version
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
    def __init__(self):
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
        rewards = torch.stack(self.rewards, dim=1)
        returns = torch.zeros_like(rewards)
        running = torch.zeros(rewards.shape[0])
        for t in reversed(range(rewards.shape[1])):
            running = rewards[:, t] + GAMMA * running
            returns[:, t] = running
        return torch.mean((returns - values) ** 2)


class LoopAgent:
    def __init__(self, env):
        self.env = env
        self.theta = torch.zeros(5, requires_grad=True)
        self.values = torch.zeros(5, requires_grad=True)
        self.theta_optimizer = torch.optim.Adam((self.theta,), lr=LR_OUT)
        self.value_optimizer = torch.optim.Adam((self.values,), lr=LR_V)

    def in_lookahead(self, other_theta, other_values):
        (s1, s2), _ = self.env.reset()
        other_memory = Memory()
        for _ in range(LENGTH):
            a1, lp1, v1 = act(s1, self.theta, self.values)
            a2, lp2, v2 = act(s2, other_theta, other_values)
            (s1, s2), (r1, r2), _, _ = self.env.step(a1, a2)
            other_memory.add(lp2, lp1, v2, torch.from_numpy(r2).float())
        objective = other_memory.dice_objective()
        return torch.autograd.grad(objective, other_theta, create_graph=True)[0]

    def out_lookahead(self, other_theta, other_values):
        (s1, s2), _ = self.env.reset()
        memory = Memory()
        for _ in range(LENGTH):
            a1, lp1, v1 = act(s1, self.theta, self.values)
            a2, lp2, v2 = act(s2, other_theta, other_values)
            (s1, s2), (r1, r2), _, _ = self.env.step(a1, a2)
            memory.add(lp1, lp2, v1, torch.from_numpy(r1).float())
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


def time_loop(n_updates: int, n_lookaheads: int) -> float:
    env = NumpyIPD(BATCH, LENGTH)
    a1, a2 = LoopAgent(env), LoopAgent(env)
    loop_update(a1, a2, n_lookaheads)  # warm-up
    start = time.perf_counter()
    for _ in range(n_updates):
        loop_update(a1, a2, n_lookaheads)
    return (time.perf_counter() - start) / n_updates


# ------------------------------------------------------------------------------ lola_games
def time_batched(n_seeds: int, n_updates: int, n_lookaheads: int, device: str) -> float:
    game = get_game("ipd")
    agents = [LOLADiCE(n_lookaheads=n_lookaheads, batch_size=BATCH, rollout_len=LENGTH)
              for _ in range(2)]
    gen = torch.Generator(device=device).manual_seed(0)
    params = [a.init_params(n_seeds, gen, device) for a in agents]
    states = [a.init_state(p) for a, p in zip(agents, params, strict=True)]

    def update():
        nonlocal params
        new = []
        for i in range(2):
            ctx = Context(game, GAMMA, i, gen, torch.device(device), agents[1 - i])
            p, states[i] = agents[i].update(params[i], params[1 - i], states[i], ctx)
            new.append(p)
        params = new

    update()  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n_updates):
        update()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / n_updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lookaheads", type=int, default=1)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--loop-updates", type=int, default=3)
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(1)
    print(f"LOLA-DiCE update, IPD, batch {BATCH}, {LENGTH} rounds, "
          f"{args.lookaheads} lookahead(s), torch threads 1, device {args.device}")
    loop = time_loop(args.loop_updates, args.lookaheads)
    print(f"  loop reference (numpy env, per-step tensors), 1 seed: {loop * 1e3:9.2f} ms/update")
    for n_seeds, goal in ((1, 20), (32, 200)):
        t = time_batched(n_seeds, args.updates, args.lookaheads, args.device)
        speedup = loop * n_seeds / t
        print(f"  lola_games, {n_seeds:2d} seed(s) batched: {t * 1e3:9.2f} ms/update  "
              f"-> {speedup:7.1f}x per seed-update (goal {goal}x)")


if __name__ == "__main__":
    main()

"""Train a Stable-Baselines3 PPO learner against tit-for-tat in the iterated prisoner's dilemma.

    pip install -e ".[sb3]" && python examples/sb3_vs_tft.py --steps 20000

The learner sees the one-hot previous outcome (its own side) and picks C (0) or D (1). Against
tit-for-tat with a long enough horizon, cooperating throughout (-1 per round) beats defecting
(0 once, then -2 per round), and PPO finds it; against always-cooperate (``--opponent allc``)
it learns to defect.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from stable_baselines3 import PPO

from lola_games.games.registry import get_game
from lola_games.interop.single_agent import single_agent


def train(opponent: str = "tft", steps: int = 20_000, seed: int = 0) -> PPO:
    env = single_agent("ipd", opponent, max_cycles=50)
    model = PPO("MlpPolicy", env, gamma=0.96, n_steps=500, batch_size=100, seed=seed,
                device="cpu", verbose=0)
    return model.learn(total_timesteps=steps)


def cooperation(model: PPO) -> np.ndarray:
    """P(C) of the trained policy in each state (start, CC, CD, DC, DD)."""
    obs = torch.eye(5)[[4, 0, 1, 2, 3]]  # one-hot: START is the last index
    with torch.no_grad():
        dist = model.policy.get_distribution(obs)
    return dist.distribution.probs[:, 0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opponent", default="tft", help="tft, allc, alld, naive, lola, ...")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = train(args.opponent, args.steps, args.seed)
    env = single_agent("ipd", args.opponent, max_cycles=50)
    obs, _ = env.reset(seed=args.seed + 1000)
    rewards, done = [], False
    while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, terminated, truncated, _ = env.step(int(action))
        rewards.append(reward)
        done = terminated or truncated
    names = get_game("ipd").state_names
    probs = ", ".join(f"{n} {p:.2f}" for n, p in zip(names, cooperation(model), strict=True))
    print(f"PPO vs {args.opponent}: reward per round {np.mean(rewards):.2f}; P(C): {probs}")


if __name__ == "__main__":
    main()

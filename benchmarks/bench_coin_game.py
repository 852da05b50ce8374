"""Coin Game agent-steps per second: the torch-batched env against a loop of PettingZoo envs
and against a NumPy port of the original vectorised env.

    python benchmarks/bench_coin_game.py [--batch 4096] [--device cpu] [--threads 1]

All sides play uniformly random actions (drawn in bulk before the timed loops) on the 3 x 3
board with 150-round episodes, resetting finished episodes; an agent-step is one player's
move in one game. On the CPU, times are the process's CPU time (``time.process_time``), so
that other jobs on a shared machine do not count; each side is timed ``--repeats`` times
and its best rate kept. With ``--device cuda`` the batched side is timed by the wall clock.

``NumpyCoinGameVec`` below is written in the structure of ``CoinGameVec`` of alshedivat/lola
(``lola/envs/coin_game.py``): NumPy arrays of positions, and Python loops over the games
where that code has them (start positions, moves, pickups and respawns, the observation
array), with the symmetric simultaneous-pickup rule of this package. Like the original it
builds one observation (red's view) per game; the batched env builds both players' views.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lola_games.envs import coin_game_v0
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.games.coin import CoinGame


class NumpyCoinGameVec:
    """``batch_size`` Coin Games in NumPy arrays, stepped by Python loops over the games."""

    MOVES = [np.array(m) for m in ((0, 1), (0, -1), (1, 0), (-1, 0))]

    def __init__(self, max_steps: int, batch_size: int, grid_size: int = 3, seed: int = 0):
        self.max_steps, self.batch_size, self.grid_size = max_steps, batch_size, grid_size
        self.obs_shape = [4, grid_size, grid_size]
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    def _same(self, a: np.ndarray, b: np.ndarray) -> bool:
        return bool((a == b).all())

    def _new_coin(self, g: int) -> None:
        """Flip game ``g``'s coin colour and draw cells until neither player stands there."""
        self.red_coin[g] = 1 - self.red_coin[g]
        while True:
            self.coin_pos[g] = self.rng.integers(self.grid_size, size=2)
            if not self._same(self.coin_pos[g], self.red_pos[g]) and not self._same(
                self.coin_pos[g], self.blue_pos[g]
            ):
                return

    def _observe(self) -> np.ndarray:
        obs = np.zeros([self.batch_size, *self.obs_shape])
        for g in range(self.batch_size):
            obs[g, 0, self.red_pos[g][0], self.red_pos[g][1]] = 1
            obs[g, 1, self.blue_pos[g][0], self.blue_pos[g][1]] = 1
            channel = 2 if self.red_coin[g] else 3
            obs[g, channel, self.coin_pos[g][0], self.coin_pos[g][1]] = 1
        return obs

    def reset(self) -> np.ndarray:
        self.steps = 0
        n, b = self.grid_size, self.batch_size
        self.red_coin = self.rng.integers(2, size=b)
        self.red_pos = self.rng.integers(n, size=(b, 2))
        self.blue_pos = self.rng.integers(n, size=(b, 2))
        self.coin_pos = np.zeros((b, 2), dtype=np.int64)
        for g in range(b):
            while self._same(self.red_pos[g], self.blue_pos[g]):
                self.blue_pos[g] = self.rng.integers(n, size=2)
            self._new_coin(g)
        return self._observe()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], bool]:
        """``actions [B, 2]`` -> (red's observation, [red rewards, blue rewards], done)."""
        n = self.grid_size
        for g in range(self.batch_size):
            self.red_pos[g] = (self.red_pos[g] + self.MOVES[actions[g, 0]]) % n
            self.blue_pos[g] = (self.blue_pos[g] + self.MOVES[actions[g, 1]]) % n
        reward_red = np.zeros(self.batch_size)
        reward_blue = np.zeros(self.batch_size)
        for g in range(self.batch_size):
            red_on = self._same(self.red_pos[g], self.coin_pos[g])
            blue_on = self._same(self.blue_pos[g], self.coin_pos[g])
            if red_on:
                reward_red[g] += 1
                if not self.red_coin[g]:
                    reward_blue[g] -= 2
            if blue_on:
                reward_blue[g] += 1
                if self.red_coin[g]:
                    reward_red[g] -= 2
            if red_on or blue_on:
                self._new_coin(g)
        self.steps += 1
        return self._observe(), [reward_red, reward_blue], self.steps == self.max_steps


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _clock(device: str = "cpu") -> float:
    """CPU time of this process on the CPU; wall-clock time when a GPU does the work."""
    return time.perf_counter() if device.startswith("cuda") else time.process_time()


def best_of(repeats: int, bench, *args) -> float:
    """The highest of ``repeats`` measured rates."""
    return max(bench(*args) for _ in range(repeats))


def bench_batched(batch: int, steps: int, device: str) -> float:
    env = BatchedCoinGame(CoinGame(3, 150), batch, device=device)
    env.reset(seed=0)
    gen = torch.Generator(device=device).manual_seed(0)
    actions = torch.randint(0, 4, (steps, batch, 2), generator=gen, device=device)
    for t in range(3):  # warm-up
        env.step(actions[t])
    env.reset(seed=0)
    _sync(device)
    start = _clock(device)
    for t in range(steps):
        env.step(actions[t], check=False)
    _sync(device)
    return 2 * batch * steps / (_clock(device) - start)


def bench_pettingzoo(batch: int, steps: int) -> float:
    envs = [coin_game_v0.parallel_env(max_cycles=150) for _ in range(batch)]
    for b, e in enumerate(envs):
        e.reset(seed=b)
    actions = np.random.default_rng(0).integers(0, 4, (steps, batch, 2))
    start = _clock()
    for t in range(steps):
        for b, e in enumerate(envs):
            _, _, _, trunc, _ = e.step(
                {"player_0": int(actions[t, b, 0]), "player_1": int(actions[t, b, 1])}
            )
            if trunc["player_0"]:
                e.reset()
    return 2 * batch * steps / (_clock() - start)


def bench_numpy_vec(batch: int, steps: int) -> float:
    env = NumpyCoinGameVec(150, batch)
    env.reset()
    actions = np.random.default_rng(0).integers(0, 4, (steps, batch, 2))
    start = _clock()
    for t in range(steps):
        _, _, done = env.step(actions[t])
        if done:
            env.reset()
    return 2 * batch * steps / (_clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=300, help="batched env steps timed")
    parser.add_argument("--loop-steps", type=int, default=5, help="Python-loop env steps timed")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="timings per side (best kept)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda given but torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads)
    batched = best_of(args.repeats, bench_batched, args.batch, args.steps, args.device)
    loop = best_of(args.repeats, bench_pettingzoo, args.batch, args.loop_steps)
    vec = best_of(args.repeats, bench_numpy_vec, args.batch, args.loop_steps)
    print(f"Coin Game 3x3, B = {args.batch}, torch threads {args.threads}, device {args.device}, "
          f"best of {args.repeats}")
    print(f"  batched torch env         : {batched:14,.0f} agent-steps/s")
    print(f"  {args.batch:<5} PettingZoo envs  : {loop:14,.0f} agent-steps/s")
    print(f"  NumPy CoinGameVec port    : {vec:14,.0f} agent-steps/s")
    print(f"  ratio to PettingZoo loop  : {batched / loop:14,.1f}x (goal >= 300x)")
    print(f"  ratio to CoinGameVec port : {batched / vec:14,.1f}x (goal >= 100x)")


if __name__ == "__main__":
    main()

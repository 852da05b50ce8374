"""The exact values of lola_games.values.exact agree with play in the PettingZoo envs.

Two Monte Carlo estimators of the per-step value ``(1 - gamma) * sum_t gamma^t E[r_t]``:

* "continuation": ``continuation_prob=gamma`` and the undiscounted return. Round ``t`` is
  played with probability ``gamma^t`` independently of the actions, so
  ``E[sum_{t<T} r_t] = sum_t gamma^t E[r_t]``. ``max_cycles`` is large enough that
  truncation (probability ``gamma^max_cycles``) does not matter.
* "discounted": fixed ``max_cycles`` rounds and the discounted return. The missing tail is
  at most ``gamma^max_cycles * max|r|`` per step, checked to be far below one standard error.

Each estimate must lie within 3 standard errors of the exact value.
"""

import numpy as np
import pytest
import torch

from lola_games.envs import iterated
from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import get_game
from lola_games.rollouts.memory_one import action_0_probs, observation_state, play_memory_one
from lola_games.values.exact import exact_values

GAMMA = 0.8
PAIRS_PER_GAME = 3
SETTINGS = {  # estimator -> (episodes, env kwargs, discount applied to the rewards)
    "continuation": (4000, {"continuation_prob": GAMMA, "max_cycles": 200}, 1.0),
    "discounted": (700, {"max_cycles": 60}, GAMMA),
}
BIG = 40.0  # sigmoid(40) is exactly 1.0 in float64: deterministic play
C, D = [BIG] * 5, [-BIG] * 5
TFT = [BIG, BIG, -BIG, BIG, -BIG]  # cooperate first and after the other cooperated


def random_pairs(game_index):
    g = torch.Generator().manual_seed(1000 + game_index)
    return torch.randn(PAIRS_PER_GAME, 2, 5, generator=g, dtype=torch.float64)


def estimate(game, logits_0, logits_1, estimator, seed):
    """Mean per-step value of each player and its standard error, ``[2]`` each."""
    episodes, kwargs, discount = SETTINGS[estimator]
    env = iterated.parallel_env(game, **kwargs)
    returns = (1 - GAMMA) * play_memory_one(
        env, logits_0, logits_1, episodes, discount=discount, seed=seed
    )
    return returns.mean(0), returns.std(0, ddof=1) / np.sqrt(episodes)


@pytest.mark.parametrize("estimator", list(SETTINGS))
@pytest.mark.parametrize("game_index, game", list(enumerate(GAMES)))
def test_monte_carlo_value_matches_exact_value(game_index, game, estimator):
    pairs = random_pairs(game_index)
    exact = torch.stack(exact_values(game, pairs[:, 0], pairs[:, 1], GAMMA), -1).numpy()
    max_reward = np.abs(get_game(game).payoffs).max()
    for k in range(PAIRS_PER_GAME):
        mean, se = estimate(game, pairs[k, 0], pairs[k, 1], estimator, seed=10 * game_index + k)
        truncation_bias = GAMMA ** SETTINGS[estimator][1]["max_cycles"] * max_reward
        assert truncation_bias < 0.01 * se.min()
        z = (mean - exact[k]) / se
        assert np.all(np.abs(z) < 3), f"pair {k}: estimate {mean} +- {se}, exact {exact[k]}"


class SwappedViewEnv(iterated.IteratedMatrixGameEnv):
    """A deliberately wrong env: player 1 is shown the outcome from player 0's side."""

    def _observations(self):
        obs_0, _ = super()._observations()
        return obs_0, obs_0.copy()


def transposed_rewards(game):
    """A deliberately wrong game: player 1's rewards indexed (other, own)."""
    p = get_game(game).payoffs
    return MatrixGame(game, get_game(game).action_names, np.stack([p[0], p[1].T]))


@pytest.mark.parametrize(
    "make_env, game, logits_0, logits_1",
    [
        (
            lambda **kw: SwappedViewEnv("ipd", **kw),
            "ipd",
            [0.0] * 5,
            [2.0, 2.0, -2.0, 2.0, -2.0],  # soft tit-for-tat
        ),
        (
            lambda **kw: iterated.parallel_env(transposed_rewards("stag_hunt"), **kw),
            "stag_hunt",
            [2.0] * 5,
            [-2.0] * 5,
        ),
    ],
)
def test_the_comparison_catches_a_buggy_env(make_env, game, logits_0, logits_1):
    # The same estimate and 3-SE criterion as above reject an env with a perspective bug.
    logits_0 = torch.tensor(logits_0, dtype=torch.float64)
    logits_1 = torch.tensor(logits_1, dtype=torch.float64)
    episodes, kwargs, discount = SETTINGS["discounted"]
    returns = (1 - GAMMA) * play_memory_one(
        make_env(**kwargs), logits_0, logits_1, episodes, discount=discount, seed=0
    )
    mean, se = returns.mean(0), returns.std(0, ddof=1) / np.sqrt(episodes)
    exact = np.array([float(v) for v in exact_values(game, logits_0, logits_1, GAMMA)])
    assert np.any(np.abs(mean - exact) / se >= 3)
    # ... while the correct env with the same policies passes
    mean, se = estimate(game, logits_0, logits_1, "discounted", seed=0)
    assert np.all(np.abs(mean - exact) / se < 3)


@pytest.mark.parametrize(
    "game, logits_0, logits_1",
    [
        ("ipd", C, C),
        ("ipd", D, D),
        ("ipd", TFT, D),
        ("ipd", TFT, TFT),
        ("imp", C, D),
        ("stag_hunt", TFT, C),
        ("chicken", D, TFT),
    ],
)
def test_deterministic_policies_match_exactly(game, logits_0, logits_1):
    gamma, horizon = 0.9, 250
    env = iterated.parallel_env(game, max_cycles=horizon)
    returns = (1 - gamma) * play_memory_one(env, logits_0, logits_1, 2, discount=gamma, seed=0)
    exact = exact_values(
        game,
        torch.tensor(logits_0, dtype=torch.float64),
        torch.tensor(logits_1, dtype=torch.float64),
        gamma,
    )
    tail = gamma**horizon * np.abs(get_game(game).payoffs).max()
    assert np.allclose(returns, np.array([[float(v) for v in exact]] * 2), atol=tail + 1e-9)


def test_always_cooperate_values_in_ipd():
    env = iterated.parallel_env("ipd", max_cycles=30)
    returns = play_memory_one(env, C, C, 3, seed=0)
    assert returns.tolist() == [[-30.0, -30.0]] * 3  # -1 each per step
    v0, v1 = exact_values("ipd", torch.tensor(C), torch.tensor(C), 0.5)
    assert float(v0) == pytest.approx(-1.0) and float(v1) == pytest.approx(-1.0)


def test_rollout_functions_reject_bad_input():
    assert observation_state(np.array([0, 0, 0, 0, 1.0])) == 0
    assert observation_state(np.array([0, 0, 1.0, 0, 0])) == 3
    with pytest.raises(ValueError, match="one-hot"):
        observation_state(np.zeros(5))
    with pytest.raises(ValueError, match="one-hot"):
        observation_state(np.array([0, 1.0, 1.0, 0, 0]))
    with pytest.raises(ValueError, match=r"shape \[5\]"):
        action_0_probs(np.zeros(4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        action_0_probs([0, 0, float("nan"), 0, 0])
    assert action_0_probs(C).tolist() == [1.0] * 5
    env = iterated.parallel_env("ipd")
    with pytest.raises(ValueError, match="episodes must be a positive int"):
        play_memory_one(env, C, C, 0)
    with pytest.raises(ValueError, match="discount must be in"):
        play_memory_one(env, C, C, 1, discount=1.5)
    rps = MatrixGame("rps", ("R", "P", "S"), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="need 2 actions"):
        play_memory_one(iterated.parallel_env(rps), C, C, 1)


@pytest.mark.parametrize("discount", ["0.5", True, None, float("nan")])
def test_play_memory_one_rejects_a_discount_that_is_not_a_number(discount):
    """A string discount failed in a comparison with a TypeError that did not name it."""
    with pytest.raises(ValueError, match="discount must be in"):
        play_memory_one(iterated.parallel_env("ipd"), C, C, 1, discount=discount)

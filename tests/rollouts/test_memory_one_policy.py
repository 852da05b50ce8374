"""One memory-one policy, three ways to score it: the batched env, the PettingZoo env and the
exact values agree (`MemoryOnePolicy` maps the envs' ``[CC, CD, DC, DD, START]`` one-hot
observations to the logits' ``[start, CC, CD, DC, DD]``)."""

import numpy as np
import pytest
import torch

from lola_games.envs import ipd_v0
from lola_games.envs.batched import BatchedIteratedGame, encode_states
from lola_games.rollouts.memory_one import MemoryOnePolicy, state_index
from lola_games.values.exact import exact_values

GAMMA = 0.8
ROUNDS = 60  # the missing tail is at most 0.8**60 * 3 ~ 5e-6 per step
TFT = MemoryOnePolicy.from_actions(0, 0, 1, 0, 1)  # C first, then the other's last move


def batched_score(p0, p1, n_games=20000, seed=0):
    """Per-step discounted value of each player, mean and standard error, in the batched env."""
    env = BatchedIteratedGame("ipd", n_games, max_cycles=ROUNDS, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    obs, _ = env.reset(seed=seed)
    returns = torch.zeros(n_games, 2, dtype=torch.float64)
    for t in range(ROUNDS):
        actions = torch.stack([p0.act(obs[:, 0], g), p1.act(obs[:, 1], g)], -1)
        obs, rewards, *_ = env.step(actions)
        returns += GAMMA**t * rewards
    returns = (1 - GAMMA) * returns.numpy()
    return returns.mean(0), returns.std(0, ddof=1) / np.sqrt(n_games)


def pettingzoo_score(p0, p1, episodes=400, seed=0):
    """The same in the PettingZoo parallel env, one episode and one round at a time."""
    env = ipd_v0.parallel_env(max_cycles=ROUNDS)
    policies = dict(zip(env.possible_agents, (p0, p1), strict=True))
    g = torch.Generator().manual_seed(seed)
    returns = np.zeros((episodes, 2))
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        t = 0
        while env.agents:
            obs, rewards, *_ = env.step({a: policies[a].act(obs[a], g) for a in env.agents})
            returns[k] += GAMMA**t * np.array([rewards[a] for a in env.possible_agents])
            t += 1
    returns *= 1 - GAMMA
    return returns.mean(0), returns.std(0, ddof=1) / np.sqrt(episodes)


@pytest.mark.parametrize("opponent", [
    MemoryOnePolicy(torch.zeros(5, dtype=torch.float64)),  # uniformly random
    MemoryOnePolicy(torch.tensor([0.3, 1.5, -1.0, 0.5, -2.0], dtype=torch.float64)),
    TFT,
], ids=["random", "stochastic", "tft"])
def test_tit_for_tat_scores_the_same_in_both_envs_and_exactly(opponent):
    exact = np.array([float(v) for v in exact_values("ipd", TFT.logits, opponent.logits,
                                                      GAMMA)])
    for mean, se in (batched_score(TFT, opponent), pettingzoo_score(TFT, opponent)):
        if np.all(se == 0):  # deterministic play: exact equality up to the truncated tail
            np.testing.assert_allclose(mean, exact, atol=1e-5)
        else:
            assert np.all(np.abs(mean - exact) < 3 * se + 1e-5), (mean, se, exact)


def test_the_issue_numbers_tit_for_tat_against_random_play():
    # TFT against a uniformly random player at gamma 0.96: TFT cooperates in round 0 (-2 or
    # the other's -0.5 expected), then both score the mean payoff -1.5 per round.
    gamma, random = 0.96, MemoryOnePolicy(torch.zeros(5, dtype=torch.float64))
    exact = [float(v) for v in exact_values("ipd", TFT.logits, random.logits, gamma)]
    expected = [(1 - gamma) * first + gamma * -1.5 for first in (-2.0, -0.5)]  # -1.52, -1.46
    np.testing.assert_allclose(exact, expected, atol=1e-12)
    # indexing the logits with obs.argmax() (the wrong pairing of the issue, which scored
    # -1.89 / -0.71 in the env) plays another policy: here its exact value, -1.92 / -0.65
    wrong_logits = TFT.logits[[4, 0, 1, 2, 3]]  # what logits[argmax(obs)] reads per state
    wrong = [float(v) for v in exact_values("ipd", wrong_logits, random.logits, gamma)]
    np.testing.assert_allclose(wrong, [-1.9231, -0.6538], atol=1e-4)


def test_state_index_maps_both_envs_observations_to_logit_order():
    states = torch.arange(5)  # start, CC, CD, DC, DD
    obs = encode_states(states, 2)  # [CC, CD, DC, DD, START] one-hot
    assert obs[0].tolist() == [0, 0, 0, 0, 1] and obs[1].tolist() == [1, 0, 0, 0, 0]
    assert state_index(obs).tolist() == states.tolist()
    assert state_index(obs.reshape(5, 1, 5).expand(5, 2, 5)).shape == (5, 2)
    np.testing.assert_array_equal(state_index(obs.numpy()), np.arange(5))
    env = ipd_v0.parallel_env(max_cycles=3)
    first, _ = env.reset(seed=0)
    assert state_index(first["player_0"]) == 0
    after, *_ = env.step({"player_0": 0, "player_1": 1})  # player 0 saw CD, player 1 DC
    assert (state_index(after["player_0"]), state_index(after["player_1"])) == (2, 3)
    # batched env after the same round: same states as the env's own memory-one states
    batched = BatchedIteratedGame("ipd", 1)
    batched.reset(seed=0)
    obs_b, *_ = batched.step(torch.tensor([[0, 1]]))
    assert state_index(obs_b).tolist() == batched.states.tolist() == [[2, 3]]


def test_memory_one_policy_bad_input_is_named():
    with pytest.raises(ValueError, match="one-hot"):
        state_index(torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="one-hot"):
        state_index(np.zeros(5))
    with pytest.raises(ValueError, match=r"logits must have shape \[..., 5\]"):
        MemoryOnePolicy([0.0] * 4)
    with pytest.raises(ValueError, match="NaN"):
        MemoryOnePolicy([0.0, float("nan"), 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="actions must be 0 or 1"):
        MemoryOnePolicy.from_actions(0, 0, 2, 0, 1)
    # a batch of policies [B, 5] acts on a batch of observations [B, 5]
    pols = MemoryOnePolicy.from_actions(0, 0, 0, 0, 0).logits.expand(3, 5) * torch.tensor(
        [[1.0], [-1.0], [1.0]], dtype=torch.float64)
    acts = MemoryOnePolicy(pols).act(encode_states(torch.tensor([0, 1, 4]), 2))
    assert acts.tolist() == [0, 1, 0]

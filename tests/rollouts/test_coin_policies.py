"""Coin Game policies, the seed-batched rollout sampler, log-probabilities and metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call

from lola_games.envs import BatchedCoinGame
from lola_games.games.coin import CoinGame, random_play_rates
from lola_games.rollouts import (
    CoinConvGRUPolicy,
    CoinConvValue,
    CoinMLPPolicy,
    CoinMLPValue,
    init_params,
    log_probs,
    rollout_values,
    seed_forward,
    seed_values,
)
from lola_games.rollouts.coin import COIN_METRICS, coin_metrics, sample_coin_rollout


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_conv_gru_matches_the_lola_architecture():
    pol = CoinConvGRUPolicy(grid_size=3)
    shapes = {k: tuple(v.shape) for k, v in pol.named_parameters()}
    assert shapes["trunk.conv1.weight"] == (20, 4, 3, 3)  # 20 filters 3x3 over 4 channels
    assert shapes["trunk.conv2.weight"] == (20, 20, 3, 3)
    assert pol.trunk.conv1.stride == (1, 1) and pol.trunk.conv1.padding == (1, 1)
    assert shapes["gru.h2h.weight"] == (3 * 32, 32)  # a GRU of 32 units
    assert shapes["gru.x2h.weight"] == (3 * 32, 20 * 9)
    assert shapes["gru.head.weight"] == (4, 32)
    logits, hidden = pol(torch.zeros(5, 7, 4, 3, 3))
    assert logits.shape == (5, 7, 4) and hidden.shape == (5, 32)
    assert CoinMLPPolicy(4)(torch.zeros(2, 3, 4, 4, 4))[0].shape == (2, 3, 4)
    assert CoinConvValue(4)(torch.zeros(2, 3, 4, 4, 4)).shape == (2, 3)
    assert CoinMLPValue(4)(torch.zeros(6, 4, 4, 4)).shape == (6,)


@pytest.mark.parametrize("module", [CoinConvGRUPolicy(grid_size=4), CoinMLPPolicy(grid_size=4)])
def test_one_step_calls_equal_the_whole_sequence(module):
    """Sampling calls the policy a round at a time; log_probs calls it once per sequence."""
    module = module.double()
    env = BatchedCoinGame(CoinGame(4, 12), 6, dtype=torch.float64)
    obs = [env.reset(seed=0)[0][:, 0]]
    gen = _gen(1)
    for _ in range(11):
        obs.append(env.step(torch.randint(0, 4, (6, 2), generator=gen))[0][:, 0])
    seq = torch.stack(obs, dim=1)  # [B, T, 4, N, N]
    whole, h_whole = module(seq, None)
    hidden, steps = None, []
    for t in range(seq.shape[1]):
        logits, hidden = module(seq[:, t:t + 1], hidden)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, rtol=1e-12, atol=1e-12)
    if h_whole is not None:
        torch.testing.assert_close(hidden, h_whole, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("module", [CoinConvGRUPolicy(), CoinMLPPolicy(), CoinConvValue(),
                                    CoinMLPValue()])
def test_seed_batched_forward_equals_a_loop_over_seeds(module):
    params = init_params(module, 3, _gen(0))
    again = init_params(module, 3, _gen(0))
    assert all(torch.equal(params[k], again[k]) for k in params)  # deterministic
    first = next(iter(params.values()))
    assert not torch.equal(first[0], first[1])  # seeds differ
    obs = torch.rand(3, 5, 4, 4, 3, 3, generator=_gen(2)).round()
    if isinstance(module, (CoinConvValue, CoinMLPValue)):
        batched = seed_values(module, params, obs)
        looped = [functional_call(module, {k: v[s] for k, v in params.items()}, (obs[s],))
                  for s in range(3)]
        torch.testing.assert_close(batched, torch.stack(looped))
        return
    logits, hidden = seed_forward(module, params, obs)
    for s in range(3):
        p = {k: v[s] for k, v in params.items()}
        ref, ref_h = functional_call(module, p, (obs[s], None))
        torch.testing.assert_close(logits[s], ref)
        if ref_h is not None:
            torch.testing.assert_close(hidden[s], ref_h)


SMALL = CoinGame(3, 20)


def _rollout(seed=0, n_seeds=2, batch=8, length=20, game=SMALL):
    pols = (CoinConvGRUPolicy(), CoinMLPPolicy())
    gen = _gen(seed)
    params = tuple(init_params(p, n_seeds, gen) for p in pols)
    return pols, params, sample_coin_rollout(game, pols, params, batch, length, gen)


def test_sampler_shapes_and_determinism():
    pols, params, roll = _rollout()
    assert roll.cells.shape == (2, 8, 20, 3) and roll.coin_owner.shape == (2, 8, 20)
    assert roll.actions.shape == roll.rewards.shape == roll.picked_own.shape == (2, 8, 20, 2)
    assert roll.actions.dtype == torch.long and roll.picked_own.dtype == torch.bool
    assert roll.obs(1).shape == (2, 8, 20, 4, 3, 3)
    again = _rollout()[2]
    other = _rollout(seed=1)[2]
    for name in ("cells", "coin_owner", "actions", "rewards", "picked_own", "picked_other"):
        assert torch.equal(getattr(roll, name), getattr(again, name))
    assert not torch.equal(roll.actions, other.actions)


def test_sampler_rollout_replays_in_the_env():
    """Stepping a batched env from the stored boards with the stored actions gives the stored
    rewards, pickups and next boards: the rollout is a consistent record of the games."""
    game = CoinGame(3, 20)
    _, _, roll = _rollout(game=game)
    cells, owner = roll.cells.flatten(0, 1), roll.coin_owner.flatten(0, 1)  # [S*B, T, ...]
    actions, rewards = roll.actions.flatten(0, 1), roll.rewards.flatten(0, 1)
    picked = roll.picked_own.flatten(0, 1) | roll.picked_other.flatten(0, 1)
    next_coin = {}
    env = BatchedCoinGame(game, cells.shape[0], placement=lambda players, gen: next_coin["c"])
    env.reset(options={"cells": cells[:, 0], "coin_owner": owner[:, 0]})
    for t in range(game.max_cycles - 1):
        next_coin["c"] = cells[:, t + 1, 2]
        _, r, _, _, info = env.step(actions[:, t])
        assert torch.equal(r, rewards[:, t])
        assert torch.equal(info["picked_own"], roll.picked_own.flatten(0, 1)[:, t])
        assert torch.equal(env.cells, cells[:, t + 1]) and torch.equal(env.coin_owner,
                                                                       owner[:, t + 1])
    assert picked.any(-1).sum() > 20


def test_sampled_actions_follow_the_policy():
    """A policy with fixed action probabilities (an MLP whose output is its bias)."""
    pol = CoinMLPPolicy(hidden=(8,))
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    params = init_params(pol, 2, _gen(0))
    params = {k: torch.zeros_like(v) for k, v in params.items()}
    params["mlp.net.2.bias"] = probs.log().expand(2, 4).clone()
    roll = sample_coin_rollout("coin_game", (pol, pol), (params, params), 64, 50, _gen(3))
    counts = torch.nn.functional.one_hot(roll.actions, 4).float().mean(dim=(1, 2))  # [S, 2, 4]
    n = 64 * 50
    assert (torch.abs(counts - probs) < 4 * (probs * (1 - probs) / n).sqrt()).all()


def test_uniform_policies_pick_coins_at_the_exact_random_rate():
    game = CoinGame(3, 20)
    exact = random_play_rates(game)["coins_per_round"]
    pol = CoinMLPPolicy()
    params = {k: torch.zeros_like(v) for k, v in init_params(pol, 4, _gen(0)).items()}
    roll = sample_coin_rollout(game, (pol, pol), (params, params), 500, None, _gen(1))
    per_game = (roll.picked_own | roll.picked_other).float().mean(2)  # [S, B, 2]
    per_game = per_game.flatten(0, 1)
    se = per_game.std(0) / per_game.shape[0] ** 0.5
    assert (torch.abs(per_game.mean(0) - exact) < 4 * se).all()
    share = coin_metrics(roll)["own_coin_share"]  # [2, S], about 0.5
    assert (torch.abs(share - 0.5) < 0.08).all()


def test_log_probs_of_a_coin_rollout_are_the_sampling_logits():
    pols, params, roll = _rollout()
    for i in range(2):
        lp = log_probs(pols[i], params[i], roll, i)
        assert lp.shape == (2, 8, 20)
        hidden, ref = None, []
        obs = roll.obs(i)
        for t in range(20):
            logits, hidden = seed_forward(pols[i], params[i], obs[:, :, t:t + 1], hidden)
            logp = torch.log_softmax(logits[:, :, 0], -1)
            ref.append(logp.gather(-1, roll.actions[:, :, t, i, None])[..., 0])
        torch.testing.assert_close(lp, torch.stack(ref, dim=-1))
    value = CoinConvValue()
    vp = init_params(value, 2, _gen(4))
    assert rollout_values(value, vp, roll, 0).shape == (2, 8, 20)


def test_log_probs_gradient_against_finite_differences():
    """d log_probs / d (one conv weight) of the conv-GRU policy, float64, by gradcheck."""
    pol = CoinConvGRUPolicy(channels=3, hidden_size=4).double()
    params = {k: v.double() for k, v in init_params(pol, 2, _gen(0)).items()}
    roll = sample_coin_rollout("coin_game", (pol, pol), (params, params), 2, 4, _gen(1))
    weights = torch.linspace(-1, 1, 2 * 2 * 4, dtype=torch.float64).view(2, 2, 4)

    def f(conv1, head):
        p = {**params, "trunk.conv1.weight": conv1, "gru.head.weight": head}
        return (log_probs(pol, p, roll, 1) * weights).sum()

    inputs = (params["trunk.conv1.weight"].clone().requires_grad_(),
              params["gru.head.weight"].clone().requires_grad_())
    assert torch.autograd.gradcheck(f, inputs)


def test_coin_metrics_against_a_brute_force_count():
    _, _, roll = _rollout(batch=5)
    m = coin_metrics(roll)
    assert set(m) == set(COIN_METRICS) and all(v.shape == (2, 2) for v in m.values())
    for s in range(2):
        for i in range(2):
            own = other = 0
            reward = 0.0
            for b in range(5):
                for t in range(20):
                    owner = int(roll.coin_owner[s, b, t])
                    red, blue, coin = roll.cells[s, b, t].tolist()
                    landed = roll.picked_own[s, b, t, i] or roll.picked_other[s, b, t, i]
                    own += bool(landed) and owner == i
                    other += bool(landed) and owner != i
                    reward += float(roll.rewards[s, b, t, i])
            assert m["own_coin_share"][i, s].item() == pytest.approx(own / (own + other))
            assert m["coins_per_round"][i, s].item() == pytest.approx((own + other) / 100)
            assert m["value"][i, s].item() == pytest.approx(reward / 100)
    # a player that never picks a coin has no share: NaN, not a made-up number
    none = roll.picked_own.clone().zero_()
    roll.picked_own, roll.picked_other = none, none
    assert coin_metrics(roll)["own_coin_share"].isnan().all()


def test_sampler_bad_arguments():
    pol = CoinMLPPolicy()
    p2, p3 = init_params(pol, 2, _gen(0)), init_params(pol, 3, _gen(0))
    for args, error, match in [
        (("ipd", (pol, pol), (p2, p2), 4, 5), TypeError, "game must be a CoinGame"),
        (("coin_game", (pol, pol), (p2, p2), 0, 5), ValueError, "batch_size must be an int"),
        (("coin_game", (pol, pol), (p2, p2), 4, 151), ValueError,
         "length must be an int >= 1 and <= game.max_cycles = 150, got 151"),
        (("coin_game", (pol, pol), (p2, p3), 4, 5), ValueError, "same number of seeds"),
    ]:
        with pytest.raises(error, match=match):
            sample_coin_rollout(*args)
    _, _, roll = _rollout()
    with pytest.raises(ValueError, match="player must be 0 or 1"):
        roll.obs(2)


def test_metrics_dtype_and_numpy_free():
    _, _, roll = _rollout()
    m = coin_metrics(roll)
    assert all(v.dtype == torch.float32 for v in m.values())
    assert np.isfinite(m["value"].numpy()).all()

"""Logits recorded while sampling a Coin Game rollout (``coin-gru``) are those of the policy
run again over the episodes, with the same gradients; they are used only for the very
parameters they were computed with."""

from __future__ import annotations

import torch

from lola_games.games.coin import CoinGame
from lola_games.rollouts import CoinGRUPolicy, CoinMLPPolicy, init_params, log_probs
from lola_games.rollouts.coin import sample_coin_rollout
from lola_games.rollouts.sampling import rollout_logits, seed_forward


def rollout(grad: bool, policies=None):
    gen = torch.Generator().manual_seed(0)
    policies = policies or (CoinGRUPolicy(3, hidden_size=8), CoinGRUPolicy(3, hidden_size=8))
    params = [{k: v.requires_grad_() for k, v in init_params(p, 2, gen).items()}
              for p in policies]
    with torch.set_grad_enabled(grad):
        roll = sample_coin_rollout(CoinGame(3, 20), policies, params, 5, 12, gen)
    return policies, params, roll


def test_recorded_logits_are_the_policy_over_the_episodes_with_its_gradients():
    policies, params, roll = rollout(grad=True)
    for i in range(2):
        recorded = roll.logits_of(i, params[i])
        assert recorded is not None and recorded.shape == (2, 5, 12, 4)
        again, _ = seed_forward(policies[i], params[i], roll.obs(i))
        torch.testing.assert_close(recorded, again, rtol=1e-5, atol=1e-6)
        w = torch.randn(recorded.shape, generator=torch.Generator().manual_seed(i))
        got = torch.autograd.grad((recorded * w).sum(), list(params[i].values()))
        want = torch.autograd.grad((again * w).sum(), list(params[i].values()))
        for g, v in zip(got, want, strict=True):
            torch.testing.assert_close(g, v, rtol=1e-4, atol=1e-6)


def test_recorded_logits_serve_only_their_own_params():
    policies, params, roll = rollout(grad=False)
    assert roll.logits[0] is not None and not roll.logits[0].requires_grad
    other = {k: v.detach().clone() for k, v in params[0].items()}
    assert roll.logits_of(0, other) is None
    assert roll.logits_of(1, params[0]) is None
    # other params: the policy runs over the episodes with them
    lp = log_probs(policies[0], other, roll, 0)
    torch.testing.assert_close(lp, log_probs(policies[0], params[0], roll, 0).detach(),
                               rtol=1e-5, atol=1e-6)
    assert rollout_logits(policies[0], params[0], roll, 0) is roll.logits[0]


def test_policies_without_the_flag_record_nothing():
    mlp = (CoinMLPPolicy(3, hidden=(8,)), CoinMLPPolicy(3, hidden=(8,)))
    _, params, roll = rollout(grad=True, policies=mlp)
    assert roll.logits == (None, None) and roll.logits_of(0, params[0]) is None

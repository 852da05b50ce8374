"""Advantage estimates and surrogates: closed forms, explicit loops, finite differences."""

from __future__ import annotations

import pytest
import torch

from lola_games.agents.base import Context
from lola_games.agents.ppo import PPO
from lola_games.games.registry import get_game
from lola_games.rollouts.games import sample_game_rollout
from lola_games.values.advantages import (
    alignment_term,
    discounted_returns_to_go,
    gae,
    normalise,
    policy_surrogate,
)


def test_gae_with_lambda_one_is_the_bootstrapped_return_minus_the_value():
    gen = torch.Generator().manual_seed(0)
    r = torch.randn(3, 4, 9, generator=gen, dtype=torch.float64)
    v = torch.randn(3, 4, 9, generator=gen, dtype=torch.float64)
    g = 0.9
    ret = torch.zeros(3, 4, 8, dtype=torch.float64)
    for t in range(8):
        ret[..., t] = sum(g ** (k - t) * r[..., k] for k in range(t, 8)) + g ** (8 - t) * v[..., 8]
    assert torch.allclose(gae(r, v, g, 1.0), ret - v[..., :-1], atol=1e-12)
    assert torch.allclose(gae(r, v, g, 0.0), r[..., :-1] + g * v[..., 1:] - v[..., :-1])
    assert torch.allclose(discounted_returns_to_go(r, g)[..., 0],
                          sum(g ** k * r[..., k] for k in range(9)))


def test_alignment_term_forms_against_loops():
    gen = torch.Generator().manual_seed(1)
    a1, a2 = torch.randn(2, 5, 6, generator=gen, dtype=torch.float64)
    g = 0.8
    code, paper = alignment_term(a1, a2, g, "code"), alignment_term(a1, a2, g, "paper")
    assert (code[..., 0] == 0).all() and (paper[..., 0] == 0).all()
    for t in range(1, 6):
        past = sum(a1[..., k] for k in range(t))
        assert torch.allclose(code[..., t], past / t * a2[..., t])
        disc = sum(g ** (t - k) * a1[..., k] for k in range(t))
        assert torch.allclose(paper[..., t], g * disc * a2[..., t])
    with pytest.raises(ValueError, match="form"):
        alignment_term(a1, a2, g, "other")


def test_normalise_is_joint_and_per_seed():
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64)
    na, nb = normalise(a, b * 10)
    both = torch.cat([na.flatten(1), nb.flatten(1)], 1)
    assert torch.allclose(both.mean(1), torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(both.std(1), torch.ones(3, dtype=torch.float64), atol=1e-6)


def test_clipped_surrogate_is_flat_outside_the_clip():
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    old = torch.zeros(4, dtype=torch.float64)
    logp = torch.tensor([0.5, -0.05, -0.5, 0.05], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(policy_surrogate(adv, logp, old, 0.2).sum(), logp)
    # ratio above 1 + eps with A > 0 and below 1 - eps with A < 0: no gradient
    assert grad[0] == 0 and grad[2] == 0
    assert torch.allclose(grad[1], torch.exp(torch.tensor(-0.05, dtype=torch.float64)))


def test_actor_loss_gradient_matches_finite_differences():
    """The seed-batched PPO loss (clipped surrogate and entropy) against central finite
    differences in float64, away from the clip's kinks."""
    agent = PPO(batch_size=5, rollout_len=6, entropy_beta=0.1, clip_range=0.3)
    game = get_game("ipd")
    gen = torch.Generator().manual_seed(4)
    params = agent.init_params(2, gen, dtype=torch.float64, game=game)
    roll = sample_game_rollout(game, [agent.policy] * 2, [params["policy"]] * 2, 5, 6, gen)
    ctx = Context(game, 0.96, 0, gen, other=agent)
    adv = torch.randn(2, 5, 5, generator=gen, dtype=torch.float64)
    old = torch.zeros(2, 5, 6, dtype=torch.float64) - 0.7
    index = torch.arange(5)
    theta = params["policy"]["logits"].clone().requires_grad_(True)

    def loss(th):
        return agent.actor_loss(ctx, agent.policy, {"logits": th}, roll, adv, old, index)

    assert torch.autograd.gradcheck(loss, (theta,), eps=1e-6, atol=1e-8)

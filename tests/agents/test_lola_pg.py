"""The LOLA paper's policy-gradient estimator (LOLA-PG) against DiCE on the same rollouts.

Tabular policies, float64, one fixed batch of rollouts per test. With the same weighting of
the rewards (advantages = returns-to-go, no value baseline):

* the paper's first-order terms equal DiCE's first derivatives, and its hand-derived mixed
  term ``E[sum_t gamma^t r_t (sum grad_1 log pi_1)(sum grad_2 log pi_2)^T]`` equals DiCE's
  mixed second derivative, exactly;
* differentiating the first-order surrogate again (the surrogate-loss approach the DiCE
  paper criticises) misses exactly ``sum_t gamma^t r_t grad L_t grad L_t^T``: all of the
  mixed term, and that part of each player's own second derivative, which LOLA-DiCE's
  lookahead of 2 or more steps needs (the opponent's own curvature);
* LOLA-DiCE's one-step lookahead on the same rollouts equals the paper's update to first
  order in the inner step size; what remains is of second order (the lookahead's higher
  terms, which the paper's Taylor expansion drops).
"""

from __future__ import annotations

import pytest
import torch

from lola_games.agents import LOLAPG, make_agent
from lola_games.agents.base import Context
from lola_games.agents.lola_pg import (
    advantages,
    first_order_terms,
    second_order_surrogate,
)
from lola_games.games.registry import get_game
from lola_games.rollouts import TabularPolicy, log_probs, sample_rollout
from lola_games.runner.training import train
from lola_games.values.dice import dice_objective, discounted_returns

S, B, T, GAMMA = 3, 32, 12, 0.9
POLICY = TabularPolicy()


@pytest.fixture(scope="module")
def sample():
    gen = torch.Generator().manual_seed(0)
    th1 = torch.randn(S, 5, generator=gen, dtype=torch.float64)
    th2 = torch.randn(S, 5, generator=gen, dtype=torch.float64)
    roll = sample_rollout("ipd", (POLICY, POLICY), ({"logits": th1}, {"logits": th2}), B, T,
                          gen)
    return th1, th2, roll


def logps(roll, a, b):
    return log_probs(POLICY, {"logits": a}, roll, 0), log_probs(POLICY, {"logits": b}, roll, 1)


def dice(roll, player, a, b):
    """Player ``player``'s DiCE objective on ``roll`` at logits ``a`` (player 0), ``b``."""
    l1, l2 = logps(roll, a, b)
    own, other = (l1, l2) if player == 0 else (l2, l1)
    return dice_objective(roll.rewards[..., player].double(), own, other, GAMMA).mean(-1).sum()


def leaves(th1, th2):
    return th1.clone().requires_grad_(True), th2.clone().requires_grad_(True)


def hessian(f, x, y):
    """``d^2 f / dx dy`` as ``[S, 5 (x), 5 (y)]``."""
    gy = torch.autograd.grad(f, y, create_graph=True)[0]
    rows = [torch.autograd.grad(gy[:, j].sum(), x, retain_graph=True, allow_unused=True)[0]
            for j in range(5)]
    return torch.stack([torch.zeros_like(x) if r is None else r for r in rows], dim=-1)


def test_paper_terms_equal_dice_derivatives(sample):
    th1, th2, roll = sample
    a, b = leaves(th1, th2)
    l1, l2 = logps(roll, a, b)
    r1, r2 = roll.rewards[..., 0].double(), roll.rewards[..., 1].double()
    adv = advantages(r1, torch.zeros_like(r1), torch.zeros(S, B, dtype=torch.float64), GAMMA)
    torch.testing.assert_close(adv, discounted_returns(r1, GAMMA))
    j_own, j_other = first_order_terms(adv, l1, l2, GAMMA)
    g11 = torch.autograd.grad(j_own.sum(), a, retain_graph=True)[0]
    g12 = torch.autograd.grad(j_other.sum(), b, retain_graph=True)[0]
    d11, d12 = torch.autograd.grad(dice(roll, 0, a, b), (a, b))
    torch.testing.assert_close(g11, d11, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g12, d12, rtol=1e-12, atol=1e-12)
    # the hand-derived mixed term of the opponent's value is DiCE's mixed derivative
    paper = hessian(second_order_surrogate(r2, l1, l2, GAMMA, centre=False).sum(), a, b)
    assert paper.abs().max() > 0.1
    torch.testing.assert_close(paper, hessian(dice(roll, 1, a, b), a, b), rtol=1e-12,
                               atol=1e-12)
    # centred by the batch mean it is DiCE's on the centred rewards
    centred = roll.rewards[..., 1].double() - r2.mean(dim=(-1, -2), keepdim=True)
    objective = dice_objective(centred, l2, l1, GAMMA).mean(-1).sum()
    torch.testing.assert_close(hessian(second_order_surrogate(r2, l1, l2, GAMMA).sum(), a, b),
                               hessian(objective, a, b), rtol=1e-12, atol=1e-12)


def test_surrogate_loss_misses_exactly_the_score_products(sample):
    """``d2 DiCE - d2 SL = sum_t gamma^t r_t grad L_t grad L_t^T`` (mixed and own)."""
    th1, th2, roll = sample
    a, b = leaves(th1, th2)
    l1, l2 = logps(roll, a, b)
    r2 = roll.rewards[..., 1].double()
    # the first-order surrogate of player 2 (returns-to-go as fixed samples)
    _, surrogate = first_order_terms(discounted_returns(r2, GAMMA), l1, l2, GAMMA)
    disc = GAMMA ** torch.arange(T, dtype=torch.float64)
    scores = []
    for player, th in ((0, th1), (1, th2)):
        # grad log pi(a_t | s_t) of a tabular policy: one-hot(s_t) * (1[a_t = 0] - P(0 | s_t))
        states, actions = roll.states[..., player], roll.actions[..., player]
        p0 = torch.sigmoid(th)[torch.arange(S)[:, None, None], states]
        score = torch.nn.functional.one_hot(states, 5) * ((actions == 0).double() - p0)[..., None]
        scores.append(torch.cumsum(score, dim=-2))  # grad L_t: [S, B, T, 5]
    weight = disc * r2  # [S, B, T]
    for x, y, sx, sy in ((a, b, scores[0], scores[1]), (b, b, scores[1], scores[1])):
        missing = torch.einsum("sbt,sbti,sbtj->sij", weight, sx, sy) / B
        assert missing.abs().max() > 0.1
        torch.testing.assert_close(hessian(dice(roll, 1, a, b), x, y) -
                                   hessian(surrogate.sum(), x, y), missing, rtol=1e-10,
                                   atol=1e-10)


def test_one_step_lookahead_is_the_paper_update_to_first_order(sample):
    th1, th2, roll = sample

    def lookahead(eta):
        """d/d theta1 of DiCE_1(theta1, theta2 + eta grad_2 DiCE_2), all on ``roll``."""
        a, b = leaves(th1, th2)
        g2 = torch.autograd.grad(dice(roll, 1, a, b), b, create_graph=True)[0]
        return torch.autograd.grad(dice(roll, 0, a, b + eta * g2), a)[0]

    def paper(eta):
        """The LOLA-PG direction: grad_1 V1 + eta grad_1(stop(grad_2 V1) . grad_2 V2)."""
        a, b = leaves(th1, th2)
        g1, g12 = torch.autograd.grad(dice(roll, 0, a, b), (a, b))
        l1, l2 = logps(roll, a, b)
        v2 = second_order_surrogate(roll.rewards[..., 1].double(), l1, l2, GAMMA, centre=False)
        g22 = torch.autograd.grad(v2.sum(), b, create_graph=True)[0]
        return g1 + eta * torch.autograd.grad((g12 * g22).sum(), a)[0]

    torch.testing.assert_close(lookahead(0.0), paper(0.0), rtol=1e-12, atol=1e-12)
    eps = 1e-5
    slope = (lookahead(eps) - lookahead(-eps)) / (2 * eps)
    assert slope.abs().max() > 0.1
    torch.testing.assert_close(slope, (paper(1.0) - paper(0.0)), rtol=1e-7, atol=1e-7)
    gaps = [(lookahead(eta) - paper(eta)).abs().max().item() for eta in (0.02, 0.01)]
    assert gaps[1] > 1e-6 and gaps[0] / gaps[1] == pytest.approx(4.0, rel=0.1), gaps


def test_update_deterministic_seed_independent_and_nl_pg():
    agent = LOLAPG(batch_size=32, rollout_len=20)
    game = get_game("ipd")

    def step(n_seeds, seed, a=agent):
        g = torch.Generator().manual_seed(seed)
        own = a.init_params(n_seeds, g)
        other = a.init_params(n_seeds, g)
        ctx = Context(game, 0.96, 0, g, torch.device("cpu"), a)
        return a.update(own, other, a.init_state(own), ctx)[0]

    one, again = step(3, 4), step(3, 4)
    assert torch.equal(one["policy"]["logits"], again["policy"]["logits"])
    assert torch.isfinite(one["value"]["values"]).all()
    # NL-PG is the same step without the correction: same rollouts, different direction
    nl = step(3, 4, LOLAPG(batch_size=32, rollout_len=20, corrections=False))
    assert not torch.equal(one["policy"]["logits"], nl["policy"]["logits"])
    torch.testing.assert_close(one["value"]["values"], nl["value"]["values"])
    # the initial logits and values are N(0, 1), as in the paper's code
    init = LOLAPG().init_params(4000, torch.Generator().manual_seed(0))
    assert abs(init["policy"]["logits"].std().item() - 1) < 0.03
    assert abs(init["value"]["values"].std().item() - 1) < 0.03


def test_registry_cli_names_and_bad_input():
    assert isinstance(make_agent("lola-pg", corrections=False), LOLAPG)
    assert LOLAPG().hparams()["eta"] == 1.0 and LOLAPG().batch_size == 4000
    for kwargs, match in (({"lr": float("nan")}, "lr"), ({"eta": -1}, "eta"),
                          ({"batch_size": 0}, "batch_size"), ({"corrections": "yes"},
                                                                "corrections"),
                          ({"init": "glorot"}, "init"), ({"metric": "score"}, "metric"),
                          ({"hidden_size": "3"}, "hidden_size"), ({"lr_v": float("inf")},
                                                                   "lr_v")):
        with pytest.raises(ValueError, match=match):
            LOLAPG(**kwargs)


def test_lola_pg_reaches_the_nash_equilibrium_of_matching_pennies():
    """Matching pennies, gamma 0.9, 6 seeds x 60 updates of batch 250 (the paper: 4000 x 150).

    Share of (seed, player, state) with P(heads) within 0.1 of 0.5 after update 60, measured
    with run seeds 0, 1, 2: LOLA-PG 0.92, 0.78, 0.92; NL-PG 0.05, 0.05, 0.05 (both start near
    0.4 from N(0, 1) logits).
    """
    def share_at_nash(corrections):
        agent = LOLAPG(batch_size=250, corrections=corrections)
        run = train("imp", (agent, agent), n_seeds=6, n_updates=60, gamma=0.9, seed=0,
                    log_every=60)
        probs = torch.cat([torch.tensor(run.probs_0[-1]), torch.tensor(run.probs_1[-1])], -1)
        return (probs - 0.5).abs().lt(0.1).double().mean().item()

    assert share_at_nash(True) > 0.7
    assert share_at_nash(False) < 0.3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_update():
    agent = LOLAPG(batch_size=32, rollout_len=20)
    run = train("ipd", (agent, agent), n_seeds=3, n_updates=2, seed=0, device="cuda")
    logits = run.final_params[0]["policy"]["logits"]
    assert logits.device.type == "cuda" and torch.isfinite(logits).all()

"""DiCE estimates of first and second derivatives against exact truncated values.

Each check averages K independent group estimates (each over many rollouts) and requires
every component to lie within ``Z`` Monte-Carlo standard errors of the exact value. The
group estimates come from one batched call: the seed dimension of the parameters holds K
copies of the same policy.
"""

from __future__ import annotations

import pytest
import torch

from lola_games.rollouts import TabularPolicy, log_probs, sample_rollout
from lola_games.values.dice import (
    centre_by_batch_mean,
    dice_objective,
    discounted_returns,
    magic_box,
    normalised_discounted_return,
)

GAMMA, T, K, B = 0.9, 8, 64, 2048
Z = 4.5  # tolerance in standard errors (31 comparisons per check)
THETA0 = torch.tensor([0.5, -1.0, 0.3, 1.2, -0.4], dtype=torch.float64)
THETA1 = torch.tensor([-0.2, 0.8, -0.6, 0.1, 0.9], dtype=torch.float64)
PAYOFF = torch.tensor([[-1.0, -3.0], [0.0, -2.0]], dtype=torch.float64)  # ipd, own x other


def truncated_value0(theta0: torch.Tensor, theta1: torch.Tensor) -> torch.Tensor:
    """Player 0's ``sum_{t<T} gamma^t E[r_t]`` by iterating the memory-one chain by hand."""
    p0 = torch.sigmoid(theta0)  # P(C) per own state (start, CC, CD, DC, DD)
    p1 = torch.sigmoid(theta1)[[0, 1, 3, 2, 4]]  # player 1's P(C) per joint state
    r = PAYOFF.reshape(4)

    def joint(x, y):
        return torch.stack([x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)], dim=-1)

    dist = joint(p0[0], p1[0])  # outcomes (CC, CD, DC, DD) of round 0
    trans = joint(p0[1:], p1[1:])  # [4 from, 4 to]
    value = dist @ r
    for t in range(1, T):
        dist = dist @ trans
        value = value + GAMMA**t * (dist @ r)
    return value


def exact_derivatives():
    grad = torch.func.grad(truncated_value0, argnums=0)
    mixed = torch.func.jacrev(grad, argnums=1)(THETA0, THETA1)  # [i (theta0), j (theta1)]
    return grad(THETA0, THETA1), mixed


def estimates(values_table=None, baseline="dice", opponent=True, seed=0):
    """Per-group DiCE estimates of d V0/d theta0 [K, 5] and d2 V0/d theta0 d theta1 [K, 5, 5]."""
    policy = TabularPolicy()
    th0 = THETA0.repeat(K, 1).requires_grad_(True)
    th1 = THETA1.repeat(K, 1).requires_grad_(True)
    p0, p1 = {"logits": th0}, {"logits": th1}
    gen = torch.Generator().manual_seed(seed)
    roll = sample_rollout("ipd", (policy, policy), (p0, p1), B, T, gen)
    lp0 = log_probs(policy, p0, roll, 0)
    lp1 = log_probs(policy, p1, roll, 1)
    values = None
    if values_table is not None:
        values = values_table[roll.states[..., 0]]
    obj = dice_objective(roll.rewards[..., 0], lp0, lp1 if opponent else None, GAMMA, values,
                         baseline)
    g0 = torch.autograd.grad(obj.mean(-1).sum(), th0, create_graph=True)[0]  # [K, 5]
    if not opponent:
        return g0.detach(), None
    mixed = torch.stack(
        [torch.autograd.grad(g0[:, i].sum(), th1, retain_graph=True)[0] for i in range(5)], dim=1
    )
    return g0.detach(), mixed.detach()


def z_scores(samples: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    se = samples.std(0) / samples.shape[0] ** 0.5
    return (samples.mean(0) - exact) / se


def test_magic_box_value_and_derivatives():
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y = magic_box(3 * x)
    assert y.item() == 1.0
    (d1,) = torch.autograd.grad(y, x, create_graph=True)
    (d2,) = torch.autograd.grad(d1, x)
    assert d1.item() == pytest.approx(3.0) and d2.item() == pytest.approx(9.0)


def test_discounted_returns_matches_loop():
    r = torch.randn(3, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = torch.zeros_like(r)
    running = torch.zeros(3, dtype=torch.float64)
    for t in reversed(range(20)):
        running = r[:, t] + 0.7 * running
        expected[:, t] = running
    torch.testing.assert_close(discounted_returns(r, 0.7), expected)
    torch.testing.assert_close(discounted_returns(r, 0.0), r)
    # a discount whose powers underflow takes the matrix path
    long = torch.randn(2, 400, dtype=torch.float64)
    ref = long.clone()
    for t in reversed(range(399)):
        ref[:, t] += 0.01 * ref[:, t + 1]
    torch.testing.assert_close(discounted_returns(long, 0.01), ref)


def test_dice_value_is_discounted_return():
    r = torch.randn(4, 6, dtype=torch.float64)
    lp = torch.randn(4, 6, dtype=torch.float64).clamp(max=0)
    torch.testing.assert_close(
        dice_objective(r, lp, lp, 0.5, values=torch.randn(4, 6, dtype=torch.float64)),
        discounted_returns(r, 0.5)[:, 0],
    )


@pytest.mark.parametrize("baseline", [None, "dice", "mao"])
def test_first_and_second_order_unbiased(baseline):
    exact_grad, exact_mixed = exact_derivatives()
    table = None
    if baseline is not None:  # any baseline that depends only on the state keeps it unbiased
        table = torch.tensor([-8.0, -5.0, -9.0, -3.0, -7.0], dtype=torch.float64)
    grad, mixed = estimates(table, baseline or "dice", seed=1)
    zg = z_scores(grad, exact_grad)
    zm = z_scores(mixed.flatten(1), exact_mixed.flatten())
    assert zg.abs().max() < Z, f"first order off by {zg.abs().max():.1f} SE: {zg}"
    assert zm.abs().max() < Z, f"mixed second order off by {zm.abs().max():.1f} SE: {zm}"


def test_check_has_power_against_missing_opponent_dependencies():
    """Dropping the opponent's log-probs keeps the first order but loses the mixed term."""
    exact_grad, exact_mixed = exact_derivatives()
    grad, mixed = estimates(seed=2)
    se = mixed.flatten(1).std(0) / K**0.5
    # the exact mixed derivative is far from zero relative to the estimator's noise ...
    assert (exact_mixed.flatten().abs() / se).max() > 5 * Z
    # ... and an estimator without the opponent's log-probs has no mixed term at all
    grad_no, _ = estimates(opponent=False, seed=2)
    assert z_scores(grad_no, exact_grad).abs().max() < Z


def test_bad_inputs():
    r = torch.zeros(2, 5)
    with pytest.raises(ValueError, match="same shape"):
        dice_objective(r, torch.zeros(2, 4), None, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        dice_objective(r, r, r, 1.5)
    with pytest.raises(ValueError, match="baseline"):
        dice_objective(r, r, r, 0.9, values=r, baseline="other")
    with pytest.raises(ValueError, match="time axis"):
        dice_objective(torch.zeros(2, 0), torch.zeros(2, 0), None, 0.9)


def test_without_magic_box_first_order_stays_and_cross_terms_vanish():
    """The "no DiCE" ablation: same first derivative, no mixed second derivative."""
    policy = TabularPolicy()
    th0 = THETA0.repeat(2, 1).requires_grad_(True)
    th1 = THETA1.repeat(2, 1).requires_grad_(True)
    roll = sample_rollout("ipd", (policy, policy), ({"logits": th0}, {"logits": th1}), 64, T,
                          torch.Generator().manual_seed(3))
    lp0 = log_probs(policy, {"logits": th0}, roll, 0)
    lp1 = log_probs(policy, {"logits": th1}, roll, 1)
    rewards = roll.rewards[..., 0].double()
    grads = []
    for box in (True, False):
        obj = dice_objective(rewards, lp0, lp1, GAMMA, use_magic_box=box).mean(-1).sum()
        g0 = torch.autograd.grad(obj, th0, create_graph=True)[0]
        mixed = torch.autograd.grad(g0.sum(), th1, retain_graph=True, allow_unused=True)[0]
        grads.append((g0.detach(), mixed))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    assert grads[0][1].abs().max() > 0.1
    assert grads[1][1] is None or grads[1][1].abs().max() == 0
    with pytest.raises(ValueError, match="magic box"):
        dice_objective(rewards, lp0, lp1, GAMMA, values=rewards, baseline="mao",
                       use_magic_box=False)


def test_batch_mean_centring_and_normalised_return():
    r = torch.randn(3, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    centred = centre_by_batch_mean(r)
    torch.testing.assert_close(centred.mean(-2), torch.zeros(3, 7, dtype=torch.float64))
    torch.testing.assert_close(centred[:, 1], r[:, 1] - r.mean(-2))
    with pytest.raises(ValueError, match="at least 2 episodes"):
        centre_by_batch_mean(torch.zeros(3, 1, 7))
    expected = sum(0.8**t * r[..., t] for t in range(7)) * 0.2
    torch.testing.assert_close(normalised_discounted_return(r, 0.8), expected)
    # constant reward c per round over T rounds scores c * (1 - gamma^T)
    torch.testing.assert_close(normalised_discounted_return(torch.full((150,), -2.0), 0.96),
                               torch.tensor(-2 * (1 - 0.96**150)))


@pytest.mark.parametrize("gamma", [True, "0.9", float("nan"), None])
def test_gamma_must_be_a_number(gamma):
    """gamma=True was taken as a discount of 1."""
    r = torch.zeros(2, 5)
    with pytest.raises(ValueError, match="gamma must be a number"):
        dice_objective(r, r, None, gamma)
    with pytest.raises(ValueError, match="gamma must be a number"):
        discounted_returns(r, gamma)

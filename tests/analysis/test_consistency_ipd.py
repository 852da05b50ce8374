"""The COLA paper's consistency measure on the IPD, checked against a per-point reference.

The reference is written from the COLA and LOLA papers' definitions in the convention of their
code: one point at a time, 1-D tensors, the four outcomes ordered CC, CD, DC, DD from player
0's side for *both* players' logits (lola-games orders player 1's from its own side: CD and DC
swap), the value ``p0 (I - gamma P)^-1 r`` with an explicit inverse, and HOLA's recursion
``h_x <- grad_x V_0(x, y + eta h_y)``, ``h_y <- grad_y V_1(x + eta h_x, y)`` from the naive
gradients. Our batched measurement must give the same numbers in float64, and the consistency
loss of HOLA-n must be ``|h^{n+1} - h^n|^2`` (the target of HOLA-n is HOLA-(n+1)).

The last test records why the COLA paper's IPD table cannot be matched point for point: its
entries are means over 100 points of a heavy-tailed loss, and its HOLA2 entry lies far below
every 100-point mean of the quantity the paper defines (README, "The COLA paper").
"""

import pytest
import torch

from lola_games.agents.hola import hola_directions
from lola_games.analysis.consistency import hola_updates, sample_region, update_consistency
from lola_games.values.iterated import IteratedGame, game_values

DT = torch.float64
OWN_SIDE = [0, 1, 3, 2, 4]  # player 1's logits: the papers' order <-> its own side
PAYOFF_0 = torch.tensor([-1.0, -3.0, 0.0, -2.0], dtype=DT)  # CC, CD, DC, DD, player 0's side
PAYOFF_1 = torch.tensor([-1.0, 0.0, -3.0, -2.0], dtype=DT)
IPD = IteratedGame("ipd", init_std=0.1)


def reference_values(x, y, gamma=0.96):
    """Both players' unnormalised discounted values at one point (logits ``[5]`` each, both in
    player 0's order of outcomes)."""
    px, py = torch.sigmoid(x), torch.sigmoid(y)
    start = torch.stack([px[0] * py[0], px[0] * (1 - py[0]), (1 - px[0]) * py[0],
                         (1 - px[0]) * (1 - py[0])])
    a, b = px[1:, None], py[1:, None]
    trans = torch.cat([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], dim=1)
    visits = start @ torch.linalg.inv(torch.eye(4, dtype=DT) - gamma * trans)
    return visits @ PAYOFF_0, visits @ PAYOFF_1


def grad(out, wrt):
    return torch.autograd.grad(out, wrt, create_graph=True)[0]


def reference_hola(x, y, eta, order):
    hx, hy = grad(reference_values(x, y)[0], x), grad(reference_values(x, y)[1], y)
    for _ in range(order):
        hx, hy = (grad(reference_values(x, y + eta * hy)[0], x),
                  grad(reference_values(x + eta * hx, y)[1], y))
    return hx, hy


def reference_consistency(x, y, eta, order):
    hx, hy = reference_hola(x, y, eta, order)
    tx = grad(reference_values(x, y + eta * hy)[0], x)
    ty = grad(reference_values(x + eta * hx, y)[1], y)
    return float(((hx - tx) ** 2).sum().detach() + ((hy - ty) ** 2).sum().detach())


@pytest.mark.parametrize("eta", [1.0, 0.03])
def test_hola_consistency_on_the_ipd_matches_a_per_point_reference(eta):
    points = sample_region(IPD, 6, 7.0, torch.Generator().manual_seed(3))
    for order in (1, 2, 3):
        ours = update_consistency(IPD, points, hola_updates(IPD, eta, order), eta)
        for k in range(6):
            x = points[0][k].detach().clone().requires_grad_(True)
            y = points[1][k].detach()[OWN_SIDE].clone().requires_grad_(True)
            assert float(ours[k]) == pytest.approx(reference_consistency(x, y, eta, order),
                                                   rel=1e-8, abs=1e-13), (order, k)


@pytest.mark.parametrize("eta", [1.0, 0.03])
def test_the_consistency_loss_of_hola_n_is_the_step_to_hola_n_plus_one(eta):
    theta = sample_region(IPD, 64, 7.0, torch.Generator().manual_seed(4))

    def values(th):
        return game_values(IPD, th, 0.96)

    for order in (1, 2, 3):
        c = update_consistency(IPD, theta, hola_updates(IPD, eta, order), eta)
        now = hola_directions(values, theta, eta, order)
        after = hola_directions(values, theta, eta, order + 1)
        step = sum(((after[j] - now[j]) ** 2).sum(1) for j in (0, 1)).detach()
        torch.testing.assert_close(c, step, rtol=1e-9, atol=1e-14)


def test_the_papers_ipd_hola2_is_no_100_point_mean_of_the_defined_loss():
    """2,000 points of the region at look-ahead 1, in 20 groups of the notebook's 100: the
    groups' LOLA means straddle the paper's 39.56 (measured 19 to 118), while every HOLA-2
    mean is far above its 21.16 (measured 122 and more; 76 and more with other points): one
    point in ten has a HOLA-2 loss above 388."""
    theta = sample_region(IPD, 2000, 7.0, torch.Generator().manual_seed(5))
    lola = update_consistency(IPD, theta, hola_updates(IPD, 1.0, 1), 1.0).reshape(20, 100)
    hola2 = update_consistency(IPD, theta, hola_updates(IPD, 1.0, 2), 1.0).reshape(20, 100)
    assert lola.mean(1).min() < 39.56 < lola.mean(1).max()
    assert hola2.mean(1).min() > 3 * 21.16
    assert torch.quantile(hola2.flatten(), 0.9) > 300

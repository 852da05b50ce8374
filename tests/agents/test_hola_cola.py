"""HOLA-n and COLA: closed forms on quadratic games, the COLA paper's consistency results.

On a quadratic game every HOLA-n update is affine in the parameters, so the recursions have
closed forms (matrices) that the learners must reproduce; on Tandem the consistency losses of
the COLA paper's Table 1a are expectations with closed forms too.
"""

import math

import numpy as np
import pytest
import torch

from lola_games.agents import COLA, HOLA, LOLA, Context, LookaheadLOLA, NaiveLearner
from lola_games.agents.cola import train_update_functions
from lola_games.agents.cola_networks import (
    init_update_networks,
    save_update_functions,
    update_functions,
)
from lola_games.analysis.consistency import hola_consistency, network_consistency
from lola_games.games.differentiable import DifferentiableGame
from lola_games.games.registry import get_any_game
from lola_games.runner.training import train
from lola_games.values.iterated import game_values

DT = torch.float64


def quadratic_game(sizes, seed):
    """``L_i = theta^T A_i theta / 2 + b_i . theta`` with random symmetric ``A_i``."""
    g = torch.Generator().manual_seed(seed)
    d = sum(sizes)
    a = torch.randn(len(sizes), d, d, generator=g, dtype=DT)
    a = (a + a.transpose(1, 2)) / 2
    b = torch.randn(len(sizes), d, generator=g, dtype=DT)

    def losses(*params):
        theta = torch.cat([p.reshape(p.shape[0], -1) for p in params], 1)
        return tuple(0.5 * torch.einsum("sd,de,se->s", theta, a[i], theta) + theta @ b[i]
                     for i in range(len(sizes)))

    shapes = [(n,) for n in sizes]
    return DifferentiableGame("quadratic", losses, shapes=shapes), a, b


def selector(sizes, j):
    """Rows of the concatenated parameters that belong to player ``j``."""
    start = sum(sizes[:j])
    return slice(start, start + sizes[j])


def closed_form_hola(a, b, sizes, eta, order, taylor):
    """``(K, c)`` with HOLA-order's directions ``h(theta) = K theta + c`` (ascent directions)."""
    d, n = sum(sizes), len(sizes)
    k = torch.cat([-a[j][selector(sizes, j)] for j in range(n)])
    c = torch.cat([-b[j][selector(sizes, j)] for j in range(n)])
    for _ in range(order):
        new_k, new_c = torch.zeros_like(k), torch.zeros_like(c)
        for j in range(n):
            rows = selector(sizes, j)
            if taylor:  # d_j = -(R_j (A_j theta + b_j)), R_j v = v_j + eta sum_k K[k, j]^T v_k
                r = torch.zeros(sizes[j], d, dtype=DT)
                r[:, rows] = torch.eye(sizes[j], dtype=DT)
                for o in range(n):
                    if o != j:
                        r[:, selector(sizes, o)] += eta * k[selector(sizes, o), rows].T
                new_k[rows], new_c[rows] = -r @ a[j], -r @ b[j]
            else:  # h_j = rows j of grad [V_j(J theta + e)] = -J^T (A_j (J theta + e) + b_j)
                others = torch.ones(d, dtype=DT)
                others[rows] = 0
                jac = torch.eye(d, dtype=DT) + eta * others[:, None] * k
                e = eta * others * c
                new_k[rows] = -(jac.T @ a[j] @ jac)[rows]
                new_c[rows] = -(jac.T @ (a[j] @ e + b[j]))[rows]
        k, c = new_k, new_c
    return k, c


def step(agent, theta, i, game, gamma=0.9):
    others = [t for k, t in enumerate(theta) if k != i]
    other = others[0] if len(others) == 1 else tuple(others)
    new, _ = agent.update(theta[i], other, agent.init_state(theta[i]), Context(game, gamma, i))
    return (new - theta[i]) / agent.lr


@pytest.mark.parametrize("sizes", [(2, 3), (1, 2, 2)])
@pytest.mark.parametrize("taylor", [False, True])
def test_hola_matches_the_closed_form_on_quadratic_games(sizes, taylor):
    game, a, b = quadratic_game(sizes, seed=len(sizes) + 7 * taylor)
    g = torch.Generator().manual_seed(1)
    theta = [torch.randn(4, n, generator=g, dtype=DT) for n in sizes]
    flat = torch.cat(theta, 1)
    for order in (1, 2, 3, 4):
        k, c = closed_form_hola(a, b, list(sizes), 0.3, order, taylor)
        expected = flat @ k.T + c
        for i in range(len(sizes)):
            got = step(HOLA(lr=0.5, eta=0.3, order=order, taylor=taylor), theta, i, game)
            torch.testing.assert_close(got, expected[:, selector(list(sizes), i)],
                                       msg=f"order {order}, player {i}")


def test_hola_one_is_lola_and_the_one_step_lookahead():
    for name in ("ipd", "ultimatum", "tandem"):
        game = get_any_game(name)
        g = torch.Generator().manual_seed(2)
        shape = (5,) if name == "ipd" else ()
        theta = [torch.randn(3, *shape, generator=g, dtype=DT) for _ in range(2)]
        for i in range(2):
            torch.testing.assert_close(step(HOLA(lr=1.0, eta=0.7, order=1), theta, i, game),
                                       step(LookaheadLOLA(lr=1.0, eta=0.7), theta, i, game))
            torch.testing.assert_close(
                step(HOLA(lr=1.0, eta=0.7, order=1, taylor=True), theta, i, game),
                step(LOLA(lr=1.0, eta=0.7), theta, i, game))


# -- Tandem: the COLA paper's Table 1a in closed form ----------------------------------------


def tandem_hola(eta, order):
    """HOLA-order on Tandem is ``h = a + b (x + y)`` for both players (notebook scaling)."""
    a, b = 2.0, -2.0
    for _ in range(order):
        a, b = 2 - 2 * eta * a * (1 + eta * b), -2 * (1 + eta * b) ** 2
    return a, b


def tandem_consistency(eta, order):
    """The mean consistency loss of HOLA-order over x, y ~ U[-1, 1] (E[s] = 0, E[s^2] = 2/3)."""
    a0, b0 = tandem_hola(eta, order)
    a1, b1 = tandem_hola(eta, order + 1)
    return 2 * ((a0 - a1) ** 2 + (b0 - b1) ** 2 * 2 / 3)


def tandem_consistent(eta):
    """The two consistent affine update functions ``(a, b)`` of Tandem."""
    roots = [(-(4 * eta + 1) + s * math.sqrt(8 * eta + 1)) / (4 * eta**2) for s in (1, -1)]
    return [(2 / (1 + 2 * eta * (1 + eta * b)), b) for b in roots]


PAPER_TANDEM = {  # COLA paper, Table 1a (OpenReview version): LOLA, HOLA2, HOLA6
    1.0: (128.0, 512.0, 131072.0), 0.5: (12.81, 14.05, 12.35), 0.3: (2.61, 2.05, 0.66),
    0.1: (0.08, 9.13e-3, 1.62e-6), 0.01: (1.41e-5, 2.10e-8, None),
}


def test_tandem_consistency_losses_are_the_papers():
    tandem = get_any_game("tandem")
    for eta, paper in PAPER_TANDEM.items():
        for order, value in zip((1, 2, 6), paper, strict=True):
            exact = tandem_consistency(eta, order)
            ours = hola_consistency(tandem, eta, order, n=4000, region=1.0,
                                    generator=torch.Generator().manual_seed(0))
            assert ours.mean().item() == pytest.approx(exact, rel=0.04)
            if value is not None:  # (HOLA6 at 0.01 is below the paper's float32 precision)
                # the paper averages 100 random points: within their sampling error
                assert value == pytest.approx(exact, rel=0.12), (eta, order)
    assert [tandem_consistency(1.0, n) for n in (1, 2, 6)] == [128.0, 512.0, 131072.0]


def test_hola_converges_to_a_consistent_update_only_for_small_look_ahead():
    for eta in (0.01, 0.1, 0.3):
        losses = [tandem_consistency(eta, n) for n in range(1, 12)]
        assert all(b < a for a, b in zip(losses, losses[1:], strict=False))  # HOLA converges
        a, b = tandem_hola(eta, 400)
        assert min(abs(a - a_) + abs(b - b_) for a_, b_ in tandem_consistent(eta)) < 1e-9
    for eta in (0.5, 1.0):  # HOLA does not converge
        assert tandem_consistency(eta, 10) >= tandem_consistency(eta, 1) * 0.99


RATES = (1.0, 1.0, 0.5, 0.5, 0.1, 0.1)


@pytest.fixture(scope="module")
def tandem_networks():
    """COLA's update functions for Tandem at look-ahead 1, 0.5 and 0.1 (two seeds each): the
    notebook's network, region and initial Adam rate, on a CI-sized schedule (1,500 steps of
    64 points, the rate halved every 750 steps; the notebook: 120,000 steps of 8 points,
    x0.8 every 750)."""
    game = get_any_game("tandem")
    nets = init_update_networks(game.shapes, len(RATES), "polynomial", 8,
                                torch.Generator().manual_seed(0), "cpu", DT)
    nets, curve = train_update_functions(lambda th: game_values(game, th, 0.9), game.shapes,
                                         nets, "polynomial", torch.tensor(RATES, dtype=DT),
                                         1500, 64, 0.1, 0.5, 1.0,
                                         torch.Generator().manual_seed(1))
    return nets, curve


def test_cola_is_consistent_where_lola_and_hola_are_not_tandem(tandem_networks):
    nets, curve = tandem_networks
    assert (curve[-1] < 1e-2 * curve[0]).all()
    game = get_any_game("tandem")
    for s, eta in enumerate(RATES):
        one = {k: v[s:s + 1] for k, v in nets.items()}
        cola = network_consistency(game, one, "polynomial", eta, n=1000, region=1.0,
                                   generator=torch.Generator().manual_seed(2)).mean().item()
        lola, hola2 = tandem_consistency(eta, 1), tandem_consistency(eta, 2)
        assert cola < 1e-3 * lola and cola < 1e-3 * hola2  # paper at 1.0: 128, 512, 4.8e-14
        if eta > 0.3:
            continue  # HOLA diverges; consistent update functions are not unique
        # where HOLA converges, COLA learned its limit, the consistent h = a + b (x + y)
        g = torch.Generator().manual_seed(3)
        theta = [2 * torch.rand(200, generator=g, dtype=DT) - 1 for _ in range(2)]
        h = update_functions({k: v.expand(200, *v.shape[1:]) for k, v in one.items()},
                             "polynomial", theta, 200)
        a, b = tandem_consistent(eta)[0]
        for i in range(2):  # root-mean-square error over the region
            assert (h[i] - (a + b * (theta[0] + theta[1]))).pow(2).mean().sqrt() < 0.01


def test_cola_learns_where_hola_settles_on_tandem(tandem_networks, tmp_path):
    """The COLA paper's Tandem result: COLA's solution is HOLA's (where HOLA converges), and
    neither is the stable fixed points x + y = 1."""
    nets, _ = tandem_networks
    game = get_any_game("tandem")
    path = save_update_functions(tmp_path / "tandem_0.1.pt", {k: v[4:5] for k, v in
                                                                nets.items()}, "polynomial",
                                 game.shapes)
    cola = COLA(lr=0.1, networks=str(path))
    runs = {name: train(game.with_init(1.0), [agent, agent], n_seeds=64, n_updates=100, seed=0)
            for name, agent in (("cola", cola), ("hola4", HOLA(lr=0.1, order=4)),
                                ("lola", HOLA(lr=0.1, order=1)))}
    s = {k: r.metrics["x_plus_y"][-1, 0] for k, r in runs.items()}
    a, b = tandem_consistent(0.1)[0]  # the consistent update HOLA converges to: x + y = 1.171
    a4, b4 = tandem_hola(0.1, 4)
    assert np.abs(s["hola4"] + a4 / b4).max() < 1e-3  # HOLA-4's own fixed point, 1.164
    assert np.abs(s["cola"] + a / b).max() < 0.02
    assert np.abs(s["cola"] - s["hola4"]).max() < 0.03
    assert np.abs(s["lola"] - 1.3125).max() < 1e-3  # exact LOLA: x + y = 21/16
    assert (np.abs(s["cola"] - 1) > 0.1).all()


def test_cola_trains_at_its_first_update_and_checkpoints_the_networks(tmp_path):
    agent = COLA(lr=0.1, steps=60)
    full = train("tandem", [agent, agent], n_seeds=3, n_updates=4, seed=2)
    part = train("tandem", [agent, agent], n_seeds=3, n_updates=2, seed=2,
                 out_dir=tmp_path / "run", checkpoint_every=1)
    assert part.metrics["value"].shape == (3, 2, 3)
    resumed = train("tandem", [agent, agent], n_seeds=3, n_updates=4, seed=2,
                    out_dir=tmp_path / "run", resume=True)
    np.testing.assert_array_equal(resumed.metrics["value"], full.metrics["value"])
    assert COLA().training_settings(get_any_game("tandem"))["steps"] == 120_000
    assert COLA().training_settings(get_any_game("ipd"))["steps"] == 80_000
    from lola_games.agents import COLAShort

    assert COLAShort().training_settings(get_any_game("tandem"))["steps"] == 1200


def test_cola_is_more_consistent_than_lola_and_hola_in_the_ipd():
    """A short training (500 of the notebook's 80,000 steps) at look-ahead 1 already brings
    COLA's consistency loss well below LOLA's and HOLA-2's (paper, fully trained: 39.6, 21.2,
    0.65)."""
    ipd = get_any_game("ipd")
    shapes = ((5,), (5,))
    nets = init_update_networks(shapes, 1, "probability", 16, torch.Generator().manual_seed(0),
                                "cpu", torch.float32)
    nets, _ = train_update_functions(lambda th: game_values(ipd, th, 0.96), shapes, nets,
                                     "probability", 1.0, 500, 64, 1e-3, 1.0, 7.0,
                                     torch.Generator().manual_seed(1))
    points = dict(n=400, region=7.0, gamma=0.96)
    cola = network_consistency(ipd, {k: v.double() for k, v in nets.items()}, "probability",
                               1.0, generator=torch.Generator().manual_seed(2), **points)
    lola = hola_consistency(ipd, 1.0, 1, generator=torch.Generator().manual_seed(2), **points)
    hola2 = hola_consistency(ipd, 1.0, 2, generator=torch.Generator().manual_seed(2), **points)
    assert cola.mean() < lola.mean() / 4 and cola.mean() < hola2.mean() / 20


def test_higher_order_lola_with_the_papers_delta():
    """The LOLA paper's higher-order table with its stated delta = 0.5 (eta = 0.5): 200 seeds,
    200 updates. Second-order LOLA against LOLA-Ex ends at -1.09 / -1.15 (2,000 seeds: -1.10 /
    -1.15; paper -1.14 / -1.17); LOLA-Ex against NL-Ex at -1.17 / -1.60, a joint score of
    -1.39 (2,000 seeds: -1.42; paper -1.41), with LOLA further ahead of NL (0.43; 0.39 to 0.49
    over four seeds) than in the paper (0.26)."""
    def final(agents):
        run = train("ipd", agents, n_seeds=200, n_updates=200, dtype=torch.float64, seed=0,
                    log_every=200)
        return run.metrics["value"][-1].mean(-1)

    hola2, lola = final([HOLA(lr=0.5, eta=0.5, order=2, taylor=True), LOLA(lr=0.5, eta=0.5)])
    assert abs(hola2 + 1.14) < 0.07 and abs(lola + 1.17) < 0.05
    lola, nl = final([LOLA(lr=0.5, eta=0.5), NaiveLearner(lr=0.5)])
    assert abs((lola + nl) / 2 + 1.41) < 0.05
    assert 0.3 < lola - nl < 0.6

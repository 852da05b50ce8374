"""Exact learners: update rules against finite differences and explicit Jacobians (float64)."""

import numpy as np
import pytest
import torch

from lola_games.agents import (
    LOLA,
    SOS,
    AlwaysCooperate,
    AlwaysDefect,
    Context,
    FixedAgent,
    LookAhead,
    LookaheadLOLA,
    NaiveLearner,
    RandomAgent,
    TitForTat,
    agent_names,
    make_agent,
)
from lola_games.functional import Adam
from lola_games.games.registry import get_game
from lola_games.values.exact import discounted_values, exact_values

GAMMA = 0.9
DT = torch.float64


def logits(n, seed):
    return torch.randn(n, 5, generator=torch.Generator().manual_seed(seed), dtype=DT)


def ctx(game="ipd", player=0):
    return Context(get_game(game), GAMMA, player)


def values(game, own, other, player):
    """(V_own, V_other) unnormalised, written out independently of player_values."""
    v0, v1 = discounted_values(game, *((own, other) if player == 0 else (other, own)), GAMMA)
    return (v0, v1) if player == 0 else (v1, v0)


def fd_grad(f, x, eps=1e-6):
    """Central finite-difference gradient of a per-seed scalar function ``f: [S, 5] -> [S]``."""
    g = torch.zeros_like(x)
    for k in range(x.shape[-1]):
        e = torch.zeros_like(x)
        e[:, k] = eps
        g[:, k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def autograd_grad(f, x, create_graph=False):
    x = x.detach().requires_grad_(True) if not x.requires_grad else x
    return torch.autograd.grad(f(x).sum(), x, create_graph=create_graph)[0]


def step_direction(agent, own, other, c):
    """The ascent direction of one plain step: (new - own) / lr."""
    new, _ = agent.update(own, other, agent.init_state(own), c)
    return (new - own) / agent.lr


@pytest.mark.parametrize("game,player", [("ipd", 0), ("ipd", 1), ("imp", 0), ("imp", 1)])
def test_naive_is_gradient_of_own_value(game, player):
    th1, th2 = logits(4, 0), logits(4, 1)
    d = step_direction(NaiveLearner(lr=0.5), th1, th2, ctx(game, player))
    fd = fd_grad(lambda x: values(game, x, th2, player)[0], th1)
    torch.testing.assert_close(d, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("stop_gradient", [True, False])
@pytest.mark.parametrize("game,player", [("ipd", 0), ("imp", 1), ("chicken", 0)])
def test_lola_matches_finite_differences_of_its_formula(game, player, stop_gradient):
    th1, th2 = logits(3, 2), logits(3, 3)
    eta = 0.7
    d = step_direction(LOLA(lr=0.3, eta=eta, stop_gradient=stop_gradient), th1, th2,
                       ctx(game, player))

    def grad2(f, a):  # gradient w.r.t. the opponent's logits, as a function of theta1 = a
        return autograd_grad(lambda y: f(a, y), th2.clone(), create_graph=False)

    grad2_v1_fixed = grad2(lambda a, y: values(game, a, y, player)[0], th1)

    def objective(a):
        g2v2 = grad2(lambda a_, y: values(game, a_, y, player)[1], a)
        g2v1 = grad2(lambda a_, y: values(game, a_, y, player)[0], a) if not stop_gradient \
            else grad2_v1_fixed
        return values(game, a, th2, player)[0] + eta * (g2v1 * g2v2).sum(-1)

    torch.testing.assert_close(d, fd_grad(objective, th1), rtol=1e-5, atol=1e-6)


def test_full_taylor_lola_is_first_order_lookahead():
    """grad_1 V1(theta1, theta2 + eta grad_2 V2) - full-form LOLA = O(eta^2)."""
    th1, th2 = logits(5, 4), logits(5, 5)
    errs = []
    for eta in (1e-2, 5e-3):
        exact = step_direction(LookaheadLOLA(lr=1.0, eta=eta), th1, th2, ctx())
        taylor = step_direction(LOLA(lr=1.0, eta=eta, stop_gradient=False), th1, th2, ctx())
        errs.append((exact - taylor).abs().max().item())
    assert errs[0] > 0 and 3.0 < errs[0] / errs[1] < 5.0  # quadratic in eta


@pytest.mark.parametrize("player", [0, 1])
def test_lookahead_lola_k1_matches_hand_lookahead(player):
    th1, th2 = logits(4, 6), logits(4, 7)
    eta = 0.3
    d = step_direction(LookaheadLOLA(lr=0.2, eta=eta, lookahead_steps=1), th1, th2,
                       ctx("imp", player))

    def one_step(a):  # V1(theta1, theta2 + eta grad_2 V2(theta1, theta2)) by hand
        g = autograd_grad(lambda y: values("imp", a, y, player)[1], th2.clone())
        return values("imp", a, th2 + eta * g, player)[0]

    torch.testing.assert_close(d, fd_grad(one_step, th1), rtol=1e-5, atol=1e-6)


def test_lookahead_lola_k2_matches_two_hand_steps():
    th1, th2 = logits(3, 8), logits(3, 9)
    eta = 0.4
    d = step_direction(LookaheadLOLA(lr=1.0, eta=eta, lookahead_steps=2), th1, th2, ctx())
    a = th1.clone().requires_grad_(True)
    y = th2.clone().requires_grad_(True)
    for _ in range(2):
        y = y + eta * torch.autograd.grad(values("ipd", a, y, 0)[1].sum(), y, create_graph=True)[0]
    hand = torch.autograd.grad(values("ipd", a, y, 0)[0].sum(), a)[0]
    torch.testing.assert_close(d, hand)


def _jacobian_terms(game, t1, t2, alpha):
    """xi, H_o xi, chi for one seed from explicit 10 x 10 Jacobians (SOS paper notation)."""
    def losses(theta):
        v0, v1 = discounted_values(game, theta[:5], theta[5:], GAMMA)
        return -v0, -v1

    theta = torch.cat([t1, t2])
    def xi_fn(th):
        g0 = torch.func.grad(lambda t: losses(t)[0])(th)[:5]
        g1 = torch.func.grad(lambda t: losses(t)[1])(th)[5:]
        return torch.cat([g0, g1])

    xi = xi_fn(theta)
    hess = torch.func.jacrev(xi_fn)(theta)
    h_o = hess.clone()
    h_o[:5, :5] = 0
    h_o[5:, 5:] = 0
    grad_l = torch.stack([torch.func.grad(lambda t, i=i: losses(t)[i])(theta) for i in range(2)])
    # chi = diag(H_o^T grad L): chi_1 = (d xi_2 / d theta_1)^T grad_2 L1, and symmetrically
    chi = torch.cat([h_o[5:, :5].T @ grad_l[0, 5:], h_o[:5, 5:].T @ grad_l[1, :5]])
    return xi, xi - alpha * h_o @ xi, chi


@pytest.mark.parametrize("game", ["ipd", "imp"])
def test_lookahead_and_sos_match_explicit_jacobians(game):
    th1, th2 = logits(6, 10), logits(6, 11)
    alpha, a, b = 0.8, 0.5, 0.1
    d_la = step_direction(LookAhead(lr=1.0, alpha=alpha), th1, th2, ctx(game))
    sos = SOS(lr=1.0, alpha=alpha, a=a, b=b)
    d_sos = step_direction(sos, th1, th2, ctx(game))
    for s in range(6):
        xi, xi_0, chi = _jacobian_terms(game, th1[s], th2[s], alpha)
        torch.testing.assert_close(d_la[s], -xi_0[:5])
        dot = torch.dot(-alpha * chi, xi_0)
        p1 = 1.0 if dot >= 0 else min(1.0, float(-a * xi_0.norm() ** 2 / dot))
        p2 = float(xi.norm() ** 2) if xi.norm() < b else 1.0
        p = min(p1, p2)
        torch.testing.assert_close(d_sos[s], -(xi_0 - p * alpha * chi)[:5])


def test_sos_p_rule_cases():
    sos = SOS(lr=1.0, alpha=1.0, a=0.5, b=0.1)
    one = [torch.tensor([[1.0, 0, 0, 0, 0]], dtype=DT), torch.zeros(1, 5, dtype=DT)]
    # chi aligned against xi_0 (dot < 0): p1 = min(1, -a |xi0|^2 / dot) = 0.5 / 2
    p = sos.p(one, one, [2 * one[0], one[1]])
    torch.testing.assert_close(p, torch.tensor([0.25], dtype=DT))
    # dot >= 0 and |xi| >= b: p = 1
    torch.testing.assert_close(sos.p(one, one, [-one[0], one[1]]), torch.tensor([1.0], dtype=DT))
    # small |xi| < b: p = |xi|^2
    small = [0.05 * one[0], one[1]]
    torch.testing.assert_close(sos.p(small, one, [-one[0], one[1]]),
                               torch.tensor([0.0025], dtype=DT))


def test_symmetric_game_player_index_is_consistent():
    """In a symmetric game, the update from a player's own side is the same for either index."""
    th1, th2 = logits(4, 12), logits(4, 13)
    for agent in (NaiveLearner(), LOLA(), LookaheadLOLA(eta=0.5, lookahead_steps=2), SOS()):
        a0 = step_direction(agent, th1, th2, ctx("ipd", 0))
        a1 = step_direction(agent, th1, th2, ctx("ipd", 1))
        torch.testing.assert_close(a0, a1)


def test_batched_update_equals_per_seed_updates():
    th1, th2 = logits(5, 14), logits(5, 15)
    for agent in (LOLA(eta=0.5), LookaheadLOLA(), SOS(), LookAhead()):
        batched = step_direction(agent, th1, th2, ctx("imp", 1))
        single = torch.cat([step_direction(agent, th1[s:s + 1], th2[s:s + 1], ctx("imp", 1))
                            for s in range(5)])
        torch.testing.assert_close(batched, single)


def test_adam_outer_step_uses_lookahead_adam():
    th1, th2 = logits(3, 16), logits(3, 17)
    agent = LOLA(lr=0.1, eta=1.0, optimizer="adam")
    state = agent.init_state(th1)
    new, state2 = agent.update(th1, th2, state, ctx())
    d = step_direction(LOLA(lr=1.0, eta=1.0), th1, th2, ctx())
    expect, _ = Adam(0.1).step(th1, -d, Adam(0.1).init(th1))
    torch.testing.assert_close(new, expect)
    assert state2.step == 1


def test_fixed_agents_never_change_and_play_as_named():
    g = torch.Generator().manual_seed(0)
    c = ctx("ipd")
    for agent in (TitForTat(), AlwaysCooperate(), AlwaysDefect(), RandomAgent(0.3)):
        p = agent.init_params(4, g, dtype=DT)
        new, _ = agent.update(p, logits(4, 0), agent.init_state(p), c)
        assert torch.equal(new, p) and torch.isfinite(p).all()
    probs = TitForTat().probs(TitForTat().init_params(1))[0]
    assert (probs[[0, 1, 3]] > 0.999).all() and (probs[[2, 4]] < 0.001).all()
    torch.testing.assert_close(RandomAgent(0.3).probs(RandomAgent(0.3).init_params(2)),
                               torch.full((2, 5), 0.3))
    tft, allc, alld = (a.init_params(1, dtype=DT) for a in (TitForTat(), AlwaysCooperate(),
                                                            AlwaysDefect()))
    v_cc = exact_values("ipd", tft, allc, GAMMA)
    torch.testing.assert_close(torch.stack(v_cc).flatten(), torch.tensor([-1.0, -1.0], dtype=DT),
                               atol=1e-3, rtol=0)
    v_tft, v_d = exact_values("ipd", tft, alld, GAMMA)  # exploited once, then mutual defection
    torch.testing.assert_close(v_tft, torch.tensor([(1 - GAMMA) * -3 + GAMMA * -2], dtype=DT),
                               atol=1e-3, rtol=0)
    assert RandomAgent(0.0).logits_[0] == -10.0 and RandomAgent(1.0).logits_[0] == 10.0


def test_registry_and_bad_hyper_parameters():
    assert {"naive", "lola", "lookahead-lola", "la", "sos", "tft", "alld", "allc",
            "random"} <= set(agent_names())
    assert isinstance(make_agent("lola", lr=0.5, eta=2.0), LOLA)
    assert make_agent("tft", lr=1.0, ignore_unknown=True).hparams() == {}
    with pytest.raises(ValueError, match="unknown agent 'nope'"):
        make_agent("nope")
    with pytest.raises(ValueError, match="no hyper-parameter 'lookahead_steps'"):
        make_agent("lola", lookahead_steps=2)
    bad = [
        (lambda: LOLA(lr=-1.0), "lr"),
        (lambda: LOLA(lr=0.0), "lr"),
        (lambda: LOLA(eta=float("nan")), "eta"),
        (lambda: NaiveLearner(optimizer="rmsprop"), "optimizer"),
        (lambda: LookaheadLOLA(lookahead_steps=0), "lookahead_steps"),
        (lambda: SOS(a=1.5), "a must be"),
        (lambda: RandomAgent(p=1.5), "probability"),
        (lambda: TitForTat().init_params(0), "n_seeds"),
    ]
    for build, message in bad:
        with pytest.raises(ValueError, match=message):
            build()


def test_init_params_deterministic_and_on_dtype():
    a = LOLA()
    p1 = a.init_params(8, torch.Generator().manual_seed(3), dtype=DT)
    p2 = a.init_params(8, torch.Generator().manual_seed(3), dtype=DT)
    assert p1.shape == (8, 5) and p1.dtype == DT and torch.equal(p1, p2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_update_matches_cpu():
    th1, th2 = logits(16, 18), logits(16, 19)
    agent = LOLA()
    cpu = step_direction(agent, th1, th2, ctx())
    dev = torch.device("cuda")
    gpu = step_direction(agent, th1.to(dev), th2.to(dev), Context(get_game("ipd"), GAMMA, 0,
                                                                  device=dev))
    torch.testing.assert_close(gpu.cpu(), cpu)


RATES = [(NaiveLearner, "lr"), (LOLA, "lr"), (LOLA, "eta"), (LookaheadLOLA, "lr"),
         (LookaheadLOLA, "eta"), (LookAhead, "lr"), (LookAhead, "alpha"), (SOS, "lr"),
         (SOS, "alpha"), (SOS, "a"), (SOS, "b")]


BAD_RATES = [float("nan"), float("inf"), -float("inf"), np.float32("nan"), np.float64("inf"),
             "0.5", True, None, 1j]


@pytest.mark.parametrize(
    "cls, rate, value",
    # alpha=None means "the same as lr"
    [(c, r, v) for c, r in RATES for v in BAD_RATES if not (r == "alpha" and v is None)],
)
def test_every_rate_rejects_non_finite_and_non_numbers_by_name(cls, rate, value):
    with pytest.raises(ValueError, match=f"^{rate} must be"):
        cls(**{rate: value})


@pytest.mark.parametrize("cls, rate", RATES)
def test_every_rate_takes_numpy_numbers(cls, rate):
    """np.float32 rates were refused as 'not a number'."""
    agent = cls(**{rate: np.float32(0.25)})
    assert getattr(agent, rate) == 0.25 and type(getattr(agent, rate)) is float


@pytest.mark.parametrize(
    "logits, error",
    [(["a"] * 5, TypeError), ("abcde", TypeError), (3, TypeError), ([True] * 5, TypeError),
     ([1j] * 5, TypeError), ({0: 1.0}, TypeError), ([1.0] * 4, ValueError),
     ([[1.0] * 5], TypeError), (torch.zeros(1, 5), ValueError),
     ([0.0, 0.0, float("nan"), 0.0, 0.0], ValueError), ([0.0] * 4 + [float("inf")], ValueError)],
)
def test_fixed_agent_logits_errors_name_logits(logits, error):
    """FixedAgent(['a'] * 5) said only "could not convert string to float: 'a'"."""
    with pytest.raises(error, match="logits must"):
        FixedAgent(logits)


def test_fixed_agent_takes_sequences_arrays_and_tensors():
    want = (1.0, -2.0, 3.0, -4.0, 5.0)
    for logits in (list(want), np.array(want, np.float32), torch.tensor(want), range(1, 6)):
        agent = FixedAgent(logits)
        assert all(type(x) is float for x in agent.logits_)
    assert FixedAgent(torch.tensor(want)).logits_ == want


@pytest.mark.parametrize("p", [float("nan"), "0.5", None, True, 1.5, -0.1, np.float32("nan")])
def test_random_agent_p_checked(p):
    with pytest.raises(ValueError, match="p must be a probability"):
        RandomAgent(p=p)


def test_random_agent_takes_numpy_probability():
    assert RandomAgent(np.float32(0.5)).p == 0.5


def test_flags_and_counts_are_checked():
    with pytest.raises(TypeError, match="stop_gradient must be True or False"):
        LOLA(stop_gradient="no")
    assert LookaheadLOLA(lookahead_steps=np.int64(2)).lookahead_steps == 2
    assert TitForTat().init_params(np.int64(3)).shape == (3, 5)

"""Every exact learner on differentiable games: its update against finite differences (float64).

Each learner's step direction is compared with an independent reference built from the values
alone: first derivatives by central finite differences of the values, or (for the second- and
higher-order terms) by central finite differences of first derivatives. Games: Tandem,
one-shot matching pennies, the ultimatum game, the iterated prisoner's dilemma and a
three-player game with parameters of different shapes; every player's update is checked.
"""

import pytest
import torch

from lola_games.agents import (
    CGD,
    CO,
    COLA,
    EG,
    HOLA,
    LOLA,
    SGA,
    SOS,
    Context,
    LookAhead,
    LookaheadLOLA,
    NaiveLearner,
)
from lola_games.agents.cola import consistency_loss, consistency_targets
from lola_games.agents.cola_networks import (
    init_update_networks,
    save_update_functions,
    update_functions,
)
from lola_games.agents.hola import hola_directions
from lola_games.games.differentiable import DifferentiableGame, param_shapes
from lola_games.games.registry import get_any_game
from lola_games.values.iterated import game_values

DT = torch.float64
GAMMA = 0.9
EPS = 1e-6


def _trio(a, b, c):
    s = a.sum(1) + b + c.sum(1)
    return (torch.sin(s) + a[:, 0] ** 2 - a[:, 1] * b, (s - 1) ** 2 + torch.tanh(b * c[:, 0]),
            torch.cos(a[:, 1] * c[:, 2]) + c.pow(2).sum(1) * 0.3 + s * b)


TRIO = DifferentiableGame("trio", _trio, shapes=[(2,), (), (3,)])
GAMES = {"tandem": 2, "one_shot_mp": 2, "ultimatum": 2, "ipd": 2, "trio": 3}


def game_of(name):
    return TRIO if name == "trio" else get_any_game(name)


def params_of(game, seed, n=3):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, *s, generator=g, dtype=DT) for s in param_shapes(game)]


def values(game, theta):
    return game_values(game, theta, GAMMA)


def with_(theta, i, x):
    return [x if k == i else t for k, t in enumerate(theta)]


def grad(game, theta, i, j):
    """``grad_j V_i`` at ``theta`` by autograd, as plain numbers."""
    leaves = [t.detach().requires_grad_(True) for t in theta]
    return torch.autograd.grad(values(game, leaves)[i].sum(), leaves[j])[0].detach()


def fd(f, x, eps=EPS):
    """Central differences of ``f: [S, ...] -> [S] or [S, ...]`` w.r.t. every entry of ``x``;
    returns ``[S, *x_shape]`` for a per-seed scalar ``f``, else ``[S, *f_shape, *x_shape]``."""
    flat = x.reshape(x.shape[0], -1)
    cols = []
    for k in range(flat.shape[1]):
        e = torch.zeros_like(flat)
        e[:, k] = eps
        hi, lo = f((flat + e).reshape(x.shape)), f((flat - e).reshape(x.shape))
        cols.append((hi - lo) / (2 * eps))
    out = torch.stack(cols, dim=-1)
    return out.reshape(*out.shape[:-1], *x.shape[1:])


def dot(a, b):
    return (a * b).reshape(a.shape[0], -1).sum(-1)


def ctx_of(game, i):
    return Context(game, GAMMA, i)


def direction(agent, theta, i, game):
    others = [t for k, t in enumerate(theta) if k != i]
    other = others[0] if len(others) == 1 else tuple(others)
    new, _ = agent.update(theta[i], other, agent.init_state(theta[i]), ctx_of(game, i))
    return (new - theta[i]) / agent.lr


# -- references ------------------------------------------------------------------------------


def naive_ref(game, theta, i):
    return fd(lambda x: values(game, with_(theta, i, x))[i], theta[i])


def lola_ref(game, theta, i, eta, stop):
    fixed = {j: grad(game, theta, i, j) for j in range(len(theta)) if j != i}

    def objective(x):
        th = with_(theta, i, x)
        shaping = sum(dot(fixed[j] if stop else grad(game, th, i, j), grad(game, th, j, j))
                      for j in fixed)
        return values(game, th)[i] + eta * shaping

    return fd(objective, theta[i])


def lookahead_ref(game, theta, i, eta, k):
    def objective(x):
        th = with_(theta, i, x)
        for _ in range(k):
            th = [t if j == i else t + eta * grad(game, th, j, j) for j, t in enumerate(th)]
        return values(game, th)[i]

    return fd(objective, theta[i])


def hola_ref(game, theta, i, eta, order, taylor):
    """The last level of the recursion by finite differences, given order - 1 (induction)."""
    vals = lambda th: values(game, th)  # noqa: E731
    fixed = {k: grad(game, theta, i, k) for k in range(len(theta)) if k != i}

    def objective(x):
        th = [t.detach().requires_grad_(True) for t in with_(theta, i, x)]
        h = hola_directions(vals, th, eta, order - 1, taylor)
        if taylor:
            return values(game, th)[i].detach() + eta * sum(dot(fixed[k], h[k].detach())
                                                            for k in fixed)
        shifted = [t if k == i else t + eta * h[k] for k, t in enumerate(th)]
        return values(game, shifted)[i].detach()

    return fd(objective, theta[i])


def la_ref(game, theta, i, alpha):
    own_grads = {j: grad(game, theta, j, j) for j in range(len(theta)) if j != i}

    def objective(x):
        th = with_(theta, i, x)
        return values(game, th)[i] + alpha * sum(dot(grad(game, th, i, j), own_grads[j])
                                                 for j in own_grads)

    return fd(objective, theta[i])


def chi_ref(game, theta, i):
    fixed = {j: grad(game, theta, i, j) for j in range(len(theta)) if j != i}
    return fd(lambda x: sum(dot(fixed[j], grad(game, with_(theta, i, x), j, j)) for j in fixed),
              theta[i])


def sos_ref(game, theta, alpha, a, b):
    n = len(theta)
    xi = [-grad(game, theta, i, i) for i in range(n)]
    xi_0 = [-la_ref(game, theta, i, alpha) for i in range(n)]
    chi = [chi_ref(game, theta, i) for i in range(n)]
    inner = sum(dot(-alpha * c, x) for c, x in zip(chi, xi_0, strict=True))
    xi0_sq = sum(dot(x, x) for x in xi_0)
    xi_sq = sum(dot(x, x) for x in xi)
    p = torch.ones_like(inner)
    for s in range(len(p)):
        p1 = 1.0 if inner[s] >= 0 else min(1.0, float(-a * xi0_sq[s] / inner[s]))
        p2 = float(xi_sq[s]) if xi_sq[s].sqrt() < b else 1.0
        p[s] = min(p1, p2)
    return [-(x0 - p.reshape(-1, *[1] * (x0.ndim - 1)) * alpha * c)
            for x0, c in zip(xi_0, chi, strict=True)]


def flat(parts):
    return torch.cat([p.reshape(p.shape[0], -1) for p in parts], dim=1)


def jacobian_ref(game, theta):
    """``H = d xi / d theta`` per seed ``[S, D, D]`` by finite differences of ``xi``."""
    sizes = [t[0].numel() for t in theta]
    cols = []
    for j, t in enumerate(theta):
        def xi_of(x, j=j):
            th = with_(theta, j, x)
            return flat([-grad(game, th, k, k) for k in range(len(theta))])
        cols.append(fd(xi_of, t).reshape(t.shape[0], sum(sizes), -1))
    return torch.cat(cols, dim=2), sizes


def blocks(x, theta):
    out, start = [], 0
    for t in theta:
        size = t[0].numel()
        out.append(x[:, start:start + size].reshape(t.shape))
        start += size
    return out


def cgd_ref(game, theta, eta):
    h, sizes = jacobian_ref(game, theta)
    start = 0
    for size in sizes:
        h[:, start:start + size, start:start + size] = 0
        start += size
    xi = flat([-grad(game, theta, k, k) for k in range(len(theta))])
    eye = torch.eye(h.shape[-1], dtype=DT)
    return [-b for b in blocks(torch.linalg.solve(eye + eta * h, xi), theta)]


def hamiltonian_ref(game, theta):
    h, _ = jacobian_ref(game, theta)
    xi = flat([-grad(game, theta, k, k) for k in range(len(theta))])
    ht_xi = torch.einsum("src,sr->sc", h, xi)
    h_xi = torch.einsum("src,sc->sr", h, xi)
    return xi, ht_xi, h_xi


def sga_ref(game, theta, epsilon):
    xi, ht_xi, h_xi = hamiltonian_ref(game, theta)
    at_xi = (ht_xi - h_xi) / 2
    lam = torch.sign((xi * ht_xi).sum(1) * (at_xi * ht_xi).sum(1) / xi.shape[1] + epsilon)
    return [-b for b in blocks(xi + lam[:, None] * at_xi, theta)]


def co_ref(game, theta, weight):
    xi, ht_xi, _ = hamiltonian_ref(game, theta)
    return [-b for b in blocks(xi + weight * ht_xi, theta)]


def eg_ref(game, theta, eta):
    def xi_at(th):  # loss gradients by finite differences of the values only
        return [-fd(lambda x, j=j: values(game, with_(th, j, x))[j], t) for j, t in enumerate(th)]

    ahead = [t - eta * x for t, x in zip(theta, xi_at(theta), strict=True)]
    return [-x for x in xi_at(ahead)]


# -- the checks ------------------------------------------------------------------------------

TOL = dict(rtol=1e-5, atol=1e-6)
CASES = [(name, i) for name, n in GAMES.items() for i in range(n)]


@pytest.mark.parametrize("name,i", CASES)
def test_naive_lola_and_lookahead_against_finite_differences(name, i):
    game = game_of(name)
    theta = params_of(game, 10 + i)
    torch.testing.assert_close(direction(NaiveLearner(lr=0.3), theta, i, game),
                               naive_ref(game, theta, i), **TOL)
    for stop in (True, False):
        agent = LOLA(lr=0.5, eta=0.7, stop_gradient=stop)
        torch.testing.assert_close(direction(agent, theta, i, game),
                                   lola_ref(game, theta, i, 0.7, stop), **TOL)
    for k in (1, 2):
        agent = LookaheadLOLA(lr=0.4, eta=0.3, lookahead_steps=k)
        torch.testing.assert_close(direction(agent, theta, i, game),
                                   lookahead_ref(game, theta, i, 0.3, k), **TOL)


@pytest.mark.parametrize("name,i", CASES)
def test_hola_against_finite_differences(name, i):
    game = game_of(name)
    theta = params_of(game, 20 + i)
    for taylor in (False, True):
        for order in (1, 2, 3):
            agent = HOLA(lr=0.2, eta=0.4, order=order, taylor=taylor)
            torch.testing.assert_close(direction(agent, theta, i, game),
                                       hola_ref(game, theta, i, 0.4, order, taylor), **TOL,
                                       msg=f"order {order} taylor {taylor}")


@pytest.mark.parametrize("name", list(GAMES))
def test_la_sos_cgd_sga_co_eg_against_finite_differences(name):
    game = game_of(name)
    theta = params_of(game, 30, n=4)
    n = len(theta)
    # SOS's b large enough that the |xi| < b branch is taken in some seeds of some games
    refs = {
        "la": ([la_ref(game, theta, i, 0.6) for i in range(n)], LookAhead(lr=0.5, alpha=0.6)),
        "sos": (sos_ref(game, theta, 0.6, 0.5, 2.0), SOS(lr=0.5, alpha=0.6, a=0.5, b=2.0)),
        "cgd": (cgd_ref(game, theta, 0.3), CGD(lr=0.2, eta=0.3)),
        "sga": (sga_ref(game, theta, 0.1), SGA(lr=0.2)),
        "co": (co_ref(game, theta, 0.7), CO(lr=0.2, consensus=0.7)),
        "eg": (eg_ref(game, theta, 0.3), EG(lr=0.2, eta=0.3)),
    }
    for label, (expected, agent) in refs.items():
        for i in range(n):
            torch.testing.assert_close(direction(agent, theta, i, game), expected[i], **TOL,
                                       msg=f"{label}, player {i}")


@pytest.mark.parametrize("name", ["tandem", "ultimatum", "ipd", "trio"])
def test_cola_consistency_targets_and_training_gradient(name):
    game = game_of(name)
    shapes = param_shapes(game)
    theta = params_of(game, 40, n=2)
    nets = init_update_networks(shapes, 2, "probability", 4, torch.Generator().manual_seed(0),
                                "cpu", DT)
    vals = lambda th: values(game, th)  # noqa: E731
    leaves = [t.detach().requires_grad_(True) for t in theta]
    h = update_functions(nets, "probability", leaves, 2)
    targets = consistency_targets(vals, leaves, h, 0.5)
    for j in range(len(theta)):
        def objective(x, j=j):
            th = [t.detach().requires_grad_(True) for t in with_(theta, j, x)]
            hh = update_functions(nets, "probability", th, 2)
            shifted = [t if k == j else t + 0.5 * hh[k] for k, t in enumerate(th)]
            return values(game, shifted)[j].detach()
        torch.testing.assert_close(targets[j], fd(objective, theta[j]), **TOL)

    # the networks' training gradient (third derivatives of the values) against finite
    # differences of the consistency loss
    keys = sorted(nets)

    def loss(*weights):
        th = [t.detach().requires_grad_(True) for t in theta]
        hh = update_functions(dict(zip(keys, weights, strict=True)), "probability", th, 2)
        return consistency_loss(vals, th, hh, 0.5).sum()

    weights = tuple(nets[k].clone().requires_grad_(True) for k in keys)
    assert torch.autograd.gradcheck(loss, weights, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_cola_plays_its_networks_and_reads_them_from_a_file(tmp_path):
    game = get_any_game("tandem")
    nets = init_update_networks(game.shapes, 1, "polynomial", 8, torch.Generator().manual_seed(1),
                                "cpu", DT)
    path = save_update_functions(tmp_path / "nets.pt", nets, "polynomial", game.shapes)
    agent = COLA(lr=0.1, networks=str(path))
    theta = params_of(game, 50, n=5)
    expected = update_functions({k: v.expand(5, *v.shape[1:]) for k, v in nets.items()},
                                "polynomial", theta, 5)
    for i in range(2):
        torch.testing.assert_close(direction(agent, theta, i, game), expected[i])
    with pytest.raises(ValueError, match="holds polynomial networks for parameter shapes"):
        ipd = get_any_game("ipd")
        direction(COLA(networks=str(path)), params_of(ipd, 0), 0, ipd)
    with pytest.raises(ValueError, match="needs 1 or 5"):
        bad = save_update_functions(tmp_path / "three.pt",
                                    {k: v.expand(3, *v.shape[1:]) for k, v in nets.items()},
                                    "polynomial", game.shapes)
        direction(COLA(networks=str(bad)), theta, 0, game)


@pytest.mark.parametrize("agent", [HOLA(order=2), HOLA(order=2, taylor=True), CGD(), SGA(),
                                   CO(), EG(), SOS()], ids=lambda a: repr(a))
def test_batched_updates_equal_per_seed_updates(agent):
    game = get_any_game("one_shot_mp")
    theta = params_of(game, 60, n=5)
    for i in range(2):
        batched = direction(agent, theta, i, game)
        single = torch.cat([direction(agent, [t[s:s + 1] for t in theta], i, game)
                            for s in range(5)])
        torch.testing.assert_close(batched, single)


def test_symmetric_game_updates_do_not_depend_on_the_player_index():
    game = get_any_game("tandem")  # symmetric: swapping the players swaps the losses
    theta = params_of(game, 70, n=4)
    for agent in (HOLA(order=3), HOLA(order=2, taylor=True), CGD(), SGA(), CO(), EG(), SOS(),
                  LookAhead()):
        d0 = direction(agent, theta, 0, game)
        d1 = direction(agent, theta[::-1], 1, game)
        torch.testing.assert_close(d0, d1)


def test_learners_run_on_cuda_like_on_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    game = get_any_game("ultimatum")
    theta = params_of(game, 80, n=4)
    cuda = [t.cuda() for t in theta]
    for agent in (HOLA(order=2), CGD(), SGA(), SOS()):
        others = cuda[1]
        new, _ = agent.update(cuda[0], others, agent.init_state(cuda[0]),
                              Context(game, GAMMA, 0, device=torch.device("cuda")))
        torch.testing.assert_close(((new - cuda[0]) / agent.lr).cpu(),
                                   direction(agent, theta, 0, game))


def test_bad_hyper_parameters_are_named():
    for build, message in [
        (lambda: HOLA(order=0), "order must be an int >= 1"),
        (lambda: HOLA(taylor="yes"), "taylor must be True or False"),
        (lambda: CGD(eta=-1.0), "eta"),
        (lambda: SGA(epsilon=float("nan")), "epsilon"),
        (lambda: CO(consensus=-2.0), "consensus"),
        (lambda: COLA(steps=0), "steps must be a positive int"),
        (lambda: COLA(net="big"), "net must be one of"),
        (lambda: COLA(region=0.0), "region"),
        (lambda: COLA(networks=3), "networks must be a file path"),
    ]:
        with pytest.raises(ValueError, match=message):
            build()

import itertools

import pytest
import torch

from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game
from lola_games.values.exact import discounted_values, discounted_visits, exact_values

BIG = 30.0  # sigmoid(30) = 1 - 1e-13: deterministic for all practical purposes
C = torch.full((5,), BIG, dtype=torch.float64)
D = -C
TFT = torch.tensor([BIG, BIG, -BIG, BIG, -BIG], dtype=torch.float64)  # C at start, after CC, DC


def brute_force_values(game, l0, l1, gamma, horizon=400):
    """Per-step values by rolling the outcome distribution forward, outcome by outcome."""
    p0, p1 = torch.sigmoid(l0), torch.sigmoid(l1)

    def prob(p, state, action):
        return p[state] if action == 0 else 1 - p[state]

    # outcome (a0, a1) from player 0's side; player 1's own state is (a1, a0)
    def state_index(own, other):
        return 1 + 2 * own + other

    outcomes = list(itertools.product((0, 1), repeat=2))
    dist = {(a0, a1): prob(p0, 0, a0) * prob(p1, 0, a1) for a0, a1 in outcomes}
    v0 = v1 = 0.0
    for t in range(horizon):
        for (a0, a1), p in dist.items():
            r0, r1 = game.rewards(a0, a1)
            v0 = v0 + gamma**t * p * r0
            v1 = v1 + gamma**t * p * r1
        new = {k: 0.0 for k in dist}
        for (a0, a1), p in dist.items():
            for b0, b1 in new:
                new[(b0, b1)] = new[(b0, b1)] + p * prob(p0, state_index(a0, a1), b0) * prob(
                    p1, state_index(a1, a0), b1
                )
        dist = new
    return (1 - gamma) * v0, (1 - gamma) * v1


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.96])
def test_known_ipd_values(gamma):
    v = exact_values("ipd", C, C, gamma)
    assert torch.allclose(torch.stack(v), torch.tensor([-1.0, -1.0], dtype=torch.float64))
    v = exact_values("ipd", D, D, gamma)
    assert torch.allclose(torch.stack(v), torch.tensor([-2.0, -2.0], dtype=torch.float64))
    v = exact_values("ipd", TFT, TFT, gamma)
    assert torch.allclose(torch.stack(v), torch.tensor([-1.0, -1.0], dtype=torch.float64))
    v_tft, v_alld = exact_values("ipd", TFT, D, gamma)
    assert torch.isclose(v_alld, torch.tensor((1 - gamma) * 0 + gamma * -2, dtype=torch.float64))
    assert torch.isclose(v_tft, torch.tensor((1 - gamma) * -3 + gamma * -2, dtype=torch.float64))
    # the same pair with the players swapped
    v_alld, v_tft2 = exact_values("ipd", D, TFT, gamma)
    assert torch.isclose(v_tft2, v_tft)


def test_tft_from_own_side_both_seats():
    # TFT as player 1 punishes player 0's defection: its own state after (own C, other D) is CD
    alternate = torch.tensor([BIG, -BIG, -BIG, BIG, BIG], dtype=torch.float64)  # C, then flip
    a = exact_values("ipd", TFT, alternate, 0.9)
    b = exact_values("ipd", alternate, TFT, 0.9)
    assert torch.allclose(a[0], b[1]) and torch.allclose(a[1], b[0])


@pytest.mark.parametrize("name", ["ipd", "imp", "stag_hunt", "chicken"])
def test_matches_brute_force_rollout(name):
    game = get_game(name)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        l0 = torch.randn(5, generator=gen, dtype=torch.float64)
        l1 = torch.randn(5, generator=gen, dtype=torch.float64)
        exact = exact_values(game, l0, l1, 0.9)
        brute = brute_force_values(game, l0, l1, 0.9)
        for e, b in zip(exact, brute, strict=True):
            assert torch.isclose(e, b, atol=1e-12), (name, e, b)


def test_unnormalised_and_visits():
    gen = torch.Generator().manual_seed(1)
    l0, l1 = torch.randn(2, 4, 5, generator=gen, dtype=torch.float64)
    gamma = 0.96
    visits = discounted_visits(l0, l1, gamma)
    assert visits.shape == (4, 4)
    assert torch.allclose(visits.sum(-1), torch.full((4,), 1 / (1 - gamma), dtype=torch.float64))
    V0, V1 = discounted_values("ipd", l0, l1, gamma)
    v0, v1 = exact_values("ipd", l0, l1, gamma)
    assert torch.allclose(v0, (1 - gamma) * V0) and torch.allclose(v1, (1 - gamma) * V1)


def test_batched_and_broadcast():
    gen = torch.Generator().manual_seed(2)
    l0 = torch.randn(3, 4, 5, generator=gen)
    l1 = torch.randn(4, 5, generator=gen)
    v0, v1 = exact_values("imp", l0, l1, 0.9)
    assert v0.shape == v1.shape == (3, 4) and v0.dtype == torch.float32
    for i in range(3):
        for j in range(4):
            e0, e1 = exact_values("imp", l0[i, j], l1[j], 0.9)
            assert torch.isclose(v0[i, j], e0, atol=1e-5) and torch.isclose(v1[i, j], e1, atol=1e-5)
    # zero-sum game: values cancel
    assert torch.allclose(v0 + v1, torch.zeros(3, 4), atol=1e-5)


def test_differentiable_twice():
    gen = torch.Generator().manual_seed(3)
    l0 = torch.randn(3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    l1 = torch.randn(3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    for name in ("ipd", "chicken"):
        f = lambda a, b, name=name: exact_values(name, a, b, 0.9)  # noqa: E731
        assert torch.autograd.gradcheck(f, (l0, l1))
        assert torch.autograd.gradgradcheck(f, (l0, l1))


def test_gamma_tensor_gives_hypergradient():
    l0 = torch.zeros(5, dtype=torch.float64)
    l1 = torch.tensor([1.0, -1.0, 0.5, 0.0, 2.0], dtype=torch.float64)
    gamma = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: exact_values("ipd", l0, l1, g), (gamma,))


@pytest.mark.parametrize("gamma", [-0.1, 1.0, 1.5, float("nan"), "0.9x"])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match="gamma"):
        exact_values("ipd", C, C, gamma)


def test_bad_logits():
    with pytest.raises(ValueError, match=r"logits_0 must have shape \[..., 5\]"):
        exact_values("ipd", torch.zeros(4), C, 0.9)
    with pytest.raises(ValueError, match="logits_1 contains NaN"):
        exact_values("ipd", C, torch.tensor([0.0, float("nan"), 0, 0, 0], dtype=torch.float64), 0.9)
    with pytest.raises(ValueError, match="logits_0 contains NaN or infinite"):
        exact_values("ipd", torch.tensor([float("inf"), 0, 0, 0, 0]), C, 0.9)
    with pytest.raises(TypeError, match="floating-point"):
        exact_values("ipd", torch.zeros(5, dtype=torch.long), C, 0.9)
    with pytest.raises(TypeError, match="torch.Tensor"):
        exact_values("ipd", [0.0] * 5, C, 0.9)
    with pytest.raises(ValueError, match="do not broadcast"):
        exact_values("ipd", torch.zeros(3, 5), torch.zeros(4, 5), 0.9)


def test_game_must_have_two_actions():
    rps = MatrixGame("rps", ("R", "P", "S"), torch.zeros(2, 3, 3).numpy())
    with pytest.raises(ValueError, match="2-action game"):
        exact_values(rps, C, C, 0.9)
    with pytest.raises(ValueError, match="unknown game"):
        exact_values("nope", C, C, 0.9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_and_rejects_mixed_devices():
    gen = torch.Generator().manual_seed(4)
    l0, l1 = torch.randn(2, 16, 5, generator=gen, dtype=torch.float64)
    cpu = exact_values("ipd", l0, l1, 0.96)
    gpu = exact_values("ipd", l0.cuda(), l1.cuda(), 0.96)
    assert torch.allclose(cpu[0], gpu[0].cpu()) and torch.allclose(cpu[1], gpu[1].cpu())
    with pytest.raises(ValueError, match="logits_0 is on cpu but logits_1 is on cuda"):
        exact_values("ipd", l0, l1.cuda(), 0.96)


def _reference_values(game, l0, l1, gamma):
    """The values through a pivoted LAPACK solve of the full 4 x 4 system, per batch entry."""
    p0, p1 = torch.sigmoid(l0), torch.sigmoid(l1)[..., [0, 1, 3, 2, 4]]

    def joint(x, y):
        return torch.stack([x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)], dim=-1)

    start, trans = joint(p0[..., 0], p1[..., 0]), joint(p0[..., 1:], p1[..., 1:])
    system = (torch.eye(4, dtype=l0.dtype) - gamma * trans).mT
    visits = torch.linalg.solve(system, start.unsqueeze(-1)).squeeze(-1)
    r = get_game(game).payoff_tensor(dtype=l0.dtype)
    return visits @ r[0].reshape(4), visits @ r[1].T.reshape(4)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.96, 0.999])
@pytest.mark.parametrize("scale", [1.0, 12.0])  # 12: nearly deterministic policies
def test_solve_matches_pivoted_lapack_solve_up_to_third_derivatives(gamma, scale):
    gen = torch.Generator().manual_seed(4)
    l0, l1 = scale * torch.randn(2, 6, 5, generator=gen, dtype=torch.float64)
    u = torch.randn(6, 5, generator=gen, dtype=torch.float64)

    def derivatives(values, a):
        # V1, grad, and directional second and third derivatives along u
        a = a.clone().requires_grad_(True)
        v = values("stag_hunt", a, l1, gamma)[1].sum()
        out = [v]
        for _ in range(3):
            (g,) = torch.autograd.grad(out[-1], a, create_graph=True)
            out.append((g * u).sum())
        return torch.stack(out)

    torch.testing.assert_close(
        derivatives(discounted_values, l0), derivatives(_reference_values, l0),
        rtol=1e-9, atol=1e-9 / (1 - gamma),
    )


def test_works_under_torch_func_vmap_and_grad():
    gen = torch.Generator().manual_seed(5)
    l0, l1 = torch.randn(2, 7, 5, generator=gen, dtype=torch.float64)
    per_seed = torch.func.vmap(torch.func.grad(lambda a, b: discounted_values("ipd", a, b, 0.9)[0]))
    batched = torch.autograd.grad(
        discounted_values("ipd", l0.requires_grad_(True), l1, 0.9)[0].sum(), l0
    )[0]
    torch.testing.assert_close(per_seed(l0.detach(), l1), batched)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("fn", ["exact_values", "discounted_values", "discounted_visits"])
def test_half_precision_is_rounded_once(dtype, fn):
    """float16/bfloat16 solved (I - gamma P) in half precision: IPD values off by up to 3.5."""
    gen = torch.Generator().manual_seed(0)
    l0 = (3 * torch.randn(512, 5, generator=gen, dtype=torch.float64)).to(dtype)
    l1 = (3 * torch.randn(512, 5, generator=gen, dtype=torch.float64)).to(dtype)
    gamma = 0.99

    def call(a, b):
        if fn == "discounted_visits":
            return (discounted_visits(a, b, gamma),)
        return {"exact_values": exact_values, "discounted_values": discounted_values}[fn](
            "ipd", a, b, gamma)

    got = call(l0, l1)
    ref = call(l0.double(), l1.double())  # the same (rounded) logits in float64
    eps = torch.finfo(dtype).eps
    for g, r in zip(got, ref, strict=True):
        assert g.dtype == dtype and g.shape == r.shape
        # one rounding of the float64 answer (relative half-ulp, plus slack for float32)
        assert ((g.double() - r).abs() <= eps * r.abs() + 1e-4 * r.abs().max()).all()
    if fn != "discounted_visits":
        assert (got[0] <= 0).all() and (got[1] <= 0).all()  # every IPD payoff is <= 0


def test_half_precision_gradients_in_input_dtype():
    gen = torch.Generator().manual_seed(1)
    base = 2 * torch.randn(64, 5, generator=gen, dtype=torch.float64)
    other = 2 * torch.randn(64, 5, generator=gen, dtype=torch.float64)
    lo = base.to(torch.bfloat16).requires_grad_()
    ref = base.to(torch.bfloat16).double().requires_grad_()
    exact_values("ipd", lo, other.to(torch.bfloat16), 0.96)[0].sum().backward()
    exact_values("ipd", ref, other.to(torch.bfloat16).double(), 0.96)[0].sum().backward()
    assert lo.grad.dtype == torch.bfloat16
    eps = torch.finfo(torch.bfloat16).eps
    assert ((lo.grad.double() - ref.grad).abs() <= eps * ref.grad.abs() + 1e-5).all()


@pytest.mark.parametrize("gamma", ["0.9", True, None, 0.9j, torch.tensor(True),
                                   torch.tensor(0.5j)])
def test_gamma_that_is_not_a_number_is_a_clear_error(gamma):
    """gamma='0.9' passed the range check and failed later in arithmetic with a TypeError."""
    with pytest.raises(ValueError, match="gamma must be"):
        exact_values("ipd", C, C, gamma)
    with pytest.raises(ValueError, match="gamma must be"):
        discounted_visits(C, C, gamma)


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
@pytest.mark.parametrize("shape", [(1,), (1, 1), ()])
def test_gamma_tensor_of_one_element_gives_the_shape_of_a_float(batch, shape):
    """A gamma of shape [1] turned a scalar result into a [1] tensor."""
    gen = torch.Generator().manual_seed(2)
    l0, l1 = torch.randn(*batch, 5, generator=gen), torch.randn(*batch, 5, generator=gen)
    want = exact_values("ipd", l0, l1, 0.9)
    for fn, args in [(exact_values, ("ipd", l0, l1)), (discounted_values, ("ipd", l0, l1)),
                     (discounted_visits, (l0, l1))]:
        got = fn(*args, torch.full(shape, 0.9))
        ref = fn(*args, 0.9)
        for g, r in zip(got if isinstance(got, tuple) else (got,),
                        ref if isinstance(ref, tuple) else (ref,), strict=True):
            assert g.shape == r.shape
            torch.testing.assert_close(g, r)
    assert want[0].shape == batch

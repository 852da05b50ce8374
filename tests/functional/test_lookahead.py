"""Tests for lola_games.functional.lookahead: gradients through another model's optimizer steps."""

from __future__ import annotations

import gc
import math

import pytest
import torch
from torch import nn

from lola_games.functional import (
    SGD,
    Adam,
    AdamState,
    SGDState,
    buffers_of,
    detach,
    functional_call,
    load_params,
    params_of,
    unroll,
)
from lola_games.functional.optim import _safe_sqrt
from lola_games.values.exact import exact_values

DT = torch.float64
GAMMA = 0.9


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny tensors: intra-op threads only add contention (10x slower on a busy 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=DT)


def _mlp(seed: int, n_in: int = 3, n_hidden: int = 5) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, 1)).to(DT)


def _central_diff(f, x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Central finite-difference gradient of scalar ``f`` at ``x`` (float64)."""
    grad = torch.zeros_like(x)
    flat = grad.view(-1)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        step = step.view_as(x)
        flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


OPTIMIZERS = {
    "sgd": lambda: SGD(0.2),
    "sgd_momentum": lambda: SGD(0.1, momentum=0.9),
    "adam": lambda: Adam(0.05),
}


# ---------------------------------------------------------------------------------------
# Same numbers as torch.optim
# ---------------------------------------------------------------------------------------

TORCH_OPTIM_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.03, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.05)),
]


@pytest.mark.parametrize(("name", "kwargs"), TORCH_OPTIM_CASES)
def test_matches_torch_optim_over_several_steps(name: str, kwargs: dict) -> None:
    model, reference = _mlp(0), _mlp(0)
    x, y = _randn(16, 3, seed=1), _randn(16, 1, seed=2)
    torch_opt = getattr(torch.optim, name)(reference.parameters(), **kwargs)
    ours = {"SGD": SGD, "Adam": Adam}[name](**kwargs)

    params, state = params_of(model), None
    for _ in range(6):
        torch_opt.zero_grad()
        ((reference(x) - y) ** 2).mean().backward()
        torch_opt.step()

        def loss(p):
            return ((functional_call(model, p, args=(x,)) - y) ** 2).mean()

        params, state = unroll(loss, params, 1, ours, state)
    assert state.step == 6
    for key, value in reference.named_parameters():
        torch.testing.assert_close(params[key], value, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("name", "kwargs"), [TORCH_OPTIM_CASES[3], TORCH_OPTIM_CASES[6]])
def test_tensor_params_match_torch_optim(name: str, kwargs: dict) -> None:
    target = _randn(7, seed=3)
    start = _randn(7, seed=4)
    reference = start.clone().requires_grad_()
    torch_opt = getattr(torch.optim, name)([reference], **kwargs)
    ours = {"SGD": SGD, "Adam": Adam}[name](**kwargs)
    for _ in range(5):
        torch_opt.zero_grad()
        torch.cosh(reference - target).sum().backward()
        torch_opt.step()
    params, _ = unroll(lambda p: torch.cosh(p - target), start, 5, ours)
    torch.testing.assert_close(params, reference.detach(), rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------
# Outer gradients against gradcheck / finite differences
# ---------------------------------------------------------------------------------------


class Opponent(nn.Module):
    """An MLP whose forward uses buffers: a constant input scale and BatchNorm stats."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 1))
        self.register_buffer("scale", torch.tensor([0.5, -1.0, 2.0]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h * self.scale)


@pytest.mark.parametrize("train_mode", [True, False], ids=["batch_stats", "running_stats"])
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("k", [1, 3])
def test_outer_gradient_through_mlp_opponent_gradcheck(
    k: int, opt_name: str, train_mode: bool
) -> None:
    torch.manual_seed(5)
    opponent = Opponent().to(DT).train(train_mode)
    bn = opponent.net[1]
    bn.running_mean.copy_(_randn(6, seed=6))
    bn.running_var.copy_(_randn(6, seed=7).exp())
    buffers = buffers_of(opponent)
    opp_params = params_of(opponent)
    x, y = _randn(8, 2, seed=8), _randn(8, 1, seed=9)
    x_val, y_val = _randn(8, 2, seed=10), _randn(8, 1, seed=11)

    def outer(w, b, first_bias):
        # the agent maps inputs to features; the opponent learns on them for k steps
        features = x @ w.T + b
        val_features = x_val @ w.T + b

        def inner_loss(p):
            out = functional_call(opponent, p, (features,), buffers=buffers)
            return ((out - y) ** 2).mean() + 0.1 * (out * features.sum(-1, keepdim=True)).mean()

        start = {**opp_params, "net.0.bias": first_bias}  # also check d/d(initial params)
        new, _ = unroll(inner_loss, start, k, OPTIMIZERS[opt_name]())
        out = functional_call(opponent, new, (val_features,), buffers=buffers)
        return ((out - y_val) ** 2).mean()

    w = _randn(3, 2, seed=12).requires_grad_()
    b = _randn(3, seed=13).requires_grad_()
    first_bias = opp_params["net.0.bias"].detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(outer, (w, b, first_bias), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_federated_hyperregulariser_matches_finite_differences() -> None:
    n_clients, n_data = 4, 12
    client = _mlp(20)
    torch.manual_seed(21)
    regulariser = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(DT)
    start = {
        key: value + 0.1 * _randn(n_clients, *value.shape, seed=22 + i)
        for i, (key, value) in enumerate(params_of(client, requires_grad=False).items())
    }
    x, y = _randn(n_clients, n_data, 3, seed=30), _randn(n_clients, n_data, 1, seed=31)
    shared = _randn(10, 3, seed=32)
    x_val, y_val = _randn(20, 3, seed=33), _randn(20, 1, seed=34)

    def per_client(p, inputs):
        return torch.func.vmap(lambda q, xi: functional_call(client, q, args=(xi,)))(p, inputs)

    def global_val_loss(reg_params):
        soft_targets = functional_call(regulariser, reg_params, args=(shared,))  # [10, 1]

        def client_losses(p):  # [n_clients]
            fit = ((per_client(p, x) - y) ** 2).mean((1, 2))
            on_shared = per_client(p, shared.expand(n_clients, -1, -1))
            return fit + 0.5 * ((on_shared - soft_targets) ** 2).mean((1, 2))

        new, _ = unroll(client_losses, start, 1, SGD(0.5))
        average = {key: value.mean(0) for key, value in new.items()}
        return ((functional_call(client, average, args=(x_val,)) - y_val) ** 2).mean()

    reg_params = params_of(regulariser)
    grads = torch.autograd.grad(global_val_loss(reg_params), list(reg_params.values()))
    assert all(g.abs().max() > 1e-6 for g in grads)  # every part of the regulariser matters
    for (key, value), grad in zip(reg_params.items(), grads, strict=True):
        fd = _central_diff(
            lambda v, key=key: global_val_loss({**reg_params, key: v}).detach(), value.detach()
        )
        torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-10)


def test_learned_loss_weight_through_two_adam_steps() -> None:
    model = _mlp(40)
    x, y = _randn(16, 3, seed=41), _randn(16, 1, seed=42)
    x_val, y_val = _randn(16, 3, seed=43), _randn(16, 1, seed=44)
    start = params_of(model, requires_grad=False)

    def val_loss(weight):
        def train_loss(p):  # data fit plus a weighted smoothness penalty on the output
            out = functional_call(model, p, args=(x,))
            return ((out - y) ** 2).mean() + weight * (out**2).mean()

        new, _ = unroll(train_loss, start, 2, Adam(0.05))
        return ((functional_call(model, new, args=(x_val,)) - y_val) ** 2).mean()

    weight = torch.tensor(0.3, dtype=DT, requires_grad=True)
    (grad,) = torch.autograd.grad(val_loss(weight), weight)
    fd = _central_diff(lambda a: val_loss(a).detach(), weight.detach())
    assert grad.abs() > 1e-4
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("opt", ["sgd_momentum", "adam"])
def test_learning_rate_tensor_gets_hyper_gradient(opt: str) -> None:
    target, start = _randn(6, seed=50), _randn(6, seed=51)
    probe = _randn(6, seed=52)

    def outer(lr):
        optimizer = SGD(lr, momentum=0.5) if opt == "sgd_momentum" else Adam(lr)
        new, _ = unroll(lambda p: torch.cosh(p - target), start, 3, optimizer)
        return (torch.sin(new) * probe).sum()

    lr = torch.tensor(0.2, dtype=DT, requires_grad=True)
    (grad,) = torch.autograd.grad(outer(lr), lr)
    fd = _central_diff(lambda a: outer(a).detach(), lr.detach())
    assert grad.abs() > 1e-3
    torch.testing.assert_close(grad, fd, rtol=1e-7, atol=1e-12)


def test_per_seed_learning_rates_broadcast() -> None:
    start, target = _randn(3, 4, seed=53), _randn(3, 4, seed=54)
    lrs = torch.tensor([[0.1], [0.2], [0.3]], dtype=DT)
    new, _ = unroll(lambda p: ((p - target) ** 2).sum(-1), start, 1, SGD(lrs))
    torch.testing.assert_close(new, start - lrs * 2 * (start - target))
    with pytest.raises(ValueError, match="does not broadcast"):
        unroll(lambda p: (p**2).sum(), start, 1, SGD(torch.ones(4, 1, dtype=DT)))


# ---------------------------------------------------------------------------------------
# LOLA-style lookahead: modules and tensors agree; seeds stay independent
# ---------------------------------------------------------------------------------------


class Logits(nn.Module):
    """A memory-one policy as a module: 5 logits (start, CC, CD, DC, DD)."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits.clone())

    def forward(self) -> torch.Tensor:
        return self.logits


def _lola_grad_tensor(th0, th1, k, optimizer):
    """d V0(th0, th1 after k naive steps of the opponent) / d th0, logits as tensors."""
    th0 = th0.clone().requires_grad_()
    opp, _ = unroll(lambda t1: -exact_values("ipd", th0, t1, GAMMA)[1], th1, k, optimizer)
    return torch.autograd.grad(exact_values("ipd", th0, opp, GAMMA)[0].sum(), th0)[0]


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("k", [1, 2])
def test_lola_lookahead_module_and_tensor_agree(k: int, opt_name: str) -> None:
    th0, th1 = _randn(5, seed=60), _randn(5, seed=61)
    expected = _lola_grad_tensor(th0, th1, k, OPTIMIZERS[opt_name]())

    agent, opponent = Logits(th0).to(DT), Logits(th1).to(DT)
    agent_params = params_of(agent)

    def opponent_loss(p):
        return -exact_values(
            "ipd", functional_call(agent, agent_params), functional_call(opponent, p), GAMMA
        )[1]

    new, _ = unroll(opponent_loss, params_of(opponent), k, OPTIMIZERS[opt_name]())
    value = exact_values(
        "ipd", functional_call(agent, agent_params), functional_call(opponent, new), GAMMA
    )[0]
    (grad,) = torch.autograd.grad(value, agent_params["logits"])
    assert expected.abs().max() > 1e-3
    torch.testing.assert_close(grad, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_seed_batch_gives_per_seed_gradients(opt_name: str) -> None:
    n_seeds = 6
    th0, th1 = _randn(n_seeds, 5, seed=62), _randn(n_seeds, 5, seed=63)
    batched = _lola_grad_tensor(th0, th1, 2, OPTIMIZERS[opt_name]())
    for s in range(n_seeds):
        alone = _lola_grad_tensor(th0[s], th1[s], 2, OPTIMIZERS[opt_name]())
        torch.testing.assert_close(batched[s], alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_vmap_over_per_seed_function_matches_plain_batching(opt_name: str) -> None:
    coupling = _randn(5, 5, seed=64)

    def value(a, b):  # a smooth two-player objective, no data-dependent checks inside
        return torch.tanh(((a @ coupling) * torch.sigmoid(b)).sum(-1)) + 0.1 * (b**2).sum(-1)

    def outer(a, b):
        new_b, _ = unroll(lambda bb: value(a, bb), b, 3, OPTIMIZERS[opt_name]())
        return -value(a, new_b)

    a, b = _randn(4, 5, seed=65), _randn(4, 5, seed=66)
    vmapped = torch.func.vmap(torch.func.grad(outer))(a, b)
    a_leaf = a.clone().requires_grad_()
    (plain,) = torch.autograd.grad(outer(a_leaf, b).sum(), a_leaf)
    assert plain.abs().max() > 1e-3
    torch.testing.assert_close(vmapped, plain, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------
# first_order, Adam at a zero gradient, unused parameters
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("first_order", [False, True])
def test_first_order_drops_second_order_terms_on_a_quadratic(first_order: bool) -> None:
    # inner: L(th, phi) = a/2 th^2 + b th phi, two SGD steps of size eta;
    # outer: J = 1/2 (th2 - c)^2 + e phi th2.
    a, b, c, e, eta = 1.5, -0.7, 0.4, 0.3, 0.2
    th = torch.tensor([0.9, -1.2], dtype=DT, requires_grad=True)
    phi = torch.tensor([0.5, 2.0], dtype=DT, requires_grad=True)
    th2, _ = unroll(
        lambda t: 0.5 * a * t**2 + b * t * phi, th, 2, lr=eta, first_order=first_order
    )
    outer = (0.5 * (th2 - c) ** 2 + e * phi * th2).sum()
    g_th, g_phi = torch.autograd.grad(outer, (th, phi))

    with torch.no_grad():
        th1 = th - eta * (a * th + b * phi)
        th2_ref = th1 - eta * (a * th1 + b * phi)
        dj_dth2 = th2_ref - c + e * phi
        if first_order:  # gradients are constants: th2 = th - eta (g0 + g1)
            dth2_dth, dth2_dphi = torch.ones_like(th), torch.zeros_like(th)
        else:
            dth2_dth = (1 - eta * a) ** 2 * torch.ones_like(th)
            dth2_dphi = -eta * b * (1 - eta * a) - eta * b
        expected_th = dj_dth2 * dth2_dth
        expected_phi = e * th2_ref + dj_dth2 * dth2_dphi
    torch.testing.assert_close(th2.detach(), th2_ref, rtol=0, atol=1e-14)
    torch.testing.assert_close(g_th, expected_th, rtol=0, atol=1e-14)
    torch.testing.assert_close(g_phi, expected_phi, rtol=0, atol=1e-14)


def test_adam_double_backward_finite_and_correct_at_zero_gradient() -> None:
    # inner loss phi . p has gradient phi; one Adam step moves p by -lr phi / (|phi| + eps),
    # whose derivative in phi is -lr eps / (|phi| + eps)^2 (= -lr / eps at phi = 0).
    lr, eps = 0.1, 1e-3
    coeff = _randn(4, seed=70)
    phi = torch.tensor([0.7, 0.0, -1.3, 0.0], dtype=DT, requires_grad=True)
    start = _randn(4, seed=71)

    def outer(phi_, steps=1):
        new, _ = unroll(lambda p: phi_ * p, start, steps, Adam(lr, eps=eps))
        return (coeff * new).sum()

    (grad,) = torch.autograd.grad(outer(phi), phi)
    assert torch.isfinite(grad).all()
    expected = -coeff * lr * eps / (phi.detach().abs() + eps) ** 2
    torch.testing.assert_close(grad, expected, rtol=1e-9, atol=0)

    (grad3,) = torch.autograd.grad(outer(phi, steps=3), phi)
    assert torch.isfinite(grad3).all()
    nonzero = phi.detach() != 0
    fd = _central_diff(lambda v: outer(v, steps=3).detach(), phi.detach(), eps=1e-6)
    torch.testing.assert_close(grad3[nonzero], fd[nonzero], rtol=1e-6, atol=1e-10)


def test_safe_sqrt_values_and_derivatives() -> None:
    x = torch.tensor([0.0, 0.25, 4.0], dtype=DT, requires_grad=True)
    y = _safe_sqrt(x)
    torch.testing.assert_close(y, torch.sqrt(x.detach()), rtol=0, atol=0)
    (d1,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    torch.testing.assert_close(d1.detach(), torch.tensor([0.0, 1.0, 0.25], dtype=DT))
    torch.testing.assert_close(d2, torch.tensor([0.0, -2.0, -1 / 32], dtype=DT))
    # the plain square root is what breaks: inf * 0 under double backward
    z = torch.tensor([0.0], dtype=DT, requires_grad=True)
    (dz,) = torch.autograd.grad(torch.sqrt(z**2).sum(), z)
    assert torch.isnan(dz).all()


def test_unused_parameters_get_zero_gradient() -> None:
    params = {"used": _randn(3, seed=80), "unused": _randn(2, seed=81)}
    new, _ = unroll(lambda p: (p["used"] ** 2).sum(), params, 2, SGD(0.1, momentum=0.9))
    torch.testing.assert_close(new["unused"], params["unused"], rtol=0, atol=0)
    # p1 = 0.8 p0; buf = 0.9 * 2 p0 + 2 p1 = 3.4 p0; p2 = p1 - 0.1 buf = 0.46 p0
    torch.testing.assert_close(new["used"], 0.46 * params["used"], rtol=1e-14, atol=0)
    # a loss that depends on no parameter at all: zero gradients, no crash
    constant, _ = unroll(lambda p: torch.tensor(1.0, dtype=DT), params, 2, Adam(0.1))
    for key in params:
        torch.testing.assert_close(constant[key], params[key], rtol=0, atol=0)


# ---------------------------------------------------------------------------------------
# Modules: params_of, buffers_of, functional_call, load_params
# ---------------------------------------------------------------------------------------


def test_functional_call_has_torch_func_argument_order() -> None:
    """The call written as for torch.func.functional_call(module, params, args) works."""
    torch.manual_seed(92)
    module = Opponent().to(DT).eval()
    x = _randn(5, 3, seed=93)
    params = params_of(module)
    expected = torch.func.functional_call(module, params, (x,))
    torch.testing.assert_close(functional_call(module, params, (x,)), expected)
    torch.testing.assert_close(functional_call(module, params, x), expected)  # one input
    torch.testing.assert_close(functional_call(module, params, (), {"h": x}), expected)
    # the old order (buffers third) names the argument instead of failing deep in torch
    with pytest.raises(TypeError, match="args must be .* got a dict; pass buffers by keyword"):
        functional_call(module, params, buffers_of(module), (x,))
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        functional_call(module, params, (x,), (x,))


def test_module_helpers_round_trip() -> None:
    torch.manual_seed(90)
    module = Opponent().to(DT).eval()
    x = _randn(5, 3, seed=91)
    params, buffers = params_of(module), buffers_of(module)
    assert all(p.is_leaf and p.requires_grad for p in params.values())
    assert not any(p.requires_grad for p in params_of(module, requires_grad=False).values())
    torch.testing.assert_close(functional_call(module, params, (x,), buffers=buffers), module(x))
    # different buffers change the output: they are really used
    shifted = {**buffers, "scale": buffers["scale"] + 1}
    assert not torch.allclose(functional_call(module, params, (x,), buffers=shifted), module(x))

    new, _ = unroll(lambda p: functional_call(module, p, (x,), buffers=buffers).pow(2).sum(),
                    params, 2, SGD(0.1))
    assert new["net.0.weight"].grad_fn is not None
    load_params(module, new)
    for key, value in module.named_parameters():
        assert value.is_leaf and value.grad_fn is None
        torch.testing.assert_close(value.detach(), new[key].detach(), rtol=0, atol=0)
    # params_of gives copies: editing them leaves the module alone
    copy = params_of(module)
    with torch.no_grad():
        copy["net.0.bias"].add_(1.0)
    assert not torch.equal(copy["net.0.bias"], module.net[0].bias)


# ---------------------------------------------------------------------------------------
# Memory stays bounded over a long run
# ---------------------------------------------------------------------------------------


def _live_graph() -> tuple[int, int]:
    """(autograd graph nodes reachable from live Python tensors, live Python tensors)."""
    gc.collect()
    tensors = [o for o in gc.get_objects() if issubclass(type(o), torch.Tensor)]
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen), len(tensors)


def _lola_outer_loop(n_iters: int, commit) -> list[tuple[int, int]]:
    """Both players take LOLA-style steps (1-step SGD lookahead of the other) on the IPD.

    Returns :func:`_live_graph` after iterations 10 and ``n_iters``.
    """
    th = [_randn(8, 5, seed=100).requires_grad_(), _randn(8, 5, seed=101).requires_grad_()]
    measured = []
    for it in range(n_iters):
        updates = []
        for i in (0, 1):
            mine, other = th[i], th[1 - i]

            def value(a, b, i=i):  # (v_mine, v_other) with a = mine, b = other
                v0, v1 = exact_values("ipd", *((a, b) if i == 0 else (b, a)), GAMMA)
                return (v0, v1) if i == 0 else (v1, v0)

            new_other, _ = unroll(lambda o, a=mine, v=value: -v(a, o)[1], other, 1, lr=1.0)
            (grad,) = torch.autograd.grad(value(mine, new_other)[0].sum(), mine,
                                          create_graph=True)
            updates.append(grad)
        th = [commit(t + 0.5 * g) for t, g in zip(th, updates, strict=True)]
        del mine, other, new_other, updates, grad
        if it in (9, n_iters - 1):
            measured.append(_live_graph())
    return measured


def test_memory_bounded_over_100_outer_iterations() -> None:
    (nodes_10, tensors_10), (nodes_100, tensors_100) = _lola_outer_loop(
        100, lambda t: detach(t, requires_grad=True)
    )
    assert nodes_10 == nodes_100 == 0  # no graph of an earlier iteration is alive
    assert tensors_100 <= tensors_10


def test_memory_check_detects_kept_graphs() -> None:
    # negative control: without detach, each update keeps every earlier graph alive
    (nodes_10, _), (nodes_30, _) = _lola_outer_loop(30, lambda t: t)
    assert nodes_10 > 100
    assert nodes_30 > 2.5 * nodes_10


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors() -> None:
    p = {"w": torch.zeros(3, dtype=DT), "b": torch.zeros(1, dtype=DT)}
    sgd = SGD(0.1)
    with pytest.raises(ValueError, match="different keys"):
        sgd.step(p, {"w": torch.zeros(3, dtype=DT)}, sgd.init(p))
    with pytest.raises(ValueError, match=r"grads\['w'\] has shape \[4\]"):
        sgd.step(p, {"w": torch.zeros(4, dtype=DT), "b": torch.zeros(1, dtype=DT)}, sgd.init(p))
    with pytest.raises(TypeError, match="both must be tensors or both dicts"):
        sgd.step(p, torch.zeros(3, dtype=DT), sgd.init(p))
    with pytest.raises(TypeError, match="state must be a AdamState"):
        Adam().step(p, p, SGDState(0, None))
    with pytest.raises(ValueError, match=r"params\['w'\] contains NaN"):
        unroll(lambda q: q["w"].sum(), {**p, "w": torch.tensor([0.0, math.nan, 0.0])}, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\['b'\] contains NaN"):
        sgd.step(p, {"w": torch.zeros(3, dtype=DT), "b": torch.full((1,), math.inf)},
                 sgd.init(p))
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        SGD(-0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        Adam(torch.tensor(-1e-3))
    with pytest.raises(TypeError, match="lr must be a float or a tensor"):
        SGD("0.1")
    with pytest.raises(ValueError, match="nesterov"):
        SGD(0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in"):
        Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps must be > 0"):
        Adam(eps=0.0)
    with pytest.raises(ValueError, match="needs an optimizer"):
        unroll(lambda q: q.sum(), torch.zeros(2))
    with pytest.raises(ValueError, match="not both"):
        unroll(lambda q: q.sum(), torch.zeros(2), 1, SGD(0.1), lr=0.1)
    with pytest.raises(ValueError, match="steps must be >= 0"):
        unroll(lambda q: q.sum(), torch.zeros(2), -1, lr=0.1)
    with pytest.raises(TypeError, match="loss_fn must return a tensor"):
        unroll(lambda q: 1.0, torch.zeros(2), lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        unroll(lambda q: q.sum(), torch.zeros(2, dtype=torch.long), lr=0.1)
    with pytest.raises(ValueError, match="empty dict"):
        unroll(lambda q: torch.zeros(()), {}, lr=0.1)
    module, x = _mlp(0), torch.zeros(1, 3, dtype=DT)
    with pytest.raises(ValueError, match=r"no params named \['0.wieght'\]"):
        functional_call(module, {"0.wieght": torch.zeros(5, 3, dtype=DT)}, args=(x,))
    with pytest.raises(ValueError, match=r"params\['0.bias'\] has shape \[4\]"):
        functional_call(module, {"0.bias": torch.zeros(4, dtype=DT)}, args=(x,))
    partial = params_of(module)
    del partial["2.bias"]
    with pytest.raises(ValueError, match=r"missing the module's parameters \['2.bias'\]"):
        load_params(module, partial)


def test_unroll_under_no_grad_still_steps() -> None:
    target, start = _randn(4, seed=112), _randn(4, seed=113)
    for optimizer in (SGD(0.1, momentum=0.9), Adam(0.1)):
        expected, _ = unroll(lambda p: torch.cosh(p - target), start, 3, optimizer)
        with torch.no_grad():
            got, _ = unroll(lambda p: torch.cosh(p - target), start, 3, optimizer)
        assert not got.requires_grad
        torch.testing.assert_close(got, expected.detach(), rtol=0, atol=0)


def test_states_are_explicit_and_continue() -> None:
    target = _randn(4, seed=110)
    start = _randn(4, seed=111)

    def loss(p):
        return torch.cosh(p - target)

    for optimizer in (SGD(0.1, momentum=0.9), Adam(0.1)):
        in_one, state_one = unroll(loss, start, 4, optimizer)
        half, state = unroll(loss, start, 2, optimizer)
        in_two, state_two = unroll(loss, half, 2, optimizer, state)
        assert isinstance(state_two, SGDState | AdamState) and state_two.step == 4
        torch.testing.assert_close(in_two, in_one, rtol=0, atol=1e-15)


def test_cuda_matches_cpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    th0, th1 = _randn(4, 5, seed=120), _randn(4, 5, seed=121)
    for optimizer in (SGD(0.5, momentum=0.5), Adam(0.1)):
        cpu = _lola_grad_tensor(th0, th1, 2, optimizer)
        gpu = _lola_grad_tensor(th0.cuda(), th1.cuda(), 2, optimizer)
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("opt", [SGD(0.1), SGD(0.1, momentum=0.9), Adam(0.1)])
@pytest.mark.parametrize("tree", [False, True])
def test_grads_of_another_dtype_are_an_error_not_a_promotion(opt, tree):
    """float32 params with float64 grads came back as float64 params (and states)."""
    p32 = torch.zeros(3, 5)
    g64 = torch.ones(3, 5, dtype=DT)
    params, grads = ({"w": p32}, {"w": g64}) if tree else (p32, g64)
    where = r"grads\['w'\]" if tree else "grads"
    with pytest.raises(TypeError, match=f"{where} has dtype torch.float64 but"):
        opt.step(params, grads, opt.init(params))


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.9), Adam(0.1)])
def test_state_of_another_dtype_is_an_error(opt):
    p32, g32 = torch.zeros(3, 5), torch.ones(3, 5)
    _, state = opt.step(p32, g32, opt.init(p32))
    state64 = type(state)(state.step, *(x.double() for x in state[1:]))
    with pytest.raises(TypeError, match=r"state\.\w+ has dtype torch.float64"):
        opt.step(p32, g32, state64)
    with pytest.raises(ValueError, match="state.step must be an int"):
        opt.step(p32, g32, state._replace(step=-1))


@pytest.mark.parametrize("opt_cls", [SGD, Adam])
def test_params_and_states_keep_their_dtype(opt_cls):
    """A float64 tensor learning rate (per seed, [S, 1]) promoted float32 params."""
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        lr = torch.full((3, 1), 0.1, dtype=DT, requires_grad=True)
        opt = opt_cls(lr)
        p = torch.zeros(3, 5, dtype=dtype)
        state = opt.init(p)
        for _ in range(2):
            p, state = opt.step(p, torch.ones(3, 5, dtype=dtype), state)
        assert p.dtype == dtype
        assert all(x.dtype == dtype for x in state[1:] if x is not None)
        p.sum().backward()  # the rate still receives its hyper-gradient
        assert lr.grad is not None and lr.grad.dtype == DT

"""The seed-batched GRU path (`seed_gru`, ``forward_seeds``) computes what the modules
compute when called per seed under ``vmap``: logits, last state and gradients, in float64."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, vmap

from lola_games.rollouts import CoinGRUPolicy, GRUPolicy, init_params
from lola_games.rollouts.seed_gru import seed_layers, seed_linear


def per_seed(module, params, obs, hidden):
    """The module's own forward, one seed at a time under vmap."""
    def call(p, o, h):
        return functional_call(module, p, (o, h))
    return vmap(call, in_dims=(0, 0, None if hidden is None else 0))(params, obs, hidden)


@pytest.mark.parametrize("case", ["coin-gru", "gru"])
@pytest.mark.parametrize("with_hidden", [False, True])
def test_forward_seeds_matches_the_module_per_seed(case, with_hidden):
    gen = torch.Generator().manual_seed(0)
    if case == "coin-gru":
        module, obs_shape = CoinGRUPolicy(3, hidden_size=6), (4, 3, 3)
    else:
        module, obs_shape = GRUPolicy(5, 2, 6), (5,)
    params = {k: v.double().requires_grad_() for k, v in init_params(module, 3, gen).items()}
    module = module.double()
    obs = torch.rand(3, 4, 7, *obs_shape, generator=gen, dtype=torch.float64)
    hidden = torch.randn(3, 4, 6, generator=gen, dtype=torch.float64) if with_hidden else None
    want_logits, want_hidden = per_seed(module, params, obs, hidden)
    logits, last = module.forward_seeds(params, obs, hidden)
    torch.testing.assert_close(logits, want_logits, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(last, want_hidden, rtol=1e-12, atol=1e-12)
    weights = torch.randn(logits.shape, generator=gen, dtype=torch.float64)
    got = torch.autograd.grad((logits * weights).sum(), list(params.values()))
    want = torch.autograd.grad((want_logits * weights).sum(), list(params.values()))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_one_step_at_a_time_is_the_whole_sequence():
    """Sampling calls one step at a time, carrying the state; the sequence call agrees."""
    gen = torch.Generator().manual_seed(1)
    module = CoinGRUPolicy(3, hidden_size=5)
    params = init_params(module, 2, gen)
    obs = torch.rand(2, 3, 6, 4, 3, 3, generator=gen)
    whole, _ = module.forward_seeds(params, obs)
    hidden, steps = None, []
    for t in range(6):
        logits, hidden = module.forward_seeds(params, obs[:, :, t:t + 1], hidden)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=2), whole, rtol=1e-5, atol=1e-6)


def test_seed_linear():
    params = {"l.weight": torch.randn(2, 3, 4), "l.bias": torch.randn(2, 3)}
    x = torch.randn(2, 5, 6, 4)
    want = torch.einsum("sbtd,sod->sbto", x, params["l.weight"]) + params["l.bias"][:, None,
                                                                                  None]
    torch.testing.assert_close(seed_linear(seed_layers(params)["l."], x), want)

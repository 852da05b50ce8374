"""Policies and value functions as ``nn.Module``\\ s, batched over seeds.

**Call signature.** A policy is any ``nn.Module`` with

    ``forward(obs: Tensor[B, T, D], hidden: Tensor | None) -> (logits: Tensor[B, T, n], hidden)``

where ``obs`` are one-hot observations of `lola_games.envs.batched` (``D = n * n + 1``),
``logits`` are unnormalised action log-probabilities (``log_softmax`` is applied by the
caller), and ``hidden`` is the recurrent state carried across calls (``None`` at the start of
an episode; memoryless policies ignore it and return ``None``). Sampling calls it one step at
a time (``T = 1``); log-probabilities are recomputed afterwards in one call over the whole
sequence (``hidden=None``), so the two must agree, as they do for the modules below.

A value function is any ``nn.Module`` with ``forward(obs: Tensor[..., D]) -> Tensor[...]``.

**Seeds.** Every function here works on *stacked per-seed parameters*: a dict of tensors with a
leading seed dimension ``S`` (as made by `init_params`, i.e.
`torch.func.stack_module_state`), with inputs ``[S, ...]``. Generic modules are called
through `torch.func.functional_call` under `torch.func.vmap`; tabular modules have
a plain broadcasting fast path (``forward_seeds``). Modules with ``memory_one = True`` and a
``state_log_probs(params) -> [S, 5, 2]`` (as `TabularPolicy`) get two more: when both
players have one, `sample_rollout` samples the joint memory-one Markov chain directly
(one ``gather`` per round instead of two policy calls and an env step), and
`log_probs` looks log-probabilities up by state instead of running the module.

Modules:

* `TabularPolicy` -- memory-one policy for 2-action games: 5 logits
  ``(start, CC, CD, DC, DD)`` from the player's own side, ``sigmoid(logit) = P(action 0)``
  (the convention of `lola_games.values.exact`); its action logits are
  ``(logsigmoid(l), logsigmoid(-l))``.
* `MLPPolicy` -- MLP over the current observation (memory-one, any ``n``).
* `GRUPolicy` -- GRU over the history of observations (any ``n``).
* `TabularValue`, `MLPValue` -- value estimates of an observation.

`random_logits` draws initial logits from the distributions the papers' codes use
(`INITS`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Protocol, cast

import torch
from torch import Tensor, nn
from torch.func import stack_module_state

from lola_games.core.tensors import ParamDict
from lola_games.rollouts.seed_gru import seed_gru, seed_layers, seed_linear

__all__ = [
    "TabularPolicy",
    "MLPPolicy",
    "GRUPolicy",
    "TabularValue",
    "MLPValue",
    "INITS",
    "STATE_OF_OBS",
    "random_logits",
    "init_params",
    "generator_device",
    "SelfInitialising",
    "SeedBatched",
    "SeedStepper",
    "MemoryOne",
]


class SelfInitialising(Protocol):
    """A module that draws its own stacked per-seed parameters (used by `init_params`)."""

    def init_params(
        self, n_seeds: int, generator: torch.Generator | None, device: torch.device | str | None
    ) -> ParamDict:
        """Stacked parameters ``[S, ...]`` of ``n_seeds`` seeds."""
        ...


class SeedBatched(Protocol):
    """A policy with a broadcasting fast path over seeds (used by ``seed_forward``)."""

    def forward_seeds(
        self, params: ParamDict, obs: Tensor, hidden: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """``obs [S, B, T, D]`` -> ``(logits [S, B, T, n], hidden)``."""
        ...


SeedStepper = Callable[[Tensor, "Tensor | None"], "tuple[Tensor, Tensor | None]"]
"""``step(obs [S, B, T, ...], hidden) -> (logits [S, B, T, n], hidden)`` of a policy whose
per-seed parameters were prepared once (``seed_stepper(params)``)."""


class MemoryOne(Protocol):
    """A memory-one policy (``memory_one = True``) with log-probabilities per state."""

    memory_one: bool

    def state_log_probs(self, params: ParamDict) -> Tensor:
        """Log-probabilities ``[S, 5, 2]`` of both actions in each memory-one state."""
        ...


class _Resettable(Protocol):
    def reset_parameters(self) -> None: ...

STATE_OF_OBS = (1, 2, 3, 4, 0)
"""2-action observation index (CC, CD, DC, DD, START) -> memory-one state index."""

INITS = ("zeros", "normal", "truncated-normal", "uniform")
"""Initial logit distributions of `random_logits`."""


def random_logits(
    shape: Sequence[int],
    dist: str = "normal",
    scale: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Initial logits of ``shape`` (float32) drawn with ``generator``.

    ``dist``: ``"zeros"``; ``"normal"``: N(0, scale^2) (the LOLA paper's code,
    ``tf.random_normal``); ``"truncated-normal"``: N(0, scale^2) conditioned on
    ``|x| <= 2 scale`` (TensorFlow's ``truncated_normal``, the default initialiser of the
    DiCE paper's linear policy with ``scale = 1 / sqrt(5)``), drawn by inverting the normal
    CDF; ``"uniform"``: U(-scale, scale).

    Raises:
        ValueError: an unknown ``dist`` or a ``scale`` that is not a finite number >= 0.
    """
    if dist not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {dist!r}")
    if (isinstance(scale, bool) or not isinstance(scale, (int, float))
            or not 0 <= float(scale) < float("inf")):
        raise ValueError(f"the init scale must be a finite number >= 0, got {scale!r}")
    shape = tuple(shape)
    if dist == "zeros":
        return torch.zeros(shape, device=device)
    gen_device = generator.device if generator is not None else device
    if dist == "normal":
        x = torch.randn(shape, generator=generator, device=gen_device)
    else:
        u = torch.rand(shape, generator=generator, device=gen_device, dtype=torch.float64)
        if dist == "uniform":
            x = 2 * u - 1
        else:  # inverse CDF of the standard normal restricted to [-2, 2]
            lo = torch.special.ndtr(torch.tensor(-2.0, dtype=torch.float64))
            x = torch.special.ndtri(lo + (1 - 2 * lo) * u)
    return (float(scale) * x).to(device=device, dtype=torch.float32)


class TabularPolicy(nn.Module):
    """Memory-one policy of a 2-action game: one logit of P(action 0) per state.

    Parameter ``logits`` ``[5]`` in state order ``(start, CC, CD, DC, DD)`` (own side).
    """

    memory_one = True

    def __init__(self, init: float = 0.0) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.full((5,), float(init)))

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, None]:
        if obs.shape[-1] != 5:
            raise ValueError(
                f"TabularPolicy needs 2-action observations [..., 5], got {list(obs.shape)}"
            )
        logit = obs @ self.logits[list(STATE_OF_OBS)]
        return torch.stack([nn.functional.logsigmoid(logit), nn.functional.logsigmoid(-logit)],
                           dim=-1), None

    @staticmethod
    def state_log_probs(params: ParamDict) -> Tensor:
        """Log-probabilities ``[S, 5 (state), 2 (action)]`` from stacked ``params``."""
        logits = params["logits"]
        return torch.stack([nn.functional.logsigmoid(logits), nn.functional.logsigmoid(-logits)],
                           dim=-1)

    def forward_seeds(
        self, params: ParamDict, obs: Tensor, hidden: Tensor | None = None
    ) -> tuple[Tensor, None]:
        """Seed-batched forward: ``obs [S, ..., 5]`` -> logits ``[S, ..., 2]``."""
        table = self.state_log_probs(params)[:, list(STATE_OF_OBS)]  # [S, 5 obs, 2]
        s = obs.shape
        out = torch.bmm(obs.reshape(s[0], -1, 5), table.to(obs.dtype))
        return out.reshape(*s[:-1], 2), None

    @staticmethod
    def init_params(
        n_seeds: int, generator: torch.Generator | None = None, device=None, std: float = 0.0,
        init: float = 0.0, dist: str = "normal",
    ) -> ParamDict:
        """``{"logits": [S, 5]}``: ``init`` plus noise of scale ``std`` (``dist`` as in
        `random_logits`; none when ``std`` is 0)."""
        logits = torch.full((n_seeds, 5), float(init), device=device)
        if std:
            logits = logits + random_logits((n_seeds, 5), dist, std, generator, device)
        return {"logits": logits}


class MLPPolicy(nn.Module):
    """MLP over the current one-hot observation ``[..., D]`` -> action logits ``[..., n]``."""

    def __init__(self, obs_dim: int = 5, n_actions: int = 2, hidden: Sequence[int] = (32,)):
        super().__init__()
        layers: list[nn.Module] = []
        width = obs_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, None]:
        return self.net(obs), None


class GRUPolicy(nn.Module):
    """GRU over the observation history ``[B, T, D]`` -> action logits ``[B, T, n]``.

    ``hidden`` is ``[B, H]`` (zeros when ``None``). Written with ``nn.Linear`` gates (the
    equations of `torch.nn.GRUCell`) so that it can be vmapped over seeds.
    """

    def __init__(self, obs_dim: int = 5, n_actions: int = 2, hidden_size: int = 32):
        super().__init__()
        self.hidden_size = hidden_size
        self.x2h = nn.Linear(obs_dim, 3 * hidden_size)
        self.h2h = nn.Linear(hidden_size, 3 * hidden_size)
        self.head = nn.Linear(hidden_size, n_actions)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if hidden is None:
            hidden = obs.new_zeros(*obs.shape[:-2], self.hidden_size)
        # [B, T, 3H]; on a 2-d input, so that under vmap a seed's weights are not copied
        # for each of the B games
        xs = self.x2h(obs.flatten(0, -2)).view(*obs.shape[:-1], -1)
        outs = []
        for x in xs.unbind(-2):  # (one backward op for all steps, unlike indexing each step)
            xr, xz, xn = x.chunk(3, dim=-1)
            hr, hz, hn = self.h2h(hidden).chunk(3, dim=-1)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            hidden = (1 - z) * n + z * hidden
            outs.append(hidden)
        return self.head(torch.stack(outs, dim=-2)), hidden

    def forward_seeds(
        self, params: ParamDict, obs: Tensor, hidden: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Seed-batched forward (`seed_gru`): ``obs [S, B, T, D]``, ``hidden [S, B, H]`` ->
        ``(logits [S, B, T, n], hidden [S, B, H])``."""
        return self.seed_stepper(params)(obs, hidden)

    def seed_stepper(self, params: ParamDict) -> SeedStepper:
        """`forward_seeds` with the layers of ``params`` prepared once (`seed_layers`), for
        calls one round at a time."""
        layers = seed_layers(params)

        def step(obs: Tensor, hidden: Tensor | None) -> tuple[Tensor, Tensor]:
            states, hidden = seed_gru(layers, "", obs, hidden)
            return seed_linear(layers["head."], states), hidden

        return step


class TabularValue(nn.Module):
    """Value per memory-one state of a 2-action game: ``values [5]`` in state order."""

    memory_one = True

    def __init__(self) -> None:
        super().__init__()
        self.values = nn.Parameter(torch.zeros(5))

    def forward(self, obs: Tensor) -> Tensor:
        return obs @ self.values[list(STATE_OF_OBS)]

    @staticmethod
    def init_params(
        n_seeds: int, generator: torch.Generator | None = None, device=None
    ) -> ParamDict:
        return {"values": torch.zeros(n_seeds, 5, device=device)}


class MLPValue(nn.Module):
    """MLP value of an observation ``[..., D]`` -> ``[...]``."""

    def __init__(self, obs_dim: int = 5, hidden: Sequence[int] = (32,)):
        super().__init__()
        self.mlp = MLPPolicy(obs_dim, 1, hidden)

    def forward(self, obs: Tensor) -> Tensor:
        return self.mlp(obs)[0].squeeze(-1)


def init_params(
    module: nn.Module,
    n_seeds: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> ParamDict:
    """Stacked parameters ``[S, ...]`` of ``n_seeds`` independently initialised copies.

    Uses ``module.init_params(n_seeds, generator, device)`` when the module defines it;
    otherwise re-initialises deep copies (``reset_parameters`` of every submodule) under a
    global seed drawn from ``generator``, and stacks them with
    `torch.func.stack_module_state`. Deterministic given the generator.
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    if hasattr(module, "init_params"):
        return cast(SelfInitialising, module).init_params(n_seeds, generator, device)
    copies = []
    for _ in range(n_seeds):
        device_of_gen = generator_device(generator)
        seed = int(torch.randint(0, 2**62, (), generator=generator, device=device_of_gen))
        clone = copy.deepcopy(module)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in clone.modules():
                if hasattr(m, "reset_parameters"):
                    cast(_Resettable, m).reset_parameters()
        copies.append(clone.to(device) if device is not None else clone)
    params, _ = stack_module_state(copies)
    return {k: v.detach() for k, v in params.items()}


def generator_device(generator: torch.Generator | None) -> torch.device:
    """The device of ``generator`` (CPU for the global generator, ``None``)."""
    return generator.device if generator is not None else torch.device("cpu")

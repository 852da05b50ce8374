"""Policies and value functions as ``nn.Module``\\ s, batched over seeds, and rollouts.

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
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from lola_games.envs.batched import (
    BatchedIteratedGame,
    encode_states,
    reward_table,
)
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game

__all__ = [
    "TabularPolicy",
    "MLPPolicy",
    "GRUPolicy",
    "TabularValue",
    "MLPValue",
    "Params",
    "INITS",
    "random_logits",
    "init_params",
    "seed_forward",
    "seed_values",
    "Rollout",
    "sample_rollout",
    "log_probs",
    "rollout_values",
    "memory_one_probs",
]

Params = dict[str, Tensor]
"""Stacked per-seed parameters: name -> tensor ``[S, ...]``."""

_STATE_OF_OBS = (1, 2, 3, 4, 0)  # 2-action obs index (CC, CD, DC, DD, START) -> state index

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
        logit = obs @ self.logits[list(_STATE_OF_OBS)]
        return torch.stack([nn.functional.logsigmoid(logit), nn.functional.logsigmoid(-logit)],
                           dim=-1), None

    @staticmethod
    def state_log_probs(params: Params) -> Tensor:
        """Log-probabilities ``[S, 5 (state), 2 (action)]`` from stacked ``params``."""
        logits = params["logits"]
        return torch.stack([nn.functional.logsigmoid(logits), nn.functional.logsigmoid(-logits)],
                           dim=-1)

    def forward_seeds(
        self, params: Params, obs: Tensor, hidden: Tensor | None = None
    ) -> tuple[Tensor, None]:
        """Seed-batched forward: ``obs [S, ..., 5]`` -> logits ``[S, ..., 2]``."""
        table = self.state_log_probs(params)[:, list(_STATE_OF_OBS)]  # [S, 5 obs, 2]
        s = obs.shape
        out = torch.bmm(obs.reshape(s[0], -1, 5), table.to(obs.dtype))
        return out.reshape(*s[:-1], 2), None

    @staticmethod
    def init_params(
        n_seeds: int, generator: torch.Generator | None = None, device=None, std: float = 0.0,
        init: float = 0.0, dist: str = "normal",
    ) -> Params:
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


class TabularValue(nn.Module):
    """Value per memory-one state of a 2-action game: ``values [5]`` in state order."""

    memory_one = True

    def __init__(self) -> None:
        super().__init__()
        self.values = nn.Parameter(torch.zeros(5))

    def forward(self, obs: Tensor) -> Tensor:
        return obs @ self.values[list(_STATE_OF_OBS)]

    @staticmethod
    def init_params(n_seeds: int, generator: torch.Generator | None = None, device=None) -> Params:
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
) -> Params:
    """Stacked parameters ``[S, ...]`` of ``n_seeds`` independently initialised copies.

    Uses ``module.init_params(n_seeds, generator, device)`` when the module defines it;
    otherwise re-initialises deep copies (``reset_parameters`` of every submodule) under a
    global seed drawn from ``generator``, and stacks them with
    `torch.func.stack_module_state`. Deterministic given the generator.
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    if hasattr(module, "init_params"):
        return module.init_params(n_seeds, generator, device)
    copies = []
    for _ in range(n_seeds):
        seed = int(torch.randint(0, 2**62, (), generator=generator, device=_gen_device(generator)))
        clone = copy.deepcopy(module)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in clone.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        copies.append(clone.to(device) if device is not None else clone)
    params, _ = stack_module_state(copies)
    return {k: v.detach() for k, v in params.items()}


def _gen_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def seed_forward(
    module: nn.Module, params: Params, obs: Tensor, hidden: Tensor | None = None
) -> tuple[Tensor, Tensor | None]:
    """Policy forward for all seeds: ``obs [S, B, T, D]`` -> ``(logits [S, B, T, n], hidden)``.

    ``hidden`` is ``[S, ...]`` or ``None``.
    """
    if hasattr(module, "forward_seeds"):
        return module.forward_seeds(params, obs, hidden)

    def call(p, o, h):
        logits, h = functional_call(module, p, (o, h))
        return logits, (() if h is None else h)

    logits, hidden = vmap(call, in_dims=(0, 0, None if hidden is None else 0))(params, obs, hidden)
    return logits, (None if isinstance(hidden, tuple) else hidden)


def seed_values(module: nn.Module, params: Params, obs: Tensor) -> Tensor:
    """Value forward for all seeds: ``obs [S, ..., D]`` -> ``[S, ...]``."""
    if isinstance(module, TabularValue):
        table = params["values"][:, list(_STATE_OF_OBS)].to(obs.dtype)  # [S, 5]
        s = obs.shape
        return torch.bmm(obs.reshape(s[0], -1, 5), table[:, :, None]).reshape(s[:-1])
    return vmap(lambda p, o: functional_call(module, p, (o,)))(params, obs)


@dataclass
class Rollout:
    """Sampled episodes of both players, ``S`` seeds x ``B`` episodes x ``T`` rounds.

    ``states[..., t, i]`` is the memory-one state player ``i`` observed before round ``t``
    (0 = start, ``1 + own * n + other``), ``actions[..., t, i]`` its action and
    ``rewards[..., t, i]`` its reward; all ``[S, B, T, 2]``.
    """

    states: Tensor
    actions: Tensor
    rewards: Tensor
    n_actions: int

    def obs(self, player: int, dtype: torch.dtype = torch.float32) -> Tensor:
        """One-hot observations ``[S, B, T, n * n + 1]`` of ``player``."""
        return encode_states(self.states[..., player], self.n_actions, dtype)


def _sample(logits: Tensor, u: Tensor) -> Tensor:
    """Inverse-CDF draw of categorical ``logits [..., n]`` with uniforms ``u [...]``."""
    cdf = torch.softmax(logits, dim=-1).cumsum(-1)[..., :-1]
    return (u.unsqueeze(-1) >= cdf).sum(-1)


_VIEW_1 = (0, 1, 3, 2, 4)  # joint state (player 0's side) -> player 1's memory-one state
SMALL_CHAIN = 1024
"""Up to this many games (seeds x episodes), `_tabular_chain` precomputes successors."""


def _tabular_chain(p0: Tensor, p1: Tensor, u: Tensor) -> Tensor:
    """Joint states ``[S, B, T]`` after each round of two tabular memory-one policies.

    ``p0, p1``: ``[S, 5]`` P(action 0) per own state; ``u``: uniforms ``[T, S, B, 2]``
    (player ``i`` plays action 1 when ``u[..., i] >= P(action 0)``). Joint states are 0
    (start) and ``1 + 2 * a0 + a1``. Small batches draw the next joint state of all 5
    states in bulk first (one ``gather`` per round remains); large ones look up the
    current state's probabilities each round (less memory traffic).
    """
    n_rounds, n_seeds, batch, _ = u.shape
    view1 = torch.tensor(_VIEW_1, device=p1.device)
    probs = torch.stack([p0, p1[:, view1]], dim=-1)  # [S, 5 joint states, 2 players]
    if n_seeds * batch <= SMALL_CHAIN:
        # [T, S, B, 5]: the next joint state 1 + 2 * a0 + a1 from each joint state; the
        # sequential part is then one gather per round, written in place
        u0, u1 = u[..., 0, None], u[..., 1, None]  # [T, S, B, 1]
        successor = (u0 >= probs[:, None, :, 0]).long()
        successor.mul_(2).add_(u1 >= probs[:, None, :, 1]).add_(1)
        visited = torch.empty(n_rounds, n_seeds, batch, 1, dtype=torch.long, device=u.device)
        state = torch.zeros(n_seeds, batch, 1, dtype=torch.long, device=u.device)
        for t, succ in enumerate(successor.unbind(0)):
            state = torch.gather(succ, -1, state, out=visited[t])
        return visited[..., 0].permute(1, 2, 0)
    table = probs.reshape(n_seeds * 5, 2)
    offset = torch.arange(0, 5 * n_seeds, 5, device=u.device).repeat_interleave(batch)
    state = torch.zeros(n_seeds * batch, dtype=torch.long, device=u.device)
    visited = []
    flat_u = u.reshape(n_rounds, n_seeds * batch, 2)
    for t in range(n_rounds):
        a = flat_u[t] >= table.index_select(0, state + offset)
        state = 1 + 2 * a[:, 0] + a[:, 1]
        visited.append(state.view(n_seeds, batch))
    return torch.stack(visited, dim=-1)


@torch.no_grad()
def sample_rollout(
    game: MatrixGame | str,
    policies: tuple[nn.Module, nn.Module],
    params: tuple[Params, Params],
    batch_size: int,
    length: int,
    generator: torch.Generator | None = None,
) -> Rollout:
    """Sample ``batch_size`` episodes of ``length`` rounds per seed, without gradients.

    Args:
        game: the matrix game.
        policies: the two players' modules (the call signature in the module docstring).
        params: their stacked per-seed parameters ``[S, ...]`` (same ``S``, same device).
        batch_size, length: episodes per seed and rounds per episode.
        generator: ``torch.Generator`` on the parameters' device (determinism).

    Two tabular policies are sampled as a joint Markov chain; any other pair steps a
    `BatchedIteratedGame` of ``S * batch_size`` games.
    """
    game = get_game(game)
    p0, p1 = params
    first = next(iter(p0.values()))
    n_seeds, device = first.shape[0], first.device
    if next(iter(p1.values())).shape[0] != n_seeds:
        raise ValueError("both players' params must have the same number of seeds")
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device} but params are on {device}")
    shape = (n_seeds, batch_size, length)
    n = game.n_actions
    dtype = first.dtype if first.is_floating_point() else torch.get_default_dtype()
    rewards_of = reward_table(game, device, dtype)  # [n * n, 2]
    if all(getattr(p, "memory_one", False) for p in policies):
        u = torch.rand(length, n_seeds, batch_size, 2, generator=generator, device=device)
        probs = [policies[i].state_log_probs(params[i])[..., 0].exp() for i in range(2)]
        after = _tabular_chain(probs[0], probs[1], u)  # [S, B, T]
        before = torch.cat([torch.zeros_like(after[..., :1]), after[..., :-1]], dim=-1)
        # per joint state: both players' memory-one states; per joint outcome state
        # (1 + 2 * a0 + a1): the actions and rewards (row 0 is never looked up)
        state_pairs = torch.tensor(list(zip(range(5), _VIEW_1, strict=True)), device=device)
        action_pairs = torch.tensor([[0, 0], [0, 0], [0, 1], [1, 0], [1, 1]], device=device)
        reward_pairs = torch.cat([rewards_of[:1], rewards_of])

        def lookup(table: Tensor, index: Tensor) -> Tensor:
            return table.index_select(0, index.flatten()).view(*index.shape, 2)

        states = lookup(state_pairs, before)
        actions = lookup(action_pairs, after)
        return Rollout(states, actions, lookup(reward_pairs, after), n_actions=n)
    else:
        u = torch.rand(*shape, 2, generator=generator, device=device)
        env = BatchedIteratedGame(game, n_seeds * batch_size, length, device=device)
        obs, _ = env.reset()
        hidden: list[Tensor | None] = [None, None]
        states_t, actions_t = [], []
        for t in range(length):
            states_t.append(env.states.view(n_seeds, batch_size, 2))
            acts = []
            for i in range(2):
                o = obs[:, i].view(n_seeds, batch_size, 1, -1)
                logits, hidden[i] = seed_forward(policies[i], params[i], o, hidden[i])
                acts.append(_sample(logits[:, :, 0], u[:, :, t, i]))
            a = torch.stack(acts, dim=-1)
            actions_t.append(a)
            obs, *_ = env.step(a.view(-1, 2), check=False)
        states, actions = torch.stack(states_t, dim=2), torch.stack(actions_t, dim=2)
    rewards = rewards_of[actions[..., 0] * n + actions[..., 1]]
    return Rollout(states=states, actions=actions, rewards=rewards, n_actions=n)


def log_probs(module: nn.Module, params: Params, rollout: Rollout, player: int) -> Tensor:
    """Differentiable log-probabilities ``[S, B, T]`` of ``player``'s sampled actions."""
    actions = rollout.actions[..., player]
    if getattr(module, "memory_one", False):
        table = module.state_log_probs(params)  # [S, 5, 2]
        flat = table.flatten(1)  # [S, 10]
        index = (rollout.states[..., player] * 2 + actions).flatten(1)
        return torch.gather(flat, 1, index).view(actions.shape)
    obs = rollout.obs(player, next(iter(params.values())).dtype)
    logits, _ = seed_forward(module, params, obs, None)
    logp = torch.log_softmax(logits, dim=-1)
    return torch.gather(logp, -1, actions.unsqueeze(-1)).squeeze(-1)


def rollout_values(module: nn.Module, params: Params, rollout: Rollout, player: int) -> Tensor:
    """Value estimates ``[S, B, T]`` of the states ``player`` saw in ``rollout``."""
    if isinstance(module, TabularValue):
        states = rollout.states[..., player]
        return torch.gather(params["values"], 1, states.flatten(1)).view(states.shape)
    obs = rollout.obs(player, next(iter(params.values())).dtype)
    return seed_values(module, params, obs)


def memory_one_probs(module: nn.Module, params: Params, n_actions: int = 2) -> Tensor:
    """P(action 0) ``[S, n * n + 1]`` in state order (start, outcomes...).

    Exact for memory-one policies; for recurrent ones it is the first-step response to each
    observation (``hidden=None``).
    """
    n_seeds = next(iter(params.values())).shape[0]
    states = torch.arange(n_actions * n_actions + 1, device=next(iter(params.values())).device)
    obs = encode_states(states, n_actions, next(iter(params.values())).dtype)
    obs = obs[None, :, None, :].expand(n_seeds, -1, 1, -1)
    logits, _ = seed_forward(module, params, obs, None)
    return torch.softmax(logits[:, :, 0], dim=-1)[..., 0]


# =============================================================================================
# Coin Game networks
# =============================================================================================
# Observations are images [B, T, 4, N, N] (channels me, other, my coin, other's coin; see
# lola_games.games.coin) and there are 4 actions. The LOLA paper's Coin Game policy (as in
# alshedivat/lola, lola/networks.py) is two 3x3 convolutions with 20 channels, stride 1 and
# "same" padding, each followed by ReLU, then a recurrent layer of 32 units and a linear
# layer to the action logits. Differences: a GRU of 32 units where that code has an LSTM
# of 32 units; no batch normalisation (that code normalises with the statistics of each batch, so a
# one-step call and a whole-sequence call would disagree); and the image is read
# channels-first (that code feeds [4, N, N] to a channels-last convolution, i.e. as a
# 4 x N image with N channels).


class CoinConvTrunk(nn.Module):
    """Two 3x3 convolutions (stride 1, "same" padding) with ReLU, flattened.

    ``obs [..., 4, N, N]`` -> features ``[..., channels * N * N]``.
    """

    def __init__(self, grid_size: int = 3, channels: int = 20) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, channels, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1)
        self.out_features = channels * grid_size * grid_size

    def forward(self, obs: Tensor) -> Tensor:
        lead = obs.shape[:-3]
        x = obs.reshape(-1, *obs.shape[-3:])
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return x.reshape(*lead, self.out_features)


class CoinConvGRUPolicy(nn.Module):
    """The LOLA paper's Coin Game policy: conv trunk, GRU, linear head (notes above).

    ``forward(obs [B, T, 4, N, N], hidden [B, H] | None) -> (logits [B, T, 4], hidden)``.
    """

    def __init__(
        self, grid_size: int = 3, n_actions: int = 4, channels: int = 20, hidden_size: int = 32
    ) -> None:
        super().__init__()
        self.trunk = CoinConvTrunk(grid_size, channels)
        self.gru = GRUPolicy(self.trunk.out_features, n_actions, hidden_size)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.gru(self.trunk(obs), hidden)


class CoinMLPPolicy(nn.Module):
    """MLP (tanh) over the flattened observation: ``[B, T, 4, N, N]`` -> logits ``[B, T, 4]``.

    Memoryless (the board is the whole state of the game); ``hidden`` is ignored.
    """

    def __init__(
        self, grid_size: int = 3, n_actions: int = 4, hidden: Sequence[int] = (64,)
    ) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.mlp = MLPPolicy(self.obs_size, n_actions, hidden)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, None]:
        # layers on a 2-d input: under vmap a seed's weights are not copied for each game
        logits, _ = self.mlp(obs.reshape(-1, self.obs_size))
        return logits.view(*obs.shape[:-3], -1), None


class CoinConvValue(nn.Module):
    """Value of an observation for baselines: conv trunk and a linear layer.

    ``obs [..., 4, N, N]`` -> ``[...]`` (the value head of the LOLA Coin Game code, here
    with a trunk of its own).
    """

    def __init__(self, grid_size: int = 3, channels: int = 20) -> None:
        super().__init__()
        self.trunk = CoinConvTrunk(grid_size, channels)
        self.head = nn.Linear(self.trunk.out_features, 1)

    def forward(self, obs: Tensor) -> Tensor:
        features = self.trunk(obs)
        return self.head(features.reshape(-1, features.shape[-1])).view(features.shape[:-1])


class CoinMLPValue(nn.Module):
    """MLP value of the flattened observation: ``[..., 4, N, N]`` -> ``[...]``."""

    def __init__(self, grid_size: int = 3, hidden: Sequence[int] = (64,)) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.mlp = MLPValue(self.obs_size, hidden)

    def forward(self, obs: Tensor) -> Tensor:
        return self.mlp(obs.reshape(-1, self.obs_size)).view(obs.shape[:-3])


class CoinGRUPolicy(nn.Module):
    """The POLA paper's Coin Game policy: a dense layer (ReLU), a GRU, a linear head.

    As in Silent-Zebra/POLA (``jax_files/POLA_dice_jax.py``, ``RNN`` with
    ``layers_before_gru=1``): the flattened board ``[B, T, 4 N N]`` goes through one dense
    layer of ``hidden_size`` units with ReLU, a GRU of ``hidden_size`` units, and a linear
    layer to the 4 action logits (the paper's runs use 64 units).

    ``forward(obs [B, T, 4, N, N], hidden [B, H] | None) -> (logits [B, T, 4], hidden)``.
    """

    def __init__(self, grid_size: int = 3, n_actions: int = 4, hidden_size: int = 64) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.dense = nn.Linear(self.obs_size, hidden_size)
        self.gru = GRUPolicy(hidden_size, n_actions, hidden_size)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lead = obs.shape[:-3]
        x = torch.relu(self.dense(obs.reshape(-1, self.obs_size)))
        return self.gru(x.view(*lead, -1), hidden)

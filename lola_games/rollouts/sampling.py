"""Sampled rollouts of matrix games and the seed-batched calls of policies and values.

Every function here works on stacked per-seed parameters (see `lola_games.rollouts.nets`):
``seed_forward`` / ``seed_values`` call a module for all seeds, `sample_rollout` samples
episodes, `log_probs` and `rollout_values` recompute the players' log-probabilities and value
estimates on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from lola_games.core.tensors import ParamDict
from lola_games.envs.batched import (
    BatchedIteratedGame,
    encode_states,
    reward_table,
)
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game
from lola_games.rollouts.coin_rollout import CoinRollout
from lola_games.rollouts.nets import STATE_OF_OBS, MemoryOne, SeedBatched, TabularValue

__all__ = [
    "seed_forward",
    "seed_values",
    "Rollout",
    "sample_categorical",
    "SMALL_CHAIN",
    "tabular_chain",
    "sample_rollout",
    "log_probs",
    "rollout_logits",
    "rollout_values",
    "memory_one_probs",
]


def seed_forward(
    module: nn.Module, params: ParamDict, obs: Tensor, hidden: Tensor | None = None
) -> tuple[Tensor, Tensor | None]:
    """Policy forward for all seeds: ``obs [S, B, T, D]`` -> ``(logits [S, B, T, n], hidden)``.

    ``hidden`` is ``[S, ...]`` or ``None``.
    """
    if hasattr(module, "forward_seeds"):
        return cast(SeedBatched, module).forward_seeds(params, obs, hidden)

    def call(p, o, h):
        logits, h = functional_call(module, p, (o, h))
        return logits, (() if h is None else h)

    logits, hidden = vmap(call, in_dims=(0, 0, None if hidden is None else 0))(params, obs, hidden)
    return logits, (None if isinstance(hidden, tuple) else hidden)


def seed_values(module: nn.Module, params: ParamDict, obs: Tensor) -> Tensor:
    """Value forward for all seeds: ``obs [S, ..., D]`` -> ``[S, ...]``."""
    if isinstance(module, TabularValue):
        table = params["values"][:, list(STATE_OF_OBS)].to(obs.dtype)  # [S, 5]
        s = obs.shape
        return torch.bmm(obs.reshape(s[0], -1, 5), table[:, :, None]).reshape(s[:-1])
    return vmap(lambda p, o: functional_call(module, p, (o,)))(params, obs)


@dataclass
class Rollout:
    """Sampled episodes of both players, ``S`` seeds x ``B`` episodes x ``T`` rounds.

    ``states[..., t, i]`` is the memory-one state player ``i`` observed before round ``t``
    (0 = start, ``1 + own * n + other``), ``actions[..., t, i]`` its action and
    ``rewards[..., t, i]`` its reward; all ``[S, B, T, 2]``. ``memo`` holds what a learner
    computed from these episodes and uses twice, by a key of its own (as `CoinRollout`'s).
    """

    states: Tensor
    actions: Tensor
    rewards: Tensor
    n_actions: int
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def obs(self, player: int, dtype: torch.dtype = torch.float32) -> Tensor:
        """One-hot observations ``[S, B, T, n * n + 1]`` of ``player``."""
        return encode_states(self.states[..., player], self.n_actions, dtype)


def sample_categorical(logits: Tensor, u: Tensor) -> Tensor:
    """Inverse-CDF draw of categorical ``logits [..., n]`` with uniforms ``u [...]``."""
    cdf = torch.softmax(logits, dim=-1).cumsum(-1)[..., :-1]
    return (u.unsqueeze(-1) >= cdf).sum(-1)


_VIEW_1 = (0, 1, 3, 2, 4)  # joint state (player 0's side) -> player 1's memory-one state
SMALL_CHAIN = 1024
"""Up to this many games (seeds x episodes), `tabular_chain` precomputes successors."""


def tabular_chain(p0: Tensor, p1: Tensor, u: Tensor) -> Tensor:
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
    visited_states = []
    flat_u = u.reshape(n_rounds, n_seeds * batch, 2)
    for t in range(n_rounds):
        a = flat_u[t] >= table.index_select(0, state + offset)
        state = 1 + 2 * a[:, 0] + a[:, 1]
        visited_states.append(state.view(n_seeds, batch))
    return torch.stack(visited_states, dim=-1)


@torch.no_grad()
def sample_rollout(
    game: MatrixGame | str,
    policies: tuple[nn.Module, nn.Module],
    params: tuple[ParamDict, ParamDict],
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
    dtype = first.dtype if first.is_floating_point() else torch.get_default_dtype()
    rewards_of = reward_table(game, device, dtype)  # [n * n, 2]
    if all(getattr(p, "memory_one", False) for p in policies):
        u = torch.rand(length, n_seeds, batch_size, 2, generator=generator, device=device)
        return _sample_tabular(policies, params, u, rewards_of, game.n_actions)
    u = torch.rand(n_seeds, batch_size, length, 2, generator=generator, device=device)
    return _sample_env(game, policies, params, u, rewards_of)


def _sample_tabular(
    policies: tuple[nn.Module, nn.Module],
    params: tuple[ParamDict, ParamDict],
    u: Tensor,
    rewards_of: Tensor,
    n: int,
) -> Rollout:
    """`sample_rollout` of two memory-one policies as a joint Markov chain (uniforms ``u``
    ``[T, S, B, 2]``, rewards ``[n * n, 2]`` per outcome)."""
    device = u.device
    probs = [cast(MemoryOne, policies[i]).state_log_probs(params[i])[..., 0].exp()
             for i in range(2)]
    after = tabular_chain(probs[0], probs[1], u)  # [S, B, T]
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


def _sample_env(
    game: MatrixGame,
    policies: tuple[nn.Module, nn.Module],
    params: tuple[ParamDict, ParamDict],
    u: Tensor,
    rewards_of: Tensor,
) -> Rollout:
    """`sample_rollout` of any two policies, stepping a `BatchedIteratedGame` (uniforms
    ``u`` ``[S, B, T, 2]``, rewards ``[n * n, 2]`` per outcome)."""
    n_seeds, batch_size, length, _ = u.shape
    n = game.n_actions
    env = BatchedIteratedGame(game, n_seeds * batch_size, length, device=u.device)
    obs, _ = env.reset()
    hidden: list[Tensor | None] = [None, None]
    states_t, actions_t = [], []
    for t in range(length):
        states_t.append(env.states.view(n_seeds, batch_size, 2))
        acts = []
        for i in range(2):
            o = obs[:, i].view(n_seeds, batch_size, 1, -1)
            logits, hidden[i] = seed_forward(policies[i], params[i], o, hidden[i])
            acts.append(sample_categorical(logits[:, :, 0], u[:, :, t, i]))
        a = torch.stack(acts, dim=-1)
        actions_t.append(a)
        obs, *_ = env.step(a.view(-1, 2), check=False)
    states, actions = torch.stack(states_t, dim=2), torch.stack(actions_t, dim=2)
    rewards = rewards_of[actions[..., 0] * n + actions[..., 1]]
    return Rollout(states=states, actions=actions, rewards=rewards, n_actions=n)


def log_probs(module: nn.Module, params: ParamDict, rollout: Rollout | CoinRollout,
              player: int) -> Tensor:
    """Differentiable log-probabilities ``[S, B, T]`` of ``player``'s sampled actions (in a
    matrix game's `Rollout` or a Coin Game's `CoinRollout`)."""
    actions = rollout.actions[..., player]
    if getattr(module, "memory_one", False) and isinstance(rollout, Rollout):
        table = cast(MemoryOne, module).state_log_probs(params)  # [S, 5, 2]
        flat = table.flatten(1)  # [S, 10]
        index = (rollout.states[..., player] * 2 + actions).flatten(1)
        return torch.gather(flat, 1, index).view(actions.shape)
    logp = torch.log_softmax(rollout_logits(module, params, rollout, player), dim=-1)
    return torch.gather(logp, -1, actions.unsqueeze(-1)).squeeze(-1)


def rollout_logits(module: nn.Module, params: ParamDict, rollout: Rollout | CoinRollout,
                   player: int) -> Tensor:
    """Logits ``[S, B, T, n]`` of ``player``'s policy at the observations it saw in
    ``rollout``: those recorded while sampling when they were computed with these very
    ``params`` (`CoinRollout.logits_of`), else the policy run over the episodes."""
    recorded = rollout.logits_of(player, params) if isinstance(rollout, CoinRollout) else None
    if recorded is not None:
        return recorded
    obs = rollout.obs(player, next(iter(params.values())).dtype)
    return seed_forward(module, params, obs, None)[0]


def rollout_values(module: nn.Module, params: ParamDict, rollout: Rollout | CoinRollout,
                   player: int) -> Tensor:
    """Value estimates ``[S, B, T]`` of the states ``player`` saw in ``rollout`` (a matrix
    game's `Rollout` or a Coin Game's `CoinRollout`)."""
    if isinstance(module, TabularValue) and isinstance(rollout, Rollout):
        states = rollout.states[..., player]
        return torch.gather(params["values"], 1, states.flatten(1)).view(states.shape)
    obs = rollout.obs(player, next(iter(params.values())).dtype)
    return seed_values(module, params, obs)


def memory_one_probs(module: nn.Module, params: ParamDict, n_actions: int = 2) -> Tensor:
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

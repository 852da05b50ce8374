"""Episodes of one learner against an opponent drawn per episode, as LOQA trains.

LOQA (`lola_games.agents.loqa`) plays each of its ``B`` episodes per seed against its own
opponent, drawn from a replay buffer of past parameters (MiladInk/loqa, ``coin_train.py``
``sample_agent_params`` / ``generate_episodes``). Here the learner's params are stacked per
seed ``[S, ...]`` and the opponents' either per seed ``[S, ...]`` (one opponent for all
episodes of a seed) or per episode ``[S * B, ...]`` (episode ``b`` of seed ``s`` at row
``s * B + b``); networks with per-episode weights run as a batch of ``S * B`` one-episode
seeds (batched matrix products).

`play_episodes` returns an `Episodes`: each side's observations, actions and rewards,
with the learner's observations for rounds ``0 .. T`` (the board or outcome after the last
round included: LOQA bootstraps from it). With ``epsilon > 0`` both players act uniformly at
random with that probability (the authors' IPD runs, ``ipd.py`` ``play_episode_scan``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from lola_games.core.tensors import ParamDict
from lola_games.envs.batched import encode_states
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.envs.coin_boards import coin_observations
from lola_games.games.coin import CoinGame
from lola_games.rollouts.sampling import sample_categorical, sample_rollout, seed_forward

__all__ = ["Episodes", "play_episodes", "episode_forward", "episode_critic", "per_episode"]


@dataclass
class Episodes:
    """``S`` seeds x ``B`` episodes x ``T`` rounds of the learner (``own``) and its opponent.

    Attributes:
        obs: ``[S, B, T + 1, ...]`` the learner's observations before rounds ``0 .. T``.
        op_obs: ``[S, B, T, ...]`` the opponent's observations before rounds ``0 .. T-1``.
        actions, op_actions: ``[S, B, T]`` (long) the two sides' actions.
        rewards, op_rewards: ``[S, B, T]`` their rewards.
        op_logits: ``[S, B, T, n]`` the opponent's policy logits as it played (before any
            epsilon mixing), or ``None`` where they were not recorded.
    """

    obs: Tensor
    op_obs: Tensor
    actions: Tensor
    op_actions: Tensor
    rewards: Tensor
    op_rewards: Tensor
    op_logits: Tensor | None = None


def per_episode(params: ParamDict, batch: int) -> ParamDict:
    """Per-seed params ``[S, ...]`` repeated for each episode: ``[S * B, ...]``."""
    return {k: v.repeat_interleave(batch, 0) for k, v in params.items()}


def episode_forward(module: nn.Module, params: ParamDict, obs: Tensor) -> Tensor:
    """Logits ``[S, B, T, n]`` of a policy on observations ``[S, B, T, ...]``; ``params``
    per seed ``[S, ...]`` or per episode ``[S * B, ...]``."""
    s, b = obs.shape[:2]
    if next(iter(params.values())).shape[0] == s:
        return seed_forward(module, params, obs)[0]
    flat = obs.reshape(s * b, 1, *obs.shape[2:])
    return seed_forward(module, params, flat)[0].view(s, b, *obs.shape[2:3], -1)


def episode_critic(module: nn.Module, params: ParamDict, obs: Tensor) -> Tensor:
    """Q-values ``[S, B, T, n]`` of a critic on observations ``[S, B, T, ...]``; ``params``
    per seed ``[S, ...]`` or per episode ``[S * B, ...]``."""
    s, b = obs.shape[:2]
    call = vmap(lambda p, o: functional_call(module, p, (o,)))
    if next(iter(params.values())).shape[0] == s:
        out: Tensor = call(params, obs)
        return out
    flat = obs.reshape(s * b, 1, *obs.shape[2:])
    return call(params, flat).view(s, b, *obs.shape[2:3], -1)


def _mix(logits: Tensor, epsilon: float) -> Tensor:
    """Log-probabilities of acting by ``logits`` with probability ``1 - epsilon`` and
    uniformly at random otherwise."""
    if not epsilon:
        return logits
    probs = torch.softmax(logits, -1) * (1 - epsilon) + epsilon / logits.shape[-1]
    return probs.log()


def play_episodes(game: Any, policy: nn.Module, params: tuple[ParamDict, ParamDict],
                  batch_size: int, length: int, me: int, epsilon: float = 0.0,
                  generator: torch.Generator | None = None) -> Episodes:
    """``batch_size`` episodes of ``length`` rounds per seed of the learner (player ``me``,
    params ``params[0]`` ``[S, ...]``) against opponents ``params[1]`` (per seed or per
    episode), both with the module ``policy``; no gradients."""
    with torch.no_grad():
        if isinstance(game, CoinGame):
            return _play_coin(game, policy, params, batch_size, length, me, epsilon, generator)
        return _play_matrix(game, policy, params, batch_size, length, me, epsilon, generator)


def _play_matrix(game: Any, policy: nn.Module, params: tuple[ParamDict, ParamDict],
                 batch: int, length: int, me: int, epsilon: float,
                 generator: torch.Generator | None) -> Episodes:
    """`play_episodes` on a two-action matrix game: ``S * B`` one-episode runs of
    `sample_rollout` (a memory-one table plays its epsilon-mixed table)."""
    own = per_episode(params[0], batch)
    n_seeds = next(iter(params[0].values())).shape[0]
    other = params[1] if next(iter(params[1].values())).shape[0] != n_seeds else \
        per_episode(params[1], batch)
    pair = [own, other] if me == 0 else [other, own]
    if epsilon:
        pair = [{"logits": torch.logit((1 - epsilon) * torch.sigmoid(p["logits"]) + epsilon / 2)}
                for p in pair]
    roll = sample_rollout(game, (policy, policy), (pair[0], pair[1]), 1, length, generator)

    def side(x: Tensor, i: int) -> Tensor:
        return x[..., i].reshape(n_seeds, batch, length)

    you = 1 - me
    last = 1 + 2 * side(roll.actions, me)[..., -1:] + side(roll.actions, you)[..., -1:]
    dtype = next(iter(params[0].values())).dtype
    states = torch.cat([side(roll.states, me), last], -1)
    return Episodes(encode_states(states, 2, dtype), encode_states(side(roll.states, you), 2,
                                                                   dtype),
                    side(roll.actions, me), side(roll.actions, you), side(roll.rewards, me),
                    side(roll.rewards, you))


def _step_logits(policy: nn.Module, params: ParamDict, obs: Tensor, hidden: Tensor | None,
                 batch: int) -> tuple[Tensor, Tensor | None]:
    """One round's logits ``[S, B, n]`` for observations ``[S, B, ...]`` (params per seed
    or per episode) and the next hidden state."""
    s = obs.shape[0]
    if next(iter(params.values())).shape[0] == s:
        logits, hidden = seed_forward(policy, params, obs.unsqueeze(2), hidden)
        return logits[:, :, 0], hidden
    flat = obs.reshape(s * batch, 1, 1, *obs.shape[2:])
    logits, hidden = seed_forward(policy, params, flat, hidden)
    return logits.view(s, batch, -1), hidden


def _play_coin(game: CoinGame, policy: nn.Module, params: tuple[ParamDict, ParamDict],
               batch: int, length: int, me: int, epsilon: float,
               generator: torch.Generator | None) -> Episodes:
    """`play_episodes` on the Coin Game, in one `BatchedCoinGame` of ``S * B`` boards."""
    first = next(iter(params[0].values()))
    n_seeds, device, dtype = first.shape[0], first.device, first.dtype
    env = BatchedCoinGame(game, n_seeds * batch, device=device, dtype=dtype,
                          generator=generator)
    obs, _ = env.reset()
    u = torch.rand(length, n_seeds, batch, 2, generator=generator, device=device, dtype=dtype)
    hidden: list[Tensor | None] = [None, None]
    cells, owners, actions, rewards, op_logits = [], [], [], [], []
    players = (me, 1 - me)
    for t in range(length):
        cells.append(env.cells)
        owners.append(env.coin_owner)
        moves = [torch.empty(0)] * 2
        for side, player in enumerate(players):
            o = obs[:, player].view(n_seeds, batch, *game.obs_shape)
            logits, hidden[side] = _step_logits(policy, params[side], o, hidden[side], batch)
            if side == 1:
                op_logits.append(logits)
            moves[player] = sample_categorical(_mix(logits, epsilon), u[t, ..., player])
        a = torch.stack(moves, dim=-1).view(-1, 2)
        obs, r, _, _, _ = env.step(a, check=False)
        actions.append(a)
        rewards.append(r)
    cells.append(env.cells)
    owners.append(env.coin_owner)

    def stack(xs: list[Tensor]) -> Tensor:
        return torch.stack(xs, 1).view(n_seeds, batch, len(xs), *xs[0].shape[1:])

    board, owner = stack(cells), stack(owners)
    acts, rews = stack(actions), stack(rewards)
    you = 1 - me
    return Episodes(coin_observations(game, board, owner, me, dtype),
                    coin_observations(game, board[:, :, :-1], owner[:, :, :-1], you, dtype),
                    acts[..., me], acts[..., you], rews[..., me], rews[..., you],
                    torch.stack(op_logits, 2))

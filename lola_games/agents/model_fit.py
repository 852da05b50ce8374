"""Fitting a model of the opponent's policy to its observed play.

* `fit_policy_model` -- the DiCE paper code's fit, used by
  `LOLADiCE` with ``opponent_model=True``: the model (a policy
  module of the agent's own kind) starts where the last update left it and, for each of
  ``om_epochs`` fresh rollouts, takes plain gradient steps of ``lr_om`` on the negative mean
  log-likelihood of the opponent's actions, one per minibatch of ``om_batch_size`` rounds (a
  random permutation of the rounds, all episodes) and one more on the whole rollout.
* `round_nll` -- that negative log-likelihood per seed, for any policy module.
* `memory_one_mle` -- the maximum-likelihood memory-one policy of observed play,
  in closed form: ``logit_s = log((C_s + prior) / (D_s + prior))`` from the counts of the
  opponent's actions in each state (``prior`` pseudo-counts keep the logits finite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor, nn

from lola_games.agents.base import Context
from lola_games.agents.sampled import param_dict
from lola_games.core.tensors import ParamDict as Params
from lola_games.functional import SGD, detach
from lola_games.rollouts import CoinRollout, Rollout, log_probs
from lola_games.rollouts.games import sample_game_rollout
from lola_games.rollouts.nets import MemoryOne

__all__ = ["fit_policy_model", "round_nll", "memory_one_mle"]


def _gen_device(generator: torch.Generator | None, device: torch.device) -> torch.device:
    return generator.device if generator is not None else device


def fit_policy_model(
    agent: Any, own: dict[str, Params], other_policy: nn.Module, other: dict[str, Params],
    ctx: Context,
) -> Params:
    """``agent``'s model of the opponent after fitting it to ``agent.om_epochs`` rollouts.

    Args:
        agent: the modelling learner (its policy module on ``ctx.game`` is the model's
            architecture; ``lr_om``, ``om_batch_size``, ``om_epochs``, ``batch_size``,
            ``rollout_len``).
        own: the agent's params ``{"policy", "model", ...}`` ``[S, ...]``; ``own["model"]``
            is the model to refine.
        other_policy, other: the opponent's policy module and ``{"policy": params}``; they
            only generate the opponent's actions in the rollouts.
        ctx: the update's context (game, player index, generator).

    Returns:
        the refitted model params ``[S, ...]`` (detached).
    """
    me, you = ctx.player, 1 - ctx.player
    policy = agent.modules(ctx.game)[0]
    pols: list[Any] = [None, None]
    params: list[Any] = [None, None]
    pols[me], params[me] = policy, own["policy"]
    pols[you], params[you] = other_policy, other["policy"]
    model = detach(own["model"])
    sgd = SGD(agent.lr_om)
    for _ in range(agent.om_epochs):
        roll = sample_game_rollout(ctx.game, pols, params, agent.batch_size,
                                   agent.rollout_len, ctx.generator)
        device = roll.actions.device
        order = torch.randperm(roll.actions.shape[-2], generator=ctx.generator,
                               device=_gen_device(ctx.generator, device)).to(device)
        nll = round_nll(policy, roll, you)
        for rounds in [*order.split(agent.om_batch_size), None]:  # None: the whole rollout
            with torch.enable_grad():
                leaf = detach(model, requires_grad=True)
                loss = nll(leaf, rounds).sum()
                grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values())),
                                 strict=True))
            model = param_dict(sgd.step(detach(leaf), grads, sgd.init(leaf))[0])
    return model


def round_nll(module: nn.Module, roll: Rollout | CoinRollout, player: int
              ) -> Callable[[Params, Tensor | None], Tensor]:
    """``nll(params, rounds) -> [S]``: the negative mean log-likelihood of ``player``'s actions
    in ``rounds`` (a tensor of round indices, or ``None`` for all), per seed.

    A memory-one policy needs only how often each (state, action) pair occurs in each round,
    counted once per rollout; other modules run on the whole episodes.
    """
    if (getattr(module, "memory_one", False) and isinstance(roll, Rollout)
            and roll.n_actions == 2):
        return _counted_nll(cast(MemoryOne, module), roll, player)

    def nll(params: Params, rounds: Tensor | None) -> Tensor:
        logp = log_probs(module, params, roll, player)  # [S, B, T]
        if rounds is not None:
            logp = logp.index_select(-1, rounds)
        return -logp.mean(dim=(-1, -2))

    return nll


def _counted_nll(module: MemoryOne, roll: Rollout, player: int
                 ) -> Callable[[Params, Tensor | None], Tensor]:
    """`round_nll` of a memory-one module (``memory_one`` set) from the counts of each
    (state, action) pair per round."""
    n_episodes = roll.actions.shape[-3]
    pair = (roll.states[..., player] * 2 + roll.actions[..., player]).transpose(-1, -2)
    ones = torch.ones(pair.shape, dtype=roll.rewards.dtype, device=pair.device)
    per_round = ones.new_zeros(*pair.shape[:-1], 10).scatter_add_(-1, pair, ones)  # [S,T,10]

    def nll(params: Params, rounds: Tensor | None) -> Tensor:
        counts = per_round if rounds is None else per_round.index_select(-2, rounds)
        n = n_episodes * counts.shape[-2]
        logp = module.state_log_probs(params).flatten(1)  # [S, 10]
        return -(logp * counts.sum(-2)).sum(-1) / n

    return nll


def memory_one_mle(roll: Rollout, player: int, prior: float = 1.0) -> Tensor:
    """Memory-one logits ``[S, 5]`` fitted to ``player``'s actions in ``roll`` (2 actions).

    Per state ``s`` (start, CC, CD, DC, DD from the player's own side) with ``C_s`` actions 0
    and ``D_s`` actions 1 observed: ``log((C_s + prior) / (D_s + prior))``, the
    maximum-likelihood logit of P(action 0) with ``prior`` pseudo-counts of each action
    (0 at a state never visited).
    """
    if roll.n_actions != 2:
        raise ValueError(f"memory_one_mle needs a 2-action game, got {roll.n_actions} actions")
    states = roll.states[..., player].flatten(1)  # [S, B * T]
    actions = roll.actions[..., player].flatten(1)
    dtype = roll.rewards.dtype
    counts = torch.zeros(states.shape[0], 5 * 2, dtype=dtype, device=states.device)
    counts.scatter_add_(1, states * 2 + actions, torch.ones_like(states, dtype=dtype))
    counts = counts.view(-1, 5, 2) + prior
    return torch.log(counts[..., 0]) - torch.log(counts[..., 1])

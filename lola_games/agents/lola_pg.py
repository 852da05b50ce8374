"""LOLA-PG and NL-PG with the LOLA paper's own policy-gradient estimator.

The LOLA paper (Foerster et al. 2018, Sec. 3.3) estimates its update from one batch of
episodes with hand-derived score-function terms; this module follows its code
(alshedivat/lola, ``lola/corrections.py`` and ``lola/train_pg.py``). For player 1 with
log-probabilities ``l1_t = log pi_1(a1_t | s_t)`` (``l2_t`` the opponent's), inclusive
cumulative sums ``L1_t, L2_t``, rewards ``r1, r2`` and a value table ``V1``::

    A1_t   = G1_t + gamma^(T-t) V1(s_T) - V1(s_t)       (returns-to-go, bootstrapped)
    g11    = grad_1 mean_b sum_t gamma^t A1_t l1_t      (first-order: own parameters)
    g12    = grad_2 mean_b sum_t gamma^t A1_t l2_t      (first-order: the opponent's)
    v2     = mean_b sum_t gamma^t (r2_t - mean(r2)) L1_t L2_t
    d1     = g11 + eta * grad_1( stop(g12) . grad_2 v2 )       (corrections=True)
    theta1 <- theta1 + lr * d1
    V1     <- V1 - lr_v * grad mean_{b,t} (A1_t)^2 / 2

``grad_1 grad_2 v2`` is the paper's estimate of the mixed second derivative of the
opponent's value (its Eq. for ``grad_1 grad_2 E R2``), with rewards centred by their mean over
the whole batch. ``eta = 1`` (the default) is the paper's LOLA rule with ``delta = eta = 1``.
The released code takes each log-probability as a mean over the two action entries, which
halves it; its first-order terms undo that with a factor 2, its second-order term keeps a
factor 1/2, so the code as released applies ``eta = 0.5``. With 0.5, 150 updates leave
matching pennies far from its Nash equilibrium, where the paper reports 93% (with 1 they
reach it); on the IPD 0.5 comes closer to the paper's spread over runs (measured numbers in
the README).
``corrections=False`` is the paper's NL-PG (``d1 = g11``).

Both the policy logits and the value table start from N(0, 1), as in the code. The code
draws one batch of episodes for both players; here each player samples its own (the same
distribution). The functions `first_order_terms` and `second_order_surrogate`
are the estimator's pieces, so tests can compare them with DiCE on the same rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any, cast

import torch
from torch import Tensor

from lola_games.agents.base import Context
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import (
    AgentParams,
    SampledLearner,
    SampledSettings,
    as_player,
    check_flag,
)
from lola_games.core.tensors import ParamDict as Params
from lola_games.core.tensors import ParamTree
from lola_games.envs.batched import outcome_states
from lola_games.functional import detach
from lola_games.games.matrix import MatrixGame
from lola_games.rollouts import (
    Rollout,
    TabularValue,
    init_params,
    log_probs,
    random_logits,
    rollout_values,
    sample_rollout,
)
from lola_games.values.dice import discounted_returns, discounts

__all__ = ["LOLAPGSettings", "LOLAPG", "first_order_terms", "second_order_surrogate",
           "advantages"]

def advantages(rewards: Tensor, values: Tensor, final_values: Tensor, gamma: float) -> Tensor:
    """``G_t + gamma^(T-t) V(s_T) - V(s_t)`` ``[..., T]`` (the code's ``target - value``).

    Args:
        rewards: ``[..., T]``; values: ``V(s_t)`` ``[..., T]``; final_values: ``V(s_T)``
            ``[...]``, the state after the last round.
    """
    length = rewards.shape[-1]
    tail = gamma ** torch.arange(length, 0, -1, dtype=rewards.dtype, device=rewards.device)
    return discounted_returns(rewards, gamma) + tail * final_values[..., None] - values


def first_order_terms(advantage: Tensor, logp_own: Tensor, logp_other: Tensor, gamma: float
                      ) -> tuple[Tensor, Tensor]:
    """Surrogates whose gradients are the first-order terms: ``(J_own, J_other)`` ``[...]``.

    ``J_own = mean_b sum_t gamma^t A_t l_own_t`` (its gradient in the agent's parameters is
    ``g11``) and ``J_other`` the same with the opponent's log-probabilities (``g12``), for
    ``advantage``, ``logp_own``, ``logp_other`` ``[..., B, T]``; ``advantage`` is held
    constant.
    """
    weight = discounts(advantage.shape[-1], gamma, advantage) * advantage.detach()
    return ((weight * logp_own).sum(-1).mean(-1), (weight * logp_other).sum(-1).mean(-1))


def second_order_surrogate(rewards: Tensor, logp_a: Tensor, logp_b: Tensor, gamma: float,
                           centre: bool = True) -> Tensor:
    """``mean_b sum_t gamma^t (r_t - mean r) L_a_t L_b_t`` ``[...]`` of ``[..., B, T]`` inputs.

    Its mixed derivative ``grad_a grad_b`` is the LOLA paper's estimate of the mixed second
    derivative of the expected discounted return of ``rewards``; ``L`` are the inclusive
    cumulative sums of the log-probabilities; ``centre`` subtracts the mean reward over the
    whole batch (all episodes and rounds).
    """
    if centre:
        rewards = rewards - rewards.detach().mean(dim=(-1, -2), keepdim=True)
    weight = discounts(rewards.shape[-1], gamma, rewards) * rewards.detach()
    cum_a, cum_b = torch.cumsum(logp_a, -1), torch.cumsum(logp_b, -1)
    return (weight * cum_a * cum_b).sum(-1).mean(-1)


@dataclass(frozen=True)
class LOLAPGSettings(SampledSettings):
    """Settings of `LOLAPG` (and the `SampledSettings`, with the paper code's batch of 4000
    and its N(0, 1) initialisation of the tabular logits and of the value table); defaults
    are the paper's (`lola_games.agents.published.LOLA_PAPER_PG`).

    Attributes:
        lr: plain step size of the policy (the paper's delta).
        lr_v: plain step size of the value function.
        eta: weight of the second-order correction (1: the paper's rule; 0.5: the released
            code, see the module docstring).
        corrections: add the LOLA correction; ``False`` is NL-PG.
    """

    batch_size: int = 4000
    init: str = "normal"
    init_scale: float | None = 1.0
    lr: float = 1.0
    lr_v: float = 1.0
    eta: float = 1.0
    corrections: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lr", "lr_v", "eta"):
            object.__setattr__(self, name, check_rate(name, getattr(self, name)))
        check_flag("corrections", self.corrections)


class LOLAPG(SampledLearner):
    """LOLA-PG (``corrections=True``) or NL-PG of the LOLA paper, its estimator and steps.

    Policies: ``"tabular"`` (the code's ``simple_net``), ``"mlp"``, ``"gru"`` or a module;
    the value module defaults to `TabularValue`, or `MLPValue` for a neural policy.
    Settings: `LOLAPGSettings`.

    Raises:
        ValueError: an option out of range, of the wrong type or unknown.
    """

    name = "lola-pg"
    Settings = LOLAPGSettings
    settings: LOLAPGSettings

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: MatrixGame | None = None,
        player: int = 0,
    ) -> AgentParams:
        """``{"policy": [S, ...], "value": [S, ...]}``; a tabular policy and value table
        are drawn from ``init`` (N(0, 1) by default, as in the paper's code)."""
        def to(p: Params) -> Params:
            return {k: v.to(device=device, dtype=dtype) for k, v in p.items()}

        policy = self.draw(self.policy, n_seeds, generator, device)
        if isinstance(self.value, TabularValue):
            scale = cast(float, self.init_scale)  # set by SampledSettings
            value = {"values": random_logits((n_seeds, 5), self.init, scale, generator,
                                             device)}
        else:
            value = init_params(self.value, n_seeds, generator, device)
        return {"policy": to(policy), "value": to(value)}

    def init_state(self, params: AgentParams) -> Any:
        """None: the steps are plain."""
        return {}

    def _values(self, params: Params, roll: Rollout, player: int) -> tuple[Tensor, Tensor]:
        """``V(s_t)`` ``[S, B, T]`` and ``V(s_T)`` ``[S, B]`` of ``player``'s states."""
        after = outcome_states(roll.actions[..., -1:, :], roll.n_actions)  # [S, B, 1, 2]
        final = Rollout(after, roll.actions[..., -1:, :], roll.rewards[..., -1:, :],
                        roll.n_actions)
        return (rollout_values(self.value, params, roll, player),
                rollout_values(self.value, params, final, player)[..., 0])

    def update(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[AgentParams, Any]:
        """One LOLA-PG (or NL-PG) step of this player from one batch of episodes."""
        me, you = ctx.player, 1 - ctx.player
        other_policy, opponent, _ = as_player(ctx.other, other)
        pols = (self.policy, other_policy) if me == 0 else (other_policy, self.policy)
        params = ((own["policy"], opponent["policy"]) if me == 0
                  else (opponent["policy"], own["policy"]))
        roll = sample_rollout(ctx.game, pols, params, self.batch_size, self.rollout_len,
                              ctx.generator)
        with torch.enable_grad():
            theta = detach(own["policy"], requires_grad=True)
            phi = detach(opponent["policy"], requires_grad=True)
            lp_me = log_probs(self.policy, theta, roll, me)
            lp_you = log_probs(other_policy, phi, roll, you)

            value = detach(own["value"], requires_grad=True)
            v_t, v_final = self._values(value, roll, me)
            adv = advantages(roll.rewards[..., me], v_t.detach(), v_final.detach(), ctx.gamma)
            j_own, j_other = first_order_terms(adv, lp_me, lp_you, ctx.gamma)
            direction = _grads(j_own.sum(), theta, retain_graph=True)
            if self.corrections:
                g12 = _grads(j_other.sum(), phi, retain_graph=True)  # own value's, opponent's
                v2 = second_order_surrogate(roll.rewards[..., you], lp_me, lp_you, ctx.gamma)
                grad2_v2 = _grads(v2.sum(), phi, create_graph=True)
                product = reduce(add, [(g12[k].detach() * grad2_v2[k]).sum() for k in phi])
                shaping = _grads(product, theta)
                direction = {k: direction[k] + self.eta * shaping[k] for k in direction}
            new_policy = {k: theta[k].detach() + self.lr * direction[k] for k in theta}

            # value table: one plain step on the squared advantage (target held constant)
            target = (adv + v_t).detach()
            loss_v = (0.5 * (target - v_t) ** 2).mean(dim=(-1, -2)).sum()
            vgrad = _grads(loss_v, value)
            new_value = {k: value[k].detach() - self.lr_v * vgrad[k] for k in value}
        return {"policy": new_policy, "value": new_value}, state


def _grads(loss: Tensor, params: Params, create_graph: bool = False,
           retain_graph: bool | None = None) -> Params:
    """``d loss / d params`` as a dict (zeros for parameters the loss does not reach)."""
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=create_graph,
                                retain_graph=retain_graph, allow_unused=True)
    return {k: torch.zeros_like(v) if g is None else g
            for (k, v), g in zip(params.items(), grads, strict=True)}


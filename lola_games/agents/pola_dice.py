"""POLA-DiCE and POLA-OM: POLA on sampled rollouts (Zhao et al. 2022, "Proximal Learning With
Opponent-Learning Awareness", Sec. 4.2 and App. B.2).

The proximal problems of `lola_games.agents.pola`, with the values replaced by DiCE
objectives (`lola_games.values.dice`) and the exact policy KL by a KL measured on the states
of the rollouts. ``theta`` is this learner's policy, ``phi`` the opponent's; ``L_i(theta,
phi)`` is ``-DiCE_i`` (mean over the episodes of a fresh rollout of both players, as in
`LOLADiCE`), and ``KL_i(anchor || p)`` is the KL divergence
between player ``i``'s action distributions under ``anchor`` and under ``p``, averaged over
the rounds and episodes of that same rollout, at the observations player ``i`` saw there
(`rollout_kl`). One update from ``(theta_t, phi_t)``::

    inner problem (the opponent's proximal response, a function of theta), phi_0 = phi_t:
        phi_{k+1} = phi_k - lr_in * grad_phi [L_other(theta, phi_k)
                                              + beta_in KL_other(phi_t || phi_k)]
        for k < inner_steps, each on a fresh rollout; kept in the graph
    outer problem, theta_0 = theta_t:
        theta_{j+1} = optimizer step on grad_theta [L_own(theta_j, phi_K(theta_j))
                                                     + beta_out KL_own(theta_t || theta_j)]
        for j < outer_steps, each with a fresh inner solve and a fresh outer rollout

The outer optimizer (Adam by default) starts afresh at every update, as in the POLA code,
where each update is a new proximal problem; with the ``"value"`` baseline the value
function takes one Adam step (``lr_v``) on each outer rollout. With ``inner_steps =
outer_steps = 1``, both betas 0 and plain steps this is LOLA-DiCE with one lookahead
(tested).

**POLA-OM** (``opponent_model=True``, registered as ``pola-om``): the agent never reads the
opponent's parameters. Before each update it plays ``om_batches`` fresh rollouts against the
real opponent and, on each, takes one Adam step (``lr_om``) of a model of the opponent's
policy (a module of the agent's own kind) on the negative log-likelihood of the opponent's
actions, and one Adam step (``lr_v``) of the model's value function on the opponent's
returns; both Adams start afresh at each update and the model carries over between
updates. The model then stands in for the opponent throughout the update: the inner
problem starts from, and is anchored at, the model, and all rollouts of the update are
played against it.

`POLA_IPD` holds the settings of the POLA code for the IPD (Silent-Zebra/POLA,
``jax_files/POLA_dice_jax.py`` with the README's commands for Fig. 4); they are the
constructor's defaults, except the policy (see `POLADiCE`).

The same update plays the Coin Game through the sampled learners' code path
(`lola_games.rollouts.games`): a Coin Game policy name (``"coin-gru"``, the
POLA paper's network) gives networks for the board of the game played
(`modules`), rollouts come from the Coin Game
sampler, and the KL terms are taken at the boards each player saw in them.
`POLA_DICE_COIN` and `POLA_OM_COIN` hold the POLA code's Coin Game settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from lola_games.agents.base import Context
from lola_games.agents.model_fit import round_nll
from lola_games.agents.naive import check_rate
from lola_games.agents.pg import LOLADiCE, ShapingSettings
from lola_games.agents.pola_metrics import evaluate_pola
from lola_games.agents.sampled import AgentParams, as_player, check_count, param_dict
from lola_games.core.tensors import ParamDict as Params
from lola_games.core.tensors import Params as AnyParams
from lola_games.core.tensors import ParamTree
from lola_games.functional import SGD, Adam, detach
from lola_games.functional.proximal import solve
from lola_games.rollouts import CoinRollout, Rollout, init_params
from lola_games.rollouts.nets import MemoryOne
from lola_games.rollouts.sampling import rollout_logits

__all__ = ["POLADiCESettings", "POLAOMSettings", "POLADiCE", "POLAOM", "rollout_kl"]

Objective = Callable[[Params, Params], tuple[Tensor, Any]]
"""``objective(theta, value) -> (loss, rollout)`` of the outer proximal problem."""
OM_MESSAGE = ("pola-om always models its opponent: it takes no opponent_model option "
              "(pola-dice without a model)")


@dataclass(frozen=True)
class POLADiCESettings(ShapingSettings):
    """Settings of `POLADiCE`: those of `ShapingSettings` with the POLA code's IPD values
    (`lola_games.agents.published.POLA_IPD`) as defaults, a tabular policy and logits
    ~ N(0, 0.1^2), and the proximal problems' own.

    ``lr_v`` is also the Adam step size of the opponent model's value function, ``lr_om``
    the Adam step size of the model's policy; ``optimizer`` (``"adam"`` or ``"sgd"``) is
    restarted at every update.

    Attributes:
        inner_steps: the opponent's inner steps per outer step, differentiated through.
        outer_steps: outer steps per update.
        beta_in: weight of the inner KL term (anchored at the opponent's policy).
        beta_out: weight of the outer KL term (anchored at the agent's own policy).
        om_batches: rollouts the opponent model is fitted on per update (one step each).
    """

    hidden_size: int = 64
    batch_size: int = 2000
    rollout_len: int = 50
    init: str = "normal"
    init_scale: float | None = 0.1
    metric: str = "reward"
    lr_out: float = 0.003
    lr_v: float = 0.0005
    optimizer: str = "adam"
    baseline: str | bool = "value"
    baseline_form: str = "mao"
    lr_in: float = 0.005
    lr_om: float = 0.003
    inner_steps: int = 2
    outer_steps: int = 200
    beta_in: float = 10.0
    beta_out: float = 100.0
    om_batches: int = 200

    def __post_init__(self) -> None:
        check_count("inner_steps", self.inner_steps)
        check_count("outer_steps", self.outer_steps)
        for name in ("beta_in", "beta_out"):
            object.__setattr__(self, name, check_rate(name, getattr(self, name)))
        check_count("om_batches", self.om_batches)
        super().__post_init__()

    @property
    def lookahead_steps(self) -> int:
        """``inner_steps``."""
        return self.inner_steps


@dataclass(frozen=True)
class POLAOMSettings(POLADiCESettings):
    """Settings of `POLAOM`: those of `POLADiCESettings` but ``opponent_model``, which is
    always ``True`` (not a hyper-parameter: `names` and `hparams` leave it out)."""

    opponent_model: bool = True

    def __post_init__(self) -> None:
        if self.opponent_model is not True:
            raise ValueError(OM_MESSAGE)
        super().__post_init__()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(n for n in super().names() if n != "opponent_model")

    def hparams(self) -> dict[str, Any]:
        return {k: v for k, v in super().hparams().items() if k != "opponent_model"}


def rollout_kl(module: nn.Module, anchor: Params, params: Params, roll: Rollout | CoinRollout,
               player: int) -> Tensor:
    """``KL(pi_anchor || pi_params)`` of ``player``'s action distributions, averaged over the
    rounds and episodes of ``roll``, per seed ``[S]`` (the anchor is held constant).

    As in the POLA code (``kl_div_jax``), the divergence is taken at the observations the
    player saw in the rollout. A memory-one module with ``state_log_probs`` gives the same
    number from the per-state divergences weighted by how often each state was visited.
    When ``anchor`` holds the same values as ``params`` (the first step of each proximal
    problem), the anchor's action distributions are those of ``params``, not run again.
    """
    if getattr(module, "memory_one", False) and isinstance(roll, Rollout):
        table = cast(MemoryOne, module)  # ``memory_one`` marks the MemoryOne hook
        anchor_lp = table.state_log_probs(anchor).detach()  # [S, 5, 2]
        per_state = (anchor_lp.exp() * (anchor_lp - table.state_log_probs(params))).sum(-1)
        states = roll.states[..., player].flatten(1)  # [S, B * T]
        visits = torch.zeros_like(per_state).scatter_add_(
            1, states, torch.ones(states.shape, dtype=per_state.dtype, device=states.device))
        return (per_state * visits).sum(-1) / states.shape[1]
    logits = rollout_logits(module, params, roll, player)
    with torch.no_grad():
        if same_values(anchor, params):  # the first step of a proximal solve: no second pass
            anchor_logits = logits.detach()
        else:
            anchor_logits = rollout_logits(module, anchor, roll, player)
        anchor_lp = torch.log_softmax(anchor_logits, -1)
    lp = torch.log_softmax(logits, -1)
    return (anchor_lp.exp() * (anchor_lp - lp)).sum(-1).mean(dim=(-1, -2))


def same_values(a: Params, b: Params) -> bool:
    """Whether two parameter dicts hold equal tensors under the same names."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _step(optimizer: SGD | Adam, params: Params, state: Any, loss_fn: Any, *args: Any
          ) -> tuple[Params, Any, Any]:
    """One ``optimizer`` step on ``loss_fn(params, *args) -> (loss, aux)`` (a scalar loss):
    the new params (detached), the optimizer's new state and ``aux``."""
    with torch.enable_grad():
        leaf = detach(params, requires_grad=True)
        loss, aux = loss_fn(leaf, *args)
        grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values())), strict=True))
    new, state = optimizer.step(detach(leaf), grads, state)
    return param_dict(new), state, aux


class POLADiCE(LOLADiCE):
    """POLA-DiCE (and, with ``opponent_model=True``, POLA-OM) over any policy module.

    Defaults are the POLA code's IPD settings (`lola_games.agents.published.POLA_IPD`)
    with a tabular policy; the POLA code's policy is a dense layer of 64 units (ReLU) and a
    GRU of 64 units over both players' previous actions (``policy="gru", hidden_size=64``
    is the nearest here: a GRU of 64 units over the one-hot last outcome, without the dense
    layer). On the Coin Game give a Coin Game policy (``"coin-gru"`` as in
    `lola_games.agents.published.POLA_DICE_COIN`, ``"coin-mlp"``, ``"conv-gru"``).
    Settings: `POLADiCESettings`.

    Raises:
        ValueError: an option out of range or of the wrong type.
    """

    name = "pola-dice"
    Settings = POLADiCESettings
    evaluator = staticmethod(evaluate_pola)

    # -- parameters ------------------------------------------------------------------------
    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> AgentParams:
        """Those of `LOLADiCE`, and with an opponent model also
        the model's value function (``"model_value"``)."""
        params = super().init_params(n_seeds, generator, device, dtype, game=game,
                                     player=player)
        if self.opponent_model:
            value = init_params(self.modules(game)[1], n_seeds, generator, device)
            params["model_value"] = {k: v.to(device=device, dtype=dtype)
                                     for k, v in value.items()}
        return params

    def init_state(self, params: AgentParams) -> Any:
        """None: every update starts its optimizers afresh."""
        return {}

    # -- opponent model --------------------------------------------------------------------
    def fit_model(self, own: AgentParams, other_policy: nn.Module, other: AgentParams,
                  ctx: Context) -> tuple[Params, Params]:
        """POLA-OM's model of the opponent, ``(policy, value)`` params ``[S, ...]``, refitted
        to ``om_batches`` fresh rollouts of real play (see the module docstring); the real
        opponent's parameters only generate its actions."""
        me, you = ctx.player, 1 - ctx.player
        policy, value_fn = self.modules(ctx.game)
        pols: list[Any] = [None, None]
        params: list[Any] = [None, None]
        pols[me], params[me] = policy, {"policy": own["policy"]}
        pols[you], params[you] = other_policy, {"policy": other["policy"]}
        seen_from_you = dataclasses.replace(ctx, player=you)
        model, model_value = detach(own["model"]), detach(own["model_value"])
        adam, adam_v = Adam(self.lr_om), Adam(self.lr_v)
        state, state_v = adam.init(model), adam_v.init(model_value)
        for _ in range(self.om_batches):
            roll = self._rollout(ctx, pols, params)
            nll = round_nll(policy, roll, you)
            model, state, _ = _step(adam, model, state,
                                    lambda m, nll: (nll(m, None).sum(), None), nll)
            if self.baseline == "value":
                model_value, state_v, _ = _step(
                    adam_v, model_value, state_v,
                    lambda v, r: (self.value_loss(seen_from_you, v, r), None), roll)
        return model, model_value

    # -- the update ------------------------------------------------------------------------
    def opponent_of(self, own: AgentParams, other: ParamTree, ctx: Context
                    ) -> tuple[nn.Module, AgentParams, nn.Module | None, AgentParams]:
        """``(policy module, {"policy", "value"} params, value module, own)`` of the opponent
        this update shapes: the real one (read through
        `as_player`), or with an opponent model the model refitted
        to the real one's play (``own`` then holds the refitted model)."""
        other_policy, opponent, other_value = as_player(ctx.other, other, ctx.game)
        if not self.opponent_model:
            return other_policy, opponent, other_value, own
        own = dict(own)
        own["model"], own["model_value"] = self.fit_model(own, other_policy, opponent, ctx)
        policy, value_fn = self.modules(ctx.game)
        return policy, {"policy": own["model"], "value": own["model_value"]}, value_fn, own

    def outer_objective(self, own: AgentParams, opponent: tuple[nn.Module, AgentParams,
                        nn.Module | None], ctx: Context) -> Objective:
        """``objective(theta, value) -> (loss, rollout)``: the outer proximal objective
        ``L_own(theta, phi_K(theta)) + beta_out KL_own(theta_t || theta)`` (summed over seeds)
        on a fresh rollout, with ``phi_K(theta)`` the opponent's inner proximal solve from
        its params in ``opponent``, differentiable in ``theta``; ``theta_t`` is
        ``own["policy"]`` and ``value`` this agent's value params."""
        me, you = ctx.player, 1 - ctx.player
        policy, value_fn = self.modules(ctx.game)
        other_policy, other, other_value = opponent
        pols: list[Any] = [None, None]
        vals: list[Any] = [None, None]
        pols[me], vals[me] = policy, value_fn
        pols[you], vals[you] = other_policy, other_value
        theta_t, phi_t = detach(own["policy"]), detach(other["policy"])

        def pair(theta: Params, phi: Params, value: Params) -> list[AgentParams]:
            out: list[Any] = [None, None]
            out[me] = {"policy": theta, "value": value}
            out[you] = {"policy": phi, "value": other["value"]}
            return out

        def respond(theta: Params, value: Params) -> Params:
            """The opponent's inner proximal solve, differentiable in ``theta``."""
            def inner_loss(phi_params: AnyParams) -> Tensor:
                phi = param_dict(phi_params)  # solve steps the dict phi_t as a dict
                params = pair(theta, phi, value)
                roll = self._rollout(ctx, pols, params)
                loss = self._dice_loss(ctx, you, pols, vals, params, roll)
                if self.beta_in:
                    loss = loss + self.beta_in * rollout_kl(other_policy, phi_t, phi, roll,
                                                            you).sum()
                return loss

            return param_dict(solve(inner_loss, detach(phi_t, requires_grad=True),
                                    self.inner_steps, SGD(self.lr_in), differentiable=True)[0])

        def objective(theta: Params, value: Params) -> tuple[Tensor, Any]:
            params = pair(theta, respond(theta, value), value)
            roll = self._rollout(ctx, pols, params)
            loss = self._dice_loss(ctx, me, pols, vals, params, roll)
            if self.beta_out:
                loss = loss + self.beta_out * rollout_kl(policy, theta_t, theta, roll, me).sum()
            return loss, roll

        return objective

    def update(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[AgentParams, Any]:
        """One POLA-DiCE update of this agent against ``other`` (both ``[S, ...]``)."""
        other_policy, opponent, other_value, own = self.opponent_of(own, other, ctx)
        objective = self.outer_objective(own, (other_policy, opponent, other_value), ctx)
        optimizer, value_adam = self.outer_optimizer(), Adam(self.lr_v)
        theta, value = detach(own["policy"]), detach(own["value"])
        opt_state, value_state = optimizer.init(theta), value_adam.init(value)
        for _ in range(self.outer_steps):
            theta, opt_state, roll = _step(optimizer, theta, opt_state, objective, value)
            if self.baseline == "value":  # the value function learns on the outer rollouts
                with torch.enable_grad():
                    grads = self.value_grads(ctx, value, roll)
                new_value, value_state = value_adam.step(detach(value), grads, value_state)
                value = param_dict(new_value)
        return {**own, "policy": theta, "value": value}, state


class POLAOM(POLADiCE):
    """POLA-OM: `POLADiCE` with ``opponent_model=True``; the same options but that one
    (settings `POLAOMSettings`), defaults `lola_games.agents.published.POLA_IPD`."""

    name = "pola-om"
    Settings = POLAOMSettings
    opponent_model = True  # not a hyper-parameter of pola-om

    def __init__(self, settings: Any = None, value: nn.Module | None = None, /,
                 **hparams: Any) -> None:
        if "opponent_model" in hparams:
            raise ValueError(OM_MESSAGE)
        super().__init__(settings, value, **hparams)

"""Sampled policy-gradient learners: NL-PG and LOLA-DiCE, batched over seeds and rollouts.

``LOLADiCE`` is LOLA through the DiCE objective (Foerster et al. 2018b, "DiCE", Sec. 5). For
the agent with policy ``theta`` against an opponent ``phi``, one update is::

    phi_0 = phi                       (or the agent's fitted model of phi: opponent_model)
    phi_{k+1} = phi_k - lr_in * grad_phi L_other(theta, phi_k)       k < n_lookaheads
    theta <- optimizer(lr_out) step on grad_theta L_own(theta, phi_K(theta))

``L_i = -mean over episodes of DiCE_i`` (`lola_games.values.dice.dice_objective`), each term
on a fresh batch of rollouts sampled with the current parameters (``theta`` and ``phi_k``).
The lookahead is asymmetric: the agent keeps its own parameters and imagines only the
opponent's plain gradient steps, which keep their graph, so the outer gradient flows through
the opponent's anticipated learning. ``NaivePG`` is the same learner with no lookahead (NL-PG).

Options (every setting of the two references below is one of them):

* ``baseline``: ``"batch-mean"`` (rewards centred by their mean over the batch at each
  round, `centre_by_batch_mean`), ``"value"`` (a learned value
  function, trained after each update on the outer rollout's discounted returns-to-go) or
  ``"none"``;
* ``optimizer``: the outer step, ``"sgd"`` (plain gradient step), ``"adam"`` or
  ``"adam-reset"`` (Adam restarted at every update, as the POLA paper's code);
* ``init``: initial logits of a tabular policy (`lola_games.rollouts.policies.random_logits`);
* ``magic_box``: ``False`` is the DiCE paper's "no DiCE" ablation (first-order surrogate);
* ``metric``: what the runner logs as a player's value, the mean reward per round
  (``"reward"``) or the normalised discounted return ``(1 - gamma) sum_t gamma^t r_t``
  (``"discounted"``), both as the mean over one fresh batch of ``batch_size`` episodes;
* ``opponent_model``: do not read the opponent's parameters; fit a model of its policy to its
  observed actions (`lola_games.agents.model_fit.fit_policy_model`) before each
  update, and look ahead through the model's learning instead. As in the DiCE paper's code,
  the lookahead and outer rollouts are then played against the model.

`lola_games.agents.published.DICE_PAPER` holds the settings of the DiCE paper's own code
(alshedivat/lola, ``scripts/run_lola_dice.py``; they are the defaults of `LOLADiCESettings`)
and `lola_games.agents.published.UNOFFICIAL_PORT` those of an unofficial PyTorch port. Agent
parameters are a dict ``{"policy", "value"}`` (and
``"model"``, the opponent model, with ``opponent_model``) of stacked per-seed tensors
``[S, ...]`` (see `lola_games.rollouts.policies`); losses are means over episodes summed over
seeds, so each seed gets exactly its own gradient. The agents are registered as
``lola-dice`` and ``naive-pg`` and evaluated by `evaluate_sampled`.

The same update plays two-action matrix games and the Coin Game
(`CoinGame`): the policy name picks networks for the game's
observations, built by `SampledLearner.modules` for the game it is given, and rollouts
come from the game's sampler (both in `lola_games.rollouts.games`).
`lola_games.agents.published` holds the published Coin Game settings (``POLA_COIN``,
``LOLA_PAPER_COIN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from lola_games.agents.base import Context
from lola_games.agents.model_fit import fit_policy_model
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import (
    AgentParams,
    SampledLearner,
    SampledSettings,
    as_player,
    check_choice,
    check_count,
    check_flag,
    param_dict,
)
from lola_games.core.tensors import ParamDict as Params
from lola_games.core.tensors import ParamTree
from lola_games.functional import SGD, Adam, detach, unroll
from lola_games.functional.optim import OptimizerState, optimizer_step
from lola_games.rollouts import CoinRollout, Rollout, init_params, log_probs, rollout_values
from lola_games.rollouts.games import check_policy_fits, is_coin_game, sample_game_rollout
from lola_games.values.dice import centre_by_batch_mean, dice_objective, discounted_returns

__all__ = ["PGSettings", "LOLADiCESettings", "LOLADiCE", "NaivePG", "BASELINES", "OPTIMIZERS"]

# POLICIES: the policy names the settings accept, per game in
# lola_games.rollouts.games (any nn.Module with the policy signature works too)
BASELINES = ("none", "batch-mean", "value")
"""Baselines of the DiCE objective (see the module docstring)."""
OPTIMIZERS = ("sgd", "adam", "adam-reset")
"""Outer steps: plain gradient steps, Adam, or Adam whose moments restart at every update
(each step is then Adam's first, ``lr * g / (|g| + eps)`` per parameter; so is the value
function's), as in the POLA paper's code (see `lola_games.agents.published.POLA_COIN`)."""
Pair = list[Any]
"""Both players' modules or params, indexed by player."""


@dataclass(frozen=True)
class PGSettings(SampledSettings):
    """Settings of `NaivePG` (and the `SampledSettings`): policy gradient through DiCE.

    Attributes:
        lr_out: outer learning rate.
        lr_v: Adam learning rate of the value function (``baseline="value"``).
        optimizer: outer step, ``"sgd"``, ``"adam"`` or ``"adam-reset"`` (`OPTIMIZERS`).
        baseline: ``"batch-mean"``, ``"value"`` or ``"none"`` (``True``/``False`` mean
            ``"value"``/``"none"``).
        baseline_form: ``"dice"`` or ``"mao"``: the value baseline's form (see
            `lola_games.values.dice`).
        magic_box: ``False`` drops the magic box (the "no DiCE" ablation).
        opponent_model: fit and shape a model of the opponent instead of reading its
            parameters (needs an opponent lookahead: an error for NL-PG).
    """

    lr_out: float = 0.2
    lr_v: float = 0.1
    optimizer: str = "sgd"
    baseline: str | bool = "batch-mean"
    baseline_form: str = "dice"
    magic_box: bool = True
    opponent_model: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lr_out", "lr_v"):
            object.__setattr__(self, name, check_rate(name, getattr(self, name)))
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if isinstance(self.baseline, bool):
            object.__setattr__(self, "baseline", "value" if self.baseline else "none")
        check_choice("baseline", self.baseline, BASELINES)
        check_choice("baseline_form", self.baseline_form, ("dice", "mao"))
        check_flag("magic_box", self.magic_box)
        check_flag("opponent_model", self.opponent_model)
        if self.baseline == "batch-mean" and self.batch_size < 2:
            raise ValueError(
                f"baseline 'batch-mean' centres rewards over the batch and needs batch_size "
                f">= 2, got batch_size={self.batch_size}"
            )
        if self.baseline_form == "mao" and not self.magic_box and self.baseline == "value":
            raise ValueError("baseline_form 'mao' needs the magic box (magic_box=True)")

    @property
    def lookahead_steps(self) -> int:
        """The opponent's imagined learning steps per update (none for NL-PG)."""
        return 0


@dataclass(frozen=True)
class ShapingSettings(PGSettings):
    """What the opponent-shaping learners through DiCE (`LOLADiCE`, POLA-DiCE) add to
    `PGSettings`.

    Attributes:
        lr_in: plain gradient step size of the opponent's lookahead.
        lr_om: step size of the opponent model's fit.
    """

    lr_in: float = 0.1
    lr_om: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lr_in", "lr_om"):
            object.__setattr__(self, name, check_rate(name, getattr(self, name)))


@dataclass(frozen=True)
class LOLADiCESettings(ShapingSettings):
    """Settings of `LOLADiCE` (and those of `ShapingSettings`); the defaults are the DiCE
    paper's code (`lola_games.agents.published.DICE_PAPER`) with 2 lookaheads.

    Attributes:
        n_lookaheads: the opponent's imagined learning steps (0 gives NL-PG).
        om_batch_size: rounds per minibatch of the opponent model's maximum-likelihood fit.
        om_epochs: fresh rollouts the model is fitted on before each update.
    """

    n_lookaheads: int = 2
    om_batch_size: int = 16
    om_epochs: int = 5

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("n_lookaheads", self.n_lookaheads, minimum=0)
        check_count("om_batch_size", self.om_batch_size)
        check_count("om_epochs", self.om_epochs)

    @property
    def lookahead_steps(self) -> int:
        """``n_lookaheads``."""
        return self.n_lookaheads


class LOLADiCE(SampledLearner):
    """LOLA-DiCE learner (``n_lookaheads >= 1``) over any policy module.

    Plays two-action matrix games and the Coin Game
    (`lola_games.agents.published.POLA_COIN`, the POLA paper's LOLA-DiCE setting there).
    Settings: `LOLADiCESettings` (keyword arguments, or the policy and value modules
    positionally, see `SampledLearner`).

    Raises:
        ValueError: an option out of range or of the wrong type, an unknown option value,
            the batch-mean baseline with fewer than 2 episodes, or opponent modelling
            without lookahead.
    """

    name = "lola-dice"
    Settings: ClassVar[type[PGSettings]] = LOLADiCESettings  # NL-PG's are PGSettings
    settings: PGSettings

    def setup(self) -> None:
        """Build the modules; refuse opponent modelling without an opponent lookahead."""
        super().setup()
        if self.opponent_model and self.settings.lookahead_steps == 0:
            raise ValueError(
                f"opponent_model: {self.name} with n_lookaheads=0 never uses its opponent's "
                f"parameters, so it has nothing to model (use n_lookaheads >= 1)"
            )

    def check_game(self, game: Any) -> None:
        """Two-action matrix games (as every sampled learner) and the Coin Game, each with a
        policy for it; on the Coin Game, episodes no longer than the game's."""
        if not is_coin_game(game):
            super().check_game(game)
            return
        check_policy_fits(self.policy_option, game, self.name)
        if self.rollout_len > game.max_cycles:
            raise ValueError(
                f"{self.name}: rollout_len={self.rollout_len} is longer than the episodes of "
                f"{game!r} (max_cycles={game.max_cycles})")

    # -- parameters ------------------------------------------------------------------------
    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> AgentParams:
        """``{"policy": [S, ...], "value": [S, ...]}`` (and ``"model"``, the opponent model,
        initialised like the policy) for ``n_seeds`` seeds of the modules for ``game``."""
        def cast(p: Params) -> Params:
            return {k: v.to(device=device, dtype=dtype) for k, v in p.items()}

        policy, value = self.modules(game)
        params = {"policy": cast(self.draw(policy, n_seeds, generator, device)),
                  "value": cast(init_params(value, n_seeds, generator, device))}
        if self.opponent_model:
            params["model"] = cast(self.draw(policy, n_seeds, generator, device))
        return params

    def outer_optimizer(self) -> SGD | Adam:
        """The outer step: plain SGD, or Adam (``"adam"``, ``"adam-reset"``), of ``lr_out``."""
        return SGD(self.lr_out) if self.optimizer == "sgd" else Adam(self.lr_out)

    def init_state(self, params: AgentParams) -> Any:
        """States of the outer optimizer and of the value function's Adam."""
        return {"policy": self.outer_optimizer().init(params["policy"]),
                "value": Adam(self.lr_v).init(params["value"])}

    # -- losses ----------------------------------------------------------------------------
    def _rollout(self, ctx: Context, pols: Pair, params: Pair) -> Rollout | CoinRollout:
        return sample_game_rollout(ctx.game, pols, [p["policy"] for p in params],
                                   self.batch_size, self.rollout_len, ctx.generator)

    def _dice_loss(self, ctx: Context, learner: int, pols: Pair, vals: Pair, params: Pair,
                   roll: Rollout | CoinRollout) -> Tensor:
        """``-DiCE`` of player ``learner``: mean over episodes, summed over seeds."""
        lp = [log_probs(pols[i], params[i]["policy"], roll, i) for i in range(2)]
        rewards = roll.rewards[..., learner]
        values = None
        if self.baseline == "batch-mean":
            rewards = centre_by_batch_mean(rewards)
        elif self.baseline == "value" and vals[learner] is not None:
            values = self.baseline_values(ctx, learner, vals[learner],
                                           params[learner]["value"], roll)
        objective = dice_objective(rewards, lp[learner], lp[1 - learner], ctx.gamma, values,
                                   self.baseline_form, use_magic_box=self.magic_box)
        return -objective.mean(-1).sum()

    def baseline_values(self, ctx: Context, learner: int, module: Any, params: Params,
                         roll: Rollout | CoinRollout) -> Tensor:
        """``V(s_t)`` ``[S, B, T]`` of ``learner``'s states in ``roll``, detached (the
        baseline). This agent's own values are computed with their graph to a leaf copy of
        ``params``, kept in ``roll.memo`` for `value_grads` on the same episodes."""
        if learner != ctx.player:
            return rollout_values(module, params, roll, learner).detach()
        with torch.enable_grad():
            leaf = detach(params, requires_grad=True)
            values = rollout_values(module, leaf, roll, learner)
        roll.memo[("values", learner)] = (tuple(params.values()), leaf, values)
        return values.detach()

    def value_error(self, ctx: Context, values: Tensor, roll: Rollout | CoinRollout
                    ) -> Tensor:
        """MSE between ``values [S, B, T]`` and the discounted returns-to-go; summed over
        seeds."""
        returns = discounted_returns(roll.rewards[..., ctx.player], ctx.gamma)
        return ((values - returns) ** 2).mean(dim=(-1, -2)).sum()

    def value_loss(self, ctx: Context, params: Params, roll: Rollout | CoinRollout) -> Tensor:
        """MSE between ``V(s_t)`` and the discounted returns-to-go; summed over seeds."""
        values = rollout_values(self.modules(ctx.game)[1], params, roll, ctx.player)
        return self.value_error(ctx, values, roll)

    def value_grads(self, ctx: Context, params: Params, roll: Rollout | CoinRollout
                    ) -> Params:
        """Gradients of `value_loss` at ``params``, from the forward pass that the baseline
        of the DiCE objective made on ``roll`` with these same tensors when there was one
        (the same numbers: one pass instead of two)."""
        seen = roll.memo.get(("values", ctx.player))
        if seen is not None and len(seen[0]) == len(params) and all(
                a is b for a, b in zip(seen[0], params.values(), strict=True)):
            leaf, values = seen[1], seen[2]
        else:
            leaf = detach(params, requires_grad=True)
            values = rollout_values(self.modules(ctx.game)[1], leaf, roll, ctx.player)
        loss = self.value_error(ctx, values, roll)
        return dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values())), strict=True))

    # -- the update ------------------------------------------------------------------------
    def players(self, own: AgentParams, other: ParamTree, ctx: Context
                ) -> tuple[Pair, Pair, AgentParams, AgentParams]:
        """``(policy modules, value modules, other, new own)`` of both players, by player:
        the real opponent, or with ``opponent_model`` the model fitted to its play (the
        model's params then go into the new own params; the opponent's are never read)."""
        me, you = ctx.player, 1 - ctx.player
        policy, value_fn = self.modules(ctx.game)
        other_policy, opponent, other_value = as_player(ctx.other, other, ctx.game)
        new_own = dict(own)
        if self.opponent_model:
            new_own["model"] = fit_policy_model(self, own, other_policy, opponent, ctx)
            other_policy, other_value = policy, None
            opponent = {"policy": new_own["model"], "value": {}}
        pols: Pair = [None, None]
        vals: Pair = [None, None]
        pols[me], vals[me] = policy, value_fn
        pols[you], vals[you] = other_policy, other_value
        return pols, vals, opponent, new_own

    def train_value(self, ctx: Context, own: AgentParams, state: Any,
                    roll: Rollout | CoinRollout, reset: bool) -> tuple[Params, Any]:
        """The value function's Adam step on the outer rollout's discounted returns (no
        step without the ``"value"`` baseline): new value params and Adam state."""
        if self.baseline != "value":
            return own["value"], state
        vgrads = self.value_grads(ctx, own["value"], roll)
        adam = Adam(self.lr_v)
        state = adam.init(own["value"]) if reset else state
        new, state = adam.step(detach(own["value"]), vgrads, state)
        return dict(new), state

    def update(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[AgentParams, Any]:
        """One LOLA-DiCE step of this agent against ``other`` (both ``[S, ...]``)."""
        me, you = ctx.player, 1 - ctx.player
        pols, vals, opponent, new_own = self.players(own, other, ctx)
        reset = self.optimizer == "adam-reset"  # the optimizers' moments restart each update
        with torch.enable_grad():
            theta = detach(own["policy"], requires_grad=True)

            def pair(phi_: Any) -> Pair:
                out: Pair = [None, None]
                out[me] = {"policy": theta, "value": own["value"]}
                out[you] = {"policy": phi_, "value": opponent["value"]}
                return out

            def opponent_loss(phi_: Any) -> Tensor:
                """-DiCE of the opponent on fresh rollouts played with ``phi_``."""
                params = pair(phi_)
                return self._dice_loss(ctx, you, pols, vals, params,
                                       self._rollout(ctx, pols, params))

            # inner loop: the opponent's anticipated plain gradient steps, kept in the graph
            # so that phi depends on theta
            phi, _ = unroll(opponent_loss, detach(opponent["policy"], requires_grad=True),
                            steps=self.n_lookaheads, optimizer=SGD(self.lr_in))
            # outer step: own DiCE objective against the looked-ahead opponent
            params = pair(phi)
            roll = self._rollout(ctx, pols, params)
            loss = self._dice_loss(ctx, me, pols, vals, params, roll)
            grads = dict(zip(theta, torch.autograd.grad(loss, list(theta.values())), strict=True))
            optimizer = self.outer_optimizer()
            policy_state: OptimizerState = optimizer.init(theta) if reset else state["policy"]
            new_policy, policy_state = optimizer_step(optimizer, detach(theta), grads,
                                                      policy_state)
            new_own["policy"] = param_dict(new_policy)
            new_own["value"], value_state = self.train_value(ctx, own, state["value"], roll,
                                                             reset)
        return new_own, {"policy": policy_state, "value": value_state}


class NaivePG(LOLADiCE):
    """NL-PG: policy gradient through the DiCE objective with no opponent lookahead.

    Settings: `PGSettings` (those of `LOLADiCE` except ``n_lookaheads``, ``lr_in`` and the
    opponent model's); ``opponent_model=True`` is an error (a naive learner does not use
    its opponent).
    """

    name = "naive-pg"
    Settings = PGSettings
    n_lookaheads = 0
    lr_in = 0.0

    def hparams(self) -> dict[str, Any]:
        out = super().hparams()
        del out["opponent_model"]
        return out

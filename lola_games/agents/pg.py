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
  observed actions (`lola_games.agents.opponent_model.fit_policy_model`) before each
  update, and look ahead through the model's learning instead. As in the DiCE paper's code,
  the lookahead and outer rollouts are then played against the model.

`DICE_PAPER` holds the settings of the DiCE paper's own code (alshedivat/lola,
``scripts/run_lola_dice.py``; they are the constructor's defaults) and `UNOFFICIAL_PORT`
those of an unofficial PyTorch port. Agent parameters are a dict ``{"policy", "value"}`` (and
``"model"``, the opponent model, with ``opponent_model``) of stacked per-seed tensors
``[S, ...]`` (see `lola_games.rollouts.policies`); losses are means over episodes summed over
seeds, so each seed gets exactly its own gradient. The agents are registered as
``lola-dice`` and ``naive-pg`` and evaluated by `evaluate_sampled`.

The same update plays two-action matrix games and the Coin Game
(`CoinGame`): the policy name picks networks for the game's
observations, built by `SampledLearner.modules` for the game it is given, and rollouts
come from the game's sampler (both in `lola_games.rollouts.games`).
`POLA_COIN` and `LOLA_PAPER_COIN` hold the published Coin Game settings.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from lola_games.agents.base import Agent, Context, memory_one_metrics
from lola_games.agents.model_fit import fit_policy_model
from lola_games.agents.naive import check_rate
from lola_games.core.tensors import ParamDict as Params
from lola_games.functional import SGD, Adam, detach, unroll
from lola_games.rollouts import (
    INITS,
    MLPPolicy,
    Rollout,
    TabularPolicy,
    init_params,
    log_probs,
    memory_one_probs,
    random_logits,
    rollout_values,
)
from lola_games.rollouts.games import (
    COIN_POLICIES,
    POLICIES,
    build_modules,
    check_policy_fits,
    game_metrics,
    is_coin_game,
    sample_game_rollout,
)
from lola_games.values.dice import (
    centre_by_batch_mean,
    dice_objective,
    discounted_returns,
    normalised_discounted_return,
)

__all__ = [
    "SampledLearner",
    "LOLADiCE",
    "NaivePG",
    "evaluate_sampled",
    "sampled_metrics",
    "POLICIES",
    "BASELINES",
    "METRICS",
    "OPTIMIZERS",
    "DICE_PAPER",
    "UNOFFICIAL_PORT",
    "POLA_COIN",
    "LOLA_PAPER_COIN",
]

AgentParams = dict[str, Params]

# POLICIES: the policy names the constructors accept, per game in
# lola_games.rollouts.games (any nn.Module with the policy signature works too)
BASELINES = ("none", "batch-mean", "value")
"""Baselines of the DiCE objective (see the module docstring)."""
METRICS = ("reward", "discounted")
"""What the runner logs as a player's value (see the module docstring)."""
OPTIMIZERS = ("sgd", "adam", "adam-reset")
"""Outer steps: plain gradient steps, Adam, or Adam whose moments restart at every update
(each step is then Adam's first, ``lr * g / (|g| + eps)`` per parameter; so is the value
function's), as in the POLA paper's code (see `POLA_COIN`)."""

DICE_PAPER: dict[str, Any] = {
    "batch_size": 64, "rollout_len": 150, "lr_out": 0.2, "lr_in": 0.1, "optimizer": "sgd",
    "baseline": "batch-mean", "init": "truncated-normal", "metric": "discounted",
    "lr_om": 0.1, "om_batch_size": 16, "om_epochs": 5,
}
"""The DiCE paper's code (alshedivat/lola ``lola_dice/rpg.py`` run by
``scripts/run_lola_dice.py``): 64 episodes of 150 rounds, plain outer steps of 0.2, inner
steps of 0.1 on fresh rollouts, no learned baseline (``use_baseline=False``: rewards centred
by their batch mean), the linear policy's default initialiser (truncated normal, std
``1/sqrt(5)``), the normalised discounted return as the logged score; opponent models fitted
with steps of 0.1 on minibatches of 16 rounds for 5 rollouts per update (the script as
published sets ``om_epochs=0``, which never fits the models; its stored opponent-modelling
runs were made with 5, which is what their saved model parameters follow)."""

UNOFFICIAL_PORT: dict[str, Any] = {
    "batch_size": 128, "rollout_len": 150, "lr_out": 0.2, "lr_in": 0.3, "lr_v": 0.1,
    "optimizer": "adam", "baseline": "value", "init": "zeros", "metric": "reward",
}
"""An unofficial PyTorch port of LOLA-DiCE: Adam outer steps, a learned value baseline,
logits starting at 0, batch 128, inner steps of 0.3, mean reward per round logged."""

POLA_COIN: dict[str, Any] = {
    "policy": "coin-gru", "hidden_size": 64, "n_lookaheads": 1, "batch_size": 2000,
    "rollout_len": 50, "lr_out": 0.003, "lr_in": 0.003, "lr_v": 0.0005,
    "optimizer": "adam-reset", "baseline": "value", "baseline_form": "mao", "metric": "reward",
}
"""The LOLA-DiCE baseline of the POLA paper on the Coin Game (Silent-Zebra/POLA, README
command for Fig. 5 run by ``jax_files/POLA_dice_jax.py``; gamma 0.96, 50,001 updates): 2000
episodes of 50 rounds; one lookahead step of plain SGD 0.003 on fresh rollouts; outer steps
of Adam 0.003 whose state the code creates afresh at every update (``TrainState.create``),
so every step is Adam's first (``"adam-reset"``), as are the value function's (Adam 0.0005);
a dense layer of 64 units (ReLU) then a GRU of 64 units (``"coin-gru"``); a learned value
baseline in the Loaded-DiCE form with GAE lambda 1, which is the ``"mao"`` form here, except
that the code also bootstraps the value of the state after the last round; mean reward per
round logged. The code's value function is a GRU over the history, here a memoryless MLP of
the board (`CoinMLPValue`); its two players see red's view of the
board, here each its own (`lola_games.games.coin`)."""

LOLA_PAPER_COIN: dict[str, Any] = {
    "policy": "conv-gru", "hidden_size": 32, "batch_size": 4000, "rollout_len": 150,
    "lr_out": 0.005, "optimizer": "sgd", "baseline": "value", "metric": "reward",
}
"""The LOLA paper's Coin Game setting (alshedivat/lola, ``scripts/run_lola.py`` defaults for
``CoinGame`` run by ``lola/train_cg.py``; gamma 0.96, 100,000 updates): 4000 episodes of 150
rounds per update, plain steps of 0.005, two 3 x 3 convolutions of 20 channels and a
recurrent layer of 32 units (``"conv-gru"``, see `CoinConvGRUPolicy`), a learned value baseline. As NL-PG through DiCE; the paper's LOLA-PG
used its own estimator, and its value head is trained with plain steps of 1 on TD targets
(here Adam on returns-to-go)."""


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


@torch.no_grad()
def sampled_metrics(
    game: Any,
    agents: tuple[Agent, Agent],
    params: tuple[Any, Any],
    gamma: float,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """Named metrics ``[2 (player), S]`` on a fresh batch of episodes of both players.

    Batch size, episode length and the ``"value"`` metric are those of the first sampled
    learner of the pair (128 episodes of 150 rounds, mean reward per round without one).

    Matrix games: ``value``; ``reward_per_round`` (mean reward per round);
    ``discounted_return`` (``(1 - gamma) sum_t gamma^t r_t``, mean over episodes);
    ``p_start``, ``p_CC``, ``p_CD``, ``p_DC``, ``p_DD`` (P(action 0) per memory-one state,
    own side).

    The Coin Game (`lola_games.rollouts.coin.coin_metrics`): ``value`` (always the mean
    reward per round, the score of the Coin Game papers), ``own_coin_share``,
    ``coins_per_round``, and ``discounted_return`` when that learner's ``metric`` is
    ``"discounted"``. Memory-one probabilities do not apply.
    """
    sampled = [a for a in agents if isinstance(a, SampledLearner)]
    first = sampled[0] if sampled else None
    batch, length = (first.batch_size, first.rollout_len) if first else (128, 150)
    players = [as_player(a, p, game) for a, p in zip(agents, params, strict=True)]
    roll = sample_game_rollout(game, (players[0][0], players[1][0]),
                               (players[0][1]["policy"], players[1][1]["policy"]), batch,
                               length, generator)
    rewards = roll.rewards.movedim(-1, 0)  # [2, S, B, T]
    per_round = rewards.mean(dim=(-1, -2))
    discounted = normalised_discounted_return(rewards, gamma).mean(-1)
    logs_discounted = first is not None and first.metric == "discounted"
    if is_coin_game(game):
        out = {"value": per_round, **game_metrics(game, roll)}
        return {**out, "discounted_return": discounted} if logs_discounted else out
    out = {"value": discounted if logs_discounted else per_round,
           "reward_per_round": per_round, "discounted_return": discounted}
    probs = torch.stack([a.probs(p) for a, p in zip(agents, params, strict=True)])
    return {**out, **memory_one_metrics(game, probs.to(per_round.dtype))}


evaluate_sampled = sampled_metrics
"""The runner's evaluator of the sampled learners (`sampled_metrics`)."""


class SampledLearner(Agent):
    """What the sampled learners share: policy modules, rollout sizes, the logged metric.

    Subclasses set ``policy`` (an ``nn.Module``), ``value`` (``nn.Module`` or ``None``),
    ``batch_size``, ``rollout_len`` and ``metric``, and keep the policy's stacked parameters
    under ``params["policy"]`` (and the value's under ``params["value"]``).
    """

    mode = "sampled"
    policy: nn.Module
    value: nn.Module | None = None
    batch_size: int
    rollout_len: int
    metric: str

    evaluator = staticmethod(evaluate_sampled)

    def _setup(self, policy: str | nn.Module, value: nn.Module | None, hidden_size: int,
               batch_size: int, rollout_len: int, init: str, init_scale: float | None,
               metric: str) -> None:
        """Check and set the options every sampled learner has; build its modules.

        ``policy``/``value`` are the modules before a game is given: those of a matrix game
        for the matrix policy names, of the 3 x 3 Coin Game for the Coin Game names;
        `modules` gives them for any game.
        """
        self.hidden_size = _count("hidden_size", hidden_size)
        self.batch_size = _count("batch_size", batch_size)
        self.rollout_len = _count("rollout_len", rollout_len)
        self.init = _choice("init", init, INITS)
        if init_scale is None:
            init_scale = 1 / math.sqrt(5) if init == "truncated-normal" else 1.0
        self.init_scale = check_rate("init_scale", init_scale)
        self.metric = _choice("metric", metric, METRICS)
        self.policy, self.value = build_modules(policy, value, self.hidden_size)
        self.policy_option, self.value_option = policy, value
        self._modules_by_grid: dict[int, tuple[nn.Module, nn.Module]] = {}

    def modules(self, game: Any = None) -> tuple[nn.Module, nn.Module]:
        """``(policy, value)`` modules of this learner on ``game`` (see
        `lola_games.rollouts.games.build_modules`); built once per board size."""
        if not is_coin_game(game) or (self.policy_option in COIN_POLICIES
                                      and game.grid_size == 3):
            return self.policy, self.value
        if game.grid_size not in self._modules_by_grid:
            self._modules_by_grid[game.grid_size] = build_modules(
                self.policy_option, self.value_option, self.hidden_size, game)
        return self._modules_by_grid[game.grid_size]

    def check_game(self, game: Any) -> None:
        """A two-action matrix game, and a policy name for matrix games."""
        super().check_game(game)
        check_policy_fits(self.policy_option, game, self.name)

    def _draw(self, module: nn.Module, n_seeds: int, generator, device) -> Params:
        """Stacked initial params ``[S, ...]`` of ``module``: tabular tables from ``init``,
        other modules their own initialisation."""
        if isinstance(module, TabularPolicy):
            return {"logits": random_logits((n_seeds, 5), self.init, self.init_scale,
                                            generator, device)}
        return init_params(module, n_seeds, generator, device)

    def is_memory_one(self) -> bool:
        """Tabular and MLP policies see only the last outcome; a GRU sees the history (and
        Coin Game policies see boards, not outcomes)."""
        return bool(getattr(self.policy, "memory_one", False)) or isinstance(self.policy,
                                                                             MLPPolicy)

    def probs(self, params: AgentParams) -> Tensor:
        """P(action 0) per memory-one state ``[S, 5]`` (start, CC, CD, DC, DD).

        Raises:
            ValueError: a Coin Game policy (it has no memory-one states).
        """
        if self.policy_option in COIN_POLICIES:
            raise ValueError(f"{self.name}: the Coin Game policy {self.policy_option!r} has no "
                             f"memory-one probabilities")
        return memory_one_probs(self.policy, params["policy"])

    def logits(self, params: AgentParams) -> Tensor:
        """Memory-one logits ``[S, 5]`` of P(action 0) (see `probs`)."""
        if isinstance(self.policy, TabularPolicy):
            return params["policy"]["logits"]
        probs = self.probs(params)
        return torch.logit(probs.double(), eps=1e-12).to(probs.dtype)


def as_player(agent: Agent, params: Any, game: Any = None
              ) -> tuple[nn.Module, AgentParams, nn.Module | None]:
    """(policy module, ``{"policy", "value"}`` params, value module or None) of any agent.

    Sampled learners expose their modules on ``game`` (`SampledLearner.modules`); an
    exact agent's memory-one logits ``[S, 5]`` are played by a `TabularPolicy` (it
    has no value function).
    """
    if isinstance(agent, SampledLearner):
        policy, value = agent.modules(game)
        return policy, params, value
    return TabularPolicy(), {"policy": {"logits": agent.logits(params)}, "value": {}}, None


class LOLADiCE(SampledLearner):
    """LOLA-DiCE learner (``n_lookaheads >= 1``) over any policy module.

    Defaults are the DiCE paper's code (`DICE_PAPER`) with 2 lookaheads.

    Plays two-action matrix games and the Coin Game (`POLA_COIN`, the POLA paper's
    LOLA-DiCE setting there).

    Args:
        policy: on matrix games ``"tabular"`` (default: one logit of P(action 0) per
            memory-one state, which is the DiCE code's linear policy on the one-hot
            observation with the other action's logit fixed at 0), ``"mlp"`` or ``"gru"``;
            on the Coin Game ``"conv-gru"`` (the LOLA paper's), ``"coin-mlp"`` or
            ``"coin-gru"`` (the POLA paper's); or any ``nn.Module`` with the policy signature
            of `lola_games.rollouts.policies` (see `lola_games.rollouts.games`).
        value: value module of the ``"value"`` baseline (default: `TabularValue` for
            a tabular policy, a network of the policy's observations otherwise).
        hidden_size: width of the default networks (MLP, GRU, value).
        n_lookaheads: the opponent's imagined learning steps (0 gives NL-PG).
        batch_size: episodes per rollout batch (per seed).
        rollout_len: rounds per episode.
        lr_out: outer learning rate.
        lr_in: plain gradient step size of the opponent's lookahead.
        lr_v: Adam learning rate of the value function (``baseline="value"``).
        optimizer: outer step, ``"sgd"``, ``"adam"`` or ``"adam-reset"`` (`OPTIMIZERS`).
        baseline: ``"batch-mean"``, ``"value"`` or ``"none"`` (``True``/``False`` mean
            ``"value"``/``"none"``).
        baseline_form: ``"dice"`` or ``"mao"``: the value baseline's form (see
            `lola_games.values.dice`).
        init: initial logits of a tabular policy, one of
            `lola_games.rollouts.policies.INITS` (neural policies keep their modules'
            initialisation).
        init_scale: scale of ``init`` (default ``1/sqrt(5)`` for ``"truncated-normal"``,
            the linear layer's default, else 1).
        magic_box: ``False`` drops the magic box (the "no DiCE" ablation).
        metric: ``"discounted"`` or ``"reward"`` (what the runner logs).
        opponent_model: fit and shape a model of the opponent instead of reading its
            parameters (needs ``n_lookaheads >= 1``).
        lr_om: step size of the opponent model's maximum-likelihood fit.
        om_batch_size: rounds per minibatch of that fit.
        om_epochs: fresh rollouts the model is fitted on before each update.

    Raises:
        ValueError: an option out of range or of the wrong type, an unknown option value,
            the batch-mean baseline with fewer than 2 episodes, or opponent modelling
            without lookahead.
    """

    name = "lola-dice"

    def __init__(
        self,
        policy: str | nn.Module = "tabular",
        value: nn.Module | None = None,
        *,
        hidden_size: int = 32,
        n_lookaheads: int = 2,
        batch_size: int = 64,
        rollout_len: int = 150,
        lr_out: float = 0.2,
        lr_in: float = 0.1,
        lr_v: float = 0.1,
        optimizer: str = "sgd",
        baseline: str | bool = "batch-mean",
        baseline_form: str = "dice",
        init: str = "truncated-normal",
        init_scale: float | None = None,
        magic_box: bool = True,
        metric: str = "discounted",
        opponent_model: bool = False,
        lr_om: float = 0.1,
        om_batch_size: int = 16,
        om_epochs: int = 5,
    ) -> None:
        self._setup(policy, value, hidden_size, batch_size, rollout_len, init, init_scale,
                    metric)
        self.n_lookaheads = _count("n_lookaheads", n_lookaheads, minimum=0)
        self.lr_out = check_rate("lr_out", lr_out)
        self.lr_in = check_rate("lr_in", lr_in)
        self.lr_v = check_rate("lr_v", lr_v)
        self.lr_om = check_rate("lr_om", lr_om)
        self.optimizer = _choice("optimizer", optimizer, OPTIMIZERS)
        if isinstance(baseline, bool):
            baseline = "value" if baseline else "none"
        self.baseline = _choice("baseline", baseline, BASELINES)
        self.baseline_form = _choice("baseline_form", baseline_form, ("dice", "mao"))
        self.magic_box = _flag("magic_box", magic_box)
        self.opponent_model = _flag("opponent_model", opponent_model)
        self.om_batch_size = _count("om_batch_size", om_batch_size)
        self.om_epochs = _count("om_epochs", om_epochs)
        if self.baseline == "batch-mean" and self.batch_size < 2:
            raise ValueError(
                f"baseline 'batch-mean' centres rewards over the batch and needs batch_size "
                f">= 2, got batch_size={batch_size}"
            )
        if self.baseline_form == "mao" and not self.magic_box and self.baseline == "value":
            raise ValueError("baseline_form 'mao' needs the magic box (magic_box=True)")
        if self.opponent_model and self.n_lookaheads == 0:
            raise ValueError(
                f"opponent_model: {self.name} with n_lookaheads=0 never uses its opponent's "
                f"parameters, so it has nothing to model (use n_lookaheads >= 1)"
            )

    def hparams(self) -> dict[str, Any]:
        return {
            "policy": type(self.policy).__name__,
            "value": type(self.value).__name__,
            "hidden_size": self.hidden_size,
            "n_lookaheads": self.n_lookaheads,
            "batch_size": self.batch_size,
            "rollout_len": self.rollout_len,
            "lr_out": self.lr_out,
            "lr_in": self.lr_in,
            "lr_v": self.lr_v,
            "optimizer": self.optimizer,
            "baseline": self.baseline,
            "baseline_form": self.baseline_form,
            "init": self.init,
            "init_scale": self.init_scale,
            "magic_box": self.magic_box,
            "metric": self.metric,
            "opponent_model": self.opponent_model,
            "lr_om": self.lr_om,
            "om_batch_size": self.om_batch_size,
            "om_epochs": self.om_epochs,
        }

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
        params = {"policy": cast(self._draw(policy, n_seeds, generator, device)),
                  "value": cast(init_params(value, n_seeds, generator, device))}
        if self.opponent_model:
            params["model"] = cast(self._draw(policy, n_seeds, generator, device))
        return params

    def _optimizer(self) -> SGD | Adam:
        return SGD(self.lr_out) if self.optimizer == "sgd" else Adam(self.lr_out)

    def init_state(self, params: AgentParams) -> dict[str, Any]:
        """States of the outer optimizer and of the value function's Adam."""
        return {"policy": self._optimizer().init(params["policy"]),
                "value": Adam(self.lr_v).init(params["value"])}

    # -- losses ----------------------------------------------------------------------------
    def _rollout(self, ctx: Context, pols, params) -> Rollout:
        return sample_game_rollout(ctx.game, pols, [p["policy"] for p in params],
                                   self.batch_size, self.rollout_len, ctx.generator)

    def _dice_loss(self, ctx: Context, learner: int, pols, vals, params, roll: Rollout
                   ) -> Tensor:
        """``-DiCE`` of player ``learner``: mean over episodes, summed over seeds."""
        lp = [log_probs(pols[i], params[i]["policy"], roll, i) for i in range(2)]
        rewards = roll.rewards[..., learner]
        values = None
        if self.baseline == "batch-mean":
            rewards = centre_by_batch_mean(rewards)
        elif self.baseline == "value" and vals[learner] is not None:
            values = rollout_values(vals[learner], params[learner]["value"], roll, learner)
            values = values.detach()
        objective = dice_objective(rewards, lp[learner], lp[1 - learner], ctx.gamma, values,
                                   self.baseline_form, use_magic_box=self.magic_box)
        return -objective.mean(-1).sum()

    def value_loss(self, ctx: Context, params: Params, roll: Rollout) -> Tensor:
        """MSE between ``V(s_t)`` and the discounted returns-to-go; summed over seeds."""
        p = ctx.player
        returns = discounted_returns(roll.rewards[..., p], ctx.gamma)
        values = rollout_values(self.modules(ctx.game)[1], params, roll, p)
        return ((values - returns) ** 2).mean(dim=(-1, -2)).sum()

    # -- the update ------------------------------------------------------------------------
    def update(
        self, own: AgentParams, other: Any, state: dict[str, Any], ctx: Context
    ) -> tuple[AgentParams, dict[str, Any]]:
        """One LOLA-DiCE step of this agent against ``other`` (both ``[S, ...]``)."""
        me, you = ctx.player, 1 - ctx.player
        policy, value_fn = self.modules(ctx.game)
        other_policy, other, other_value = as_player(ctx.other, other, ctx.game)
        new_own = dict(own)
        if self.opponent_model:
            # the model is fitted to the opponent's actions in real play, then stands in for
            # the opponent (its parameters are never read)
            new_own["model"] = fit_policy_model(self, own, other_policy, other, ctx)
            other_policy, other_value = policy, None
            other = {"policy": new_own["model"], "value": {}}
        pols, vals = [None, None], [None, None]
        pols[me], vals[me] = policy, value_fn
        pols[you], vals[you] = other_policy, other_value
        # "adam-reset": the optimizers' moments restart at every update
        reset = self.optimizer == "adam-reset"

        with torch.enable_grad():
            theta = detach(own["policy"], requires_grad=True)

            def pair(phi_: Params) -> list[AgentParams]:
                out: list[Any] = [None, None]
                out[me] = {"policy": theta, "value": own["value"]}
                out[you] = {"policy": phi_, "value": other["value"]}
                return out

            def opponent_loss(phi_: Params) -> Tensor:
                """-DiCE of the opponent on fresh rollouts played with ``phi_``."""
                params = pair(phi_)
                return self._dice_loss(ctx, you, pols, vals, params,
                                       self._rollout(ctx, pols, params))

            # inner loop: the opponent's anticipated plain gradient steps, kept in the graph
            # so that phi depends on theta
            phi, _ = unroll(opponent_loss, detach(other["policy"], requires_grad=True),
                            steps=self.n_lookaheads, optimizer=SGD(self.lr_in))

            # outer step: own DiCE objective against the looked-ahead opponent
            params = pair(phi)
            roll = self._rollout(ctx, pols, params)
            loss = self._dice_loss(ctx, me, pols, vals, params, roll)
            grads = dict(zip(theta, torch.autograd.grad(loss, list(theta.values())), strict=True))
            optimizer = self._optimizer()
            policy_state = optimizer.init(theta) if reset else state["policy"]
            new_own["policy"], policy_state = optimizer.step(detach(theta), grads, policy_state)

            # value function: regression on the outer rollout's discounted returns
            value_state = state["value"]
            if self.baseline == "value":
                value = detach(own["value"], requires_grad=True)
                loss_v = self.value_loss(ctx, value, roll)
                vgrads = dict(zip(value, torch.autograd.grad(loss_v, list(value.values())),
                                  strict=True))
                adam = Adam(self.lr_v)
                value_state = adam.init(value) if reset else value_state
                new_own["value"], value_state = adam.step(detach(value), vgrads, value_state)
        return new_own, {"policy": policy_state, "value": value_state}


class NaivePG(LOLADiCE):
    """NL-PG: policy gradient through the DiCE objective with no opponent lookahead.

    Takes the options of `LOLADiCE` except ``n_lookaheads`` and ``lr_in``;
    ``opponent_model=True`` is an error (a naive learner does not use its opponent).
    """

    name = "naive-pg"

    def __init__(
        self,
        policy: str | nn.Module = "tabular",
        value: nn.Module | None = None,
        *,
        hidden_size: int = 32,
        batch_size: int = 64,
        rollout_len: int = 150,
        lr_out: float = 0.2,
        lr_v: float = 0.1,
        optimizer: str = "sgd",
        baseline: str | bool = "batch-mean",
        baseline_form: str = "dice",
        init: str = "truncated-normal",
        init_scale: float | None = None,
        magic_box: bool = True,
        metric: str = "discounted",
        opponent_model: bool = False,
    ) -> None:
        super().__init__(policy, value, hidden_size=hidden_size, n_lookaheads=0,
                         batch_size=batch_size, rollout_len=rollout_len, lr_out=lr_out,
                         lr_in=0.0, lr_v=lr_v, optimizer=optimizer, baseline=baseline,
                         baseline_form=baseline_form, init=init, init_scale=init_scale,
                         magic_box=magic_box, metric=metric, opponent_model=opponent_model)

    def hparams(self) -> dict[str, Any]:
        out = super().hparams()
        for key in ("n_lookaheads", "lr_in", "opponent_model", "lr_om", "om_batch_size",
                    "om_epochs"):
            del out[key]
        return out

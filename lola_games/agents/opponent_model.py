"""Opponent modelling: learners that do not read the opponent's parameters.

An agent with an opponent model only *watches* the opponent play: it samples episodes of
real play (its own policy against the opponent, whose policy the environment runs), fits a
model of the opponent's policy to the opponent's observed actions by maximum likelihood, and
shapes the model's learning instead of the opponent's (the LOLA paper's Sec. 3.4; the DiCE
paper's LOLA-DiCE-OM).

* `fit_policy_model` -- the DiCE paper code's fit, used by
  `LOLADiCE` with ``opponent_model=True``: the model (a policy
  module of the agent's own kind) starts where the last update left it and, for each of
  ``om_epochs`` fresh rollouts, takes plain gradient steps of ``lr_om`` on the negative mean
  log-likelihood of the opponent's actions, one per minibatch of ``om_batch_size`` rounds (a
  random permutation of the rounds, all episodes) and one more on the whole rollout.
* `memory_one_mle` -- the maximum-likelihood memory-one policy of observed play,
  in closed form: ``logit_s = log((C_s + prior) / (D_s + prior))`` from the counts of the
  opponent's actions in each state (``prior`` pseudo-counts keep the logits finite).
* `ModelledOpponent` (registered as ``lola-om``: LOLA-Ex on the model, the LOLA
  paper's LOLA-OM with exact gradients) -- wraps an exact learner: before each update it
  plays ``batch_size`` episodes of ``rollout_len`` rounds against the opponent, fits the
  memory-one model with `memory_one_mle` and gives the learner the model's logits in
  place of the opponent's. It is evaluated exactly, like the learner it wraps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context
from lola_games.agents.lola import LOLA, LOLASettings
from lola_games.agents.model_fit import memory_one_mle
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import check_count
from lola_games.core.tensors import ParamTree
from lola_games.rollouts import TabularPolicy, sample_rollout

__all__ = ["ModelledSettings", "ModelledOpponent", "LOLAOMSettings", "LOLAOM"]


@dataclass(frozen=True)
class ModelledSettings(AgentSettings):
    """Settings of `ModelledOpponent`: how it watches the opponent.

    Attributes:
        batch_size: episodes of real play per update (per seed).
        rollout_len: rounds per episode.
        prior: pseudo-counts of `memory_one_mle`.
    """

    batch_size: int = 64
    rollout_len: int = 150
    prior: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("batch_size", self.batch_size)
        check_count("rollout_len", self.rollout_len)
        object.__setattr__(self, "prior", check_rate("prior", self.prior, allow_zero=False))


@dataclass(frozen=True)
class LOLAOMSettings(ModelledSettings, LOLASettings):
    """Settings of `LOLAOM`: those of `LOLASettings` (``lr``, ``optimizer``, ``eta``,
    ``stop_gradient``) and of `ModelledSettings`."""


class ModelledOpponent(Agent[Tensor]):
    """An exact learner that updates against a memory-one model of its opponent.

    ``ModelledOpponent(learner, **settings)``: ``learner`` is an exact learner on memory-one
    logits (``mode == "exact"``); the settings are a `ModelledSettings`.

    Raises:
        ValueError: ``learner`` is not an exact learner, or a count/prior out of range.
    """

    name = "modelled-opponent"
    mode = "exact"
    reads_opponent_logits = True  # it plays the opponent's memory-one policy to watch it
    Settings: ClassVar[type[ModelledSettings]] = ModelledSettings
    settings: ModelledSettings
    learner: Agent

    def __init__(self, learner: Agent, settings: ModelledSettings | None = None, /,
                 **hparams: Any) -> None:
        if not isinstance(learner, Agent) or learner.mode != "exact":
            raise ValueError(
                f"opponent modelling wraps an exact learner on memory-one logits, got "
                f"{learner!r}; sampled learners take opponent_model=True instead"
            )
        self.learner = learner
        super().__init__(settings, **hparams)

    def hparams(self) -> dict[str, Any]:
        return {"learner": self.learner.name, **self.learner.hparams(), **super().hparams()}

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> Tensor:
        """The learner's params (memory-one logits ``[S, 5]``)."""
        return self.learner.init_params(n_seeds, generator, device, dtype)

    def init_state(self, params: Tensor) -> Any:
        return self.learner.init_state(params)

    def logits(self, params: Tensor) -> Tensor:
        return self.learner.logits(params)

    def model(self, own: Tensor, other_logits: Tensor, ctx: Context) -> Tensor:
        """The opponent's fitted memory-one logits ``[S, 5]`` from fresh episodes of play."""
        mine, yours = {"logits": own}, {"logits": other_logits}
        pair = (mine, yours) if ctx.player == 0 else (yours, mine)
        policy = TabularPolicy()
        roll = sample_rollout(ctx.game, (policy, policy), pair, self.batch_size,
                              self.rollout_len, ctx.generator)
        return memory_one_mle(roll, 1 - ctx.player, self.prior).to(own.dtype)

    def update(self, own: Tensor, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[Tensor, Any]:
        """The learner's step against the model fitted to the opponent's play."""
        opponent = ctx.other
        other_logits = opponent.logits(other) if isinstance(opponent, Agent) else other
        if not isinstance(other_logits, Tensor):
            raise TypeError(f"{self.name}: without the opponent agent in ctx.other, other must "
                            f"be its memory-one logits [S, 5], got {type(other).__name__}")
        return self.learner.update(own, self.model(own, other_logits, ctx), state, ctx)


class LOLAOM(ModelledOpponent):
    """LOLA-Ex (`LOLA`) on a fitted model of the opponent. Settings: `LOLAOMSettings`."""

    name = "lola-om"
    Settings = LOLAOMSettings
    settings: LOLAOMSettings

    def __init__(self, settings: LOLAOMSettings | None = None, /, **hparams: Any) -> None:
        Agent.__init__(self, settings, **hparams)

    def setup(self) -> None:
        """Make the `LOLA` learner of the settings."""
        self.learner = LOLA(**{k: getattr(self.settings, k) for k in LOLASettings.names()})

    def hparams(self) -> dict[str, Any]:
        return self.settings.hparams()

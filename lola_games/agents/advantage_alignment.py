"""Advantage Alignment and Proximal Advantage Alignment (Duque et al., ICLR 2025).

An actor-critic learner (`lola_games.agents.actor_critic`) whose advantage of round ``t``
gets a term from the opponent's advantage there::

    A*_t = A1_t + beta * c_t * A2_t

with ``A1`` the agent's and ``A2`` the opponent's GAE advantages on the sampled batch and
``c_t`` a summary of the agent's own past advantages (`lola_games.values.advantages.
alignment_term`). The agent is reinforced for its action at ``t`` when its past went well
for it *and* the opponent's present action at ``t`` went well for the opponent: reciprocity.

Matched estimator: the authors' code, jduquevan/advantage-alignment (commit ``2065e43``),
``train.py``: ``TrainingAlgorithm.actor_losses`` (``actor_loss_mode: 'integrated_aa'``)
and ``aa_terms``, with ``utils.compute_gae_advantages``:

* GAE of both players with their own critics, the last round only bootstrapping
  (``rewards[:, :-1] + gamma * V[:, 1:] - V[:, :-1]``, ``[.., T - 1]``);
* with ``normalize_advantages`` (True there), all players' advantages centred and scaled by
  one mean and one (unbiased) standard deviation plus ``1e-8`` (here per seed);
* ``c_t = (1 / t) sum_{k < t} A1_k`` (``torch.cumsum(A[:, :-1]) / arange(1, T')``), zero at
  ``t = 0``, no discount, no ``gamma^t`` weighting; ``beta`` is ``aa_weight``;
* ``A2`` from the opponent's critic on the opponent's observations (in the code's self-play
  every player's advantage comes from the shared critic on that player's observations);
  ``opponent_critic="own"`` uses the agent's critic on the opponent's observations, which
  is also what happens when the opponent has no critic (a fixed strategy, an exact learner);
* AA (``proximal: False``): the surrogate ``A* log pi``; PAA (``proximal: True``): PPO's
  clipped ratio with ``A*`` (``clip_range``, log-ratio clamped to ``[-10, 10]``);
* ``updates_per_batch`` passes (``epochs``) stopped early once the KL estimate passes
  ``kl_threshold`` (per seed here), an entropy bonus ``entropy_beta``, the gradient norm
  clipped (``clip_grad_norm``), separate Adam optimizers of actor and critic;
* the critic's Huber loss in the code's modes ``'gae'``, ``'MC'`` and ``'td-1'`` (its
  configuration's; a target critic with rate ``tau`` 0.005): ``critic_loss`` ``"gae"``
  (the default here), ``"mc"``, ``"td"``.

``aa_form="paper"`` uses instead the paper's equation
``c_t = gamma sum_{k < t} gamma^(t - k) A1_k``. Not matched: the code's self-supervised
auxiliary losses and its replay buffer of past agents; its target critic is initialised
apart from the critic, here as a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

from lola_games.agents.actor_critic import ActorCritic, ActorCriticSettings, Batch
from lola_games.agents.base import Context
from lola_games.agents.naive import check_rate
from lola_games.agents.ppo import check_clip_range
from lola_games.agents.sampled import AgentParams, SampledSettings, check_choice
from lola_games.rollouts import rollout_values
from lola_games.values.advantages import ALIGNMENT_FORMS, alignment_term, gae, normalise

__all__ = ["AdvantageAlignmentSettings", "AdvantageAlignment",
           "ProximalAdvantageAlignmentSettings", "ProximalAdvantageAlignment",
           "OPPONENT_CRITICS"]

OPPONENT_CRITICS = ("opponent", "own")
"""Whose critic gives the opponent's advantages (see the module docstring)."""


@dataclass(frozen=True)
class AdvantageAlignmentSettings(ActorCriticSettings):
    """Settings of `AdvantageAlignment` (and the `ActorCriticSettings`).

    Attributes:
        aa_weight: ``beta``, the weight of the alignment term.
        aa_form: ``"code"`` (the authors' code) or ``"paper"`` (the paper's equation).
        opponent_critic: ``"opponent"`` or ``"own"`` (`OPPONENT_CRITICS`).
    """

    aa_weight: float = 1.0
    aa_form: str = "code"
    opponent_critic: str = "opponent"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "aa_weight", check_rate("aa_weight", self.aa_weight))
        check_choice("aa_form", self.aa_form, ALIGNMENT_FORMS)
        check_choice("opponent_critic", self.opponent_critic, OPPONENT_CRITICS)


class AdvantageAlignment(ActorCritic):
    """Advantage Alignment: the policy-gradient surrogate ``A* log pi`` (module docstring).

    Settings: `AdvantageAlignmentSettings`.

    Raises:
        ValueError: an option out of range or of the wrong type.
    """

    name = "advantage-alignment"
    Settings: ClassVar[type[SampledSettings]] = AdvantageAlignmentSettings
    settings: AdvantageAlignmentSettings

    def opponent_values(self, ctx: Context, own: AgentParams, opponent: AgentParams,
                        opponent_value: nn.Module | None, roll: Batch) -> Tensor:
        """``V(s_t)`` ``[S, B, T]`` of the opponent's states: its critic, or the agent's own
        (``opponent_critic="own"``, or an opponent without one)."""
        you = 1 - ctx.player
        if self.opponent_critic == "opponent" and opponent_value is not None:
            return rollout_values(opponent_value, opponent["value"], roll, you)
        return rollout_values(self.modules(ctx.game)[1], own["value"], roll, you)

    def advantages(self, ctx: Context, own: AgentParams, opponent: AgentParams,
                   opponent_value: nn.Module | None, roll: Batch, own_adv: Tensor) -> Tensor:
        """``A* = A1 + beta c A2`` ``[S, B, T - 1]`` from the (jointly normalised) GAE of
        both players."""
        values = self.opponent_values(ctx, own, opponent, opponent_value, roll)
        rewards = roll.rewards[..., 1 - ctx.player].to(values.dtype)
        other_adv = gae(rewards, values.to(own_adv.dtype), ctx.gamma, self.gae_lambda)
        if self.normalize_advantages:
            own_adv, other_adv = normalise(own_adv, other_adv)
        term = alignment_term(own_adv, other_adv, ctx.gamma, self.aa_form)
        return own_adv + self.aa_weight * term


@dataclass(frozen=True)
class ProximalAdvantageAlignmentSettings(AdvantageAlignmentSettings):
    """Settings of `ProximalAdvantageAlignment` (those of Advantage Alignment and PPO's
    clip range).

    Attributes:
        clip_range: the ratio is clipped to ``[1 - eps, 1 + eps]``.
    """

    clip_range: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "clip_range", check_clip_range(self.clip_range))


class ProximalAdvantageAlignment(AdvantageAlignment):
    """Proximal Advantage Alignment: PPO's clipped surrogate with the aligned advantages.

    Settings: `ProximalAdvantageAlignmentSettings`.
    """

    name = "proximal-advantage-alignment"
    Settings: ClassVar[type[SampledSettings]] = ProximalAdvantageAlignmentSettings
    settings: ProximalAdvantageAlignmentSettings

    def surrogate_clip(self) -> float | None:
        """``clip_range``."""
        return self.settings.clip_range

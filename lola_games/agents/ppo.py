"""PPO (Schulman et al. 2017) as a sampled learner of the IPD and the Coin Game.

Each update samples a batch of episodes against the current opponent and takes the
actor-critic steps of `lola_games.agents.actor_critic`: GAE advantages of the agent's own
rewards (normalised per seed), ``epochs`` passes of Adam steps on the clipped surrogate::

    L(theta) = -mean_t min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t) - beta_H mean_t H_t
    r_t = pi_theta(a_t | s_t) / pi_old(a_t | s_t)

then the critic's Huber steps. Independent PPO is two ``ppo`` agents
(``lola-games train --game ipd --agents ppo ppo``); it is the naive baseline of the
Advantage Alignment paper (`lola_games.agents.advantage_alignment`), whose code runs PPO
as Advantage Alignment with weight 0 (jduquevan/advantage-alignment, ``train.py``,
``actor_loss_mode: 'naive'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lola_games.agents.actor_critic import ActorCritic, ActorCriticSettings
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import SampledSettings

__all__ = ["PPOSettings", "PPO", "check_clip_range"]


def check_clip_range(value: object) -> float:
    """``value`` as a clip range in ``(0, 1)``, or ``ValueError`` naming it."""
    eps = check_rate("clip_range", value)
    if not 0 < eps < 1:
        raise ValueError(f"clip_range must be in (0, 1), got {value!r}")
    return eps


@dataclass(frozen=True)
class PPOSettings(ActorCriticSettings):
    """Settings of `PPO` (and the `ActorCriticSettings`).

    Attributes:
        clip_range: PPO's ``eps``: the ratio is clipped to ``[1 - eps, 1 + eps]``.
    """

    clip_range: float = 0.2

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "clip_range", check_clip_range(self.clip_range))


class PPO(ActorCritic):
    """PPO with a critic, over any policy module (tabular, MLP or GRU on the IPD; the Coin
    Game's policies). Settings: `PPOSettings`.

    Raises:
        ValueError: an option out of range or of the wrong type.
    """

    name = "ppo"
    Settings: ClassVar[type[SampledSettings]] = PPOSettings
    settings: PPOSettings

    def surrogate_clip(self) -> float | None:
        """``clip_range``: the clipped surrogate."""
        return self.settings.clip_range

"""Bridges to other libraries: the single-agent gymnasium view and the Axelrod library."""

from lola_games.interop.axelrod import (
    AxelrodStrategy,
    axelrod_game,
    axelrod_player,
    memory_one_policy,
    memory_one_strategies,
    play_in_env,
    require_axelrod,
)
from lola_games.interop.single_agent import (
    SingleAgentEnv,
    learner_model_logits,
    single_agent,
)

__all__ = [
    "SingleAgentEnv",
    "single_agent",
    "learner_model_logits",
    "axelrod_game",
    "memory_one_policy",
    "memory_one_strategies",
    "AxelrodStrategy",
    "axelrod_player",
    "play_in_env",
    "require_axelrod",
]

"""Register the envs with PettingZoo's registry, under the ``lola_games/`` namespace.

PettingZoo has ``pettingzoo.register`` / ``pettingzoo.make`` since 1.27; with an older
PettingZoo (the package allows >= 1.24) nothing is registered and `HAS_REGISTRY` is
False. Registered ids (AEC and parallel alike)::

    lola_games/ipd-v0, lola_games/imp-v0, lola_games/stag_hunt-v0, lola_games/chicken-v0
    lola_games/iterated_matrix_game-v0   (needs game=..., a MatrixGame or a name)
    lola_games/coin_game-v0              (grid_size=3, max_cycles=150)

For example ``pettingzoo.make("parallel", "lola_games/ipd-v0", max_cycles=100)``, after
``import lola_games.envs`` (which calls `register_envs`).

The single-agent view is registered with Gymnasium as `SINGLE_AGENT_ID`,
``gymnasium.make("lola_games/SingleAgent-v0", env_or_name="ipd", opponent="tft")`` (keyword
arguments of `lola_games.interop.single_agent.single_agent`).
"""

from __future__ import annotations

import gymnasium

try:
    from pettingzoo import aec_registry, parallel_registry, register
except ImportError:  # PettingZoo < 1.27 has no registry
    HAS_REGISTRY = False
else:
    HAS_REGISTRY = True

__all__ = ["HAS_REGISTRY", "ENV_IDS", "SINGLE_AGENT_ID", "SINGLE_AGENT_ENTRY", "register_envs"]

NAMESPACE = "lola_games"

SINGLE_AGENT_ID = f"{NAMESPACE}/SingleAgent-v0"
"""Gymnasium id of the single-agent view."""
SINGLE_AGENT_ENTRY = "lola_games.interop.single_agent:single_agent"

# id -> module holding env() and parallel_env()
_MODULES = {
    f"{NAMESPACE}/ipd-v0": "lola_games.envs.ipd_v0",
    f"{NAMESPACE}/imp-v0": "lola_games.envs.imp_v0",
    f"{NAMESPACE}/stag_hunt-v0": "lola_games.envs.stag_hunt_v0",
    f"{NAMESPACE}/chicken-v0": "lola_games.envs.chicken_v0",
    f"{NAMESPACE}/iterated_matrix_game-v0": "lola_games.envs.iterated",
    f"{NAMESPACE}/coin_game-v0": "lola_games.envs.coin_game_v0",
}

ENV_IDS: tuple[str, ...] = tuple(_MODULES)
"""The ids registered by `register_envs`."""


def register_envs() -> bool:
    """Register every id of `ENV_IDS` as an AEC and a parallel env (PettingZoo), and
    `SINGLE_AGENT_ID` with Gymnasium.

    Idempotent: ids already present are left alone. Returns `HAS_REGISTRY`.
    """
    if SINGLE_AGENT_ID not in gymnasium.registry:
        gymnasium.register(SINGLE_AGENT_ID, entry_point=SINGLE_AGENT_ENTRY)
    if not HAS_REGISTRY:
        return False
    for env_id, module in _MODULES.items():
        if env_id not in aec_registry:
            register("aec", env_id, entry_point=f"{module}:env")
        if env_id not in parallel_registry:
            register("parallel", env_id, entry_point=f"{module}:parallel_env")
    return True

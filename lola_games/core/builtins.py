"""The built-in entries of the agent and game registries, as torch-free data.

`lola_games.agents.registry` and `lola_games.games.registry` register from these tables, and
the command line lists their names in ``--help`` without importing torch (the entries are
lazy ``"module:attr"`` strings, loaded on first use).
"""

from __future__ import annotations

__all__ = ["AGENT_ENTRIES", "MATRIX_GAME_NAMES", "OTHER_GAME_ENTRIES", "builtin_agent_names",
           "builtin_game_names"]

AGENT_ENTRIES: tuple[tuple[str, str], ...] = (
    ("naive", "lola_games.agents.naive:NaiveLearner"),
    ("cgd", "lola_games.agents.cgd:CGD"),
    ("cola", "lola_games.agents.cola:COLA"),
    ("cola-short", "lola_games.agents.cola:COLAShort"),
    ("eg", "lola_games.agents.extragradient:EG"),
    ("tft", "lola_games.agents.fixed:TitForTat"),
    ("allc", "lola_games.agents.fixed:AlwaysCooperate"),
    ("alld", "lola_games.agents.fixed:AlwaysDefect"),
    ("random", "lola_games.agents.fixed:RandomAgent"),
    ("coin-allc", "lola_games.agents.coin_fixed:CoinAlwaysCooperate"),
    ("coin-alld", "lola_games.agents.coin_fixed:CoinAlwaysDefect"),
    ("hola", "lola_games.agents.hola:HOLA"),
    ("lola", "lola_games.agents.lola:LOLA"),
    ("lookahead-lola", "lola_games.agents.lola:LookaheadLOLA"),
    ("lola-dice", "lola_games.agents.pg:LOLADiCE"),
    ("naive-pg", "lola_games.agents.pg:NaivePG"),
    ("lola-pg", "lola_games.agents.lola_pg:LOLAPG"),
    ("mfos", "lola_games.agents.mfos.agent:MFOS"),
    ("nl-q", "lola_games.agents.online:NaiveQLearner"),
    ("jal-q", "lola_games.agents.online:JointActionLearner"),
    ("phc", "lola_games.agents.online:PolicyHillClimbing"),
    ("wolf-phc", "lola_games.agents.online:WoLFPolicyHillClimbing"),
    ("lola-om", "lola_games.agents.opponent_model:LOLAOM"),
    ("loqa", "lola_games.agents.loqa:LOQA"),
    ("pola", "lola_games.agents.pola:POLA"),
    ("pola-dice", "lola_games.agents.pola_dice:POLADiCE"),
    ("pola-om", "lola_games.agents.pola_dice:POLAOM"),
    ("ppo", "lola_games.agents.ppo:PPO"),
    ("advantage-alignment", "lola_games.agents.advantage_alignment:AdvantageAlignment"),
    ("proximal-advantage-alignment",
     "lola_games.agents.advantage_alignment:ProximalAdvantageAlignment"),
    ("co", "lola_games.agents.sga:CO"),
    ("sga", "lola_games.agents.sga:SGA"),
    ("la", "lola_games.agents.sos:LookAhead"),
    ("sos", "lola_games.agents.sos:SOS"),
    ("axelrod", "lola_games.interop.axelrod:AxelrodStrategy"),
)
"""Built-in agents: registry name -> ``"module:attr"`` of the class."""

MATRIX_GAME_NAMES: tuple[str, ...] = ("ipd", "imp", "stag_hunt", "chicken")
"""The built-in matrix games (`lola_games.games.matrix.GAMES`), in their order."""

_DIFF = "lola_games.games.differentiable:DIFF_GAMES."

OTHER_GAME_ENTRIES: tuple[tuple[str, str], ...] = (
    ("coin_game", "lola_games.games.coin:COIN_GAME"),
    *((name, _DIFF + name) for name in ("tandem", "one_shot_mp", "ultimatum",
                                        "one_shot_chicken", "balduzzi", "hamiltonian")),
)
"""Built-in games that are not matrix games: name -> ``"module:attr"``."""


def builtin_agent_names() -> tuple[str, ...]:
    """Names of the built-in agents, in registration order."""
    return tuple(name for name, _ in AGENT_ENTRIES)


def builtin_game_names() -> tuple[str, ...]:
    """Names of all built-in games: the matrix games, then the others."""
    return MATRIX_GAME_NAMES + tuple(name for name, _ in OTHER_GAME_ENTRIES)

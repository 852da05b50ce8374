"""PettingZoo environments of iterated matrix games.

``ipd_v0``, ``imp_v0``, ``stag_hunt_v0`` and ``chicken_v0`` each offer ``env()`` (AEC),
``parallel_env()`` and ``raw_env()``; `lola_games.envs.iterated` has the env class and
the same constructors for any `MatrixGame`;
`BatchedIteratedGame` steps many games at once as torch tensors. ``coin_game_v0`` is
the Coin Game, and `BatchedCoinGame` its torch-batched twin. The single-agent view, a
``gymnasium.Env`` in which a learner plays one side against a fixed
or learning opponent, is `lola_games.interop.single_agent.single_agent` (it uses the
agents, a layer above the envs). Importing this package registers the PettingZoo
envs (``pettingzoo.make("aec", "lola_games/ipd-v0")``) when the installed PettingZoo has a
registry.
"""

from lola_games.envs import chicken_v0, coin_game_v0, imp_v0, ipd_v0, stag_hunt_v0
from lola_games.envs.batched import BatchedIteratedGame
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.envs.iterated import CheckedAECWrapper, IteratedMatrixGameEnv
from lola_games.envs.registration import ENV_IDS, HAS_REGISTRY, register_envs

register_envs()




__all__ = [
    "IteratedMatrixGameEnv",
    "BatchedIteratedGame",
    "BatchedCoinGame",
    "CheckedAECWrapper",
    "ENV_IDS",
    "HAS_REGISTRY",
    "register_envs",
    "ipd_v0",
    "imp_v0",
    "stag_hunt_v0",
    "chicken_v0",
    "coin_game_v0",
]

"""Iterated chicken as a PettingZoo environment.

Actions S (swerve, 0) and T (straight, 1); both going straight crashes.

Rewards of one round (player_0's action, player_1's action -> player_0, player_1)::

    player_0 player_1   reward_0 reward_1
           S        S          0        0
           S        T         -1        1
           T        S          1       -1
           T        T        -10      -10

Creation::

    from lola_games.envs import chicken_v0
    aec = chicken_v0.env(max_cycles=150)
    par = chicken_v0.parallel_env(continuation_prob=0.96, render_mode="ansi")
    # or, once lola_games.envs is imported: pettingzoo.make("parallel", "lola_games/chicken-v0")

Keyword arguments, observations and the state are those of
`lola_games.envs.iterated.IteratedMatrixGameEnv`.
"""

from lola_games.envs.iterated import env_functions

__all__ = ["GAME", "env", "parallel_env", "raw_env"]

GAME = "chicken"

env, parallel_env, raw_env = env_functions(GAME)

"""Iterated matching pennies as a PettingZoo environment.

Actions H (0) and T (1); player 0 wants to match, player 1 to differ (zero-sum).

Rewards of one round (player_0's action, player_1's action -> player_0, player_1)::

    player_0 player_1   reward_0 reward_1
           H        H          1       -1
           H        T         -1        1
           T        H         -1        1
           T        T          1       -1

Creation::

    from lola_games.envs import imp_v0
    aec = imp_v0.env(max_cycles=150)
    par = imp_v0.parallel_env(continuation_prob=0.96, render_mode="ansi")
    # or, once lola_games.envs is imported: pettingzoo.make("parallel", "lola_games/imp-v0")

Keyword arguments, observations and the state are those of
`lola_games.envs.iterated.IteratedMatrixGameEnv`.
"""

from lola_games.envs.iterated import env_functions

__all__ = ["GAME", "env", "parallel_env", "raw_env"]

GAME = "imp"

env, parallel_env, raw_env = env_functions(GAME)

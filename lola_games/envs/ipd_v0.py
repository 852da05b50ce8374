"""Iterated prisoner's dilemma as a PettingZoo environment.

Actions C (cooperate, 0) and D (defect, 1); the payoffs of the LOLA paper.

Rewards of one round (player_0's action, player_1's action -> player_0, player_1)::

    player_0 player_1   reward_0 reward_1
           C        C         -1       -1
           C        D         -3        0
           D        C          0       -3
           D        D         -2       -2

Creation::

    from lola_games.envs import ipd_v0
    aec = ipd_v0.env(max_cycles=150)
    par = ipd_v0.parallel_env(continuation_prob=0.96, render_mode="ansi")
    # or, once lola_games.envs is imported: pettingzoo.make("parallel", "lola_games/ipd-v0")

Keyword arguments, observations and the state are those of
`lola_games.envs.iterated.IteratedMatrixGameEnv`.
"""

from lola_games.envs.iterated import env_functions

__all__ = ["GAME", "env", "parallel_env", "raw_env"]

GAME = "ipd"

env, parallel_env, raw_env = env_functions(GAME)

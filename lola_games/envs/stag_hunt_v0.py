"""Iterated stag hunt as a PettingZoo environment.

Actions S (stag, 0) and H (hare, 1); hunting stag together pays most.

Rewards of one round (player_0's action, player_1's action -> player_0, player_1)::

    player_0 player_1   reward_0 reward_1
           S        S          4        4
           S        H          1        3
           H        S          3        1
           H        H          2        2

Creation::

    from lola_games.envs import stag_hunt_v0
    aec = stag_hunt_v0.env(max_cycles=150)
    par = stag_hunt_v0.parallel_env(continuation_prob=0.96, render_mode="ansi")
    # or, once lola_games.envs is imported: pettingzoo.make("parallel", "lola_games/stag_hunt-v0")

Keyword arguments, observations and the state are those of
`lola_games.envs.iterated.IteratedMatrixGameEnv`.
"""

from lola_games.envs.iterated import env_functions

__all__ = ["GAME", "env", "parallel_env", "raw_env"]

GAME = "stag_hunt"

env, parallel_env, raw_env = env_functions(GAME)

"""Policy networks and sampled rollouts of matrix games and the Coin Game."""

from lola_games.core.tensors import ParamDict, Params
from lola_games.rollouts.coin import (
    COIN_METRICS,
    CoinRollout,
    coin_metrics,
    sample_coin_rollout,
)
from lola_games.rollouts.coin_nets import (
    CoinConvGRUPolicy,
    CoinConvTrunk,
    CoinConvValue,
    CoinGRUPolicy,
    CoinMLPPolicy,
    CoinMLPValue,
)
from lola_games.rollouts.games import (
    COIN_POLICIES,
    MATRIX_POLICIES,
    POLICIES,
    build_modules,
    check_policy_fits,
    game_metrics,
    is_coin_game,
    sample_game_rollout,
)
from lola_games.rollouts.memory_one import (
    action_0_probs,
    observation_state,
    play_memory_one,
)
from lola_games.rollouts.nets import (
    INITS,
    GRUPolicy,
    MLPPolicy,
    MLPValue,
    TabularPolicy,
    TabularValue,
    init_params,
    random_logits,
)
from lola_games.rollouts.sampling import (
    Rollout,
    log_probs,
    memory_one_probs,
    rollout_values,
    sample_rollout,
    seed_forward,
    seed_values,
)

__all__ = [
    "TabularPolicy",
    "MLPPolicy",
    "GRUPolicy",
    "TabularValue",
    "MLPValue",
    "Params",
    "ParamDict",
    "INITS",
    "random_logits",
    "init_params",
    "seed_forward",
    "seed_values",
    "Rollout",
    "sample_rollout",
    "log_probs",
    "rollout_values",
    "memory_one_probs",
    "observation_state",
    "action_0_probs",
    "play_memory_one",
    "CoinConvTrunk",
    "CoinConvGRUPolicy",
    "CoinMLPPolicy",
    "CoinConvValue",
    "CoinMLPValue",
    "CoinGRUPolicy",
    "CoinRollout",
    "sample_coin_rollout",
    "coin_metrics",
    "COIN_METRICS",
    "MATRIX_POLICIES",
    "COIN_POLICIES",
    "POLICIES",
    "is_coin_game",
    "build_modules",
    "check_policy_fits",
    "sample_game_rollout",
    "game_metrics",
]

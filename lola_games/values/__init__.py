"""Exact values: discounted values of memory-one policies, DiCE objectives, iterated games as
differentiable games, the exact evaluation."""

from lola_games.values.dice import (
    centre_by_batch_mean,
    dice_objective,
    discounted_returns,
    discounts,
    magic_box,
    normalised_discounted_return,
)
from lola_games.values.evaluate import (
    Metrics,
    exact_evaluate,
    memory_one_metrics,
)
from lola_games.values.exact import (
    N_STATES,
    check_gamma,
    check_logits,
    discounted_values,
    discounted_visits,
    exact_values,
)
from lola_games.values.iterated import (
    IteratedGame,
    game_values,
)

__all__ = [
    "N_STATES",
    "discounted_visits",
    "discounted_values",
    "exact_values",
    "check_logits",
    "check_gamma",
    "magic_box",
    "dice_objective",
    "centre_by_batch_mean",
    "discounted_returns",
    "discounts",
    "normalised_discounted_return",
    "Metrics",
    "memory_one_metrics",
    "exact_evaluate",
    "IteratedGame",
    "game_values",
]

"""Reproductions on differentiable games: the SOS paper (`lola_games.experiments.sos`), the
COLA paper (`lola_games.experiments.cola`) and the LOLA paper's higher-order LOLA
(`lola_games.experiments.lola_higher_order`), registered in
`lola_games.experiments.base.EXPERIMENTS`; `DIFFGAME_EXPERIMENTS` names the three."""

from __future__ import annotations

from lola_games.experiments.base import Experiment
from lola_games.experiments.cola import COLA_EXPERIMENT, PAPER_CONSISTENCY, PAPER_COSINE
from lola_games.experiments.cola_consistency import (
    SAMPLE_POINTS,
    sample_mean_spread,
    train_cola_networks,
)
from lola_games.experiments.lola_higher_order import (
    HIGHER_ORDER_DELTA,
    HIGHER_ORDER_EXPERIMENT,
    PAPER_HIGHER_ORDER,
    group_means,
)
from lola_games.experiments.sos import SOS_EXPERIMENT

__all__ = ["DIFFGAME_EXPERIMENTS", "PAPER_CONSISTENCY", "PAPER_COSINE", "PAPER_HIGHER_ORDER",
           "HIGHER_ORDER_DELTA", "SAMPLE_POINTS", "group_means", "sample_mean_spread",
           "train_cola_networks"]

DIFFGAME_EXPERIMENTS: dict[str, Experiment] = {
    exp.name: exp for exp in (SOS_EXPERIMENT, COLA_EXPERIMENT, HIGHER_ORDER_EXPERIMENT)
}
"""The differentiable-game experiments by name."""

"""M-FOS (Lu et al. 2022): the meta-game, its PPO meta-training, saved meta-trainings, and the
``mfos`` agent that plays a meta-trained policy."""

from lola_games.agents.mfos.agent import MFOS
from lola_games.agents.mfos.meta import (
    MetaGame,
    MetaTraining,
    MFOSConfig,
    load_meta_training,
    meta_train,
    mfos_chicken,
)

__all__ = ["MFOS", "MFOSConfig", "MetaGame", "MetaTraining", "load_meta_training",
           "meta_train", "mfos_chicken"]

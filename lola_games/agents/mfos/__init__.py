"""M-FOS: model-free opponent shaping (Lu et al. 2022), meta-trained with PPO on exact games.

The meta-game: an inner episode is ``inner_steps`` learning steps of an opponent (a naive
learner, LOLA, or another M-FOS). At each step the meta-agent observes
``sigmoid([own logits, opponent's logits])`` (both memory-one policies of the previous step),
outputs its next memory-one policy (5 logits, sampled from a diagonal Gaussian), and receives
its exact value (reward per step) against the opponent's current policy; the opponent then
takes its learning step against the meta-agent's policy. PPO learns across meta-episodes,
``batch_size`` games at once, each with freshly drawn policies (logits ~ N(0, 1)). This is the
structure and the settings of the official code (``src/main_mfos_ppo.py``,
``src/main_mfos_self.py``, ``src/ppo.py``, ``src/environments.py``):

* actor and critic: ``Linear(2d, 256) - tanh - Linear(256, 2d | 1)``; the actor's outputs are
  the mean and (through softplus) the variance of each logit;
* PPO: Monte-Carlo returns-to-go with meta-discount 0.99, normalised over the whole batch,
  4 full-batch epochs, clip 0.2, value loss weight 0.5, entropy bonus 0.01, Adam (lr 0.002,
  betas 0.9/0.999); meta-self-play uses lr 0.0002 and anneals from training against naive
  learners (probability 1, falling by 0.0015 per meta-episode) to self-play;
* opponents: a naive learner and LOLA (the full Taylor form, as in the official code), both
  with learning rate 1 on the unnormalised value, gamma 0.96;
* games: the IPD (-1, -3, 0, -2) and matching pennies (the meta-agent matches) as iterated
  games with memory-one policies, chicken as the official code has it, a one-shot game (one
  logit per player, played with gamma 0) with a crash of -100 (see `mfos_chicken`).

Everything is batched over ``S`` independent meta-training seeds (params ``[S, ...]``) and
``B`` games per seed (tensors ``[S, B, ...]``). A meta-training directory holds
``config.json`` (the settings, the game's spec), ``mfos.pt`` (the actor-critic params of
every seed, plain tensors, read with ``weights_only=True``) and ``meta_metrics.csv`` (per
meta-episode and seed: the mean reward per step of both players); the registered agent
`MFOS` (`lola_games.agents.mfos.agent`) loads it and plays through the runner.
"""

from lola_games.agents.mfos.agent import MFOS
from lola_games.agents.mfos.config import OPPONENTS, MFOSConfig
from lola_games.agents.mfos.game import (
    MetaGame,
    episode,
    mfos_chicken,
    opponent_agent,
    policy_dim,
    self_play_episode,
    to_memory_one,
)
from lola_games.agents.mfos.ppo import act, init_actor_critic, ppo_update
from lola_games.agents.mfos.saved import FORMAT, MetaTraining, load_meta_training
from lola_games.agents.mfos.training import meta_train

__all__ = [
    "MFOS",
    "MFOSConfig",
    "MetaGame",
    "init_actor_critic",
    "act",
    "ppo_update",
    "meta_train",
    "MetaTraining",
    "load_meta_training",
    "mfos_chicken",
    "policy_dim",
    "to_memory_one",
    "episode",
    "self_play_episode",
    "opponent_agent",
    "OPPONENTS",
    "FORMAT",
]

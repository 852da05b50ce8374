"""Learning agents: the shared interface and registry (`.base`), the exact learners, the
sampled (policy-gradient) learners of `.pg` (DiCE) and `.lola_pg` (the LOLA
paper's estimator), and opponent modelling (`.opponent_model`); the networks and
rollouts of the sampled learners on each kind of game, matrix games and the Coin Game, are in
`.sampled_games`.

Registry names: ``naive``, ``lola``, ``lookahead-lola``, ``la``, ``sos``, ``tft``, ``allc``,
``alld``, ``random``, ``coin-allc``, ``coin-alld`` (`.coin_fixed`), ``naive-pg``,
``lola-dice``, ``lola-pg``, ``lola-om``, and the online
learners of `.online`: ``nl-q``, ``jal-q``, ``phc``, ``wolf-phc``; ``pola``, ``pola-dice``,
``pola-om``, ``loqa`` and ``mfos``; the actor-critic learners ``ppo``, ``advantage-alignment``
and ``proximal-advantage-alignment`` (`.actor_critic`, `.ppo`, `.advantage_alignment`);
for any differentiable game also ``hola``, ``cola``, ``cola-short``, ``cgd``, ``sga``, ``co``,
``eg`` (see `make_agent`).
"""

from lola_games.agents.actor_critic import ActorCritic, ActorCriticSettings
from lola_games.agents.advantage_alignment import (
    AdvantageAlignment,
    AdvantageAlignmentSettings,
    ProximalAdvantageAlignment,
    ProximalAdvantageAlignmentSettings,
)
from lola_games.agents.base import (
    Agent,
    AgentSettings,
    Context,
    Metrics,
    exact_evaluate,
    memory_one_metrics,
)
from lola_games.agents.cgd import CGD, CGDSettings
from lola_games.agents.coin_fixed import CoinAlwaysCooperate, CoinAlwaysDefect
from lola_games.agents.cola import COLA, COLASettings, COLAShort
from lola_games.agents.evaluation import check_agents, evaluator_for
from lola_games.agents.extragradient import EG, EGSettings
from lola_games.agents.fixed import (
    AlwaysCooperate,
    AlwaysDefect,
    FixedAgent,
    FixedSettings,
    RandomAgent,
    RandomSettings,
    TitForTat,
)
from lola_games.agents.frozen import freeze
from lola_games.agents.hola import HOLA, HOLASettings
from lola_games.agents.lola import LOLA, LOLASettings, LookaheadLOLA, LookaheadLOLASettings
from lola_games.agents.lola_pg import LOLAPG
from lola_games.agents.loqa import LOQA, LOQASettings
from lola_games.agents.mfos.agent import MFOS
from lola_games.agents.naive import GradientAgent, GradientSettings, NaiveLearner
from lola_games.agents.online import (
    JointActionLearner,
    NaiveQLearner,
    PHCSettings,
    PolicyHillClimbing,
    QLearnerSettings,
    WoLFPolicyHillClimbing,
    WoLFSettings,
)
from lola_games.agents.online_learner import OnlineLearner, OnlineSettings
from lola_games.agents.opponent_model import LOLAOM, ModelledOpponent
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.pola import POLA, POLASettings
from lola_games.agents.pola_dice import POLAOM, POLADiCE
from lola_games.agents.ppo import PPO, PPOSettings
from lola_games.agents.registry import AGENTS, agent_names, make_agent, register_agent
from lola_games.agents.sampled import SampledLearner
from lola_games.agents.sga import CO, SGA, COSettings, SGASettings
from lola_games.agents.sos import SOS, LookAhead, LookAheadSettings, SOSSettings

__all__ = [
    "ActorCritic",
    "ActorCriticSettings",
    "PPO",
    "PPOSettings",
    "AdvantageAlignment",
    "AdvantageAlignmentSettings",
    "ProximalAdvantageAlignment",
    "ProximalAdvantageAlignmentSettings",
    "AGENTS",
    "Agent",
    "Context",
    "Metrics",
    "check_agents",
    "evaluator_for",
    "memory_one_metrics",
    "agent_names",
    "exact_evaluate",
    "make_agent",
    "register_agent",
    "GradientAgent",
    "NaiveLearner",
    "LOLA",
    "LookaheadLOLA",
    "LookAhead",
    "SOS",
    "FixedAgent",
    "TitForTat",
    "AlwaysCooperate",
    "AlwaysDefect",
    "RandomAgent",
    "CoinAlwaysCooperate",
    "CoinAlwaysDefect",
    "freeze",
    "SampledLearner",
    "NaivePG",
    "LOLADiCE",
    "LOLAPG",
    "ModelledOpponent",
    "LOLAOM",
    "OnlineLearner",
    "NaiveQLearner",
    "JointActionLearner",
    "PolicyHillClimbing",
    "WoLFPolicyHillClimbing",
    "POLA",
    "POLADiCE",
    "LOQA",
    "LOQASettings",
    "POLAOM",
    "MFOS",
    "HOLA",
    "COLA",
    "COLAShort",
    "CGD",
    "SGA",
    "CO",
    "EG",
    "AgentSettings",
    "GradientSettings",
    "LOLASettings",
    "LookaheadLOLASettings",
    "LookAheadSettings",
    "SOSSettings",
    "COSettings",
    "SGASettings",
    "HOLASettings",
    "COLASettings",
    "CGDSettings",
    "EGSettings",
    "FixedSettings",
    "RandomSettings",
    "OnlineSettings",
    "QLearnerSettings",
    "PHCSettings",
    "WoLFSettings",
    "POLASettings",
]

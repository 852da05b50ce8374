"""What the sampled learners share: their settings, policy modules and evaluator.

A sampled learner plays policy modules (`lola_games.rollouts.policies`) on sampled rollouts
of a two-action matrix game or the Coin Game (`lola_games.rollouts.games`). Its parameters
are a dict ``{"policy", "value", ...}`` of stacked per-seed tensors ``[S, ...]``. Its
settings inherit from `SampledSettings`: the policy and value modules (by name or as
modules), the rollout sizes, the initialisation of tabular logits and the logged metric.
The runner evaluates sampled learners with `sampled_metrics` (`evaluate_sampled`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from lola_games.agents.base import Agent, AgentSettings, memory_one_metrics
from lola_games.agents.naive import check_rate
from lola_games.core.tensors import ParamDict, ParamTree
from lola_games.core.tensors import ParamDict as Params
from lola_games.rollouts import (
    INITS,
    MLPPolicy,
    TabularPolicy,
    init_params,
    memory_one_probs,
    random_logits,
)
from lola_games.rollouts.games import (
    COIN_POLICIES,
    POLICIES,
    build_modules,
    check_policy_fits,
    game_metrics,
    is_coin_game,
    sample_game_rollout,
)
from lola_games.values.dice import normalised_discounted_return

__all__ = [
    "AgentParams",
    "param_dict",
    "METRICS",
    "SampledSettings",
    "SampledLearner",
    "sampled_metrics",
    "evaluate_sampled",
    "as_player",
    "check_count",
    "check_choice",
    "check_flag",
]

AgentParams = dict[str, Params]
"""A sampled learner's params: ``{"policy": {...}, "value": {...}, ...}``, each ``[S, ...]``."""


def param_dict(params: ParamTree) -> ParamDict:
    """``params`` as a flat dict of tensors (what the functional optimizers return for the dict
    of a module's params, typed as `lola_games.core.tensors.Params`).

    Raises:
        TypeError: ``params`` is not a dict.
    """
    if not isinstance(params, dict):
        raise TypeError(f"expected a dict of tensors, got {type(params).__name__}")
    return params

METRICS = ("reward", "discounted")
"""What the runner logs as a player's value: the mean reward per round, or the normalised
discounted return ``(1 - gamma) sum_t gamma^t r_t``."""


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value``, or raise ``ValueError`` naming it unless it is an int (not a bool)
    ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value``, or raise ``ValueError`` naming it unless it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool:
    """Return ``value``, or raise ``ValueError`` naming it unless it is ``True`` or
    ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


@dataclass(frozen=True)
class SampledSettings(AgentSettings):
    """Settings every sampled learner has.

    Attributes:
        policy: on matrix games ``"tabular"`` (one logit of P(action 0) per memory-one
            state), ``"mlp"`` or ``"gru"``; on the Coin Game ``"conv-gru"``, ``"coin-mlp"``
            or ``"coin-gru"``; or any ``nn.Module`` with the policy signature of
            `lola_games.rollouts.policies` (see `lola_games.rollouts.games`).
        value: the value module (default: `TabularValue` for a tabular policy, a network
            of the policy's observations otherwise).
        hidden_size: width of the default networks (MLP, GRU, value).
        batch_size: episodes per rollout batch (per seed).
        rollout_len: rounds per episode.
        init: initial logits of a tabular policy, one of
            `lola_games.rollouts.policies.INITS` (neural policies keep their modules'
            initialisation).
        init_scale: scale of ``init`` (``None``: ``1/sqrt(5)`` for ``"truncated-normal"``,
            the linear layer's default, else 1).
        metric: what the runner logs, ``"discounted"`` or ``"reward"`` (`METRICS`).
    """

    policy: str | nn.Module = "tabular"
    value: nn.Module | None = None
    hidden_size: int = 32
    batch_size: int = 64
    rollout_len: int = 150
    init: str = "truncated-normal"
    init_scale: float | None = None
    metric: str = "discounted"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("hidden_size", self.hidden_size)
        check_count("batch_size", self.batch_size)
        check_count("rollout_len", self.rollout_len)
        check_choice("init", self.init, INITS)
        scale = self.init_scale
        if scale is None:
            scale = 1 / math.sqrt(5) if self.init == "truncated-normal" else 1.0
        object.__setattr__(self, "init_scale", check_rate("init_scale", scale))
        check_choice("metric", self.metric, METRICS)
        if not isinstance(self.policy, nn.Module) and (not isinstance(self.policy, str)
                                                       or self.policy not in POLICIES):
            raise ValueError(f"policy must be one of {', '.join(POLICIES)} or an nn.Module, "
                             f"got {self.policy!r}")
        if self.value is not None and not isinstance(self.value, nn.Module):
            raise ValueError(f"value must be an nn.Module or None, got {self.value!r}")


@torch.no_grad()
def sampled_metrics(
    game: Any,
    agents: tuple[Agent, ...],
    params: tuple[ParamTree, ...],
    gamma: float,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """Named metrics ``[2 (player), S]`` on a fresh batch of episodes of both players.

    Batch size, episode length and the ``"value"`` metric are those of the first sampled
    learner of the pair (without one, e.g. two fixed Coin Game policies: 128 episodes of 150
    rounds, or of the Coin Game's ``max_cycles``, and the mean reward per round).

    Matrix games: ``value``; ``reward_per_round`` (mean reward per round);
    ``discounted_return`` (``(1 - gamma) sum_t gamma^t r_t``, mean over episodes);
    ``p_start``, ``p_CC``, ``p_CD``, ``p_DC``, ``p_DD`` (P(action 0) per memory-one state,
    own side).

    The Coin Game (`lola_games.rollouts.coin.coin_metrics`): ``value`` (always the mean
    reward per round, the score of the Coin Game papers), ``own_coin_share``,
    ``coins_per_round``, and ``discounted_return`` when that learner's ``metric`` is
    ``"discounted"``. Memory-one probabilities do not apply.
    """
    sampled = [a for a in agents if isinstance(a, SampledLearner)]
    first = sampled[0] if sampled else None
    default_length = game.max_cycles if is_coin_game(game) else 150
    batch, length = (first.batch_size, first.rollout_len) if first else (128, default_length)
    players = [as_player(a, p, game) for a, p in zip(agents, params, strict=True)]
    roll = sample_game_rollout(game, (players[0][0], players[1][0]),
                               (players[0][1]["policy"], players[1][1]["policy"]), batch,
                               length, generator)
    rewards = roll.rewards.movedim(-1, 0)  # [2, S, B, T]
    per_round = rewards.mean(dim=(-1, -2))
    discounted = normalised_discounted_return(rewards, gamma).mean(-1)
    logs_discounted = first is not None and first.metric == "discounted"
    if is_coin_game(game):
        out = {"value": per_round, **game_metrics(game, roll)}
        return {**out, "discounted_return": discounted} if logs_discounted else out
    out = {"value": discounted if logs_discounted else per_round,
           "reward_per_round": per_round, "discounted_return": discounted}
    probs = torch.stack([a.probs(p) for a, p in zip(agents, params, strict=True)])
    return {**out, **memory_one_metrics(game, probs.to(per_round.dtype))}


evaluate_sampled = sampled_metrics
"""The runner's evaluator of the sampled learners (`sampled_metrics`)."""


class SampledLearner(Agent[AgentParams]):
    """What the sampled learners share: policy modules, rollout sizes, the logged metric.

    Settings: a `SampledSettings`. `setup` builds ``policy`` and ``value``, the modules
    before a game is given (those of a matrix game for the matrix policy names, of the
    3 x 3 Coin Game for the Coin Game names; `modules` gives them for any game). The
    policy's stacked parameters are kept under ``params["policy"]`` (the value's under
    ``params["value"]``).

    Besides settings or keyword arguments, the constructor takes the policy and the value
    module as its first two positional arguments (``LOLADiCE("gru", hidden_size=8)``).
    """

    mode = "sampled"
    Settings = SampledSettings
    settings: SampledSettings
    policy: nn.Module
    value: nn.Module
    evaluator = staticmethod(evaluate_sampled)

    def __init__(self, settings: AgentSettings | str | nn.Module | None = None,
                 value: nn.Module | None = None, /, **hparams: Any) -> None:
        if isinstance(settings, (str, nn.Module)):
            settings, hparams = None, {"policy": settings, **hparams}
        if value is not None:
            hparams = {"value": value, **hparams}
        super().__init__(settings, **hparams)

    def setup(self) -> None:
        """Build the policy and value modules of the settings."""
        self.policy, self.value = build_modules(self.settings.policy, self.settings.value,
                                                self.settings.hidden_size)
        self._modules_by_grid: dict[int, tuple[nn.Module, nn.Module]] = {}

    @property
    def policy_option(self) -> str | nn.Module:
        """The policy as the settings give it (a name or a module)."""
        return self.settings.policy

    @property
    def value_option(self) -> nn.Module | None:
        """The value module as the settings give it (``None``: the default)."""
        return self.settings.value

    def hparams(self) -> dict[str, Any]:
        """The settings, with the policy and value as the class names of the modules built
        from them (e.g. ``"TabularPolicy"``)."""
        return {**super().hparams(), "policy": type(self.policy).__name__,
                "value": type(self.value).__name__}

    def modules(self, game: Any = None) -> tuple[nn.Module, nn.Module]:
        """``(policy, value)`` modules of this learner on ``game`` (see
        `lola_games.rollouts.games.build_modules`); built once per board size."""
        if not is_coin_game(game) or (self.policy_option in COIN_POLICIES
                                      and game.grid_size == 3):
            return self.policy, self.value
        if game.grid_size not in self._modules_by_grid:
            self._modules_by_grid[game.grid_size] = build_modules(
                self.policy_option, self.value_option, self.settings.hidden_size, game)
        return self._modules_by_grid[game.grid_size]

    def check_game(self, game: Any) -> None:
        """A two-action matrix game, and a policy name for matrix games."""
        super().check_game(game)
        check_policy_fits(self.policy_option, game, self.name)

    def draw(self, module: nn.Module, n_seeds: int, generator: torch.Generator | None,
             device: torch.device | str | None) -> Params:
        """Stacked initial params ``[S, ...]`` of ``module``: tabular tables from ``init``,
        other modules their own initialisation."""
        if isinstance(module, TabularPolicy):
            scale = cast(float, self.settings.init_scale)  # set by SampledSettings
            return {"logits": random_logits((n_seeds, 5), self.settings.init, scale,
                                            generator, device)}
        return init_params(module, n_seeds, generator, device)

    def is_memory_one(self) -> bool:
        """Tabular and MLP policies see only the last outcome; a GRU sees the history (and
        Coin Game policies see boards, not outcomes)."""
        return bool(getattr(self.policy, "memory_one", False)) or isinstance(self.policy,
                                                                             MLPPolicy)

    def probs(self, params: AgentParams) -> Tensor:
        """P(action 0) per memory-one state ``[S, 5]`` (start, CC, CD, DC, DD) of params
        ``{"policy": ...}``.

        Raises:
            ValueError: a Coin Game policy (it has no memory-one states).
        """
        if self.policy_option in COIN_POLICIES:
            raise ValueError(f"{self.name}: the Coin Game policy {self.policy_option!r} has no "
                             f"memory-one probabilities")
        return memory_one_probs(self.policy, params["policy"])

    def logits(self, params: AgentParams) -> Tensor:
        """Memory-one logits ``[S, 5]`` of P(action 0) (see `probs`)."""
        if isinstance(self.policy, TabularPolicy):
            logits: Tensor = params["policy"]["logits"]
            return logits
        probs = self.probs(params)
        return torch.logit(probs.double(), eps=1e-12).to(probs.dtype)


def as_player(agent: Agent | tuple[Agent, ...] | None, params: ParamTree, game: Any = None
              ) -> tuple[nn.Module, AgentParams, nn.Module | None]:
    """(policy module, ``{"policy", "value"}`` params, value module or None) of any agent.

    Sampled learners expose their modules on ``game`` (`SampledLearner.modules`), and so do
    other sampled agents with a ``modules(game)`` method (the fixed Coin Game policies of
    `lola_games.agents.coin_fixed`); an exact agent's memory-one logits ``[S, 5]`` are played
    by a `TabularPolicy` (it has no value function).
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"expected the opponent agent, got {type(agent).__name__}")
    if isinstance(agent, SampledLearner) or (agent.mode == "sampled"
                                             and callable(getattr(agent, "modules", None))):
        policy, value = agent.modules(game)  # type: ignore[attr-defined]
        return policy, cast(AgentParams, params), value  # a sampled agent's own params
    return TabularPolicy(), {"policy": {"logits": agent.logits(params)}, "value": {}}, None

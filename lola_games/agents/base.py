"""The agent interface shared by every learner, the evaluation hook, and the registry.

An agent object holds only hyper-parameters. Everything per seed lives outside it, so one
agent object serves a whole batch of ``S`` independent runs:

* ``params`` -- a tensor, or a dict of tensors, each with a leading seed dimension ``[S, ...]``.
  Exact agents use memory-one logits ``[S, 5]`` (start, CC, CD, DC, DD from the agent's own
  side; ``sigmoid(logit)`` = P(action 0), see `lola_games.values.exact`) in a matrix game, and
  the game's own parameters in a differentiable game (`lola_games.games.differentiable`).
* ``state`` -- whatever the agent keeps between updates (optimizer moments, ...): tensors,
  numbers, strings and lists/tuples/dicts of them (``NamedTuple`` classes registered with
  `lola_games.runner.checkpoint.register_state_type`); the runner checkpoints it.

An agent implements::

    init_params(n_seeds, generator, device=None, dtype=torch.float32, *, game=None, player=0)
        -> params
    init_state(params) -> state
    update(own, other, state, ctx) -> (own, state)   # one learning step; all players'
                                                    # params are those before the step
    check_game(game) -> None                         # raise ValueError if it cannot play it
    probs(params) -> Tensor [S, 5]                   # P(action 0) per memory-one state
    hparams() -> dict                                # hyper-parameters, for config.json

In a two-player game ``other`` is the opponent's params; with ``P > 2`` players it is the
tuple of the other players' params in player order. ``ctx`` is a `Context` (game,
gamma, this agent's player index, the run's ``torch.Generator``, device, and the opponent
agent, or the other agents). ``mode`` is ``"exact"`` for agents whose params are memory-one
logits (the runner then measures values exactly, see `exact_evaluate`) and ``"sampled"``
for agents that need a sampled evaluator; such an agent sets ``evaluator`` to a function with
the `Evaluator` signature. An exact learner facing a sampled opponent sees the
opponent's memory-one policy, ``ctx.other.logits(other)``; an opponent that has none (a
recurrent policy) is refused when the run starts (`check_agents`).

**Evaluation.** After every logged update the runner calls an `Evaluator`, which returns
named metrics: a dict ``name -> Tensor [P, S]`` (player, seed) that always holds ``"value"``,
each player's score as reward per step. Memory-one runs add ``p_<state>`` for each state of
``game.state_names`` (`memory_one_metrics`); other games add their own (e.g. the Coin
Game's ``own_coin_share``). The runner writes them to ``metrics.csv`` as ``<name>_<player>``.

Agents are made by name through the registry (`make_agent`, in `lola_games.agents.registry`),
which the CLI uses; `evaluator_for` and `check_agents` are in `lola_games.agents.evaluation`
(both modules' names are re-exported here).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar, cast

import torch
from torch import Tensor

from lola_games.core.checks import check_positive_int
from lola_games.core.tensors import Params, ParamTree
from lola_games.games.differentiable import matrix_game_of
from lola_games.games.matrix import MatrixGame
from lola_games.values.evaluate import Metrics, exact_evaluate, memory_one_metrics
from lola_games.values.exact import N_STATES, discounted_values
from lola_games.values.iterated import game_values

__all__ = [
    "Params",
    "ParamTree",
    "Context",
    "Agent",
    "Metrics",
    "Evaluator",
    "memory_one_metrics",
    "exact_evaluate",
    "player_values",
    "joint_values",
    "AgentSettings",
    "accepted_hparams",
]


@dataclass(frozen=True)
class Context:
    """What an update may use besides the two players' parameters.

    Attributes:
        game: the game (a `MatrixGame` or another kind).
        gamma: discount in ``[0, 1)``.
        player: index of the agent being updated; its params are from its own side.
        generator: the run's ``torch.Generator`` (on ``device``), for agents that sample.
        device: device of the parameters.
        other: the opponent agent object (sampled learners use its policy modules); with
            more than two players, the tuple of the other agents in player order.
    """

    game: Any
    gamma: float
    player: int
    generator: torch.Generator | None = None
    device: torch.device = torch.device("cpu")
    other: Agent | tuple[Agent, ...] | None = None


def player_values(ctx: Context, own: Tensor, other: Tensor) -> tuple[Tensor, Tensor]:
    """Values ``(V_own, V_other)`` ``[S]`` of a two-player game from one player's side.

    In a matrix game these are the unnormalised discounted values of memory-one logits
    ``[S, 5]``, each from its own side; ``ctx.player`` says which of ``own`` and ``other`` is
    player 0 (``exact.discounted_values`` takes player 0's logits first). Any other game gives
    its values through `joint_values`.
    """
    if isinstance(ctx.game, MatrixGame):
        if ctx.player == 0:
            return discounted_values(ctx.game, own, other, ctx.gamma)
        v0, v1 = discounted_values(ctx.game, other, own, ctx.gamma)
        return v1, v0
    values = joint_values(ctx, (own, other) if ctx.player == 0 else (other, own))
    return values[ctx.player], values[1 - ctx.player]


def joint_values(ctx: Context, params: Sequence[Tensor]) -> list[Tensor]:
    """Every player's value ``[S]`` from all players' params in player order: the one way
    exact learners see a game (memory-one values of a matrix game, unnormalised; or a
    differentiable game's ``values``, see `lola_games.games.differentiable.game_values`)."""
    return game_values(ctx.game, params, ctx.gamma)


@dataclass(frozen=True)
class AgentSettings:
    """An agent's hyper-parameters: a frozen dataclass, validated when it is made.

    Each agent family has one (``LOLASettings(GradientSettings)``: settings inherit as the
    agents do); a subclass adds fields with defaults and checks them in ``__post_init__``
    (calling ``super().__post_init__()``; normalised values are stored with
    ``object.__setattr__``). Published settings are named instances
    (`lola_games.experiments.published`).
    """

    def __post_init__(self) -> None:
        """Check every field; raise ``ValueError`` or ``TypeError`` naming the bad one."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The hyper-parameters these settings take, in field order."""
        return tuple(f.name for f in fields(cls))

    def hparams(self) -> dict[str, Any]:
        """The settings as plain JSON values, for ``config.json`` (a module as its class
        name, a tuple as a list)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if isinstance(value, torch.nn.Module):
        return type(value).__name__
    if isinstance(value, tuple):
        return list(value)
    return value


P = TypeVar("P", bound=ParamTree)
"""An agent's own params type (`Agent` is generic over it)."""


class Agent(Generic[P]):
    """Base class of all agents; subclasses override `update` (and usually more).

    ``Agent[P]`` is an agent whose own params are a ``P`` (a `ParamTree`): exact learners'
    are memory-one logits (`Params`), a sampled learner's the dict of its modules' params
    (`lola_games.agents.sampled.AgentParams`). An opponent's params, which may be any
    agent's, are a `ParamTree`; a bare ``Agent`` annotation means an agent of any kind.

    The default parameters are memory-one logits ``~ N(0, 1)`` of shape ``[S, 5]`` (the LOLA
    paper's initialisation), the default state is empty, and the default ``update`` changes
    nothing.
    """

    name: ClassVar[str] = "agent"
    mode: ClassVar[str] = "exact"
    evaluator: Evaluator | None = None
    """A sampled agent's evaluator (set on the class, as a ``staticmethod``)."""
    reads_opponent_logits: ClassVar[bool] = False
    """Whether `update` learns from the opponent's memory-one logits (exact learners);
    such an agent needs opponents with a memory-one policy (`check_agents`)."""
    Settings: ClassVar[type[AgentSettings] | None] = None
    """The agent's settings dataclass; ``None`` for an agent with a constructor of its own."""
    settings: AgentSettings

    def __init__(self, settings: AgentSettings | None = None, /, **hparams: Any) -> None:
        """Make the agent from its settings, or from keyword arguments (``LOLA(lr=0.5)``)
        checked by its `Settings`; then `setup` derives what it needs.

        Raises:
            TypeError: an unknown keyword, or settings of another agent's type.
            ValueError: a bad value (the message names it).
        """
        cls = type(self)
        if cls.Settings is None:
            if settings is not None or hparams:
                raise TypeError(f"{cls.__name__} takes no settings")
        elif settings is None:
            unknown = sorted(set(hparams) - set(cls.Settings.names()))
            if unknown:
                raise TypeError(f"{cls.__name__} takes no hyper-parameter "
                                f"{', '.join(map(repr, unknown))}; it takes: "
                                f"{', '.join(sorted(cls.Settings.names())) or 'none'}")
            self.settings = cls.Settings(**hparams)
        elif hparams:
            raise TypeError(f"{cls.__name__}: give settings or keyword arguments, not both")
        elif not isinstance(settings, cls.Settings):
            raise TypeError(f"{cls.__name__} takes {cls.Settings.__name__}, got "
                            f"{type(settings).__name__}")
        else:
            self.settings = settings
        self.setup()

    def setup(self) -> None:
        """Derive what the agent needs from its settings (default: nothing)."""

    def __getattr__(self, name: str) -> Any:
        # hyper-parameters read as attributes: self.lr is self.settings.lr
        settings = self.__dict__.get("settings")
        if settings is not None and name in settings.names():
            return getattr(settings, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> P:
        """Memory-one logits ``[n_seeds, 5]`` drawn from N(0, 1) with ``generator``.

        ``game`` and ``player`` tell agents whose parameter shapes depend on the game which
        one they play (the runner passes both); memory-one logits do not need them.
        """
        check_positive_int("n_seeds", n_seeds)
        logits = torch.randn(n_seeds, N_STATES, generator=generator, device=device, dtype=dtype)
        return cast(P, logits)  # the default params; agents with other params override this

    def check_game(self, game: Any) -> None:
        """Raise ``ValueError`` unless this agent can play ``game`` (default: memory-one
        policies of a two-player, two-action matrix game)."""
        if matrix_game_of(game) is None:
            raise ValueError(
                f"agent {self.name!r} plays memory-one policies of two-action matrix games; "
                f"{getattr(game, 'name', game)!r} is not one")

    def is_memory_one(self) -> bool:
        """Whether `logits` gives this agent's whole policy (a memory-one policy)."""
        return self.mode == "exact"

    def init_state(self, params: P) -> Any:
        """Per-run state kept between updates (default: none)."""
        return {}

    def update(self, own: P, other: ParamTree, state: Any, ctx: Context) -> tuple[P, Any]:
        """One learning step from the current ``own`` and ``other`` params; returns new ones."""
        return own, state

    def logits(self, params: P) -> Tensor:
        """Memory-one logits ``[S, 5]`` (exact agents: the params themselves)."""
        if not isinstance(params, Tensor):
            raise TypeError(f"{self.name}: expected a logits tensor [S, 5], got {type(params)}")
        return params

    def probs(self, params: P) -> Tensor:
        """P(action 0) in each memory-one state, ``[S, 5]``."""
        return torch.sigmoid(self.logits(params))

    def hparams(self) -> dict[str, Any]:
        """Hyper-parameters as plain JSON values: the settings' (`AgentSettings.hparams`)
        or, for an agent with a constructor of its own, its arguments kept as attributes."""
        settings = self.__dict__.get("settings")
        if settings is not None:
            return settings.hparams()
        return {key: getattr(self, key) for key in accepted_hparams(type(self))
                if hasattr(self, key)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams().items())
        return f"{type(self).__name__}({args})"


Evaluator = Callable[[Any, tuple[Agent, ...], tuple[ParamTree, ...], float,
                      torch.Generator | None], Metrics]
"""``evaluate(game, agents, params, gamma, generator) -> Metrics``.

``generator`` is an evaluation generator that the runner seeds from the run's seed and the
update, separate from the training generator: evaluating (or not) never changes training.
"""

def accepted_hparams(cls: type[Agent]) -> tuple[str, ...]:
    """The hyper-parameters an agent class takes: its settings' fields, or the arguments of
    its own constructor (in order)."""
    if cls.Settings is not None:
        return cls.Settings.names()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(k for k, p in inspect.signature(cls.__init__).parameters.items()
                 if k != "self" and p.kind in kinds)

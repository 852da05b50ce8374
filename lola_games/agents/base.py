"""The agent interface shared by every learner, the evaluation hook, and the registry.

An agent object holds only hyper-parameters. Everything per seed lives outside it, so one
agent object serves a whole batch of ``S`` independent runs:

* ``params`` -- a tensor, or a dict of tensors, each with a leading seed dimension ``[S, ...]``.
  Exact agents use memory-one logits ``[S, 5]`` (start, CC, CD, DC, DD from the agent's own
  side; ``sigmoid(logit)`` = P(action 0), see :mod:`lola_games.exact`) in a matrix game, and
  the game's own parameters in a differentiable game (:mod:`lola_games.diffgames`).
* ``state`` -- whatever the agent keeps between updates (optimizer moments, ...): tensors,
  numbers, strings and lists/tuples/dicts of them (``NamedTuple`` classes registered with
  :func:`lola_games.runlog.register_state_type`); the runner checkpoints it.

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
tuple of the other players' params in player order. ``ctx`` is a :class:`Context` (game,
gamma, this agent's player index, the run's ``torch.Generator``, device, and the opponent
agent, or the other agents). ``mode`` is ``"exact"`` for agents whose params are memory-one
logits (the runner then measures values exactly, see :func:`exact_evaluate`) and ``"sampled"``
for agents that need a sampled evaluator; such an agent sets ``evaluator`` to a function with
the :data:`Evaluator` signature. An exact learner facing a sampled opponent sees the
opponent's memory-one policy, ``ctx.other.logits(other)``; an opponent that has none (a
recurrent policy) is refused when the run starts (:func:`check_agents`).

**Evaluation.** After every logged update the runner calls an :data:`Evaluator`, which returns
named metrics: a dict ``name -> Tensor [P, S]`` (player, seed) that always holds ``"value"``,
each player's score as reward per step. Memory-one runs add ``p_<state>`` for each state of
``game.state_names`` (:func:`memory_one_metrics`); other games add their own (e.g. the Coin
Game's ``own_coin_share``). The runner writes them to ``metrics.csv`` as ``<name>_<player>``.

Agents are made by name through the registry (:func:`make_agent`), which the CLI uses.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from lola_games.diffgames import game_values, matrix_game_of
from lola_games.exact import N_STATES, discounted_values, exact_values
from lola_games.games import MatrixGame

__all__ = [
    "Params",
    "Context",
    "Agent",
    "Metrics",
    "Evaluator",
    "memory_one_metrics",
    "exact_evaluate",
    "evaluator_for",
    "check_agents",
    "player_values",
    "joint_values",
    "register_agent",
    "make_agent",
    "agent_names",
    "AGENTS",
]

Params = Tensor | dict[str, Tensor]
"""Per-seed parameters: a tensor or a dict of tensors, each ``[S, ...]``."""


@dataclass(frozen=True)
class Context:
    """What an update may use besides the two players' parameters.

    Attributes:
        game: the game (a :class:`~lola_games.games.MatrixGame` or another kind).
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
    its values through :func:`joint_values`.
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
    differentiable game's ``values``, see :func:`lola_games.diffgames.game_values`)."""
    return game_values(ctx.game, params, ctx.gamma)


class Agent:
    """Base class of all agents; subclasses override :meth:`update` (and usually more).

    The default parameters are memory-one logits ``~ N(0, 1)`` of shape ``[S, 5]`` (the LOLA
    paper's initialisation), the default state is empty, and the default ``update`` changes
    nothing.
    """

    name: ClassVar[str] = "agent"
    mode: ClassVar[str] = "exact"
    evaluator: ClassVar[Evaluator | None] = None
    reads_opponent_logits: ClassVar[bool] = False
    """Whether :meth:`update` learns from the opponent's memory-one logits (exact learners);
    such an agent needs opponents with a memory-one policy (:func:`check_agents`)."""

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> Params:
        """Memory-one logits ``[n_seeds, 5]`` drawn from N(0, 1) with ``generator``.

        ``game`` and ``player`` tell agents whose parameter shapes depend on the game which
        one they play (the runner passes both); memory-one logits do not need them.
        """
        _check_count("n_seeds", n_seeds)
        return torch.randn(n_seeds, N_STATES, generator=generator, device=device, dtype=dtype)

    def check_game(self, game: Any) -> None:
        """Raise ``ValueError`` unless this agent can play ``game`` (default: memory-one
        policies of a two-player, two-action matrix game)."""
        if matrix_game_of(game) is None:
            raise ValueError(
                f"agent {self.name!r} plays memory-one policies of two-action matrix games; "
                f"{getattr(game, 'name', game)!r} is not one")

    def is_memory_one(self) -> bool:
        """Whether :meth:`logits` gives this agent's whole policy (a memory-one policy)."""
        return self.mode == "exact"

    def init_state(self, params: Params) -> Any:
        """Per-run state kept between updates (default: none)."""
        return {}

    def update(self, own: Params, other: Params, state: Any, ctx: Context) -> tuple[Params, Any]:
        """One learning step from the current ``own`` and ``other`` params; returns new ones."""
        return own, state

    def logits(self, params: Params) -> Tensor:
        """Memory-one logits ``[S, 5]`` (exact agents: the params themselves)."""
        if not isinstance(params, Tensor):
            raise TypeError(f"{self.name}: expected a logits tensor [S, 5], got {type(params)}")
        return params

    def probs(self, params: Params) -> Tensor:
        """P(action 0) in each memory-one state, ``[S, 5]``."""
        return torch.sigmoid(self.logits(params))

    def hparams(self) -> dict[str, Any]:
        """Hyper-parameters as plain JSON values (the constructor's arguments)."""
        out = {}
        for key in inspect.signature(type(self).__init__).parameters:
            if key != "self" and hasattr(self, key):
                out[key] = getattr(self, key)
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams().items())
        return f"{type(self).__name__}({args})"


Metrics = dict[str, Tensor]
"""Named metrics of one evaluation: name -> ``[P, S]`` (player, seed); ``"value"`` always."""

Evaluator = Callable[[Any, tuple[Agent, ...], tuple[Params, ...], float,
                      torch.Generator | None], Metrics]
"""``evaluate(game, agents, params, gamma, generator) -> Metrics``.

``generator`` is an evaluation generator that the runner seeds from the run's seed and the
update, separate from the training generator: evaluating (or not) never changes training.
"""


def memory_one_metrics(game: MatrixGame, probs: Tensor) -> Metrics:
    """``p_<state>`` metrics ``[P, S]`` from P(action 0) ``probs [P, S, n_states]``."""
    return {f"p_{state}": probs[..., k] for k, state in enumerate(game.state_names)}


@torch.no_grad()
def exact_evaluate(
    game: MatrixGame,
    agents: tuple[Agent, ...],
    params: tuple[Params, ...],
    gamma: float,
    generator: torch.Generator | None = None,
) -> Metrics:
    """Exact per-step values (:func:`lola_games.exact.exact_values`) of memory-one agents,
    and their P(action 0) per state: ``{"value", "p_start", "p_CC", ...}``, each ``[2, S]``."""
    logits = [agents[i].logits(params[i]) for i in range(2)]
    v0, v1 = exact_values(game, logits[0], logits[1], gamma)
    return {"value": torch.stack([v0, v1]),
            **memory_one_metrics(game, torch.sigmoid(torch.stack(logits)))}


def evaluator_for(game: Any, agents: tuple[Agent, ...]) -> Evaluator:
    """The default evaluator of a run: a sampled agent's own evaluator when the agents include
    one; else the game's ``exact_evaluate`` method when it has one; else exact memory-one
    values (:func:`exact_evaluate`) for a matrix game.

    Raises:
        ValueError: no evaluator is known for these agents and this game.
    """
    for agent in agents:
        if agent.mode != "exact":
            if agent.evaluator is None:
                raise ValueError(
                    f"agent {agent.name!r} is {agent.mode!r} and has no evaluator; "
                    f"pass one to train(evaluate=...)"
                )
            return agent.evaluator
    own = getattr(game, "exact_evaluate", None)
    if callable(own):
        return own
    if isinstance(game, MatrixGame):
        return exact_evaluate
    raise ValueError(f"no evaluator for exact agents on {getattr(game, 'name', game)!r}; "
                     f"pass one to train(evaluate=...)")


def check_agents(game: Any, agents: tuple[Agent, ...]) -> None:
    """Raise ``ValueError`` unless every agent can play ``game`` against the others.

    Each agent's :meth:`Agent.check_game` must pass, and an exact learner (one that
    :attr:`~Agent.reads_opponent_logits`) needs opponents whose whole policy is memory-one
    (:meth:`Agent.is_memory_one`).
    """
    for i, agent in enumerate(agents):
        agent.check_game(game)
        if not agent.reads_opponent_logits:
            continue
        for j, other in enumerate(agents):
            if j != i and not other.is_memory_one():
                raise ValueError(
                    f"agent {agent.name!r} (player {i}) learns from exact values of memory-one "
                    f"policies, but player {j}, {other.name!r}, has no memory-one policy "
                    f"({other!r}); give it a memory-one policy (e.g. tabular) or pair it with a "
                    f"sampled learner")


# -- registry -------------------------------------------------------------------------------

AGENTS: dict[str, type[Agent]] = {}
"""Agent classes by registry name."""


def register_agent(name: str) -> Callable[[type[Agent]], type[Agent]]:
    """Class decorator: make an agent class available to :func:`make_agent` as ``name``."""

    def decorate(cls: type[Agent]) -> type[Agent]:
        if name in AGENTS and AGENTS[name] is not cls:
            raise ValueError(f"agent name {name!r} is already registered to {AGENTS[name]}")
        AGENTS[name] = cls
        return cls

    return decorate


def agent_names() -> tuple[str, ...]:
    """Registered agent names."""
    return tuple(AGENTS)


def make_agent(name: str, /, *, ignore_unknown: bool = False, **hparams: Any) -> Agent:
    """Build a registered agent from hyper-parameters.

    Args:
        name: registry name, e.g. ``"lola"`` (see :func:`agent_names`).
        ignore_unknown: drop hyper-parameters the agent does not take (the CLI passes one
            set of options to both agents); otherwise they are an error.
        **hparams: constructor arguments.

    Raises:
        ValueError: unknown agent name or (unless ``ignore_unknown``) unknown hyper-parameter.
    """
    try:
        cls = AGENTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown agent {name!r}; known agents: {', '.join(AGENTS)}") from None
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(hparams) - accepted)
    if unknown and not ignore_unknown:
        raise ValueError(
            f"agent {name!r} takes no hyper-parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(sorted(accepted)) or 'none'}"
        )
    return cls(**{k: v for k, v in hparams.items() if k in accepted})


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")

"""The machinery of the online learners (`lola_games.agents.online`): their base class and
shared settings, one round of play as a learner sees it, and the episodes they learn in.

Tables are per seed, each ``[S, ...]``; memory-one states are start, CC, CD, DC, DD from the
learner's own side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context, exact_evaluate
from lola_games.core.checks import check_positive_int
from lola_games.core.tensors import Params
from lola_games.envs.batched import reward_table
from lola_games.games.matrix import MatrixGame

__all__ = ["Tables", "N_STATES", "CLIP", "OnlineSettings", "OnlineLearner", "Round",
           "check_online_rate", "decayed", "greedy_action", "best_value", "seed_index",
           "play_episode", "joint_episode", "LAST_JOINT"]

Tables = dict[str, Tensor]
"""Per-seed tables of an online learner, each ``[S, ...]``."""

N_STATES = 5
CLIP = 1e-8
"""Policy probabilities are kept in ``[CLIP, 1 - CLIP]`` (the published clip)."""


def check_online_rate(name: str, value: Any, low_open: bool = False,
                      high: float | None = None) -> float:
    """``value`` as a float, or ``ValueError`` naming ``name`` unless it is a finite number
    >= 0 (> 0 if ``low_open``; <= ``high`` if given)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if value < 0 or (low_open and value == 0) or (high is not None and value > high):
        bound = f"{'>' if low_open else '>='} 0" + (f" and <= {high}" if high is not None else "")
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def decayed(rate: float, decay: float, step: Tensor) -> Tensor:
    """The published schedule ``1 / (1 / rate + step * decay)`` per seed."""
    return 1.0 / (1.0 / rate + step * decay)


def greedy_action(values: Tensor) -> Tensor:
    """Greedy action ``[S]`` of action values ``[S, 2]`` (ties go to action 0, as argmax)."""
    return (values[:, 1] > values[:, 0]).long()


def best_value(values: Tensor) -> Tensor:
    """``max`` over the 2 actions of ``[S, 2]`` values."""
    return torch.maximum(values[:, 0], values[:, 1])


@dataclass(frozen=True)
class OnlineSettings(AgentSettings):
    """Settings shared by the online learners (`OnlineLearner`).

    Attributes:
        alpha: initial Q-learning rate.
        alpha_decay: decay of the rate's inverse per round.
        gamma: discount of the Q-learning targets; ``None`` uses the run's.
        rollout_len: rounds per episode (one episode per update).
    """

    alpha: float = 1e-2
    alpha_decay: float = 1e-4
    gamma: float | None = None
    rollout_len: int = 200

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "alpha", check_online_rate("alpha", self.alpha, low_open=True))
        object.__setattr__(self, "alpha_decay", check_online_rate("alpha_decay",
                                                                  self.alpha_decay))
        if self.gamma is not None:
            gamma = check_online_rate("gamma", self.gamma)
            if gamma >= 1:
                raise ValueError(f"gamma must be in [0, 1), got {gamma}")
            object.__setattr__(self, "gamma", gamma)
        check_positive_int("rollout_len", self.rollout_len)


class OnlineLearner(Agent):
    """Base class: a tabular learner over memory-one states that learns while it plays.

    Subclasses define `init_tables`, `act_probs` (P(action 0) in given states)
    and `learn` (one round's update); `update` plays the episode.

    Settings: `OnlineSettings` (subclasses add theirs).
    """

    mode = "sampled"
    evaluator = staticmethod(exact_evaluate)
    reads_opponent_logits = True  # it plays the opponent's memory-one policy

    Settings: ClassVar[type[AgentSettings] | None] = OnlineSettings
    settings: OnlineSettings

    # -- the interface ---------------------------------------------------------------------
    def check_game(self, game: Any) -> None:
        if not isinstance(game, MatrixGame) or game.n_actions != 2:
            raise ValueError(f"agent {self.name!r} learns tables over the memory-one states of "
                             f"two-action matrix games; {getattr(game, 'name', game)!r} is not one")

    def is_memory_one(self) -> bool:
        return True

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> Tables:
        """Fresh tables ``[S, ...]`` (Q-values ~ N(0, 1), as published) and ``steps`` ``[S]``."""
        check_positive_int("n_seeds", n_seeds)
        tables = self.init_tables(n_seeds, generator, device, dtype)
        tables["steps"] = torch.zeros(n_seeds, dtype=torch.long, device=device)
        return tables

    def logits(self, params: Params) -> Tensor:
        """Memory-one logits ``[S, 5]`` of the policy the learner plays now."""
        params = cast(Tables, params)  # an online learner's params are its tables
        states = torch.arange(N_STATES, device=params["q"].device)
        probs = torch.stack([self.act_probs(params, s.expand(params["q"].shape[0]))
                             for s in states], dim=-1)
        return torch.logit(probs.double(), eps=CLIP).to(params["q"].dtype)

    def probs(self, params: Params) -> Tensor:
        dtype = cast(Tables, params)["q"].dtype
        return torch.sigmoid(self.logits(params).double()).to(dtype)

    def update(self, own: Params, other: Any, state: Any, ctx: Context) -> tuple[Params, Any]:
        """Play one episode against the opponent (jointly if it learns online too)."""
        agent = ctx.other
        if not isinstance(agent, Agent):
            raise ValueError(f"agent {self.name!r} plays two-player games; ctx.other must be "
                             f"the opponent agent, got {agent!r}")
        pair = (self, agent) if ctx.player == 0 else (agent, self)
        if not isinstance(agent, OnlineLearner):
            opponent = agent.probs(other).detach()
            params = [own, opponent] if ctx.player == 0 else [opponent, own]
            out = play_episode(ctx.game, pair, params, self.rollout_len, ctx.gamma,
                               ctx.generator)
            return out[ctx.player], state
        joint = (own, other) if ctx.player == 0 else (other, own)
        return joint_episode(ctx, pair, joint)[ctx.player], state

    # -- what subclasses define ------------------------------------------------------------
    def init_tables(self, n_seeds: int, generator: torch.Generator | None, device: Any,
                    dtype: torch.dtype) -> Tables:
        raise NotImplementedError

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        """P(action 0) ``[S]`` in memory-one ``states`` ``[S]``."""
        raise NotImplementedError

    def learn(self, params: Tables, k: Round) -> Tables:
        """Tables after one round ``k`` (the learner's view of it)."""
        raise NotImplementedError

    def schedule(self, steps: Tensor, length: int, dtype: torch.dtype) -> dict[str, Tensor]:
        """Step sizes ``[length, S]`` of the next ``length`` rounds after ``steps`` ``[S]``
        rounds played (``alpha`` here; subclasses add theirs)."""
        t = steps[None, :] + torch.arange(1, length + 1, device=steps.device)[:, None]
        return {"alpha": decayed(self.alpha, self.alpha_decay, t.to(dtype))}

    # -- shared pieces ---------------------------------------------------------------------
    def _q_step(self, q: Tensor, k: Round, v_next: Tensor, index: tuple[Tensor, ...]
                ) -> Tensor:
        """``q`` with ``q[index] <- (1 - alpha_T) q[index] + alpha_T (r + gamma v_next)``."""
        alpha = k.rates["alpha"]
        target = k.r + self._discount(k.gamma) * v_next
        return q.index_put(index, torch.lerp(q[index], target, alpha))

    def _discount(self, gamma: float) -> float:
        return gamma if self.gamma is None else self.gamma


@dataclass(frozen=True)
class Round:
    """One round from a learner's side, each field ``[S]``: seed index, state ``s``, own
    action ``a``, the opponent's action ``b``, reward ``r``, next state ``s_next``, the
    learner's step sizes for this round and the run's discount."""

    seeds: Tensor
    s: Tensor
    a: Tensor
    b: Tensor
    r: Tensor
    s_next: Tensor
    rates: dict[str, Tensor]
    gamma: float


SEED_INDEX_CACHE: dict[tuple[int, torch.device], Tensor] = {}
"""`seed_index` tensors by size and device."""


def seed_index(t: Tensor) -> Tensor:
    """``arange(S)`` on ``t``'s device (made once per size and device)."""
    key = (t.shape[0], t.device)
    if key not in SEED_INDEX_CACHE:
        SEED_INDEX_CACHE[key] = torch.arange(t.shape[0], device=t.device)
    return SEED_INDEX_CACHE[key]


# -- one episode ---------------------------------------------------------------------------

LAST_JOINT: dict[str, Any] = {}
"""Player 0's last joint episode (inputs held by identity, outputs, the generator state
after it), so that player 1's update of the same step reuses it instead of replaying it."""


def joint_episode(ctx: Context, agents: tuple[Any, Any], params: tuple[Any, Any]
                   ) -> list[Any]:
    """Both players' params after the joint episode of this update (module docstring).

    Player 0 plays it with a copy of the run's generator; player 1 gets the same outcome (the
    episode player 0 computed from the very same inputs, or plays it again) and advances the
    generator past it, so the numbers never depend on the reuse.
    """
    generator = ctx.generator
    if generator is None:
        raise ValueError("online learners playing each other need the run's generator")
    start = generator.get_state()
    inputs = (*agents, *params)
    if ctx.player == 1:
        last = LAST_JOINT
        if (last.get("inputs") is not None
                and all(x is y for x, y in zip(last["inputs"], inputs, strict=True))
                and torch.equal(last["start"], start) and last["game"] is ctx.game
                and last["gamma"] == ctx.gamma):
            generator.set_state(last["end"])
            out = last["out"]
            LAST_JOINT.clear()
            return out
        return play_episode(ctx.game, agents, params, agents[0].rollout_len, ctx.gamma,
                            generator)
    copy = torch.Generator(device=generator.device)
    copy.set_state(start)
    out = play_episode(ctx.game, agents, params, agents[0].rollout_len, ctx.gamma, copy)
    LAST_JOINT.clear()
    LAST_JOINT.update(inputs=inputs, start=start, end=copy.get_state(), game=ctx.game,
                       gamma=ctx.gamma, out=out)
    return out



@torch.no_grad()
def play_episode(
    game: MatrixGame,
    agents: Sequence[Any],
    params: Sequence[Any],
    length: int,
    gamma: float,
    generator: torch.Generator | None,
) -> list[Any]:
    """Play one episode of ``length`` rounds from START; online learners learn each round.

    Args:
        game: a two-action matrix game.
        agents: the two players' agents; an `OnlineLearner` plays and learns from its
            tables, any other player plays the fixed P(action 0) given in ``params``.
        params: per player, the learner's tables or P(action 0) per state ``[S, 5]``.
        length: rounds.
        gamma: the run's discount (learners without their own ``gamma`` use it).
        generator: draws the uniforms ``[length, S, 2]`` of the actions.

    Returns:
        both players' params after the episode (fixed players' unchanged).
    """
    learns = [isinstance(a, OnlineLearner) for a in agents]
    first = params[0]["q"] if learns[0] else params[0]
    n_seeds, device, dtype = first.shape[0], first.device, first.dtype
    u = torch.rand(length, n_seeds, 2, generator=generator, device=device, dtype=torch.float64)
    rewards = reward_table(game, device, dtype)  # [4, 2] by joint action 2 a0 + a1
    seeds = seed_index(first)
    states = torch.zeros(n_seeds, 2, dtype=torch.long, device=device)
    tables = list(params)
    rates: list[dict[str, Tensor]] = [
        agents[i].schedule(tables[i]["steps"], length, tables[i]["q"].dtype) if learns[i] else {}
        for i in range(2)]
    for t in range(length):
        p0 = torch.stack([
            agents[i].act_probs(tables[i], states[:, i]) if learns[i]
            else tables[i][seeds, states[:, i]] for i in range(2)], dim=-1)
        actions = (u[t] >= p0.double()).long()  # [S, 2]: action 1 when u >= P(action 0)
        a0, a1 = actions[:, 0], actions[:, 1]
        r = rewards[2 * a0 + a1]  # [S, 2]
        nxt = torch.stack([1 + 2 * a0 + a1, 1 + 2 * a1 + a0], dim=-1)  # own-side states
        for i in range(2):
            if learns[i]:
                k = Round(seeds, states[:, i], actions[:, i], actions[:, 1 - i], r[:, i],
                          nxt[:, i], {n: v[t] for n, v in rates[i].items()}, gamma)
                tables[i] = agents[i].learn(tables[i], k)
        states = nxt
    for i in range(2):
        if learns[i]:
            tables[i] = {**tables[i], "steps": tables[i]["steps"] + length}
    return tables

"""Online learners of the LOLA paper's tournament: NL-Q, JAL-Q, PHC and WoLF-PHC.

These learners learn from play: one update of the runner is one episode of ``rollout_len``
rounds of the iterated game, started from START, in which the learner updates its tables
after every round (the published tournament's loop). They are tabular over the memory-one
state (start, then the last outcome CC, CD, DC, DD from the learner's own side, the order of
`MatrixGame.state_names`), batched over seeds: every table has a leading seed
dimension ``[S, ...]``.

With the published hyper-parameters (``alpha`` 0.01 with decay, ``eps`` 0.05, ...) and step
``T`` the count of rounds the learner has played so far (1 in its first round):

* **NL-Q** (independent Q-learning, epsilon-greedy)::

      alpha_T = 1 / (1 / alpha + T * decay)
      Q[s, a] <- (1 - alpha_T) Q[s, a] + alpha_T (r + gamma * max_a' Q[s', a'])

  acting greedily on ``Q[s]`` with probability ``1 - eps`` (ties go to action 0).
* **JAL-Q** (joint-action learner): ``Q[s, a, b]`` over both players' actions, the
  opponent's empirical action frequencies ``C[s, b] / N[s]`` per state, and the greedy
  action of ``Q'[s, a] = sum_b Q[s, a, b] C[s, b] / N[s]``; the same update with
  ``max_a' Q'[s', a']``.
* **PHC** (policy hill-climbing, Bowling & Veloso 2002): the NL-Q update, then the policy
  ``pi[s]`` moves towards the greedy action by ``delta_T = 1 / (1 / delta + T * delta_decay)``
  as the published code does it: the action just played gains ``min(pi[s, other], delta_T)``
  if it is greedy and loses ``min(pi[s, a], delta_T)`` otherwise; actions are drawn from
  ``pi``.
* **WoLF-PHC**: PHC with the average policy ``pi_avg`` and two rates: ``delta_T`` when
  winning (``sum pi Q > sum pi_avg Q``), ``2 delta_T`` when losing.

**Params.** A dict of tensors (``"q"``, ``"steps"``, and ``"counts"``/``"pi"``/... per
learner): every quantity that changes while learning, so that one joint episode is a pure
function of both players' params and random numbers; the agent state is empty. They
checkpoint as plain tensors.

**Opponents.** The learner plays its opponent's memory-one policy (``ctx.other.probs``): an
exact learner or a fixed strategy keeps its policy through the episode (it updates after it,
from the same params). Two online learners play *one* joint episode in which both learn, as
in the published loop: both updates compute the same episode from the same params and the
same random numbers -- player 0's update draws them from a copy of the run's generator and
player 1's from the generator itself, which nothing else draws from between the two
updates; a joint episode lasts player 0's ``rollout_len``.

**Memory-one view.** Their policies are memory-one (``logits`` gives P(action 0) per state,
``1 - eps`` or ``eps`` for the Q-learners, ``pi`` for PHC and WoLF), so exact learners can
learn against them and they are evaluated exactly (`exact_evaluate`).

Registry names: ``nl-q``, ``jal-q``, ``phc``, ``wolf-phc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import (
    Agent,
    Context,
    exact_evaluate,
)
from lola_games.core.checks import check_positive_int
from lola_games.envs.batched import reward_table
from lola_games.games.matrix import MatrixGame

__all__ = ["OnlineLearner", "NaiveQLearner", "JointActionLearner", "PolicyHillClimbing",
           "WoLFPolicyHillClimbing", "play_episode"]

Tables = dict[str, Tensor]
"""Per-seed tables of an online learner, each ``[S, ...]``."""

N_STATES = 5
CLIP = 1e-8
"""Policy probabilities are kept in ``[CLIP, 1 - CLIP]`` (the published clip)."""


def _rate(name: str, value: Any, low_open: bool = False, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if value < 0 or (low_open and value == 0) or (high is not None and value > high):
        bound = f"{'>' if low_open else '>='} 0" + (f" and <= {high}" if high is not None else "")
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _decayed(rate: float, decay: float, step: Tensor) -> Tensor:
    """The published schedule ``1 / (1 / rate + step * decay)`` per seed."""
    return 1.0 / (1.0 / rate + step * decay)


def _greedy(values: Tensor) -> Tensor:
    """Greedy action ``[S]`` of action values ``[S, 2]`` (ties go to action 0, as argmax)."""
    return (values[:, 1] > values[:, 0]).long()


def _best(values: Tensor) -> Tensor:
    """``max`` over the 2 actions of ``[S, 2]`` values."""
    return torch.maximum(values[:, 0], values[:, 1])


class OnlineLearner(Agent):
    """Base class: a tabular learner over memory-one states that learns while it plays.

    Subclasses define `init_tables`, `act_probs` (P(action 0) in given states)
    and `learn` (one round's update); `update` plays the episode.

    Args:
        alpha: initial Q-learning rate.
        alpha_decay: decay of the rate's inverse per round.
        gamma: discount of the Q-learning targets; ``None`` uses the run's.
        rollout_len: rounds per episode (one episode per update).
    """

    mode = "sampled"
    evaluator = staticmethod(exact_evaluate)
    reads_opponent_logits = True  # it plays the opponent's memory-one policy

    def __init__(self, alpha: float = 1e-2, alpha_decay: float = 1e-4,
                 gamma: float | None = None, rollout_len: int = 200) -> None:
        self.alpha = _rate("alpha", alpha, low_open=True)
        self.alpha_decay = _rate("alpha_decay", alpha_decay)
        if gamma is not None:
            gamma = _rate("gamma", gamma)
            if gamma >= 1:
                raise ValueError(f"gamma must be in [0, 1), got {gamma}")
        self.gamma = gamma
        check_positive_int("rollout_len", rollout_len)
        self.rollout_len = rollout_len

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

    def logits(self, params: Tables) -> Tensor:
        """Memory-one logits ``[S, 5]`` of the policy the learner plays now."""
        states = torch.arange(N_STATES, device=params["q"].device)
        probs = torch.stack([self.act_probs(params, s.expand(params["q"].shape[0]))
                             for s in states], dim=-1)
        return torch.logit(probs.double(), eps=CLIP).to(params["q"].dtype)

    def probs(self, params: Tables) -> Tensor:
        return torch.sigmoid(self.logits(params).double()).to(params["q"].dtype)

    def update(self, own: Tables, other: Any, state: Any, ctx: Context) -> tuple[Tables, Any]:
        """Play one episode against the opponent (jointly if it learns online too)."""
        if not isinstance(ctx.other, OnlineLearner):
            opponent = ctx.other.probs(other).detach()
            pair = (self, ctx.other) if ctx.player == 0 else (ctx.other, self)
            params = [own, opponent] if ctx.player == 0 else [opponent, own]
            out = play_episode(ctx.game, pair, params, self.rollout_len, ctx.gamma,
                               ctx.generator)
            return out[ctx.player], state
        pair = (self, ctx.other) if ctx.player == 0 else (ctx.other, self)
        params = (own, other) if ctx.player == 0 else (other, own)
        return _joint_episode(ctx, pair, params)[ctx.player], state

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
        return {"alpha": _decayed(self.alpha, self.alpha_decay, t.to(dtype))}

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


_SEED_INDEX: dict[tuple[int, torch.device], Tensor] = {}


def _seeds(t: Tensor) -> Tensor:
    """``arange(S)`` on ``t``'s device (made once per size and device)."""
    key = (t.shape[0], t.device)
    if key not in _SEED_INDEX:
        _SEED_INDEX[key] = torch.arange(t.shape[0], device=t.device)
    return _SEED_INDEX[key]


class NaiveQLearner(OnlineLearner):
    """NL-Q: independent Q-learning with epsilon-greedy exploration (module docstring).

    Args:
        alpha, alpha_decay: Q-learning rate ``1 / (1 / alpha + T * alpha_decay)``.
        eps: probability of the non-greedy action.
        gamma, rollout_len: see `OnlineLearner`.
    """

    name = "nl-q"

    def __init__(self, alpha: float = 1e-2, alpha_decay: float = 1e-4, eps: float = 0.05,
                 gamma: float | None = None, rollout_len: int = 200) -> None:
        super().__init__(alpha, alpha_decay, gamma, rollout_len)
        self.eps = _rate("eps", eps, high=1.0)

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {"q": torch.randn(n_seeds, N_STATES, 2, generator=generator, device=device,
                                 dtype=dtype)}

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        greedy = _greedy(params["q"][_seeds(states), states])
        return torch.where(greedy.bool(), self.eps, 1 - self.eps)

    def learn(self, params: Tables, k: Round) -> Tables:
        q = params["q"]
        v_next = _best(q[k.seeds, k.s_next])
        return {**params, "q": self._q_step(q, k, v_next, (k.seeds, k.s, k.a))}


class JointActionLearner(OnlineLearner):
    """JAL-Q: Q-values of joint actions and the opponent's empirical frequencies per state.

    Args: as `NaiveQLearner`.
    """

    name = "jal-q"

    def __init__(self, alpha: float = 1e-2, alpha_decay: float = 1e-4, eps: float = 0.05,
                 gamma: float | None = None, rollout_len: int = 200) -> None:
        super().__init__(alpha, alpha_decay, gamma, rollout_len)
        self.eps = _rate("eps", eps, high=1.0)

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {
            "q": torch.randn(n_seeds, N_STATES, 2, 2, generator=generator, device=device,
                             dtype=dtype),
            "counts": torch.zeros(n_seeds, N_STATES, 2, device=device, dtype=dtype),
        }

    @staticmethod
    def expected_q(params: Tables, states: Tensor) -> Tensor:
        """``Q'[s, a] = sum_b Q[s, a, b] C[s, b] / N[s]`` ``[S, 2]`` (0 before any visit)."""
        i = _seeds(states)
        counts = params["counts"][i, states]  # [S, 2]
        freq = counts / (counts.sum(-1, keepdim=True) + CLIP)
        return (params["q"][i, states] * freq[:, None, :]).sum(-1)

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        greedy = _greedy(self.expected_q(params, states))
        return torch.where(greedy.bool(), self.eps, 1 - self.eps)

    def learn(self, params: Tables, k: Round) -> Tables:
        v_next = _best(self.expected_q(params, k.s_next))
        q = self._q_step(params["q"], k, v_next, (k.seeds, k.s, k.a, k.b))
        counts = params["counts"].index_put((k.seeds, k.s, k.b),
                                            torch.ones_like(k.r), accumulate=True)
        return {**params, "q": q, "counts": counts}


def _hill_climb(pi: Tensor, q: Tensor, k: Round, delta: Tensor) -> Tensor:
    """The published PHC policy step in state ``k.s`` after playing ``k.a``.

    The played action gains ``min(pi[s, other], delta)`` if it is greedy in ``q[s]`` and
    loses ``min(pi[s, a], delta)`` otherwise; probabilities stay in ``[CLIP, 1 - CLIP]``.
    With two actions the step is taken on P(action 0) alone (``pi[s, 1] = 1 - pi[s, 0]``).
    """
    i, s = k.seeds, k.s
    p0 = pi[i, s, 0]
    up = torch.minimum(1 - p0, delta)  # what action 0 can gain, delta / (n - 1) with n = 2
    down = torch.minimum(p0, delta)  # what it can lose
    greedy = k.a == _greedy(q[i, s])
    played_0 = k.a == 0
    # action 0 gains when it was played and is greedy, or action 1 was played and is not
    p0 = torch.where(greedy == played_0, p0 + up, p0 - down).clamp(CLIP, 1 - CLIP)
    return pi.index_put((i, s), torch.stack([p0, 1 - p0], -1))


class PolicyHillClimbing(OnlineLearner):
    """PHC: Q-learning and a policy that climbs towards the greedy action (module docstring).

    Args:
        alpha, alpha_decay: Q-learning rate schedule.
        delta, delta_decay: policy step ``1 / (1 / delta + T * delta_decay)``.
        gamma, rollout_len: see `OnlineLearner`.
    """

    name = "phc"

    def __init__(self, alpha: float = 1e-2, alpha_decay: float = 1e-4, delta: float = 5e-5,
                 delta_decay: float = 1.0, gamma: float | None = None,
                 rollout_len: int = 200) -> None:
        super().__init__(alpha, alpha_decay, gamma, rollout_len)
        self.delta = _rate("delta", delta, low_open=True)
        self.delta_decay = _rate("delta_decay", delta_decay)

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {
            "q": torch.randn(n_seeds, N_STATES, 2, generator=generator, device=device,
                             dtype=dtype),
            "pi": torch.full((n_seeds, N_STATES, 2), 0.5, device=device, dtype=dtype),
        }

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        return params["pi"][_seeds(states), states, 0]

    def schedule(self, steps: Tensor, length: int, dtype: torch.dtype) -> dict[str, Tensor]:
        rates = super().schedule(steps, length, dtype)
        t = steps[None, :] + torch.arange(1, length + 1, device=steps.device)[:, None]
        return {**rates, "delta": _decayed(self.delta, self.delta_decay, t.to(dtype))}

    def learn(self, params: Tables, k: Round) -> Tables:
        v_next = _best(params["q"][k.seeds, k.s_next])
        q = self._q_step(params["q"], k, v_next, (k.seeds, k.s, k.a))
        return {**params, "q": q, "pi": _hill_climb(params["pi"], q, k, k.rates["delta"])}


class WoLFPolicyHillClimbing(PolicyHillClimbing):
    """WoLF-PHC: PHC that learns slowly when winning and twice as fast when losing.

    Args:
        alpha, alpha_decay: Q-learning rate schedule.
        delta, delta_decay: the winning step ``1 / (1 / delta + T * delta_decay)``; twice it
            when losing.
        gamma, rollout_len: see `OnlineLearner`.
    """

    name = "wolf-phc"

    def __init__(self, alpha: float = 1e-2, alpha_decay: float = 1e-4, delta: float = 1e-2,
                 delta_decay: float = 5e-5, gamma: float | None = None,
                 rollout_len: int = 200) -> None:
        super().__init__(alpha, alpha_decay, delta, delta_decay, gamma, rollout_len)

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        tables = super().init_tables(n_seeds, generator, device, dtype)
        tables["pi_avg"] = tables["pi"].clone()
        tables["visits"] = torch.zeros(n_seeds, N_STATES, device=device, dtype=dtype)
        return tables

    def learn(self, params: Tables, k: Round) -> Tables:
        i, s = k.seeds, k.s
        v_next = _best(params["q"][i, k.s_next])
        q = self._q_step(params["q"], k, v_next, (i, s, k.a))
        # the average policy in s, clipped and renormalised as published
        n = params["visits"][i, s] + 1
        pi_s, avg_s = params["pi"][i, s], params["pi_avg"][i, s]
        avg_s = (avg_s + (pi_s - avg_s) / n[:, None]).clamp(CLIP, 1 - CLIP)
        avg_s = avg_s / avg_s.sum(-1, keepdim=True)
        # win or learn fast
        q_s = q[i, s]
        winning = (pi_s * q_s).sum(-1) > (avg_s * q_s).sum(-1)
        delta = torch.where(winning, 1.0, 2.0) * k.rates["delta"]
        return {**params, "q": q, "pi": _hill_climb(params["pi"], q, k, delta),
                "pi_avg": params["pi_avg"].index_put((i, s), avg_s),
                "visits": params["visits"].index_put((i, s), n)}


# -- one episode ---------------------------------------------------------------------------

_LAST_JOINT: dict[str, Any] = {}
"""Player 0's last joint episode (inputs held by identity, outputs, the generator state
after it), so that player 1's update of the same step reuses it instead of replaying it."""


def _joint_episode(ctx: Context, agents: tuple[Any, Any], params: tuple[Any, Any]
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
        last = _LAST_JOINT
        if (last.get("inputs") is not None
                and all(x is y for x, y in zip(last["inputs"], inputs, strict=True))
                and torch.equal(last["start"], start) and last["game"] is ctx.game
                and last["gamma"] == ctx.gamma):
            generator.set_state(last["end"])
            out = last["out"]
            _LAST_JOINT.clear()
            return out
        return play_episode(ctx.game, agents, params, agents[0].rollout_len, ctx.gamma,
                            generator)
    copy = torch.Generator(device=generator.device)
    copy.set_state(start)
    out = play_episode(ctx.game, agents, params, agents[0].rollout_len, ctx.gamma, copy)
    _LAST_JOINT.clear()
    _LAST_JOINT.update(inputs=inputs, start=start, end=copy.get_state(), game=ctx.game,
                       gamma=ctx.gamma, out=out)
    return out



@torch.no_grad()
def play_episode(
    game: MatrixGame,
    agents: list[Any],
    params: list[Any],
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
    seeds = _seeds(first)
    states = torch.zeros(n_seeds, 2, dtype=torch.long, device=device)
    params = list(params)
    rates = [agents[i].schedule(params[i]["steps"], length, params[i]["q"].dtype)
             if learns[i] else None for i in range(2)]
    for t in range(length):
        p0 = torch.stack([
            agents[i].act_probs(params[i], states[:, i]) if learns[i]
            else params[i][seeds, states[:, i]] for i in range(2)], dim=-1)
        actions = (u[t] >= p0.double()).long()  # [S, 2]: action 1 when u >= P(action 0)
        a0, a1 = actions[:, 0], actions[:, 1]
        r = rewards[2 * a0 + a1]  # [S, 2]
        nxt = torch.stack([1 + 2 * a0 + a1, 1 + 2 * a1 + a0], dim=-1)  # own-side states
        for i in range(2):
            if learns[i]:
                k = Round(seeds, states[:, i], actions[:, i], actions[:, 1 - i], r[:, i],
                          nxt[:, i], {n: v[t] for n, v in rates[i].items()}, gamma)
                params[i] = agents[i].learn(params[i], k)
        states = nxt
    for i in range(2):
        if learns[i]:
            params[i] = {**params[i], "steps": params[i]["steps"] + length}
    return params

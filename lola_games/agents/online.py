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

from dataclasses import dataclass

import torch
from torch import Tensor

from lola_games.agents.online_learner import (
    CLIP,
    N_STATES,
    OnlineLearner,
    OnlineSettings,
    Round,
    Tables,
    best_value,
    check_online_rate,
    decayed,
    greedy_action,
    seed_index,
)

__all__ = ["QLearnerSettings", "NaiveQLearner", "JointActionLearner", "PHCSettings",
           "PolicyHillClimbing", "WoLFSettings", "WoLFPolicyHillClimbing"]


@dataclass(frozen=True)
class QLearnerSettings(OnlineSettings):
    """Settings of `NaiveQLearner` and `JointActionLearner` (and those of `OnlineSettings`).

    Attributes:
        eps: probability of the non-greedy action, in ``[0, 1]``.
    """

    eps: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "eps", check_online_rate("eps", self.eps, high=1.0))


@dataclass(frozen=True)
class PHCSettings(OnlineSettings):
    """Settings of `PolicyHillClimbing` (and those of `OnlineSettings`).

    Attributes:
        delta: initial policy step, ``1 / (1 / delta + T * delta_decay)``.
        delta_decay: decay of the step's inverse per round.
    """

    delta: float = 5e-5
    delta_decay: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "delta", check_online_rate("delta", self.delta, low_open=True))
        object.__setattr__(self, "delta_decay", check_online_rate("delta_decay",
                                                                  self.delta_decay))


@dataclass(frozen=True)
class WoLFSettings(PHCSettings):
    """Settings of `WoLFPolicyHillClimbing`: `PHCSettings` with the published WoLF defaults
    (``delta`` is the winning step; twice it when losing)."""

    delta: float = 1e-2
    delta_decay: float = 5e-5


class NaiveQLearner(OnlineLearner):
    """NL-Q: independent Q-learning with epsilon-greedy exploration (module docstring).

    Settings: `QLearnerSettings`.
    """

    name = "nl-q"
    Settings = QLearnerSettings
    settings: QLearnerSettings

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {"q": torch.randn(n_seeds, N_STATES, 2, generator=generator, device=device,
                                 dtype=dtype)}

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        greedy = greedy_action(params["q"][seed_index(states), states])
        return torch.where(greedy.bool(), self.eps, 1 - self.eps)

    def learn(self, params: Tables, k: Round) -> Tables:
        q = params["q"]
        v_next = best_value(q[k.seeds, k.s_next])
        return {**params, "q": self._q_step(q, k, v_next, (k.seeds, k.s, k.a))}


class JointActionLearner(OnlineLearner):
    """JAL-Q: Q-values of joint actions and the opponent's empirical frequencies per state.

    Settings: `QLearnerSettings`.
    """

    name = "jal-q"
    Settings = QLearnerSettings
    settings: QLearnerSettings

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {
            "q": torch.randn(n_seeds, N_STATES, 2, 2, generator=generator, device=device,
                             dtype=dtype),
            "counts": torch.zeros(n_seeds, N_STATES, 2, device=device, dtype=dtype),
        }

    @staticmethod
    def expected_q(params: Tables, states: Tensor) -> Tensor:
        """``Q'[s, a] = sum_b Q[s, a, b] C[s, b] / N[s]`` ``[S, 2]`` (0 before any visit)."""
        i = seed_index(states)
        counts = params["counts"][i, states]  # [S, 2]
        freq = counts / (counts.sum(-1, keepdim=True) + CLIP)
        return (params["q"][i, states] * freq[:, None, :]).sum(-1)

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        greedy = greedy_action(self.expected_q(params, states))
        return torch.where(greedy.bool(), self.eps, 1 - self.eps)

    def learn(self, params: Tables, k: Round) -> Tables:
        v_next = best_value(self.expected_q(params, k.s_next))
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
    greedy = k.a == greedy_action(q[i, s])
    played_0 = k.a == 0
    # action 0 gains when it was played and is greedy, or action 1 was played and is not
    p0 = torch.where(greedy == played_0, p0 + up, p0 - down).clamp(CLIP, 1 - CLIP)
    return pi.index_put((i, s), torch.stack([p0, 1 - p0], -1))


class PolicyHillClimbing(OnlineLearner):
    """PHC: Q-learning and a policy that climbs towards the greedy action (module docstring).

    Settings: `PHCSettings`.
    """

    name = "phc"
    Settings = PHCSettings
    settings: PHCSettings

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        return {
            "q": torch.randn(n_seeds, N_STATES, 2, generator=generator, device=device,
                             dtype=dtype),
            "pi": torch.full((n_seeds, N_STATES, 2), 0.5, device=device, dtype=dtype),
        }

    def act_probs(self, params: Tables, states: Tensor) -> Tensor:
        return params["pi"][seed_index(states), states, 0]

    def schedule(self, steps: Tensor, length: int, dtype: torch.dtype) -> dict[str, Tensor]:
        rates = super().schedule(steps, length, dtype)
        t = steps[None, :] + torch.arange(1, length + 1, device=steps.device)[:, None]
        return {**rates, "delta": decayed(self.delta, self.delta_decay, t.to(dtype))}

    def learn(self, params: Tables, k: Round) -> Tables:
        v_next = best_value(params["q"][k.seeds, k.s_next])
        q = self._q_step(params["q"], k, v_next, (k.seeds, k.s, k.a))
        return {**params, "q": q, "pi": _hill_climb(params["pi"], q, k, k.rates["delta"])}


class WoLFPolicyHillClimbing(PolicyHillClimbing):
    """WoLF-PHC: PHC that learns slowly when winning and twice as fast when losing.

    Settings: `WoLFSettings` (``delta`` is the winning step; twice it when losing).
    """

    name = "wolf-phc"
    Settings = WoLFSettings
    settings: WoLFSettings

    def init_tables(self, n_seeds, generator, device, dtype) -> Tables:
        tables = super().init_tables(n_seeds, generator, device, dtype)
        tables["pi_avg"] = tables["pi"].clone()
        tables["visits"] = torch.zeros(n_seeds, N_STATES, device=device, dtype=dtype)
        return tables

    def learn(self, params: Tables, k: Round) -> Tables:
        i, s = k.seeds, k.s
        v_next = best_value(params["q"][i, k.s_next])
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



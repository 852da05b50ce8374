"""The M-FOS meta-game: a meta-agent's policies against a learning opponent, batched.

An inner episode is ``inner_steps`` learning steps of an opponent; at each step the
meta-agent observes ``sigmoid([own logits, opponent's logits])``, outputs its next policy,
and receives its exact value against the opponent's current policy (see
`lola_games.agents.mfos`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Agent, Context
from lola_games.agents.lola import LOLA
from lola_games.agents.mfos.config import OPPONENTS, MFOSConfig
from lola_games.agents.mfos.ppo import act
from lola_games.agents.naive import NaiveLearner
from lola_games.games.matrix import MatrixGame
from lola_games.values.exact import exact_values

__all__ = ["mfos_chicken", "policy_dim", "to_memory_one", "MetaGame", "opponent_agent",
           "episode", "self_play_episode"]


def mfos_chicken() -> MatrixGame:
    """Chicken as the official M-FOS code plays it: a one-shot game (play it with gamma 0),
    swerve/straight, SS 0, ST -1, TS +1, TT -100 (our built-in iterated chicken has -10)."""
    return MatrixGame("chicken_mfos", ("S", "T"), np.array([[[0.0, -1.0], [1.0, -100.0]]] * 2),
                      {"both swerve": 0.0}, "one-shot chicken of the M-FOS code (crash -100)")


def policy_dim(gamma: float) -> int:
    """Logits the meta-agent outputs: 5 (memory-one) in an iterated game, 1 in a one-shot game
    (``gamma == 0``: only the first move counts; the logit is used in every state)."""
    return 1 if gamma == 0 else 5


def to_memory_one(logits: Tensor) -> Tensor:
    """``[..., d]`` policy logits as memory-one logits ``[..., 5]`` (a one-shot logit repeated)."""
    return logits.expand(*logits.shape[:-1], 5) if logits.shape[-1] == 1 else logits


class MetaGame:
    """``S x B`` games of the meta-agent (player 0) against a learning opponent (player 1).

    Args:
        game: a two-action `MatrixGame`.
        gamma: the inner discount (0.96; 0 for a one-shot game).
        opponent: an exact learner (`Agent`) whose ``update``
            is the opponent's learning step; its params are memory-one logits.
    """

    def __init__(self, game: MatrixGame, gamma: float, opponent: Agent) -> None:
        self.game, self.gamma, self.opponent = game, gamma, opponent
        self.d = policy_dim(gamma)
        self.ctx = Context(game, gamma, 1)

    def values(self, own: Tensor, opp: Tensor) -> tuple[Tensor, Tensor]:
        """Per-step values of both players ``[S, B]`` (from ``[S, B, d]`` logits)."""
        v0, v1 = exact_values(self.game, to_memory_one(own), to_memory_one(opp), self.gamma)
        return v0, v1

    def observe(self, own: Tensor, opp: Tensor) -> Tensor:
        """The meta-agent's observation ``sigmoid([own, opp])`` ``[S, B, 2d]``."""
        return torch.sigmoid(torch.cat([own, opp[..., :self.d]], -1)).detach()

    def learn(self, opp: Tensor, own: Tensor) -> Tensor:
        """The opponent's learning step against ``own`` (batched over ``S x B``)."""
        shape = opp.shape
        flat = to_memory_one(opp.reshape(-1, opp.shape[-1]))
        new, _ = self.opponent.update(flat, to_memory_one(own.reshape(-1, own.shape[-1])).detach(),
                                      self.opponent.init_state(flat), self.ctx)
        return new[..., :opp.shape[-1]].reshape(shape).detach()

    def reset(self, S: int, B: int, generator, device, dtype, std: float
              ) -> tuple[Tensor, Tensor]:
        """Fresh opponents; the meta-agent's first (random) policy is played once, as in the
        official code. Returns ``(observation, opponent logits)``."""
        opp = std * torch.randn(S, B, 5, generator=generator, device=device, dtype=dtype)
        own = std * torch.randn(S, B, self.d, generator=generator, device=device, dtype=dtype)
        obs = self.observe(own, opp)
        return obs, self.learn(opp, own)


def opponent_agent(name: str, lr: float) -> Agent:
    if name == "naive":
        return NaiveLearner(lr=lr)
    if name == "lola":
        return LOLA(lr=lr, eta=lr, stop_gradient=False)
    raise ValueError(f"opponent must be one of {', '.join(OPPONENTS)}, got {name!r}")


def episode(meta: MetaGame, params: dict[str, Tensor], cfg: MFOSConfig, S: int, generator,
             device, dtype) -> tuple[Tensor, ...]:
    """One inner episode against learning opponents: ``(obs, actions, logps, rewards,
    opponent rewards)``, each ``[S, T, B, ...]``."""
    obs, opp = meta.reset(S, cfg.batch_size, generator, device, dtype, cfg.init_std)
    out: list[list[Tensor]] = [[], [], [], [], []]
    for _ in range(cfg.inner_steps):
        action, logp = act(params, obs, generator)
        r0, r1 = meta.values(action, opp)
        for buf, x in zip(out, (obs, action, logp, r0, r1), strict=True):
            buf.append(x)
        obs = meta.observe(action, opp)
        opp = meta.learn(opp, action)
    return tuple(torch.stack(buf, 1) for buf in out)


def self_play_episode(meta: MetaGame, params: tuple[dict[str, Tensor], dict[str, Tensor]],
                       cfg: MFOSConfig, S: int, generator, device, dtype
                       ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """One episode of two meta-agents against each other (the official symmetric meta-game)."""
    d, B = meta.d, cfg.batch_size
    th = [cfg.init_std * torch.randn(S, B, d, generator=generator, device=device, dtype=dtype)
          for _ in range(2)]
    obs = [meta.observe(th[0], th[1]), meta.observe(th[1], th[0])]
    out: list[list[list[Tensor]]] = [[[] for _ in range(4)] for _ in range(2)]
    for _ in range(cfg.inner_steps):
        acts = [act(params[i], obs[i], generator) for i in range(2)]
        v0, v1 = meta.values(acts[0][0], acts[1][0])
        for i, v in enumerate((v0, v1)):
            for buf, x in zip(out[i], (obs[i], acts[i][0], acts[i][1], v), strict=True):
                buf.append(x)
        obs = [meta.observe(acts[0][0], acts[1][0]), meta.observe(acts[1][0], acts[0][0])]
    first, second = (tuple(torch.stack(b, 1) for b in out[i]) for i in range(2))
    return first, second

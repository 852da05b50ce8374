"""Fixed Coin Game agents that never learn: always cooperate (``coin-allc``) and always
defect (``coin-alld``), the Coin Game's probes of the recent opponent-shaping papers.

They play the policy modules of `lola_games.rollouts.coin_fixed` (where their definitions,
matched to the LOQA authors' evaluation code, are stated). Like the sampled learners they
expose ``modules(game)``, so sampled learners play them through
`lola_games.agents.sampled.as_player`, and the runner evaluates them with
`lola_games.agents.sampled.evaluate_sampled`. Params: ``{"policy": {"gap": [S]}, "value":
{}}`` (no value function); `update` returns them unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from lola_games.agents.base import Agent, AgentSettings, Context
from lola_games.agents.sampled import AgentParams, evaluate_sampled
from lola_games.core.checks import check_positive_int
from lola_games.core.tensors import ParamTree
from lola_games.rollouts.coin_fixed import (
    GAP,
    CoinAlwaysCooperatePolicy,
    CoinAlwaysDefectPolicy,
)
from lola_games.rollouts.games import is_coin_game

__all__ = ["CoinFixedAgent", "CoinAlwaysCooperate", "CoinAlwaysDefect"]


class CoinFixedAgent(Agent[AgentParams]):
    """A fixed Coin Game policy (no hyper-parameters); subclasses name its module."""

    mode = "sampled"
    Settings = AgentSettings
    evaluator = staticmethod(evaluate_sampled)
    Policy: ClassVar[type[nn.Module]] = CoinAlwaysDefectPolicy
    policy: nn.Module

    def setup(self) -> None:
        """Build the policy module."""
        self.policy = self.Policy()

    def check_game(self, game: Any) -> None:
        """Only the Coin Game."""
        if not is_coin_game(game):
            raise ValueError(f"agent {self.name!r} plays the Coin Game, not "
                             f"{getattr(game, 'name', game)!r} (on the IPD use allc / alld)")

    def is_memory_one(self) -> bool:
        """Its policy reads boards, not outcomes."""
        return False

    def modules(self, game: Any = None) -> tuple[nn.Module, None]:
        """``(policy, None)``: the fixed policy module (any board size) and no value module."""
        return self.policy, None

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> AgentParams:
        """``{"policy": {"gap": [S]}, "value": {}}`` (draws no randomness)."""
        check_positive_int("n_seeds", n_seeds)
        gap = torch.full((n_seeds,), GAP, device=device, dtype=dtype)
        return {"policy": {"gap": gap}, "value": {}}

    def update(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[AgentParams, Any]:
        """No learning: the params as they are."""
        return own, state


class CoinAlwaysCooperate(CoinFixedAgent):
    """Take only coins of its own colour; walk away from the other's (no hyper-parameters)."""

    name = "coin-allc"
    Policy = CoinAlwaysCooperatePolicy


class CoinAlwaysDefect(CoinFixedAgent):
    """Walk to the coin, whatever its colour (no hyper-parameters)."""

    name = "coin-alld"
    Policy = CoinAlwaysDefectPolicy

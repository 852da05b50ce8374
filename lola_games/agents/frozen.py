"""Frozen agents: an agent that plays given params and never learns.

``freeze(agent, params)`` is the opponent a best-response exploiter trains against
(`lola_games.runner.evaluation`): a copy of ``agent`` of a subclass of the agent's own class
(so that learners see the same kind of opponent: its policy modules, memory-one logits,
evaluator) whose `init_params` returns ``params`` and whose `update` returns its params
unchanged. The fixed agents of `lola_games.agents.fixed` are frozen by construction.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from lola_games.agents.base import Agent, Context
from lola_games.core.tensors import ParamTree, tree_map

__all__ = ["FrozenMixin", "freeze", "seeds_of"]


def seeds_of(params: ParamTree) -> int:
    """The number of seeds ``S`` of params (the leading size of their first tensor).

    Raises:
        ValueError: params without a tensor.
    """
    leaves: list[torch.Tensor] = []
    tree_map(leaves.append, params)
    if not leaves:
        raise ValueError("params hold no tensor, so no number of seeds")
    return int(leaves[0].shape[0])


class FrozenMixin:
    """Plays `frozen_params` for every run it is put in and never changes them."""

    frozen_params: ParamTree
    reads_opponent_logits: ClassVar[bool] = False
    """It learns from nothing (whatever the agent it freezes reads)."""

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> ParamTree:
        """The frozen params on ``device`` (draws no randomness).

        Raises:
            ValueError: ``n_seeds`` is not the params' number of seeds.
        """
        have = seeds_of(self.frozen_params)
        if n_seeds != have:
            raise ValueError(f"a frozen agent holds params of {have} seeds, the run has "
                             f"{n_seeds}")
        return tree_map(lambda t: t.detach().to(device), self.frozen_params)

    def init_state(self, params: ParamTree) -> Any:
        """No state."""
        return {}

    def update(self, own: ParamTree, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[ParamTree, Any]:
        """No learning: the params as they are."""
        return own, state


_FROZEN_CLASSES: dict[type[Agent], type[Agent]] = {}


def _frozen_class(cls: type[Agent]) -> type[Agent]:
    """The frozen subclass of ``cls`` (one per class)."""
    if cls not in _FROZEN_CLASSES:
        _FROZEN_CLASSES[cls] = type(
            f"Frozen{cls.__name__}", (FrozenMixin, cls),
            {"__doc__": f"{cls.__name__} that plays fixed params and never learns."})
    return _FROZEN_CLASSES[cls]


def freeze(agent: Agent, params: ParamTree) -> Agent:
    """A copy of ``agent`` that plays ``params`` (``[S, ...]``) and never learns.

    The copy is of a subclass of ``type(agent)`` with the agent's settings; its name is the
    agent's.

    Raises:
        TypeError: ``agent`` is not an `Agent`.
        ValueError: ``params`` hold no tensor.
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"freeze takes an Agent, got {type(agent).__name__}")
    seeds_of(params)
    frozen = object.__new__(_frozen_class(type(agent)))
    frozen.__dict__.update(agent.__dict__)
    frozen.__dict__["frozen_params"] = params
    return frozen

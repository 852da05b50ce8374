"""Fixed memory-one strategies that never learn (probes and baselines).

Logits are large but finite (``+-10``, P = 0.99995) so exact values and their gradients stay
finite.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context
from lola_games.core.checks import check_positive_int
from lola_games.core.tensors import Params
from lola_games.values.exact import N_STATES

__all__ = [
    "FixedSettings",
    "RandomSettings",
    "FixedAgent",
    "TitForTat",
    "AlwaysCooperate",
    "AlwaysDefect",
    "RandomAgent",
    "SURE",
    "five_logits",
]

SURE = 10.0
"""Logit used for a sure action."""


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def five_logits(logits: Any) -> tuple[float, ...]:
    """``logits`` as 5 floats (start, CC, CD, DC, DD): a sequence, array or tensor ``[5]``.

    Raises:
        TypeError: not a sequence of real numbers (strings, bools, complex, ...).
        ValueError: not exactly 5 of them, or NaN/inf among them.
    """
    if isinstance(logits, (torch.Tensor, np.ndarray)):
        if logits.ndim != 1:
            raise ValueError(
                f"logits must have shape [5] (start, CC, CD, DC, DD), got {list(logits.shape)}"
            )
        values = logits.tolist()
    elif isinstance(logits, Iterable) and not isinstance(logits, (str, bytes, Mapping)):
        values = list(logits)
    else:
        raise TypeError(f"logits must be 5 numbers (start, CC, CD, DC, DD), got {logits!r}")
    bad = [x for x in values if not _is_real(x)]
    if bad:
        raise TypeError(f"logits must be real numbers, got {bad[0]!r} in {logits!r}")
    if len(values) != N_STATES:
        raise ValueError(
            f"logits must be 5 numbers (start, CC, CD, DC, DD), got {len(values)}: {logits!r}"
        )
    if not all(math.isfinite(x) for x in values):
        raise ValueError(f"logits must be finite, got {logits!r}")
    return tuple(float(x) for x in values)


@dataclass(frozen=True)
class FixedSettings(AgentSettings):
    """Settings of `FixedAgent`.

    Attributes:
        logits: the policy, 5 finite real numbers (start, CC, CD, DC, DD), stored as a tuple
            of floats (`five_logits`); ``config.json`` gets them as a list.
    """

    logits: tuple[float, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "logits", five_logits(self.logits))


@dataclass(frozen=True)
class RandomSettings(AgentSettings):
    """Settings of `RandomAgent`.

    Attributes:
        p: probability of action 0 in every state, in ``[0, 1]``.
    """

    p: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not _is_real(self.p) or not (0.0 <= self.p <= 1.0):
            raise ValueError(f"p must be a probability in [0, 1], got {self.p!r}")
        object.__setattr__(self, "p", float(self.p))


class FixedAgent(Agent):
    """A fixed memory-one policy ``[5]`` (start, CC, CD, DC, DD) for every seed.

    Made as ``FixedAgent(logits)``, ``FixedAgent(logits=...)`` or
    ``FixedAgent(FixedSettings(...))``. Settings: `FixedSettings`.

    Raises:
        TypeError, ValueError: ``logits`` not 5 finite real numbers (see `five_logits`).
    """

    name = "fixed"
    Settings: ClassVar[type[AgentSettings] | None] = FixedSettings
    positional: ClassVar[str | None] = "logits"
    """The hyper-parameter that may be given as the one positional argument."""
    logits_: tuple[float, ...]
    """The fixed logits (start, CC, CD, DC, DD)."""

    def __init__(self, value: Any = None, /, **hparams: Any) -> None:
        if value is None or isinstance(value, AgentSettings) or self.positional is None:
            super().__init__(value, **hparams)
        else:
            super().__init__(**{self.positional: value}, **hparams)

    def setup(self) -> None:
        """Keep the fixed logits as ``logits_``."""
        self.logits_ = self.fixed_logits()

    def fixed_logits(self) -> tuple[float, ...]:
        """The policy's logits ``[5]`` (here: the settings')."""
        return cast(FixedSettings, self.settings).logits

    def init_params(
        self,
        n_seeds: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
        *,
        game: Any = None,
        player: int = 0,
    ) -> Tensor:
        """The fixed logits repeated for ``n_seeds`` seeds ``[S, 5]`` (draws no randomness)."""
        check_positive_int("n_seeds", n_seeds)
        return torch.tensor(self.logits_, device=device, dtype=dtype).expand(n_seeds, 5).clone()

    def update(self, own: Params, other: Any, state: Any, ctx: Context) -> tuple[Params, Any]:
        return own, state


class TitForTat(FixedAgent):
    """Cooperate first, then play the opponent's previous action (no hyper-parameters)."""

    name = "tft"
    Settings = AgentSettings
    positional = None

    def fixed_logits(self) -> tuple[float, ...]:
        return (SURE, SURE, -SURE, SURE, -SURE)


class AlwaysCooperate(FixedAgent):
    """Always play action 0 (C) (no hyper-parameters)."""

    name = "allc"
    Settings = AgentSettings
    positional = None

    def fixed_logits(self) -> tuple[float, ...]:
        return (SURE,) * 5


class AlwaysDefect(FixedAgent):
    """Always play action 1 (D) (no hyper-parameters)."""

    name = "alld"
    Settings = AgentSettings
    positional = None

    def fixed_logits(self) -> tuple[float, ...]:
        return (-SURE,) * 5


class RandomAgent(FixedAgent):
    """Play action 0 with probability ``p`` in every state (logit clipped to ``+-10``).

    Made as ``RandomAgent(p)`` or ``RandomAgent(p=...)``. Settings: `RandomSettings`.
    """

    name = "random"
    Settings = RandomSettings
    positional = "p"

    def fixed_logits(self) -> tuple[float, ...]:
        p = cast(RandomSettings, self.settings).p
        if p in (0.0, 1.0):
            logit = SURE if p == 1.0 else -SURE
        else:
            logit = max(-SURE, min(SURE, math.log(p / (1 - p))))
        return (logit,) * 5

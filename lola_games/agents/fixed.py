"""Fixed memory-one strategies that never learn (probes and baselines).

Logits are large but finite (``+-10``, P = 0.99995) so exact values and their gradients stay
finite.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Agent, Context
from lola_games.core.checks import check_positive_int
from lola_games.values.exact import N_STATES

__all__ = [
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


class FixedAgent(Agent):
    """A fixed memory-one policy ``[5]`` (start, CC, CD, DC, DD) for every seed.

    Raises:
        TypeError, ValueError: ``logits`` not 5 finite real numbers (see `five_logits`).
    """

    name = "fixed"

    def __init__(self, logits: tuple[float, ...] | list[float]) -> None:
        self.logits_ = five_logits(logits)

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

    def update(self, own: Tensor, other: Tensor, state: Any, ctx: Context) -> tuple[Tensor, Any]:
        return own, state

    def hparams(self) -> dict[str, Any]:
        return {"logits": list(self.logits_)}


class TitForTat(FixedAgent):
    """Cooperate first, then play the opponent's previous action."""

    name = "tft"

    def __init__(self) -> None:
        super().__init__((SURE, SURE, -SURE, SURE, -SURE))

    def hparams(self) -> dict[str, Any]:
        return {}


class AlwaysCooperate(FixedAgent):
    """Always play action 0 (C)."""

    name = "allc"

    def __init__(self) -> None:
        super().__init__((SURE,) * 5)

    def hparams(self) -> dict[str, Any]:
        return {}


class AlwaysDefect(FixedAgent):
    """Always play action 1 (D)."""

    name = "alld"

    def __init__(self) -> None:
        super().__init__((-SURE,) * 5)

    def hparams(self) -> dict[str, Any]:
        return {}


class RandomAgent(FixedAgent):
    """Play action 0 with probability ``p`` in every state (logit clipped to ``+-10``)."""

    name = "random"

    def __init__(self, p: float = 0.5) -> None:
        if not _is_real(p) or not (0.0 <= p <= 1.0):
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        p = self.p = float(p)
        if p in (0.0, 1.0):
            logit = SURE if p == 1.0 else -SURE
        else:
            logit = max(-SURE, min(SURE, math.log(p / (1 - p))))
        super().__init__((logit,) * 5)

    def hparams(self) -> dict[str, Any]:
        return {"p": self.p}

"""Payoff variants that published experiments use in place of the built-in games.

* `contribution_ipd` -- the POLA code's prisoner's dilemma (``LOLA_exact.py``, a
  two-player contribution game): contributing (C) costs 1 and every contribution is shared
  equally after multiplying by ``factor``. Own reward for (own, other): CC ``factor - 1``,
  CD ``factor / 2 - 1``, DC ``factor / 2``, DD 0; a prisoner's dilemma for ``1 < factor < 2``.
* the M-FOS code's one-shot chicken is `lola_games.agents.mfos.mfos_chicken`.
"""

from __future__ import annotations

import math

import numpy as np

from lola_games.games.matrix import MatrixGame

__all__ = ["contribution_ipd", "tft_threshold"]


def contribution_ipd(factor: float) -> MatrixGame:
    """The POLA code's IPD with contribution factor ``factor`` (1 < factor < 2), named
    ``ipd_cf<factor>``."""
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
            or not math.isfinite(factor) or not 1 < factor < 2:
        raise ValueError(f"factor must be a number in (1, 2) (a prisoner's dilemma), "
                         f"got {factor!r}")
    f = float(factor)
    payoffs = [[f - 1, f / 2 - 1], [f / 2, 0.0]]
    return MatrixGame(f"ipd_cf{f:g}", ("C", "D"), np.asarray([payoffs, payoffs], dtype=np.float64),
                      {"mutual cooperation": f - 1, "mutual defection": 0.0},
                      f"prisoner's dilemma as a contribution game, factor {f:g} (POLA code)")


def tft_threshold(factor: float) -> float:
    """The POLA code's success score: 0.8 of mutual cooperation's reward per step."""
    return 0.8 * (float(factor) - 1)

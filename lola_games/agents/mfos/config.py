"""M-FOS meta-training settings (`MFOSConfig`, the official code's defaults)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MFOSConfig", "OPPONENTS"]

OPPONENTS = ("naive", "lola", "self")
"""Opponents of meta-training: naive learners, LOLA, or another M-FOS (meta-self-play)."""


@dataclass(frozen=True)
class MFOSConfig:
    """Meta-training settings (defaults: the official code's)."""

    batch_size: int = 4096
    meta_episodes: int = 1024
    inner_steps: int = 100
    lr: float = 0.002
    betas: tuple[float, float] = (0.9, 0.999)
    ppo_epochs: int = 4
    clip: float = 0.2
    meta_gamma: float = 0.99
    entropy: float = 0.01
    value_coef: float = 0.5
    hidden_size: int = 256
    opponent_lr: float = 1.0
    init_std: float = 1.0
    anneal: float = 0.0015
    """Meta-self-play only: the probability of a meta-episode against naive learners starts
    at 1 and falls by this much per meta-episode."""

    def __post_init__(self) -> None:
        for name in ("batch_size", "meta_episodes", "inner_steps", "ppo_epochs", "hidden_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        for name in ("lr", "clip", "opponent_lr", "init_std"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        for name in ("entropy", "value_coef", "anneal"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0 <= self.meta_gamma <= 1:
            raise ValueError(f"meta_gamma must be in [0, 1], got {self.meta_gamma!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

"""Argument checks shared by the envs: each raises an error that names the argument."""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np
import torch

__all__ = [
    "check_positive_int",
    "check_continuation_prob",
    "check_seed",
    "check_flag",
    "check_torch_setup",
]

MAX_SEED = 2**64
"""Seeds are ints in ``[0, 2**64)`` (what both numpy and torch generators take)."""


def _int(value: Any) -> int | None:
    """``value`` as an int if it is an integer (Python or numpy) and not a bool, else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or ``ValueError`` naming ``name``."""
    number = _int(value)
    if number is None or number < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return number


def check_continuation_prob(value: Any) -> float | None:
    """``None`` or a float in ``(0, 1]``; a ``ValueError`` for anything else (str, bool, NaN)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"continuation_prob must be a number in (0, 1] or None, got {value!r}"
        )
    prob = float(value)
    if math.isnan(prob) or not 0.0 < prob <= 1.0:
        raise ValueError(f"continuation_prob must be in (0, 1] or None, got {prob}")
    return prob


def check_seed(seed: Any) -> int | None:
    """``None`` or an int in ``[0, 2**64)``; ``TypeError`` for a float or bool seed, else
    ``ValueError``."""
    if seed is None:
        return None
    number = _int(seed)
    if number is None:
        raise TypeError(f"seed must be an int or None, got {seed!r} ({type(seed).__name__})")
    if not 0 <= number < MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**64), got {number}")
    return number


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool; ``TypeError`` naming ``name`` unless it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_torch_setup(device: Any, dtype: Any, generator: Any) -> torch.device:
    """The ``torch.device`` of a batched env after checking its device, dtype and generator.

    Raises:
        TypeError: ``dtype`` not a floating ``torch.dtype``, ``generator`` not a
            ``torch.Generator`` (or None).
        ValueError: an unknown device, or a generator on another device.
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device {device!r} is not a torch device: {e}") from None
    if device.type != "cpu" and device.index is None:
        # "cuda" means the current CUDA device; name it ("cuda:0") as tensors report theirs
        try:
            device = torch.empty(0, device=device).device
        except (RuntimeError, AssertionError) as e:
            raise ValueError(f"device {str(device)!r} is not available: {e}") from None
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device} but the env is on {device}")
    return device

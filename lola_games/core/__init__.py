"""The bottom layer: types, validation, devices, trees of tensors and the one registry mechanism.

The names below load on first use (PEP 562): importing a torch-free module of ``core`` (the
registry, the built-in names) does not import torch, which keeps ``lola-games --help`` fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lola_games.core.registry import Registry, import_modules, load_entry
from lola_games.core.version import __version__

if TYPE_CHECKING:
    from lola_games.core.checks import (
        check_continuation_prob,
        check_flag,
        check_positive_int,
        check_seed,
        check_torch_setup,
    )
    from lola_games.core.device import resolve_device
    from lola_games.core.tensors import Params, transform_active, tree_map

__all__ = [
    "check_positive_int",
    "check_continuation_prob",
    "check_seed",
    "check_flag",
    "check_torch_setup",
    "resolve_device",
    "Params",
    "transform_active",
    "tree_map",
    "Registry",
    "load_entry",
    "import_modules",
    "__version__",
]

_LAZY = {
    **{name: "lola_games.core.checks" for name in (
        "check_positive_int", "check_continuation_prob", "check_seed", "check_flag",
        "check_torch_setup")},
    "resolve_device": "lola_games.core.device",
    **{name: "lola_games.core.tensors" for name in ("Params", "transform_active", "tree_map")},
}


def __getattr__(name: str) -> Any:
    """The torch-using names of `__all__`, imported on first use."""
    if name in _LAZY:
        return load_entry(f"{_LAZY[name]}:{name}")
    raise AttributeError(f"module 'lola_games.core' has no attribute {name!r}")

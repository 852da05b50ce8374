"""Helpers on tensors and trees of tensors shared by every layer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

__all__ = ["Params", "ParamDict", "ParamTree", "transform_active", "tree_map"]

Params = Tensor | dict[str, Tensor]
"""Per-seed parameters: a tensor or a dict of tensors, each with a leading seed dimension
``[S, ...]``."""

ParamDict = dict[str, Tensor]
"""Parameters known to be a dict of named tensors (those of an ``nn.Module``, e.g. from
`lola_games.functional.params_of`): the dict case of `Params`."""

ParamTree = Tensor | Mapping[str, "ParamTree"]
"""Any agent's per-seed parameters: a tensor, or a mapping of names to trees of tensors, each
tensor with a leading seed dimension ``[S, ...]``. `Params` is one (exact learners' logits or a
flat dict); a sampled learner's ``{"policy": {name: tensor}, "value": {...}, ...}`` is
another (`lola_games.agents.sampled.AgentParams`)."""


def transform_active() -> bool:
    """True inside a ``torch.func`` transform (vmap, grad, ...), where data-dependent checks
    (``bool(tensor)``) cannot run."""
    return torch._C._functorch.maybe_current_level() is not None


def tree_map(fn: Callable[[Tensor], Any], tree: Any) -> Any:
    """``fn`` applied to every tensor of a tree of dicts, lists, tuples and ``NamedTuple``s
    (optimizer states); other leaves are kept as they are."""
    if isinstance(tree, Tensor):
        return fn(tree)
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # NamedTuple (optimizer states)
        return type(tree)(*(tree_map(fn, v) for v in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(tree_map(fn, v) for v in tree)
    return tree

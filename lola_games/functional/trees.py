"""Small tree utilities over `Params` (a tensor, or a flat dict of tensors) and the checks
shared by the functional optimizers, `unroll` and the module <-> dict helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor

from lola_games.core.tensors import ParamDict, Params, transform_active

__all__ = ["check_params", "check_match", "check_leaf_match", "scaled_lr", "tree_leaves",
           "map_leaves", "check_finite", "named_leaves"]


def check_params(params: Any, name: str = "params") -> None:
    """Raise ``TypeError``/``ValueError`` unless ``params`` is a floating-point tensor or a
    non-empty dict of them (``name`` labels the error)."""
    if isinstance(params, Tensor):
        leaves = {"": params}
    elif isinstance(params, dict):
        if not params:
            raise ValueError(f"{name} is an empty dict")
        leaves = params
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or a dict of tensors, got {type(params).__name__}"
        )
    for key, value in leaves.items():
        where = f"{name}[{key!r}]" if key else name
        if not isinstance(value, Tensor):
            raise TypeError(f"{where} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            raise TypeError(f"{where} must be a floating-point tensor, got {value.dtype}")


def check_match(a: Params, b: Params, name_a: str, name_b: str) -> None:
    """Same kind (tensor / dict), same keys, and leaf by leaf the same shape, dtype, device.

    A dtype mismatch would silently promote the result (float32 params with float64 grads
    gave float64 params), so it is an error, as in ``torch.optim``.
    """
    if isinstance(a, Tensor) != isinstance(b, Tensor):
        raise TypeError(
            f"{name_a} is a {type(a).__name__} but {name_b} is a {type(b).__name__}; "
            f"both must be tensors or both dicts"
        )
    if isinstance(a, Tensor):
        check_leaf_match(a, b, name_a, name_b)
        return
    b = cast(ParamDict, b)  # a dict, as a is
    if a.keys() != b.keys():
        missing, extra = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise ValueError(
            f"{name_a} and {name_b} have different keys: missing from {name_b}: {missing}, "
            f"not in {name_a}: {extra}"
        )
    for key in a:
        check_leaf_match(a[key], b[key], f"{name_a}[{key!r}]", f"{name_b}[{key!r}]")


def check_leaf_match(x: Tensor, y: Any, name_x: str, name_y: str) -> None:
    """Raise unless ``y`` is a tensor of ``x``'s shape, dtype and device."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{name_y} must be a torch.Tensor, got {type(y).__name__}")
    if x.shape != y.shape:
        raise ValueError(
            f"{name_x} has shape {list(x.shape)} but {name_y} has shape {list(y.shape)}"
        )
    if x.dtype != y.dtype:
        raise TypeError(
            f"{name_y} has dtype {y.dtype} but {name_x} has dtype {x.dtype}; they must match "
            f"(cast {name_y} with .to({x.dtype}))"
        )
    if x.device != y.device:
        raise ValueError(f"{name_y} is on {y.device} but {name_x} is on {x.device}")


def scaled_lr(lr: float | Tensor, p: Tensor) -> float | Tensor:
    """``lr`` in ``p``'s dtype, so that a float64 tensor rate does not promote the params."""
    return lr.to(p.dtype) if isinstance(lr, Tensor) else lr


def tree_leaves(params: Params) -> list[Tensor]:
    """The tensors of ``params``: ``[params]`` or the dict's values, in order."""
    return [params] if isinstance(params, Tensor) else list(params.values())


def map_leaves(fn: Callable[..., Tensor], *trees: Params) -> Params:
    """Apply ``fn`` leaf-wise over trees of the same structure."""
    first = trees[0]
    if isinstance(first, Tensor):
        return fn(*trees)
    return {key: fn(*(cast(ParamDict, tree)[key] for tree in trees)) for key in first}


def check_finite(**trees: Params) -> None:
    """Raise ``ValueError`` on NaN/inf in any of the named trees (one device sync; skipped
    inside torch.func transforms, where data-dependent checks cannot run)."""
    if transform_active():
        return
    flags = [torch.isfinite(leaf.detach()).all() for t in trees.values() for leaf in tree_leaves(t)]
    if bool(torch.stack(flags).all()):
        return
    for label, tree in trees.items():
        for key, value in named_leaves(tree):
            if not bool(torch.isfinite(value.detach()).all()):
                where = f"{label}[{key!r}]" if key else label
                raise ValueError(f"{where} contains NaN or infinite values")


def named_leaves(params: Params) -> list[tuple[str, Tensor]]:
    """``(key, tensor)`` pairs of ``params``; the key of a plain tensor is ``""``."""
    return [("", params)] if isinstance(params, Tensor) else list(params.items())


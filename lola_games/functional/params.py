"""Functional parameters: `detach`, and `nn.Module` <-> parameter dicts (`params_of`,
`buffers_of`, `functional_call`, `load_params`)."""

from __future__ import annotations

from typing import Any, TypeVar, cast

import torch
from torch import Tensor, nn

from lola_games.core.tensors import Params, transform_active
from lola_games.functional.trees import check_finite, check_params, map_leaves

__all__ = ["Params", "detach", "params_of", "buffers_of", "functional_call", "load_params"]

ParamsT = TypeVar("ParamsT", bound=Params)


def detach(params: ParamsT, *, requires_grad: bool = False) -> ParamsT:
    """Cut the graph: detached copies of ``params`` (new leaves; values shared, not copied),
    of the same kind (a tensor, or a dict with the same names).

    Use it to commit an outer update so later iterations do not keep earlier graphs alive.
    """
    check_params(params)
    out = map_leaves(lambda p: p.detach().requires_grad_(requires_grad), params)
    return cast(ParamsT, out)  # map_leaves keeps the tree's structure



def params_of(module: nn.Module, *, requires_grad: bool = True) -> dict[str, Tensor]:
    """The module's parameters as ``{name: tensor}``: detached clones, new leaves."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return {
        name: p.detach().clone().requires_grad_(requires_grad)
        for name, p in module.named_parameters()
    }


def buffers_of(module: nn.Module) -> dict[str, Tensor]:
    """The module's buffers as ``{name: tensor}`` (detached clones).

    A forward pass in training mode may update them in place (BatchNorm running stats),
    exactly as it would update the module's own buffers.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return {name: b.detach().clone() for name, b in module.named_buffers()}


def _check_names(module: nn.Module, given: dict[str, Tensor], known: dict, kind: str) -> None:
    if not isinstance(given, dict):
        raise TypeError(f"{kind} must be a dict of tensors, got {type(given).__name__}")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(
            f"{type(module).__name__} has no {kind} named {unknown}; it has {sorted(known)}"
        )
    if transform_active():  # shapes are per-sample under vmap
        return
    for name, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{kind}[{name!r}] must be a tensor, got {type(value).__name__}")
        if value.shape != known[name].shape:
            raise ValueError(
                f"{kind}[{name!r}] has shape {list(value.shape)}, the module's has "
                f"{list(known[name].shape)}"
            )


def functional_call(
    module: nn.Module,
    params: dict[str, Tensor],
    args: Any = (),
    kwargs: dict[str, Any] | None = None,
    *,
    buffers: dict[str, Tensor] | None = None,
) -> Any:
    """Run ``module(*args, **kwargs)`` with ``params`` (and ``buffers``) in place of its own.

    A checked wrapper on `torch.func.functional_call`, with its argument order: unknown
    names or wrong shapes raise ``ValueError``. Names missing from ``params``/``buffers`` use
    the module's own tensors. The module itself is not modified (except buffers updated in
    place by the forward pass, e.g. BatchNorm running stats, which are those of ``buffers``
    if given).

    Args:
        module: the ``nn.Module`` to run.
        params: parameter name -> tensor (names as in ``module.named_parameters()``).
        args: the forward pass's positional inputs: a tuple, or one input (not a tuple) as
            ``torch.func.functional_call`` takes it.
        kwargs: the forward pass's keyword inputs, or ``None``.
        buffers: buffer name -> tensor (keyword only), or ``None`` for the module's own.

    Returns:
        whatever ``module.forward`` returns.

    Raises:
        TypeError: ``module`` is not a module, ``params``/``buffers``/``kwargs`` are not
            dicts, or a dict is passed as ``args`` (the old order ``functional_call(module,
            params, buffers, args)``: pass ``buffers=`` by keyword).
        ValueError: unknown names or wrong shapes in ``params``/``buffers``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if isinstance(args, dict):
        raise TypeError("args must be the forward pass's positional inputs (a tuple or one "
                        "input), got a dict; pass buffers by keyword: functional_call(module, "
                        "params, args, buffers=buffers)")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict of keyword inputs or None, got "
                        f"{type(kwargs).__name__}")
    _check_names(module, params, dict(module.named_parameters()), "params")
    dicts: tuple[dict[str, Tensor], ...] = (params,)
    if buffers is not None:
        _check_names(module, buffers, dict(module.named_buffers()), "buffers")
        dicts = (params, buffers)
    return torch.func.functional_call(module, dicts, args, kwargs)


def load_params(module: nn.Module, params: dict[str, Tensor]) -> None:
    """Commit an update: copy ``params``' values into the module's parameters (no graph kept).

    ``params`` must name every parameter of the module, with matching shapes.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    own = dict(module.named_parameters())
    _check_names(module, params, own, "params")
    missing = sorted(set(own) - set(params))
    if missing:
        raise ValueError(f"params is missing the module's parameters {missing}")
    check_finite(params=params)
    with torch.no_grad():
        for name, p in own.items():
            p.copy_(params[name])



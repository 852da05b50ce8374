"""Checkpoint contents: plain containers only, read with ``torch.load(weights_only=True)``.

Checkpoints (``checkpoint.pt``, ``final_params.pt``) hold only tensors, numbers, strings,
``None`` and lists/tuples/dicts of them, so that loading them never runs code. A registered
``NamedTuple`` (an optimizer state, say) is stored as a dict tagged with its class's dotted
path and rebuilt on load; classes that moved keep their old paths as aliases, so run
directories written before a move still load (`LEGACY_STATE_PATHS`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from lola_games.functional.optim import AdamState, SGDState
from lola_games.runner.files import FINAL, RunDirectoryError, refuse_link

__all__ = [
    "LEGACY_STATE_PATHS",
    "register_state_type",
    "state_type_key",
    "encode_state",
    "decode_state",
    "safe_load",
    "load_final_params",
]

_STATE_TYPES: dict[str, type] = {}
_TAG = "__lola_games_namedtuple__"

T = TypeVar("T", bound=type)

LEGACY_STATE_PATHS: dict[type, tuple[str, ...]] = {
    SGDState: ("lola_games.lookahead.SGDState", "lola_games.functional.lookahead.SGDState"),
    AdamState: ("lola_games.lookahead.AdamState",
                "lola_games.functional.lookahead.AdamState"),
}
"""Dotted paths under which checkpoints of earlier versions tagged the optimizer states
(``lola_games.lookahead`` before the layered package, ``lola_games.functional.lookahead``
since); they load as the classes wherever those live now."""


def state_type_key(cls: type) -> str:
    """The tag of a registered ``NamedTuple`` class: ``"<module>.<qualname>"``.

    Args:
        cls: the class.
    """
    return f"{cls.__module__}.{cls.__qualname__}"


def register_state_type(cls: T, *, aliases: Iterable[str] = ()) -> T:
    """Allow a ``NamedTuple`` class in checkpointed agent states (class decorator).

    Checkpoints hold only tensors, numbers, strings, ``None`` and lists/tuples/dicts of them,
    so that they load with ``weights_only=True``; a registered ``NamedTuple`` is stored as a
    tagged dict of its fields and rebuilt on load. The optimizer states of
    `lola_games.functional.optim` are registered.

    Args:
        cls: a ``NamedTuple`` class.
        aliases: earlier dotted paths of the class (``"old.module.Name"``) under which
            existing checkpoints tagged it; they load as ``cls``.

    Raises:
        TypeError: ``cls`` is not a ``NamedTuple`` class.
    """
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise TypeError(f"register_state_type takes a NamedTuple class, got {cls!r}")
    for key in (*aliases, state_type_key(cls)):
        _STATE_TYPES[key] = cls
    return cls


for _cls, _paths in LEGACY_STATE_PATHS.items():
    register_state_type(_cls, aliases=_paths)


def _encode_namedtuple(tree: Any, where: str) -> dict[str, Any]:
    cls = type(tree)
    key = state_type_key(cls)
    if _STATE_TYPES.get(key) is not cls:
        raise TypeError(f"cannot checkpoint {where}: NamedTuple {key} is not registered "
                        f"(lola_games.runner.checkpoint.register_state_type)")
    fields = tree._fields
    return {_TAG: key,
            "fields": {f: encode_state(v, f"{where}.{f}")
                       for f, v in zip(fields, tree, strict=True)}}


def _encode_mapping(tree: Mapping, where: str) -> dict[Any, Any]:
    out = {}
    for k, v in tree.items():
        if not isinstance(k, (str, int)) or k == _TAG:
            raise TypeError(f"cannot checkpoint {where}: key {k!r} is not a plain str/int")
        out[k] = encode_state(v, f"{where}[{k!r}]")
    return out


def encode_state(tree: Any, where: str = "state") -> Any:
    """``tree`` as plain containers (registered ``NamedTuple`` objects become tagged dicts).

    Args:
        tree: tensors (detached), numbers, strings, ``None`` and lists/tuples/dicts of them.
        where: what ``tree`` is, for error messages.

    Raises:
        TypeError: something else, or a ``NamedTuple`` whose class is not registered.
    """
    if isinstance(tree, torch.Tensor):
        return tree.detach()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return _encode_namedtuple(tree, where)
    if isinstance(tree, (list, tuple)):
        return type(tree)(encode_state(v, f"{where}[{i}]") for i, v in enumerate(tree))
    if isinstance(tree, Mapping):
        return _encode_mapping(tree, where)
    raise TypeError(f"cannot checkpoint {where}: {type(tree).__name__} is not a tensor, number, "
                    f"string or container of them")


def decode_state(tree: Any, device: torch.device | str | None) -> Any:
    """The inverse of `encode_state`, tensors moved to ``device`` (kept where ``None``).

    Args:
        tree: what `encode_state` returned (as loaded).
        device: where the tensors go.

    Raises:
        ValueError: a tagged dict of an unknown ``NamedTuple`` class.
    """
    if isinstance(tree, torch.Tensor):
        return tree.to(device) if device is not None else tree
    if isinstance(tree, dict):
        if _TAG in tree:
            cls = _STATE_TYPES.get(tree[_TAG])
            if cls is None:
                raise ValueError(f"unknown state type {tree[_TAG]!r}")
            return cls(**{f: decode_state(v, device) for f, v in tree["fields"].items()})
        return {k: decode_state(v, device) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(decode_state(v, device) for v in tree)
    return tree


def safe_load(path: Path, map_location: Any = None) -> Any:
    """``torch.load(path, weights_only=True)`` of a run file that is not a link.

    Args:
        path: the file.
        map_location: as for ``torch.load``.

    Raises:
        RunDirectoryError: a link, or a file that does not load (damaged or foreign).
    """
    refuse_link(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # unpickling errors, truncated zip, foreign objects...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunDirectoryError(
            f"{path} is damaged or not a lola-games file (it is only read with "
            f"weights_only=True): {first[:200]}") from None


def load_final_params(path: str | os.PathLike, map_location: Any = None) -> tuple[Any, ...]:
    """The players' final params of a finished run, read with ``weights_only=True``.

    Args:
        path: the run directory.
        map_location: as for ``torch.load``.

    Raises:
        RunDirectoryError: ``final_params.pt`` is damaged.
    """
    file = Path(path) / FINAL
    data = safe_load(file, map_location)
    if not isinstance(data, dict) or "params" not in data:
        raise RunDirectoryError(f"{file} is damaged: no params")
    try:
        return tuple(decode_state(data["params"], None))
    except ValueError as e:
        raise RunDirectoryError(f"{file}: {e}") from None

"""One registry mechanism for games, game kinds, agents and experiments.

A `Registry` maps names to objects. An entry is either the object itself or a lazy
``"module:attr"`` string, as Gymnasium registers environments: the module is imported the
first time the name is looked up, so registering costs nothing and nothing is registered as a
side effect of importing a module. ``attr`` may be a dotted path, whose parts are attributes
or mapping keys (``"lola_games.games.differentiable:DIFF_GAMES.tandem"``).

Users add their own entries with `Registry.register` (or the decorator
`Registry.decorator`), from Python, from a module named with the CLI's ``--import``
option, or from an installed package's entry points (group ``lola_games.<kind>s``, e.g.
``lola_games.agents``; an entry point's value is a ``"module:attr"`` string like any entry).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "load_entry", "import_modules"]

T = TypeVar("T")


def load_entry(entry: str) -> Any:
    """The object named by a ``"module:attr"`` string (``attr`` dotted: attributes or keys).

    Raises:
        ValueError: not of the form ``"module:attr"``, or the module or attribute is missing.
    """
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"a registry entry must be 'module:attr', got {entry!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"registry entry {entry!r}: cannot import {module_name!r}: {e}") from e
    for part in attr.split("."):
        if hasattr(obj, part):
            obj = getattr(obj, part)
        elif isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        else:
            raise ValueError(f"registry entry {entry!r}: {module_name!r} has no {attr!r}")
    return obj


def import_modules(names: list[str] | tuple[str, ...]) -> None:
    """Import user modules (the CLI's ``--import``) so that their registrations take effect.

    Raises:
        ValueError: a module that cannot be imported (the message names it).
    """
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ValueError(f"--import {name}: cannot import it: {e}") from e


class Registry(Mapping[str, T], Generic[T]):
    """Names -> objects of one kind (``"agent"``, ``"game"``, ...), loaded lazily.

    A read-only `Mapping`: ``registry[name]`` loads and returns the
    object, ``name in registry``, ``list(registry)`` (names in registration order, then those
    of installed packages' entry points). Unknown names raise ``KeyError`` from ``[]``;
    `load` raises ``ValueError`` naming the known ones.

    Args:
        kind: what the entries are, for messages (``"agent"``).
        group: the entry-point group whose entries installed packages add
            (``"lola_games.agents"``); ``None`` for none.
    """

    def __init__(self, kind: str, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, Any] = {}
        self._loaded: dict[str, T] = {}
        self._scanned = group is None

    # -- registration ----------------------------------------------------------------------

    def register(self, name: str, entry: T | str, *, replace: bool = False) -> None:
        """Add ``name`` -> ``entry`` (an object or a lazy ``"module:attr"`` string).

        Raises:
            ValueError: ``name`` is not a non-empty string, or it is taken by another entry
                (unless ``replace``).
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        old = self._entries.get(name)
        if old is not None and not replace and old is not entry and old != entry \
                and self._loaded.get(name) is not entry:
            raise ValueError(f"{self.kind} name {name!r} is already registered to {old!r}")
        self._entries[name] = entry
        self._loaded.pop(name, None)
        if not isinstance(entry, str):
            self._loaded[name] = entry

    def decorator(self, name: str) -> Callable[[T], T]:
        """``@registry.decorator(name)``: register the decorated object as ``name``."""

        def decorate(obj: T) -> T:
            self.register(name, obj)
            return obj

        return decorate

    # -- look-up ---------------------------------------------------------------------------

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        if self.group is None:  # no entry-point group: nothing to scan
            return
        for ep in entry_points(group=self.group):
            self._entries.setdefault(ep.name, ep.value)

    def __getitem__(self, name: str) -> T:
        if name in self._loaded:
            return self._loaded[name]
        if not isinstance(name, str):
            raise KeyError(name)
        if name not in self._entries:
            self._scan()
        entry = self._entries[name]
        obj: T = load_entry(entry) if isinstance(entry, str) else entry
        self._loaded[name] = obj
        return obj

    def load(self, name: Any) -> T:
        """``self[name]``, or ``ValueError`` naming the known entries."""
        if isinstance(name, str) and name in self:
            return self[name]
        raise ValueError(f"unknown {self.kind} {name!r}; known {self.kind}s: "
                         f"{', '.join(self)}")

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._entries:
            self._scan()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self._scan()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self._scan()
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"

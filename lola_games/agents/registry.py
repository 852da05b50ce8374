"""The agent registry: agent classes by name (`make_agent`), loaded on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lola_games.agents.base import Agent, accepted_hparams
from lola_games.core.builtins import AGENT_ENTRIES
from lola_games.core.registry import Registry

__all__ = ["AGENTS", "register_agent", "agent_names", "make_agent"]

AGENTS: Registry[type[Agent]] = Registry("agent", group="lola_games.agents")
"""Agent classes by registry name, loaded on first use; installed packages add theirs through
the entry-point group ``lola_games.agents``."""

for _name, _entry in AGENT_ENTRIES:
    AGENTS.register(_name, _entry)


def register_agent(name: str) -> Callable[[type[Agent]], type[Agent]]:
    """Class decorator: make an agent class available to `make_agent` as ``name``.

    Raises:
        ValueError: ``name`` is registered to another class.
    """
    return AGENTS.decorator(name)


def agent_names() -> tuple[str, ...]:
    """Registered agent names."""
    return AGENTS.names()



def make_agent(name: str, /, *, ignore_unknown: bool = False, **hparams: Any) -> Agent:
    """Build a registered agent from hyper-parameters.

    Args:
        name: registry name, e.g. ``"lola"`` (see `agent_names`).
        ignore_unknown: drop hyper-parameters the agent does not take (the CLI passes one
            set of options to both agents); otherwise they are an error.
        **hparams: constructor arguments.

    Raises:
        ValueError: unknown agent name or (unless ``ignore_unknown``) unknown hyper-parameter.
    """
    cls = AGENTS.load(name)
    accepted = accepted_hparams(cls)
    unknown = sorted(set(hparams) - set(accepted))
    if unknown and not ignore_unknown:
        raise ValueError(
            f"agent {name!r} takes no hyper-parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(sorted(accepted)) or 'none'}"
        )
    return cls(**{k: v for k, v in hparams.items() if k in accepted})

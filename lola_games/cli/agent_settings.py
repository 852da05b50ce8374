"""Agents from the command line: shared flags (``--lr``) go to every agent that takes them,
per-agent settings (``--agents lola:lr=0.5``) win; an option no agent takes is an error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lola_games.agents.base import Agent, accepted_hparams
from lola_games.agents.registry import AGENTS, make_agent
from lola_games.cli.options import parse_agent_spec

__all__ = ["ALIASES", "build_agents", "agent_kwargs", "flag_name", "check_shared_taken"]

ALIASES = {"lr": "lr_out", "eta": "lr_in", "lookahead_steps": "n_lookaheads",
           "om_epochs": "om_batches"}
"""The sampled agents' names of shared options (``--lr`` is POLA's ``lr_out``, ...)."""

_FLAGS = {"stop_gradient": "--full-taylor", "baseline": "--baseline/--no-baseline",
          "magic_box": "--no-magic-box", "corrections": "--no-corrections",
          "opponent_model": "--opponent-model", "steps": "--cola-steps"}


def flag_name(key: str) -> str:
    """The command-line flag of a shared option's key (``lookahead_steps`` ->
    ``--lookahead-steps``)."""
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def agent_kwargs(name: str, shared: Mapping[str, Any], own: Mapping[str, Any]
                 ) -> tuple[dict[str, Any], set[str]]:
    """One agent's settings: the shared options it takes (by name or alias), then its own.

    Args:
        name: the agent's registry name.
        shared: the shared flags' values by key (unset ones left out).
        own: the agent's ``NAME:KEY=VALUE`` settings.

    Returns:
        the keyword arguments of `make_agent`, and the shared keys the agent took.

    Raises:
        ValueError: an unknown agent or an own setting it does not take (naming both).
    """
    accepted = set(accepted_hparams(AGENTS.load(name)))
    kwargs: dict[str, Any] = {}
    used: set[str] = set()
    for key, value in shared.items():
        for target in (key, ALIASES.get(key)):
            if target in accepted:
                kwargs[target] = value
                used.add(key)
    for key, value in own.items():
        target = key if key in accepted else ALIASES.get(key)
        if target not in accepted:
            raise ValueError(f"--agents {name}:{key}=...: agent {name!r} takes no setting "
                             f"{key!r}; it takes: {', '.join(sorted(accepted)) or 'none'}")
        kwargs[str(target)] = value
    return kwargs, used


def build_agents(specs: Sequence[str], shared: Mapping[str, Any]) -> list[Agent]:
    """Agents from ``--agents`` specs and the shared flags.

    Args:
        specs: ``NAME`` or ``NAME:KEY=VALUE,...`` per agent.
        shared: the shared flags' values by key (unset ones left out).

    Raises:
        ValueError: a flag no chosen agent takes, an unknown agent or setting, or a value
            the agent's settings reject.
    """
    parsed = [parse_agent_spec(s) for s in specs]
    built = [agent_kwargs(name, shared, own) for name, own in parsed]
    _refuse_untaken(shared, set().union(*(u for _, u in built)),
                    f"agents {', '.join(name for name, _ in parsed)}")
    return [make_agent(name, **kw) for (name, _), (kw, _) in zip(parsed, built, strict=True)]


def check_shared_taken(names: Sequence[str], shared: Mapping[str, Any]) -> None:
    """Refuse shared options that none of the registered entrants ``names`` takes (Axelrod
    entrants take none).

    Args:
        names: the entrants' names.
        shared: the shared options by key (`agent_kwargs` resolves their aliases).

    Raises:
        ValueError: naming the flags and the entrants.
    """
    used: set[str] = set()
    for name in names:
        if name in AGENTS:
            used |= agent_kwargs(name, shared, {})[1]
    _refuse_untaken(shared, used, f"entrants {', '.join(names)}")


def _refuse_untaken(shared: Mapping[str, Any], used: set[str], who: str) -> None:
    unused = [k for k in shared if k not in used]
    if unused:
        raise ValueError(f"{', '.join(flag_name(k) for k in unused)}: taken by none of the "
                         f"{who}")

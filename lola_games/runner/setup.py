"""The checked settings of a training run (`RunSetup`) and what builds them from the
arguments of `lola_games.runner.training.train`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from lola_games.agents.base import Agent, Evaluator
from lola_games.agents.evaluation import check_agents, evaluator_for
from lola_games.agents.registry import make_agent
from lola_games.core.checks import check_positive_int
from lola_games.core.device import resolve_device
from lola_games.core.version import __version__
from lola_games.games.registry import all_game_names, get_any_game
from lola_games.runner.config import FORMAT
from lola_games.values.exact import check_gamma

__all__ = ["RunSetup", "MAX_SEED", "resolve_game", "prepare_run"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_SEED = 2**63 - 1
"""The largest run seed."""


@dataclass(frozen=True)
class RunSetup:
    """The checked settings of a run."""

    game: Any
    agents: tuple[Agent, ...]
    n_seeds: int
    n_updates: int
    gamma: float
    device: torch.device
    seed: int
    dtype: torch.dtype
    log_every: int
    checkpoint_every: int
    evaluate: Evaluator
    config: dict[str, Any]

    @property
    def n_players(self) -> int:
        return len(self.agents)

    def logged(self, update: int) -> bool:
        """Whether ``update`` is evaluated and logged."""
        return update == 0 or update % self.log_every == 0 or update == self.n_updates


def _resolve_agents(agents: Sequence[Agent | str], n_players: int) -> tuple[Agent, ...]:
    if isinstance(agents, (str, Agent)) or not isinstance(agents, Sequence):
        raise ValueError(f"agents must be a sequence of {n_players} agents (one per player), "
                         f"got {agents!r}")
    if len(agents) != n_players:
        what = "a pair (player 0, player 1)" if n_players == 2 else f"{n_players} agents"
        raise ValueError(f"agents must be {what}, got {len(agents)}: {list(agents)!r}")
    out = []
    for a in agents:
        if isinstance(a, str):
            a = make_agent(a)
        if not isinstance(a, Agent):
            raise TypeError(f"agents must be Agent objects or registry names, got {type(a)}")
        out.append(a)
    return tuple(out)


def resolve_game(game: Any) -> Any:
    """A built-in game by name (any kind, see `get_any_game`), or a
    game object as it is: anything with a ``name`` and a ``spec()`` (see
    `lola_games.agents.base`).

    Raises:
        ValueError: an unknown name, or an object that is not a game.
    """
    if isinstance(game, str):
        return get_any_game(game)
    if isinstance(getattr(game, "name", None), str) and callable(getattr(game, "spec", None)):
        return game
    raise ValueError(f"game must be a game object or one of {', '.join(all_game_names())}, "
                     f"got {game!r}")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed!r}")
    return seed


def _check_dtype(dtype: torch.dtype | str) -> torch.dtype:
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        dtype = _DTYPES[dtype]
    if dtype not in _DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return dtype


def _check_evaluate_and_label(evaluate: Any, label: Any) -> None:
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a callable evaluator (see "
                        f"lola_games.agents.base.Evaluator) or None, got {evaluate!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string, got {label!r}")


def _config(game: Any, agents: tuple[Agent, ...], n_seeds: int, n_updates: int, gamma: float,
            device: torch.device, seed: int, dtype: torch.dtype, label: str | None,
            log_every: int) -> dict[str, Any]:
    """The run's ``config.json`` (as it will read back)."""
    config = {
        "format": FORMAT,
        "game": game.name,
        "game_spec": game.spec(),
        "n_players": len(agents),
        "agents": [{"name": a.name, "hparams": a.hparams()} for a in agents],
        "n_seeds": n_seeds,
        "n_updates": n_updates,
        "gamma": gamma,
        "seed": seed,
        "device": str(device),
        "dtype": str(dtype).removeprefix("torch."),
        "mode": "exact" if all(a.mode == "exact" for a in agents) else "sampled",
        "log_every": log_every,
        "label": label or f"{' vs '.join(a.name for a in agents)} on {game.name}",
        "version": __version__,
    }
    return json.loads(json.dumps(config))  # as config.json will hold it


def prepare_run(game: Any, agents: Sequence[Agent | str], n_seeds: int, n_updates: int,
                gamma: float, device: str | torch.device, seed: int, dtype: torch.dtype | str,
                label: str | None, log_every: int, checkpoint_every: int,
                evaluate: Evaluator | None) -> RunSetup:
    """Check the arguments of `lola_games.runner.training.train` and build the run's settings.

    Args:
        game: a game object or name (see `resolve_game`).
        agents: one agent (or registry name) per player.
        n_seeds: seeds ``S``.
        n_updates: updates.
        gamma: discount in ``[0, 1)``.
        device: a device or its name (``"auto"`` included).
        seed: the run's seed, in ``[0, 2**63)``.
        dtype: ``torch.float32``/``float64`` or their names.
        label: the run's label (``None``: a default).
        log_every: evaluate every this many updates.
        checkpoint_every: checkpoint every this many updates.
        evaluate: an evaluator, or ``None`` for the game's default.

    Raises:
        ValueError: see `lola_games.runner.training.train`.
        TypeError: an evaluator that is not callable, a label that is not a string.
    """
    game = resolve_game(game)
    n_players = int(getattr(game, "n_players", 2))
    resolved = _resolve_agents(agents, n_players)
    n_seeds = check_positive_int("n_seeds", n_seeds)
    n_updates = check_positive_int("n_updates", n_updates)
    log_every = check_positive_int("log_every", log_every)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    check_gamma(gamma)
    gamma = float(gamma)
    seed = _check_seed(seed)
    torch_dtype = _check_dtype(dtype)
    _check_evaluate_and_label(evaluate, label)
    torch_device = resolve_device(device)
    check_agents(game, resolved)
    evaluator = evaluate or evaluator_for(game, resolved)
    config = _config(game, resolved, n_seeds, n_updates, gamma, torch_device, seed, torch_dtype,
                     label, log_every)
    return RunSetup(game, resolved, n_seeds, n_updates, gamma, torch_device, seed, torch_dtype,
                    log_every, checkpoint_every, evaluator, config)

"""``config.json`` of a run directory: reading it, checking it field by field, and the game it
names.

See `lola_games.runner.rundir` for the fields. Format 1 (lola-games 0.1, before named
metrics) is read as well; it names a built-in matrix game (or holds its payoffs).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import game_from_spec
from lola_games.runner.files import CONFIG, RunDirectoryError, refuse_link

__all__ = ["FORMAT", "read_config", "game_of", "run_identity"]

FORMAT = 2
"""Version of the run-directory format written by this package."""


def _field_error(path: Path, field: str, problem: str, value: Any) -> RunDirectoryError:
    return RunDirectoryError(f"{path}: field {field!r} {problem}, got {value!r}"[:400])


def _int_field(path: Path, config: dict, field: str, low: int) -> int:
    value = config.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _field_error(path, field, f"must be an int >= {low}", value)
    return value


def _read_json_object(path: Path) -> dict[str, Any]:
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"{path.parent} is not a run directory: no {CONFIG}")
    refuse_link(path)
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirectoryError(f"{path} is damaged: not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise RunDirectoryError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return config


def _check_format(path: Path, config: dict[str, Any]) -> int:
    fmt = config.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise _field_error(path, "format", "must be a positive int", fmt)
    if fmt > FORMAT:
        raise RunDirectoryError(f"{path}: run directory format {fmt} is newer than this "
                                f"lola-games reads (format {FORMAT}); upgrade lola-games")
    return fmt


def _check_common(path: Path, config: dict[str, Any]) -> list[Any]:
    """Check the fields of every format; return the agents."""
    if not isinstance(config.get("game"), str) or not config["game"]:
        raise _field_error(path, "game", "must be a game name", config.get("game"))
    _int_field(path, config, "n_seeds", 1)
    _int_field(path, config, "n_updates", 0)
    _int_field(path, config, "seed", 0)
    gamma = config.get("gamma")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 <= gamma < 1:
        raise _field_error(path, "gamma", "must be a number in [0, 1)", gamma)
    agents = config.get("agents")
    if not isinstance(agents, list) or len(agents) < 2:
        raise _field_error(path, "agents", "must be a list of at least 2 agents", agents)
    for i, a in enumerate(agents):
        if not (isinstance(a, dict) and isinstance(a.get("name"), str)
                and isinstance(a.get("hparams", {}), dict)):
            raise _field_error(path, f"agents[{i}]", 'must be {"name": str, "hparams": {...}}',
                               a)
    if "label" in config and not isinstance(config["label"], str):
        raise _field_error(path, "label", "must be a string", config["label"])
    return agents


def _check_by_format(path: Path, config: dict[str, Any], fmt: int, agents: list[Any]) -> None:
    if fmt >= 2:
        if _int_field(path, config, "n_players", 2) != len(agents):
            raise _field_error(path, "n_players", f"must equal the {len(agents)} agents",
                               config["n_players"])
        _int_field(path, config, "log_every", 1)
        if not isinstance(config.get("game_spec"), dict):
            raise _field_error(path, "game_spec", "must be an object", config.get("game_spec"))
    elif len(agents) != 2:
        raise _field_error(path, "agents", "must hold 2 agents in format 1", agents)


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of a run directory (format 1 or 2).

    Args:
        path: the run directory.

    Raises:
        FileNotFoundError: no ``config.json``.
        RunDirectoryError: not JSON, not an object, a newer format, or a missing or invalid
            field; the message names the file and the field.
    """
    file = Path(path) / CONFIG
    config = _read_json_object(file)
    fmt = _check_format(file, config)
    agents = _check_common(file, config)
    _check_by_format(file, config, fmt, agents)
    return config


def game_of(config: dict[str, Any], path: Path) -> Any:
    """The game of a run's (checked) config.

    Args:
        config: what `read_config` returned.
        path: the run directory (named in errors).

    Raises:
        RunDirectoryError: the config cannot rebuild its game.
    """
    where = path / CONFIG
    try:
        if config.get("format", 1) >= 2:
            return game_from_spec(config["game_spec"])
        return _v1_game(config)
    except (ValueError, TypeError, KeyError) as e:
        raise RunDirectoryError(f"{where}: field 'game_spec' cannot rebuild the game: {e}"
                                ) from None


def _v1_game(config: dict[str, Any]) -> MatrixGame:
    name = config["game"]
    if name in GAMES and (
        "game_payoffs" not in config
        or np.array_equal(GAMES[name].payoffs, np.asarray(config["game_payoffs"], dtype=float))
    ):
        return GAMES[name]
    if "game_payoffs" not in config:
        raise ValueError(f"config names unknown game {name!r} and has no game_payoffs")
    return MatrixGame(str(name), tuple(config["action_names"]), config["game_payoffs"])


def run_identity(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that make a run what it is (its checkpoint must carry the same).

    Args:
        config: a run's config.
    """
    keys = ("format", "game_spec", "agents", "n_players", "n_seeds", "gamma", "seed", "dtype",
            "mode", "log_every")
    return {k: config.get(k) for k in keys}

"""The one grammar of every ``lola-games`` subcommand, torch-free: the help formatter, the
shared options (`add_common`), per-agent settings (``--agents lola:lr=0.5,eta=1``) and
``--config`` files.

Nothing here imports torch: ``lola-games --help`` and parsing stay fast; each subcommand's
handler (a ``"module:attr"`` string, loaded after parsing) does the work.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lola_games.core.builtins import builtin_game_names

TOML = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
"""The TOML reader (Python 3.10: the ``tomli`` package)."""

__all__ = ["Formatter", "Parser", "add_common", "add_config_options", "parse_value",
           "parse_agent_spec", "positive_int", "config_defaults", "DEVICE_HELP"]

DEVICE_HELP = "cpu, cuda, cuda:N or auto: runs on CPU by default, GPU with --device cuda"


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows every option's default (those that are not None or False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS) \
                or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """Argument errors as one line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    """An argparse type: an int > 0 (argparse names the flag in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an int >= 0 (argparse names the flag in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {value}")
    return value


def add_config_options(p: argparse.ArgumentParser) -> None:
    """``--config FILE`` and ``--import MODULE``, accepted by every subcommand."""
    p.add_argument("--config", default=None, metavar="FILE",
                   help="start from the options in a TOML file (keys: the long option names) "
                   "or a train run's config.json; flags given here override it")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import a module first (repeatable), e.g. one that registers agents "
                   "or games with @register_agent")


def add_common(p: argparse.ArgumentParser, *, seeds: int | None, out_help: str,
               dtype: bool = True, progress: bool = True, resume: bool = True,
               game: bool = True, log_every: bool = True) -> None:
    """The options every training subcommand spells the same way.

    Args:
        p: the subcommand's parser.
        seeds: ``--seeds``'s default (``None``: the experiment's size decides).
        out_help: what ``--out`` is, with its default.
        dtype: add ``--dtype``.
        progress: add ``--no-progress``.
        resume: add ``--resume`` beside ``--overwrite``.
        game: add ``--game`` and ``--gamma``.
        log_every: add ``--log-every``.
    """
    if game:
        p.add_argument("--game", default=None,
                       help=f"game (default: ipd): {', '.join(builtin_game_names())}")
        p.add_argument("--gamma", type=float, default=None,
                       help="discount in [0, 1) (default: 0.96)")
    p.add_argument("--seeds", type=positive_int, default=seeds,
                   help="number of seeds, batched" + ("" if seeds else " (default: the size's)"))
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)
    if dtype:
        p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                       help="floating-point type")
    if log_every:
        p.add_argument("--log-every", type=positive_int, default=None,
                       help="log every N updates (default: every update)")
    p.add_argument("--out", default=None, help=out_help)
    if resume:
        p.add_argument("--resume", action="store_true", help="continue the runs in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the runs in --out")
    if progress:
        p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_config_options(p)


def parse_value(text: str) -> Any:
    """``"1"`` -> 1, ``"0.5"`` -> 0.5, ``"true"``/``"false"`` -> bool, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_agent_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"lola:lr=0.5,eta=1"`` -> ``("lola", {"lr": 0.5, "eta": 1})``; ``"axl:TitForTat"``
    (no ``=`` after the colon) is a name.

    Raises:
        ValueError: a setting that is not ``key=value`` (the message names the spec).
    """
    name, sep, rest = spec.partition(":")
    if not sep or "=" not in rest:
        return spec, {}
    settings: dict[str, Any] = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"--agents {spec}: {item!r} is not KEY=VALUE")
        settings[key.strip().replace("-", "_")] = parse_value(value.strip())
    return name, settings


_TRAIN_CONFIG = {"n_seeds": "seeds", "n_updates": "updates"}


def _from_run_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a ``train`` run's ``config.json``."""
    out: dict[str, Any] = {}
    game = config.get("game")
    out["game"] = game.get("name") if isinstance(game, Mapping) else game
    agents = config.get("agents") or []
    specs = []
    for agent in agents:
        if isinstance(agent, Mapping):
            name = agent.get("name")
            hp = agent.get("hparams") or agent.get("settings") or {}
            items = ",".join(f"{k}={v}" for k, v in hp.items()
                             if isinstance(v, (int, float, str, bool)))
            specs.append(f"{name}:{items}" if items else str(name))
        else:
            specs.append(str(agent))
    if specs:
        out["agents"] = specs
    for key in ("n_seeds", "n_updates", "gamma", "seed", "dtype", "label", "log_every"):
        if config.get(key) is not None:
            out[_TRAIN_CONFIG.get(key, key)] = config[key]
    return out


def config_defaults(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The options in a ``--config`` file, as parser defaults (dest -> value).

    TOML keys are long option names (``log-every`` or ``log_every``); a ``.json`` file is a
    ``train`` run's ``config.json``.

    Raises:
        ValueError: an unreadable file or a key that is no option of the subcommand.
    """
    file = Path(path)
    try:
        if file.suffix == ".json":
            raw = _from_run_config(json.loads(file.read_text()))
        else:
            raw = TOML.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"--config {path}: {e}") from None
    dests = {a.option_strings[0][2:].replace("-", "_"): a for a in parser._actions
             if a.option_strings and a.option_strings[0].startswith("--")}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        action = dests.get(str(key).replace("-", "_"))
        if action is None:
            raise ValueError(f"--config {path}: {key!r} is no option of this subcommand")
        out[action.dest] = _typed(action, value)
    return out


def _typed(action: argparse.Action, value: Any) -> Any:
    """A config value as the option would parse it."""
    convert: Any = action.type or str
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [convert(str(v)) for v in value]
    if action.type is not None and not isinstance(value, bool):
        return convert(str(value))
    return value

"""Run directories: written while training, read back by `load_run`.

A run directory holds four files, each written atomically (a fresh temporary file in the
directory, then ``os.replace``) except the append-only metrics; a run file that is a symbolic
link is refused, never followed.

* ``config.json`` -- ``format`` (`FORMAT`), ``game`` (name) and ``game_spec`` (what
  rebuilds the game, see `lola_games.games.matrix.game_from_spec`), ``n_players``, ``agents``
  (one ``{"name", "hparams"}`` per player), ``n_seeds``, ``n_updates``, ``gamma``, ``seed``,
  ``device``, ``dtype``, ``mode`` (``"exact"`` or ``"sampled"``), ``log_every``, ``label`` and
  ``version`` (of the package).
* ``metrics.csv`` -- one row per (update, seed), update 0 being before any update::

      update,seed,value_0,value_1,p_start_0,p_start_1,p_CC_0,...

  Column ``<metric>_<player>`` is a named metric of one player (``value`` -- the player's
  score, reward per step -- always; memory-one runs add ``p_<state>``, P(action 0) in that
  state from the player's own side; other games add their own). Rows are appended and flushed
  as the run goes, so an interrupted run keeps what it logged; numbers have full precision.
* ``checkpoint.pt`` -- what `lola_games.runner.train.train` resumes from: the update index,
  params, agent states and RNG state, the run's identity (seed and settings) and a SHA-256 of
  the metrics rows logged up to it, so that a checkpoint that does not belong to the run or
  metrics that were changed or lost are refused. Plain tensors and containers only; it is read
  with ``torch.load(weights_only=True)`` and never runs code.
* ``final_params.pt`` -- both players' final params, ``{"params": (p0, p1, ...)}``.

Directories of format 1 (lola-games 0.1, before named metrics) still load with
`load_run`; they cannot be resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from lola_games.functional.optim import AdamState, SGDState
from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import game_from_spec

__all__ = [
    "FORMAT",
    "RUN_FILES",
    "RunDirectoryError",
    "RunDirectory",
    "Run",
    "load_run",
    "read_config",
    "metric_columns",
    "split_column",
    "register_state_type",
    "load_final_params",
    "LoggedUpdate",
    "stack_updates",
]

FORMAT = 2
"""Version of the run-directory format written by this package."""

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.pt"
FINAL = "final_params.pt"
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, FINAL)
"""The files of a run directory."""

_NAME = re.compile(r"[^\s,\"']+")


class RunDirectoryError(ValueError):
    """A run directory (or one of its files) that cannot be used; the message names the file."""


# -- metric columns ------------------------------------------------------------------------


def metric_columns(names: Sequence[str], n_players: int) -> list[str]:
    """Header of ``metrics.csv``: ``update, seed`` then ``<name>_<player>`` per metric."""
    return ["update", "seed", *(f"{m}_{i}" for m in names for i in range(n_players))]


def split_column(column: str) -> tuple[str, int]:
    """``"p_CC_1"`` -> ``("p_CC", 1)``; raises ``ValueError`` for a column without a player."""
    name, _, player = column.rpartition("_")
    if not name or not player.isdigit():
        raise ValueError(f"column {column!r} is not <metric>_<player>")
    return name, int(player)


def _columns_to_metrics(columns: Sequence[str], where: Path
                        ) -> tuple[list[str], int, np.ndarray]:
    """Metric names (in order of appearance), the player count, and the column order
    ``[M * P]`` (metric-major) of the data columns of a header."""
    names: list[str] = []
    index: dict[tuple[str, int], int] = {}
    for k, col in enumerate(columns):
        try:
            name, player = split_column(col)
        except ValueError as e:
            raise RunDirectoryError(f"{where}: {e}") from None
        if (name, player) in index:
            raise RunDirectoryError(f"{where}: column {col!r} appears twice")
        if name not in names:
            names.append(name)
        index[(name, player)] = k
    n_players = 1 + max(p for _, p in index) if index else 0
    try:
        order = np.array([index[(name, p)] for name in names for p in range(n_players)])
    except KeyError as e:
        raise RunDirectoryError(f"{where}: no column for metric {e.args[0][0]!r} of player "
                                f"{e.args[0][1]}") from None
    return names, n_players, order


def _v1_column(column: str) -> str:
    """A format-1 column (``p0_start``) under its format-2 name (``p_start_0``)."""
    m = re.fullmatch(r"p(\d+)_(.+)", column)
    return f"p_{m.group(2)}_{m.group(1)}" if m else column


# -- safe files ----------------------------------------------------------------------------


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise RunDirectoryError(
            f"{path} is a symbolic link; run files must be regular files (not following it)")


def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a fresh temporary file in its directory and ``os.replace``.

    The temporary file is created exclusively (a planted file or link is never written
    through) and ``os.replace`` swaps the directory entry, so a link at ``path`` is replaced,
    not followed, and a kill leaves either the old file or the new one.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(path: Path, obj: Any) -> None:
    _atomic_write(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode()))


def _open_append(path: Path) -> BinaryIO:
    """Open an existing regular file for appending without following a link."""
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if path.is_symlink():
            _refuse_link(path)
        raise e
    return os.fdopen(fd, "ab")


# -- checkpoint contents: plain containers only --------------------------------------------

_STATE_TYPES: dict[str, type] = {}
_TAG = "__lola_games_namedtuple__"


def register_state_type(cls: type) -> type:
    """Allow a ``NamedTuple`` class in checkpointed agent states (class decorator).

    Checkpoints hold only tensors, numbers, strings, ``None`` and lists/tuples/dicts of them,
    so that they load with ``weights_only=True``; a registered ``NamedTuple`` is stored as a
    tagged dict of its fields and rebuilt on load. The optimizer states of
    `lola_games.functional.lookahead` are registered.
    """
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise TypeError(f"register_state_type takes a NamedTuple class, got {cls!r}")
    _STATE_TYPES[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


register_state_type(SGDState)
register_state_type(AdamState)


def _encode(tree: Any, where: str = "state") -> Any:
    if isinstance(tree, torch.Tensor):
        return tree.detach()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        key = f"{type(tree).__module__}.{type(tree).__qualname__}"
        if _STATE_TYPES.get(key) is not type(tree):
            raise TypeError(f"cannot checkpoint {where}: NamedTuple {key} is not registered "
                            f"(lola_games.runner.rundir.register_state_type)")
        return {_TAG: key,
                "fields": {f: _encode(v, f"{where}.{f}") for f, v in zip(tree._fields, tree,
                                                                          strict=True)}}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_encode(v, f"{where}[{i}]") for i, v in enumerate(tree))
    if isinstance(tree, Mapping):
        out = {}
        for k, v in tree.items():
            if not isinstance(k, (str, int)) or k == _TAG:
                raise TypeError(f"cannot checkpoint {where}: key {k!r} is not a plain str/int")
            out[k] = _encode(v, f"{where}[{k!r}]")
        return out
    raise TypeError(f"cannot checkpoint {where}: {type(tree).__name__} is not a tensor, number, "
                    f"string or container of them")


def _decode(tree: Any, device: torch.device | None) -> Any:
    if isinstance(tree, torch.Tensor):
        return tree.to(device) if device is not None else tree
    if isinstance(tree, dict):
        if _TAG in tree:
            cls = _STATE_TYPES.get(tree[_TAG])
            if cls is None:
                raise ValueError(f"unknown state type {tree[_TAG]!r}")
            return cls(**{f: _decode(v, device) for f, v in tree["fields"].items()})
        return {k: _decode(v, device) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_decode(v, device) for v in tree)
    return tree


def _safe_load(path: Path, map_location: Any = None) -> Any:
    _refuse_link(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # unpickling errors, truncated zip, foreign objects...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RunDirectoryError(
            f"{path} is damaged or not a lola-games file (it is only read with "
            f"weights_only=True): {first[:200]}") from None


# -- config --------------------------------------------------------------------------------


def _field_error(path: Path, field: str, problem: str, value: Any) -> RunDirectoryError:
    return RunDirectoryError(f"{path}: field {field!r} {problem}, got {value!r}"[:400])


def _int_field(path: Path, config: dict, field: str, low: int) -> int:
    value = config.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _field_error(path, field, f"must be an int >= {low}", value)
    return value


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of a run directory (format 1 or 2).

    Raises:
        FileNotFoundError: no ``config.json``.
        RunDirectoryError: not JSON, not an object, a newer format, or a missing or invalid
            field; the message names the file and the field.
    """
    path = Path(path) / CONFIG
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"{path.parent} is not a run directory: no {CONFIG}")
    _refuse_link(path)
    try:
        config = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirectoryError(f"{path} is damaged: not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise RunDirectoryError(f"{path}: expected a JSON object, got {type(config).__name__}")
    fmt = config.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise _field_error(path, "format", "must be a positive int", fmt)
    if fmt > FORMAT:
        raise RunDirectoryError(f"{path}: run directory format {fmt} is newer than this "
                                f"lola-games reads (format {FORMAT}); upgrade lola-games")
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
    if fmt >= 2:
        if _int_field(path, config, "n_players", 2) != len(agents):
            raise _field_error(path, "n_players", f"must equal the {len(agents)} agents",
                               config["n_players"])
        _int_field(path, config, "log_every", 1)
        if not isinstance(config.get("game_spec"), dict):
            raise _field_error(path, "game_spec", "must be an object", config.get("game_spec"))
    elif len(agents) != 2:
        raise _field_error(path, "agents", "must hold 2 agents in format 1", agents)
    return config


def _game_of(config: dict[str, Any], path: Path) -> Any:
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


# -- metrics.csv ---------------------------------------------------------------------------


def _row_bytes(update: int, seed: int, numbers: Sequence[float]) -> bytes:
    return (",".join([str(update), str(seed), *map(repr, numbers)]) + "\n").encode()


def _parse_row(line: bytes, width: int) -> tuple[int, int, list[float]] | None:
    """``(update, seed, numbers)`` of a complete data line, or ``None`` if it is not one."""
    if not line.endswith(b"\n"):
        return None
    fields = line.decode("utf-8", "replace").rstrip("\n").split(",")
    if len(fields) != width:
        return None
    try:
        return int(fields[0]), int(fields[1]), [float(x) for x in fields[2:]]
    except ValueError:
        return None


def _scan_metrics(
    path: Path, n_seeds: int, keep: Callable[[int], bool] = lambda u: True
) -> Iterator[tuple[int, np.ndarray, bytes]]:
    """Complete update groups of ``metrics.csv`` in order: ``(update, numbers [S, C], raw)``.

    Streams the file. The header is checked by the caller (`_read_header`). A trailing
    partial group or line (a run killed while writing) ends the scan; anything else that
    is not a well-formed group raises `RunDirectoryError` naming the line.
    """
    with open(path, "rb") as f:
        header = f.readline()
        width = len(header.decode("utf-8", "replace").rstrip("\n").split(","))
        group: list[list[float]] = []
        raw: list[bytes] = []
        update, last = None, -1
        for number, line in enumerate(f, start=2):
            row = _parse_row(line, width)
            if row is None:
                if f.read(1) == b"" and not line.endswith(b"\n"):
                    return  # a line cut short by a kill: the last one
                raise RunDirectoryError(f"{path} is damaged at line {number}: {line[:80]!r}")
            u, s, numbers = row
            if s == 0 and not group:
                if u <= last:
                    raise RunDirectoryError(f"{path} is damaged at line {number}: update {u} "
                                            f"after update {last}")
                update = u
            if u != update or s != len(group):
                raise RunDirectoryError(f"{path} is damaged at line {number}: expected update "
                                        f"{update} seed {len(group)}, got update {u} seed {s}")
            group.append(numbers)
            raw.append(line)
            if len(group) == n_seeds:
                if keep(u):
                    yield u, np.array(group, dtype=np.float64), b"".join(raw)
                last, group, raw = u, [], []


def _read_header(path: Path, fmt: int) -> tuple[list[str], int, np.ndarray, bytes]:
    """Metric names, player count, column order and the raw header line of ``metrics.csv``."""
    _refuse_link(path)
    with open(path, "rb") as f:
        raw = f.readline()
    if not raw.endswith(b"\n"):
        raise RunDirectoryError(f"{path} is damaged: no complete header line")
    columns = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r").split(",")
    if columns[:2] != ["update", "seed"] or len(columns) < 3:
        raise RunDirectoryError(f"{path} is damaged: unexpected header {columns[:4]}")
    data_columns = columns[2:] if fmt >= 2 else [_v1_column(c) for c in columns[2:]]
    names, n_players, order = _columns_to_metrics(data_columns, path)
    if "value" not in names:
        raise RunDirectoryError(f"{path}: no value columns")
    return names, n_players, order, raw


@dataclass
class LoggedUpdate:
    """One logged evaluation: its update and metrics (name -> ``[P, S]``)."""

    update: int
    metrics: dict[str, np.ndarray]


def _to_metrics(numbers: np.ndarray, names: Sequence[str], n_players: int, order: np.ndarray
                ) -> dict[str, np.ndarray]:
    """``numbers [S, C]`` (one update's rows) -> name -> ``[P, S]`` (``order``: see
    `_columns_to_metrics`)."""
    by = numbers[:, order].T.reshape(len(names), n_players, -1)
    return {name: by[k] for k, name in enumerate(names)}


# -- the run object ------------------------------------------------------------------------


@dataclass
class Run:
    """A run's configuration and named metrics.

    Attributes:
        config: the parsed ``config.json`` (see the module docstring).
        game: the game played.
        updates: ``[U]`` update index of each logged row group (0 = before any update).
        metrics: metric name -> ``[U, P, S]`` (logged update, player, seed); always holds
            ``"value"`` (each player's score, reward per step).
        path: the run directory, or ``None``.
        final_params: the players' final params when known (returned by ``train``).
    """

    config: dict[str, Any]
    game: Any
    updates: np.ndarray
    metrics: dict[str, np.ndarray]
    path: Path | None = None
    final_params: tuple[Any, ...] | None = None

    @property
    def n_players(self) -> int:
        return self.metrics["value"].shape[1]

    @property
    def n_seeds(self) -> int:
        return self.metrics["value"].shape[2]

    @property
    def label(self) -> str:
        return str(self.config.get("label", self.path.name if self.path else "run"))

    def metric(self, name: str, player: int | None = None) -> np.ndarray:
        """``[U, S]`` metric ``name`` of ``player``, or ``[U, P, S]`` when ``player`` is None."""
        if name not in self.metrics:
            raise KeyError(f"run {self.label!r} has no metric {name!r}; it has "
                           f"{', '.join(self.metrics)}")
        values = self.metrics[name]
        if player is None:
            return values
        if not 0 <= player < self.n_players:
            raise IndexError(f"player {player} out of range for {self.n_players} players")
        return values[:, player]

    @property
    def value_0(self) -> np.ndarray:
        """``[U, S]`` player 0's value (reward per step)."""
        return self.metric("value", 0)

    @property
    def value_1(self) -> np.ndarray:
        """``[U, S]`` player 1's value (reward per step)."""
        return self.metric("value", 1)

    @property
    def joint_score(self) -> np.ndarray:
        """``[U, S]`` mean per-step value of all players."""
        return self.metrics["value"].mean(axis=1)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Memory-one states with a logged ``p_<state>`` metric, in the game's order."""
        names = getattr(self.game, "state_names", ())
        return tuple(s for s in names if f"p_{s}" in self.metrics)

    @property
    def memory_one(self) -> bool:
        """Whether the run logged P(action 0) in every memory-one state of its game."""
        names = getattr(self.game, "state_names", ())
        return bool(names) and len(self.state_names) == len(names)

    def probs(self, player: int) -> np.ndarray:
        """``[U, S, n_states]`` P(action 0) per memory-one state of ``player`` (own side)."""
        if not self.memory_one:
            raise KeyError(f"run {self.label!r} logged no memory-one probabilities")
        return np.stack([self.metric(f"p_{s}", player) for s in self.game.state_names], -1)

    @property
    def probs_0(self) -> np.ndarray:
        """``[U, S, 5]`` player 0's P(action 0) per memory-one state."""
        return self.probs(0)

    @property
    def probs_1(self) -> np.ndarray:
        """``[U, S, 5]`` player 1's P(action 0) per memory-one state."""
        return self.probs(1)


def stack_updates(
    groups: Sequence[LoggedUpdate], names: Sequence[str], n_players: int, n_seeds: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(updates [U], metrics name -> [U, P, S])`` of logged updates in order."""
    updates = np.array([g.update for g in groups], dtype=np.int64)
    metrics = {
        name: (np.stack([g.metrics[name] for g in groups]) if groups
               else np.zeros((0, n_players, n_seeds)))
        for name in names
    }
    return updates, metrics


def load_run(path: str | os.PathLike) -> Run:
    """Read a run directory (format 1 or 2), streaming ``metrics.csv``.

    A trailing update with fewer rows than seeds (a run killed while writing) is dropped.
    Nothing in the directory is executed: ``config.json`` is JSON, checked field by field.

    Raises:
        FileNotFoundError: ``path`` has no ``config.json`` or ``metrics.csv``.
        RunDirectoryError (a ``ValueError``): a damaged or inconsistent file, named.
    """
    path = Path(path)
    config = read_config(path)
    metrics_path = path / METRICS
    if not metrics_path.exists() and not metrics_path.is_symlink():
        raise FileNotFoundError(f"{path} is not a run directory: no {METRICS}")
    game = _game_of(config, path)
    names, n_players, order, _ = _read_header(metrics_path, config.get("format", 1))
    if n_players != len(config["agents"]):
        raise RunDirectoryError(f"{metrics_path}: {n_players} players in the columns, "
                                f"{len(config['agents'])} agents in {CONFIG}")
    n_seeds = config["n_seeds"]
    groups = [LoggedUpdate(u, _to_metrics(x, names, n_players, order))
              for u, x, _ in _scan_metrics(metrics_path, n_seeds)]
    updates, metrics = stack_updates(groups, names, n_players, n_seeds)
    return Run(config=config, game=game, updates=updates, metrics=metrics, path=path)


# -- writing -------------------------------------------------------------------------------


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that make a run what it is (its checkpoint must carry the same)."""
    keys = ("format", "game_spec", "agents", "n_players", "n_seeds", "gamma", "seed", "dtype",
            "mode", "log_every")
    return {k: config.get(k) for k in keys}


class RunDirectory:
    """One run directory being written: metrics rows, checkpoints, final params.

    Use `create` for a new run and `reopen` to continue one; then `log`
    each evaluation, `save_checkpoint` now and then, `save_final` at the end and
    `close`.
    """

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.n_seeds = int(config["n_seeds"])
        self.n_players = int(config["n_players"])
        self.names: list[str] | None = None
        self._file: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._rows = 0

    # -- opening ---------------------------------------------------------------------------
    @staticmethod
    def _check_target(path: Path) -> Path:
        if str(path) == "":
            raise ValueError("the run directory path is empty")
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} exists and is not a directory")
        for name in RUN_FILES:
            _refuse_link(path / name)
        return path

    @classmethod
    def create(cls, path: str | os.PathLike, config: dict[str, Any], *, overwrite: bool = False
               ) -> RunDirectory:
        """Start a new run in ``path`` (created if missing).

        Raises:
            FileExistsError: ``path`` holds run files (a run, or the remains of one) and not
                ``overwrite``; only the run files are removed with ``overwrite``.
        """
        path = cls._check_target(Path(path))
        present = [n for n in RUN_FILES if (path / n).exists()]
        if present and not overwrite:
            what = "a run" if CONFIG in present else f"run files ({', '.join(present)})"
            raise FileExistsError(f"{path} already holds {what}; resume it, pass overwrite "
                                  f"(--overwrite) to replace it, or choose another directory")
        path.mkdir(parents=True, exist_ok=True)
        for name in present:
            (path / name).unlink()
        self = cls(path, config)
        _write_json(path / CONFIG, config)
        return self

    @classmethod
    def reopen(
        cls,
        path: str | os.PathLike,
        config: dict[str, Any],
        keep: Callable[[int], bool],
        n_updates: int,
        map_location: Any = None,
    ) -> tuple[RunDirectory, dict[str, Any], list[LoggedUpdate]]:
        """Continue the run in ``path`` from its checkpoint.

        Checks that the checkpoint belongs to the run given by ``config`` and that the
        metrics rows up to it are the ones it was written after; drops rows logged after it
        (they are recomputed) and rows for which ``keep(update)`` is false (updates that a run
        of the new length does not log); rewrites ``config.json`` (atomically) with
        ``config``.

        Returns:
            ``(directory, checkpoint, logged groups up to the checkpoint)``; the checkpoint's
            ``params`` and ``states`` are decoded onto ``map_location``.

        Raises:
            FileNotFoundError: no checkpoint (with a hint to ``--overwrite``).
            RunDirectoryError: a checkpoint that is damaged, of another run, or whose metrics
                do not match.
            ValueError: settings that differ from the run's, or ``n_updates`` below the
                checkpoint's update.

        Nothing is written unless every check passes.
        """
        path = cls._check_target(Path(path))
        old = read_config(path)
        if old.get("format", 1) < FORMAT:
            raise RunDirectoryError(
                f"{path / CONFIG}: run directory format {old.get('format', 1)} (an older "
                f"lola-games) can be loaded and plotted but not resumed")
        ck_path = path / CHECKPOINT
        if not ck_path.exists():
            raise FileNotFoundError(
                f"cannot resume {path}: no {CHECKPOINT} (the run was interrupted before its "
                f"first checkpoint); start it again with overwrite (--overwrite)")
        ident = _identity(config)
        diff = [k for k in ident if old.get(k) != ident[k]]
        if diff:
            raise ValueError(f"cannot resume {path}: settings differ from the run's "
                             f"({', '.join(diff)})")
        ck = _safe_load(ck_path)
        _check_checkpoint(ck, ck_path)
        if ck["run"] != ident:
            diff = [k for k in ident if ck["run"].get(k) != ident[k]]
            raise RunDirectoryError(
                f"{ck_path} belongs to another run (its {', '.join(diff)} differ from "
                f"{path / CONFIG} and the settings given); refusing to resume")
        update = ck["update"]
        if n_updates < update:
            raise ValueError(f"cannot resume {path} with {n_updates} updates: the run is "
                             f"already at update {update}")
        self = cls(path, config)
        metrics_path = path / METRICS
        if not metrics_path.exists():
            raise RunDirectoryError(f"{metrics_path} is missing but {CHECKPOINT} is at update "
                                    f"{update}")
        names, n_players, order, header = _read_header(metrics_path, FORMAT)
        if n_players != self.n_players:
            raise RunDirectoryError(f"{metrics_path}: {n_players} players in the columns, "
                                    f"{self.n_players} in the run")
        old_digest, rows, groups, kept = hashlib.sha256(), 0, [], []
        for u, numbers, raw in _scan_metrics(metrics_path, self.n_seeds):
            if u > update:
                break
            old_digest.update(raw)
            rows += self.n_seeds
            if keep(u):
                kept.append(raw)
                groups.append(LoggedUpdate(u, _to_metrics(numbers, names, n_players, order)))
        if (rows, old_digest.hexdigest()) != (ck["metrics"]["rows"], ck["metrics"]["sha256"]):
            raise RunDirectoryError(
                f"{metrics_path} does not match {CHECKPOINT} (update {update}): rows up to it "
                f"were changed or lost ({rows} rows found, {ck['metrics']['rows']} logged)")
        self.names = names

        def rewrite(f: BinaryIO) -> None:
            f.write(header)
            for raw in kept:
                f.write(raw)
                self._digest.update(raw)
                self._rows += self.n_seeds

        _atomic_write(metrics_path, rewrite)
        _write_json(path / CONFIG, config)
        ck["params"] = _decode(ck["params"], map_location)
        ck["states"] = _decode(ck["states"], map_location)
        return self, ck, groups

    # -- writing ---------------------------------------------------------------------------
    def log(self, update: int, metrics: Mapping[str, np.ndarray]) -> None:
        """Append one update's rows: each metric ``[P, S]``; flushed to the OS."""
        names = list(metrics)
        if self.names is None:
            if "value" not in metrics:
                raise ValueError("metrics must include 'value'")
            for name in names:
                if not _NAME.fullmatch(name):
                    raise ValueError(f"metric name {name!r} must be non-empty without "
                                     f"spaces, commas or quotes")
            self.names = names
            header = ",".join(metric_columns(names, self.n_players)) + "\n"
            _atomic_write(self.path / METRICS, lambda f: f.write(header.encode()))
        elif names != self.names:
            raise ValueError(f"metrics {names} differ from the run's {self.names}")
        shape = (self.n_players, self.n_seeds)
        arrays = []
        for name in names:
            a = np.asarray(metrics[name], dtype=np.float64)
            if a.shape != shape:
                raise ValueError(f"metric {name!r} must have shape [P, S] = {list(shape)}, "
                                 f"got {list(a.shape)}")
            arrays.append(a)
        table = np.stack(arrays).reshape(-1, self.n_seeds)  # [M * P, S]
        data = b"".join(_row_bytes(update, s, table[:, s].tolist()) for s in range(self.n_seeds))
        if self._file is None:
            self._file = _open_append(self.path / METRICS)
        self._file.write(data)
        self._file.flush()
        self._digest.update(data)
        self._rows += self.n_seeds

    def mark(self) -> dict[str, Any]:
        """Where the metrics stand now (rows and their SHA-256), for `save_checkpoint`."""
        return {"rows": self._rows, "sha256": self._digest.hexdigest()}

    def save_checkpoint(
        self, update: int, params: Any, states: Any, rng: torch.Tensor,
        mark: dict[str, Any] | None = None,
    ) -> None:
        """Write ``checkpoint.pt`` atomically, after the metrics are on disk.

        ``mark`` (from `mark`) records the metrics as they stood after ``update``; by
        default, as they stand now.
        """
        if self._file is not None:
            os.fsync(self._file.fileno())
        payload = {
            "format": FORMAT,
            "update": int(update),
            "run": _identity(self.config),
            "metrics": dict(mark) if mark is not None else self.mark(),
            "params": _encode(params, "params"),
            "states": _encode(states, "agent states"),
            "rng": rng.cpu(),
        }
        _atomic_write(self.path / CHECKPOINT, lambda f: torch.save(payload, f))

    def save_final(self, params: Sequence[Any]) -> None:
        """Write ``final_params.pt``: ``{"params": tuple of each player's params}``."""
        payload = {"params": _encode(tuple(params), "params")}
        _atomic_write(self.path / FINAL, lambda f: torch.save(payload, f))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _check_checkpoint(ck: Any, path: Path) -> None:
    ok = (
        isinstance(ck, dict)
        and ck.get("format") == FORMAT
        and isinstance(ck.get("update"), int) and ck["update"] >= 0
        and isinstance(ck.get("run"), dict)
        and isinstance(ck.get("metrics"), dict)
        and isinstance(ck["metrics"].get("rows"), int)
        and isinstance(ck["metrics"].get("sha256"), str)
        and isinstance(ck.get("rng"), torch.Tensor)
        and "params" in ck and "states" in ck
    )
    if not ok:
        raise RunDirectoryError(f"{path} is damaged or not a lola-games checkpoint "
                                f"(format {FORMAT})")


def load_final_params(path: str | os.PathLike, map_location: Any = None) -> tuple[Any, ...]:
    """The players' final params of a finished run, read with ``weights_only=True``."""
    file = Path(path) / FINAL
    data = _safe_load(file, map_location)
    if not isinstance(data, dict) or "params" not in data:
        raise RunDirectoryError(f"{file} is damaged: no params")
    try:
        return tuple(_decode(data["params"], None))
    except ValueError as e:
        raise RunDirectoryError(f"{file}: {e}") from None


"""``metrics.csv`` of a run directory: its columns, its rows, and reading it as a stream.

One row per (update, seed), update 0 being before any update::

    update,seed,value_0,value_1,p_start_0,p_start_1,p_CC_0,...

Column ``<metric>_<player>`` is a named metric of one player. Numbers have full precision
(``repr`` of the float). Format-1 files (``p0_start``) are read under format-2 names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lola_games.runner.files import RunDirectoryError, refuse_link

__all__ = [
    "metric_columns",
    "split_column",
    "columns_to_metrics",
    "row_bytes",
    "scan_metrics",
    "read_header",
    "LoggedUpdate",
    "to_metrics",
    "stack_updates",
]


def metric_columns(names: Sequence[str], n_players: int) -> list[str]:
    """Header of ``metrics.csv``: ``update, seed`` then ``<name>_<player>`` per metric."""
    return ["update", "seed", *(f"{m}_{i}" for m in names for i in range(n_players))]


def split_column(column: str) -> tuple[str, int]:
    """``"p_CC_1"`` -> ``("p_CC", 1)``; raises ``ValueError`` for a column without a player."""
    name, _, player = column.rpartition("_")
    if not name or not player.isdigit():
        raise ValueError(f"column {column!r} is not <metric>_<player>")
    return name, int(player)


def columns_to_metrics(columns: Sequence[str], where: Path
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



def row_bytes(update: int, seed: int, numbers: Sequence[float]) -> bytes:
    """One line of ``metrics.csv`` (numbers in full precision)."""
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


def scan_metrics(
    path: Path, n_seeds: int, keep: Callable[[int], bool] = lambda u: True
) -> Iterator[tuple[int, np.ndarray, bytes]]:
    """Complete update groups of ``metrics.csv`` in order: ``(update, numbers [S, C], raw)``.

    Streams the file. The header is checked by the caller (`read_header`). A trailing
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


def read_header(path: Path, fmt: int) -> tuple[list[str], int, np.ndarray, bytes]:
    """Metric names, player count, column order and the raw header line of ``metrics.csv``."""
    refuse_link(path)
    with open(path, "rb") as f:
        raw = f.readline()
    if not raw.endswith(b"\n"):
        raise RunDirectoryError(f"{path} is damaged: no complete header line")
    columns = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r").split(",")
    if columns[:2] != ["update", "seed"] or len(columns) < 3:
        raise RunDirectoryError(f"{path} is damaged: unexpected header {columns[:4]}")
    data_columns = columns[2:] if fmt >= 2 else [_v1_column(c) for c in columns[2:]]
    names, n_players, order = columns_to_metrics(data_columns, path)
    if "value" not in names:
        raise RunDirectoryError(f"{path}: no value columns")
    return names, n_players, order, raw


@dataclass
class LoggedUpdate:
    """One logged evaluation: its update and metrics (name -> ``[P, S]``)."""

    update: int
    metrics: dict[str, np.ndarray]


def to_metrics(numbers: np.ndarray, names: Sequence[str], n_players: int, order: np.ndarray
                ) -> dict[str, np.ndarray]:
    """``numbers [S, C]`` (one update's rows) -> name -> ``[P, S]`` (``order``: see
    `columns_to_metrics`)."""
    by = numbers[:, order].T.reshape(len(names), n_players, -1)
    return {name: by[k] for k, name in enumerate(names)}


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


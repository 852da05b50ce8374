"""Lookup tables by joint action, read for ``k`` games at once.

`BatchedIteratedGame` steps by table lookups: a round's rewards, memory-one states and
observations are rows of small tables indexed by the joint action ``a0 * n + a1`` of each
game. A lookup of ``B`` short rows costs mostly a fixed price per row and per call (profiled
on the CPU: ``table[joint]``, an ``aten::index``, took 97% of a step), so `JointTables`

* looks up the rows of ``k`` neighbouring games at once: games ``b * k`` to ``b * k + k - 1``
  form one *group*, whose code is the base-``n * n`` number of their joint actions (one
  integer matrix-vector product of the actions viewed as ``[B / k, 2 k]``), and each table
  is expanded to one row per group code, the ``k`` games' rows side by side;
* on the CPU, reads the rows with NumPy's ``take`` on the tables' memory, each row one
  fixed-size item, and hands back tensors sharing the result's memory
  (``torch.from_numpy``): for these small calls this costs about half of an
  ``index_select``.

The results are the same rows, laid out as contiguous ``[B, ...]`` tensors, as a per-game
``table[joint]`` gives (tested bit for bit).
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import Tensor

__all__ = ["JointTables", "MAX_GROUP_ROWS", "group_size"]

MAX_GROUP_ROWS = 256
"""Most rows of an expanded table: ``(n * n) ** k`` stays within it."""


def group_size(n_actions: int, batch_size: int, device: torch.device) -> int:
    """Games per group: the largest ``k`` in ``(4, 2, 1)`` with ``(n * n) ** k`` at most
    `MAX_GROUP_ROWS` that divides ``batch_size``; ``1`` off the CPU (integer matrix
    products are CPU-only there, and a GPU's lookups are not bound by rows)."""
    if device.type != "cpu":
        return 1
    for k in (4, 2):
        if (n_actions * n_actions) ** k <= MAX_GROUP_ROWS and batch_size % k == 0:
            return k
    return 1


def _numpy_rows(table: Tensor) -> np.ndarray | None:
    """``table [R, ...]`` (CPU) as a NumPy array of ``R`` opaque fixed-size items (one per
    row), or ``None`` for a dtype NumPy lacks."""
    try:
        array = np.ascontiguousarray(table.numpy())
    except TypeError:  # bfloat16 and other dtypes without a NumPy twin
        return None
    return array.reshape(len(array), -1).view(np.dtype((np.void, array[0].nbytes)))[:, 0]


class JointTables:
    """Tables ``{name: [n * n, ...]}`` by joint action, looked up for ``batch_size`` games.

    Args:
        tables: each ``[n * n, ...]``, row ``a0 * n + a1`` for the joint action
            ``(a0, a1)``; all on one device.
        n_actions: ``n``.
        batch_size: ``B``, the number of games of every lookup.
        group: games per lookup row (default: `group_size`).
    """

    def __init__(
        self, tables: dict[str, Tensor], n_actions: int, batch_size: int, group: int | None = None
    ) -> None:
        device = next(iter(tables.values())).device
        self.n_actions = n_actions
        self.batch_size = batch_size
        self.group = group_size(n_actions, batch_size, device) if group is None else group
        if self.group < 1 or batch_size % self.group:
            raise ValueError(f"group {self.group} does not divide batch_size {batch_size}")
        k, nn = self.group, n_actions * n_actions
        # code of a group: sum over its games g of (a0 * n + a1) * (n * n) ** (k - 1 - g)
        place = [nn ** (k - 1 - g) for g in range(k)]
        self.weights = torch.tensor(
            [w * m for w in place for m in (n_actions, 1)], dtype=torch.long, device=device
        )
        joints = torch.tensor(list(itertools.product(range(nn), repeat=k)), device=device)
        grouped = {name: t[joints].reshape(len(joints), -1) for name, t in tables.items()}
        self.tables = {name: t.contiguous() for name, t in grouped.items()}
        self.shapes = {name: (batch_size, *t.shape[1:]) for name, t in tables.items()}
        self.items: dict[str, np.ndarray] = {}
        self.numpy_dtypes: dict[str, np.dtype] = {}
        if device.type == "cpu":
            for name, table in self.tables.items():
                items = _numpy_rows(table)
                if items is not None:
                    self.items[name] = items
                    self.numpy_dtypes[name] = table.numpy().dtype

    def codes(self, actions: Tensor) -> Tensor:
        """Group codes ``[B / k]`` (long) of valid long actions ``[B, 2]``."""
        if self.group == 1:
            return torch.add(actions[:, 1], actions[:, 0], alpha=self.n_actions)
        return torch.mv(actions.reshape(-1, 2 * self.group), self.weights)

    def rows(self, codes: Tensor, *names: str) -> tuple[Tensor, ...]:
        """Rows ``[B, ...]`` of the tables ``names`` for the games of group ``codes``."""
        index = codes.numpy() if self.items else None
        return tuple(self._rows(name, codes, index) for name in names)

    def _rows(self, name: str, codes: Tensor, index: np.ndarray | None) -> Tensor:
        items = self.items.get(name)
        if items is None or index is None:
            return self.tables[name].index_select(0, codes).view(self.shapes[name])
        rows = items.take(index).view(self.numpy_dtypes[name]).reshape(self.shapes[name])
        return torch.from_numpy(rows)

"""COLA's update-function networks (`lola_games.agents.cola`): one small MLP per player and
seed, batched as per-seed weights ``[S, ...]``; how they are made, applied, saved and read."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lola_games.core.files import atomic_write

__all__ = ["NETS", "init_update_networks", "update_functions", "save_update_functions",
           "load_update_functions"]

NETS = {
    # family: (hidden width, activation after each hidden Linear: None = none)
    "polynomial": (8, ("relu", None)),
    "probability": (16, ("tanh", "tanh", "tanh")),
}
"""The official notebook's two update-function networks: hidden layers and activations."""

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def init_update_networks(shapes: Sequence[Sequence[int]], n_seeds: int, family: str,
                         width: int, generator: torch.Generator | None, device: Any,
                         dtype: torch.dtype) -> dict[str, Tensor]:
    """Per-seed MLPs ``{"<player>.w<l>": [S, in, out], "<player>.b<l>": [S, 1, out]}``, one per
    player, weights ``~ N(0, 0.1^2)`` and biases 0 (the notebook's init)."""
    _, acts = NETS[family]
    sizes = [math.prod(s) for s in shapes]
    d_in = sum(sizes)
    nets = {}
    for k, d_out in enumerate(sizes):
        dims = [d_in] + [width] * len(acts) + [d_out]
        for layer, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            nets[f"{k}.w{layer}"] = 0.1 * torch.randn(n_seeds, a, b, generator=generator,
                                                      device=device, dtype=dtype)
            nets[f"{k}.b{layer}"] = torch.zeros(n_seeds, 1, b, device=device, dtype=dtype)
    return nets


def update_functions(nets: dict[str, Tensor], family: str, theta: Sequence[Tensor],
                     n_seeds: int) -> list[Tensor]:
    """Every player's ``h_j(theta)``: ``theta`` are ``[S * B, ...]`` (``B`` points per seed,
    seed-major); returns ``[S * B, ...]`` blocks shaped like ``theta``."""
    _, acts = NETS[family]
    x = torch.cat([t.reshape(t.shape[0], -1) for t in theta], dim=1)
    x = x.reshape(n_seeds, -1, x.shape[1])  # [S, B, D]
    out = []
    for k, t in enumerate(theta):
        y = x
        for layer, act in enumerate((*acts, None)):
            y = torch.baddbmm(nets[f"{k}.b{layer}"], y, nets[f"{k}.w{layer}"])
            if act is not None:
                y = _ACTIVATIONS[act](y)
        out.append(y.reshape(t.shape))
    return out


def save_update_functions(path: str | os.PathLike, nets: dict[str, Tensor], net: str,
                          shapes: Sequence[Sequence[int]]) -> Path:
    """Write trained update functions (``{"<player>.w<l>": [R, in, out], ...}``) to ``path``
    for the ``networks`` setting of `lola_games.agents.cola.COLA`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"nets": {k: v.detach().cpu() for k, v in nets.items()}, "net": net,
               "shapes": [list(s) for s in shapes]}
    atomic_write(path, lambda f: torch.save(payload, f))
    return path


def load_update_functions(path: str | os.PathLike, net: str, shapes: Sequence[Sequence[int]],
                          n_seeds: int, device: Any, dtype: torch.dtype) -> dict[str, Tensor]:
    """Read update functions written by `save_update_functions` (``weights_only``: no
    code runs) for ``n_seeds`` seeds: ``R = n_seeds`` networks, or one for every seed.

    Raises:
        ValueError: a file of another network kind, other parameter shapes, or ``R`` that is
            neither 1 nor ``n_seeds``.
    """
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or not isinstance(data.get("nets"), dict):
        raise ValueError(f"{path} holds no COLA update functions")
    want = [list(s) for s in shapes]
    if data.get("net") != net or data.get("shapes") != want:
        raise ValueError(f"{path} holds {data.get('net')} networks for parameter shapes "
                         f"{data.get('shapes')}; this game needs {net} networks for {want}")
    nets = {}
    for key, value in data["nets"].items():
        if value.shape[0] not in (1, n_seeds):
            raise ValueError(f"{path} holds {value.shape[0]} networks per player; a run of "
                             f"{n_seeds} seeds needs 1 or {n_seeds}")
        nets[key] = value.to(device=device, dtype=dtype).expand(n_seeds, *value.shape[1:])
    return nets

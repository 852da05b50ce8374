"""Linear layers and GRUs called for all seeds at once on stacked per-seed parameters.

The fast path of the recurrent policies (`GRUPolicy`, `CoinGRUPolicy`) for
``seed_forward``: instead of calling the module once per seed under `torch.func.vmap`, every
layer is one batched matrix product over the seeds (``baddbmm``, the bias added in the same
call), and the GRU's recurrence is written with the fewest element-wise ops: the reset and
update gates of a step are one ``sigmoid`` over both, the candidate one ``addcmul`` and
``tanh``, the new state one ``lerp``. (``tanh`` written as ``2 sigmoid(2 x) - 1``, whose
forward is faster on CPUs, made the updates no faster: four ops to differentiate instead of
one.) The input projections of all ``T`` steps of a sequence
are one product (the inputs are known in advance), only ``h2h`` runs step by step. The
equations are those of `torch.nn.GRUCell` (as `GRUPolicy` writes them)::

    r, z = sigmoid(W_ir x + b_ir + W_hr h + b_hr), sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h = lerp(n, h, z)

Steps are laid out time-major inside (``[S, T, B, ...]``) so that each step's slice is
contiguous; inputs and outputs are batch-major (``[S, B, T, ...]``) as everywhere else.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lola_games.core.tensors import ParamDict

__all__ = ["Layer", "seed_layers", "seed_linear", "seed_gru"]

Layer = tuple[Tensor, Tensor]
"""A linear layer for all seeds: ``(W^T [S, D, O], b [S, 1, O])``."""


def seed_layers(params: ParamDict) -> dict[str, Layer]:
    """The linear layers of stacked per-seed ``params`` (every ``prefix + "weight"``
    ``[S, O, D]`` with its ``prefix + "bias"`` ``[S, O]``), by prefix, transposed once for
    `seed_linear` (a recurrent pass then reuses them at every step)."""
    return {name[:-len("weight")]: (weight.transpose(1, 2),
                                     params[name[:-len("weight")] + "bias"].unsqueeze(1))
            for name, weight in params.items() if name.endswith("weight")}


def seed_linear(layer: Layer, x: Tensor) -> Tensor:
    """``x [S, ..., D] @ W^T + b`` per seed (``layer`` from `seed_layers`): ``[S, ..., O]``."""
    weight_t, bias = layer
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    return torch.baddbmm(bias, flat, weight_t).view(*x.shape[:-1], weight_t.shape[-1])


def seed_gru(layers: dict[str, Layer], prefix: str, x: Tensor, hidden: Tensor | None
             ) -> tuple[Tensor, Tensor]:
    """GRU over ``x [S, B, T, D]`` from ``hidden [S, B, H]`` (zeros when ``None``) with the
    ``x2h`` and ``h2h`` layers of `GRUPolicy` under ``prefix`` (``layers`` from
    `seed_layers`): ``(states [S, B, T, H], last state [S, B, H])``."""
    n_seeds, batch, steps, _ = x.shape
    w_hh, b_hh = layers[prefix + "h2h."]  # [S, H, 3H], [S, 1, 3H]
    size = w_hh.shape[1]
    if hidden is None:
        hidden = x.new_zeros(n_seeds, batch, size)
    xs = seed_linear(layers[prefix + "x2h."], x.transpose(1, 2))  # [S, T, B, 3H]
    states = []
    sizes = [2 * size, size]
    for x_t in xs.unbind(1):  # one backward op for all steps
        x_rz, x_n = x_t.split(sizes, -1)
        h_rz, h_n = torch.baddbmm(b_hh, hidden, w_hh).split(sizes, -1)  # [S, B, 2H], [S, B, H]
        r, z = torch.sigmoid(x_rz + h_rz).chunk(2, -1)
        n = torch.tanh(torch.addcmul(x_n, r, h_n))
        hidden = torch.lerp(n, hidden, z)
        states.append(hidden)
    if steps == 1:
        return hidden.unsqueeze(2), hidden
    return torch.stack(states, dim=2), hidden

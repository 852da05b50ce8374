"""LOQA's networks: the actor and the Q-value critics of Aghajohari et al. (ICLR 2024).

As in the authors' code (MiladInk/loqa: ``coin_agent.py`` ``GRUCoinAgent``, ``ipd.py``
``POLAGruCell`` / ``OneStepIPDAgentDense``):

* `LOQACoinActor`: the flattened board goes through a dense layer with ReLU and a second
  dense layer without activation (``layers_before_gru=2``), a GRU and a linear head to the 4
  action logits (the paper's Coin Game runs: 128 units);
* `LOQACoinCritic`: the same stack (64 units) over the board with the round index ``t``
  (``0, 1, ...``, as a raw number) appended, giving one Q-value per action;
* `LOQAMatrixCritic`: on a two-action matrix game, an MLP of two ReLU layers of 16 units
  over the one-hot last outcome with ``t`` appended, one Q-value per action.

Differences: torch's initialisation (the original uses flax's); the GRU gates follow
``torch.nn.GRUCell`` (the same equations as flax's ``GRUCell`` with its biases merged);
the matrix critic reads the package's 5-way one-hot outcome (start, CC, CD, DC, DD) where
the original reads 4 indicators (all zero at the start).

Shapes: actors ``forward(obs [B, T, ...], hidden [B, H] | None) -> (logits [B, T, n],
hidden)``; critics ``forward(obs [B, T, ...]) -> Q [B, T, n]`` over whole episodes from
their first round (``t = 0 .. T-1``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lola_games.rollouts.nets import GRUPolicy

__all__ = ["LOQACoinActor", "LOQACoinCritic", "LOQAMatrixCritic", "with_time"]


def with_time(x: Tensor) -> Tensor:
    """Features ``[B, T, D]`` with the round index appended: ``[B, T, D + 1]``."""
    t = torch.arange(x.shape[-2], dtype=x.dtype, device=x.device)
    return torch.cat([x, t.view(-1, 1).expand(*x.shape[:-1], 1)], dim=-1)


class _TwoDenseGRU(nn.Module):
    """Dense (ReLU), dense, GRU, linear head: ``[B, T, D] -> ([B, T, n], hidden)``."""

    def __init__(self, in_features: int, n_outputs: int, hidden_size: int) -> None:
        super().__init__()
        self.dense1 = nn.Linear(in_features, hidden_size)
        self.dense2 = nn.Linear(hidden_size, hidden_size)
        self.gru = GRUPolicy(hidden_size, n_outputs, hidden_size)

    def forward(self, x: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lead = x.shape[:-1]
        # layers on a 2-d input: under vmap a seed's weights are not copied for each game
        h = self.dense2(torch.relu(self.dense1(x.reshape(-1, x.shape[-1]))))
        return self.gru(h.view(*lead, -1), hidden)


class LOQACoinActor(nn.Module):
    """LOQA's Coin Game policy (module docstring): ``[B, T, 4, N, N] -> [B, T, 4]``."""

    def __init__(self, grid_size: int = 3, n_actions: int = 4, hidden_size: int = 128) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.net = _TwoDenseGRU(self.obs_size, n_actions, hidden_size)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.net(obs.reshape(*obs.shape[:-3], self.obs_size), hidden)


class LOQACoinCritic(nn.Module):
    """LOQA's Coin Game Q-values (module docstring): ``[B, T, 4, N, N] -> Q [B, T, 4]``."""

    def __init__(self, grid_size: int = 3, n_actions: int = 4, hidden_size: int = 64) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.net = _TwoDenseGRU(self.obs_size + 1, n_actions, hidden_size)

    def forward(self, obs: Tensor) -> Tensor:
        return self.net(with_time(obs.reshape(*obs.shape[:-3], self.obs_size)))[0]


class LOQAMatrixCritic(nn.Module):
    """LOQA's matrix-game Q-values (module docstring): ``[B, T, 5] -> Q [B, T, 2]``."""

    def __init__(self, obs_dim: int = 5, n_actions: int = 2, hidden_size: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + 1, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, n_actions))

    def forward(self, obs: Tensor) -> Tensor:
        x = with_time(obs)
        return self.net(x.reshape(-1, x.shape[-1])).view(*obs.shape[:-1], -1)

"""Fixed Coin Game policies: always cooperate and always defect, as policy modules.

The Coin Game counterparts of the IPD's ``allc`` and ``alld``, with the package's Coin Game
policy signature ``forward(obs [B, T, 4, N, N], hidden) -> (logits [B, T, 4], None)`` so that
they play through the samplers (`lola_games.rollouts.coin.sample_coin_rollout`).

The definitions are those of the LOQA authors' evaluation (MiladInk/loqa, ``coin_game.py``:
``get_new_distances``, ``get_cooperative_action``, ``get_defect_action``; the same functions
in ``league/agent.py`` drive the league's "Always Cooperate" and "Always Defect" agents):

* every move is scored by the distance to the coin of the cell it leads to, the Manhattan
  distance on the torus (each axis ``min(|d|, N - |d|)``); moves wrap around the board;
* **always defect** takes a move of least distance, whatever the coin's colour: it walks to
  the nearest coin (here there is one coin, so to the coin);
* **always cooperate** takes a move of least distance when the coin is its own colour, and a
  move of *greatest* distance when it is the other's: it walks away from the other's coin, so
  it never picks one up;
* ties between moves are broken uniformly at random.

One difference: the authors' code breaks ties by shuffling the 4 moves with a key that stays
the same for all rounds of an episode (one random move order per episode); here every round
draws afresh (the tied moves get equal logits and the sampler draws among them).

The modules have one parameter, ``gap``: the logit of every move that is not chosen is
``-gap`` (the chosen moves have 0). Its default, `GAP`, makes the other moves' probability
exactly 0 in float32 and float64, so the policies are deterministic up to ties.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lola_games.games.coin import MOVES

__all__ = ["GAP", "move_distances", "CoinAlwaysCooperatePolicy", "CoinAlwaysDefectPolicy"]

GAP = 1000.0
"""Default logit gap between the chosen moves and the others (``exp(-1000)`` is 0)."""


def _cell(plane: Tensor) -> tuple[Tensor, Tensor]:
    """Row and column ``[...]`` of the marked cell of one-hot maps ``[..., N, N]``."""
    n = plane.shape[-1]
    flat = plane.flatten(-2).argmax(-1)
    return flat // n, flat % n


def move_distances(obs: Tensor) -> Tensor:
    """Torus distance ``[..., 4]`` from the observer's cell after each move to the coin.

    Args:
        obs: observations ``[..., 4, N, N]`` from the observer's side (channels me, other,
            my coin, other's coin; see `lola_games.games.coin`).

    Returns:
        ``[..., 4]`` (long): for each action (right, left, down, up) the Manhattan distance on
        the torus between the cell the move leads to (wrapping around) and the coin.
    """
    n = obs.shape[-1]
    row, col = _cell(obs[..., 0, :, :])
    coin_row, coin_col = _cell(obs[..., 2, :, :] + obs[..., 3, :, :])
    moves = torch.tensor(MOVES, device=obs.device)  # [4, 2]
    d_row = ((row[..., None] + moves[:, 0]) % n - coin_row[..., None]).abs()
    d_col = ((col[..., None] + moves[:, 1]) % n - coin_col[..., None]).abs()
    return torch.minimum(d_row, n - d_row) + torch.minimum(d_col, n - d_col)


def _logits(chosen: Tensor, gap: Tensor, dtype: torch.dtype) -> Tensor:
    """0 for the chosen moves, ``-gap`` for the others (``[..., 4]``)."""
    zero = torch.zeros((), dtype=dtype, device=chosen.device)
    return torch.where(chosen, zero, -gap.to(dtype))


class CoinAlwaysDefectPolicy(nn.Module):
    """Always defect: a move of least torus distance to the coin, whatever its colour.

    ``forward(obs [B, T, 4, N, N], hidden) -> (logits [B, T, 4], None)``; memoryless (see the
    module docstring for the source and the ties).
    """

    def __init__(self, gap: float = GAP) -> None:
        super().__init__()
        self.gap = nn.Parameter(torch.tensor(float(gap)), requires_grad=False)

    def chosen(self, obs: Tensor) -> Tensor:
        """``bool [..., 4]``: the moves the policy may take on boards ``obs [..., 4, N, N]``."""
        distance = move_distances(obs)
        return distance == distance.min(-1, keepdim=True).values

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, None]:
        return _logits(self.chosen(obs), self.gap, obs.dtype), None


class CoinAlwaysCooperatePolicy(CoinAlwaysDefectPolicy):
    """Always cooperate: a move of least torus distance to a coin of its own colour, of
    greatest distance from a coin of the other's colour (it never takes the other's coins).

    ``forward(obs [B, T, 4, N, N], hidden) -> (logits [B, T, 4], None)``; memoryless (see the
    module docstring for the source and the ties).
    """

    def chosen(self, obs: Tensor) -> Tensor:
        """``bool [..., 4]``: the moves the policy may take on boards ``obs [..., 4, N, N]``."""
        distance = move_distances(obs)
        mine = obs[..., 2, :, :].flatten(-2).sum(-1, keepdim=True) > 0  # [..., 1]
        nearest = distance == distance.min(-1, keepdim=True).values
        farthest = distance == distance.max(-1, keepdim=True).values
        return torch.where(mine, nearest, farthest)

"""Coin Game policy and value networks (image observations ``[B, T, 4, N, N]``, 4 actions)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lola_games.core.tensors import ParamDict
from lola_games.rollouts.nets import GRUPolicy, MLPPolicy, MLPValue, SeedStepper
from lola_games.rollouts.seed_gru import seed_gru, seed_layers, seed_linear

__all__ = ["CoinConvTrunk", "CoinConvGRUPolicy", "CoinMLPPolicy", "CoinConvValue",
           "CoinMLPValue", "CoinGRUPolicy"]

# =============================================================================================
# Coin Game networks
# =============================================================================================
# Observations are images [B, T, 4, N, N] (channels me, other, my coin, other's coin; see
# lola_games.games.coin) and there are 4 actions. The LOLA paper's Coin Game policy (as in
# alshedivat/lola, lola/networks.py) is two 3x3 convolutions with 20 channels, stride 1 and
# "same" padding, each followed by ReLU, then a recurrent layer of 32 units and a linear
# layer to the action logits. Differences: a GRU of 32 units where that code has an LSTM
# of 32 units; no batch normalisation (that code normalises with the statistics of each batch, so a
# one-step call and a whole-sequence call would disagree); and the image is read
# channels-first (that code feeds [4, N, N] to a channels-last convolution, i.e. as a
# 4 x N image with N channels).


class CoinConvTrunk(nn.Module):
    """Two 3x3 convolutions (stride 1, "same" padding) with ReLU, flattened.

    ``obs [..., 4, N, N]`` -> features ``[..., channels * N * N]``.
    """

    def __init__(self, grid_size: int = 3, channels: int = 20) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, channels, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1)
        self.out_features = channels * grid_size * grid_size

    def forward(self, obs: Tensor) -> Tensor:
        lead = obs.shape[:-3]
        x = obs.reshape(-1, *obs.shape[-3:])
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return x.reshape(*lead, self.out_features)


class CoinConvGRUPolicy(nn.Module):
    """The LOLA paper's Coin Game policy: conv trunk, GRU, linear head (notes above).

    ``forward(obs [B, T, 4, N, N], hidden [B, H] | None) -> (logits [B, T, 4], hidden)``.
    """

    def __init__(
        self, grid_size: int = 3, n_actions: int = 4, channels: int = 20, hidden_size: int = 32
    ) -> None:
        super().__init__()
        self.trunk = CoinConvTrunk(grid_size, channels)
        self.gru = GRUPolicy(self.trunk.out_features, n_actions, hidden_size)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.gru(self.trunk(obs), hidden)


class CoinMLPPolicy(nn.Module):
    """MLP (tanh) over the flattened observation: ``[B, T, 4, N, N]`` -> logits ``[B, T, 4]``.

    Memoryless (the board is the whole state of the game); ``hidden`` is ignored.
    """

    def __init__(
        self, grid_size: int = 3, n_actions: int = 4, hidden: Sequence[int] = (64,)
    ) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.mlp = MLPPolicy(self.obs_size, n_actions, hidden)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, None]:
        # layers on a 2-d input: under vmap a seed's weights are not copied for each game
        logits, _ = self.mlp(obs.reshape(-1, self.obs_size))
        return logits.view(*obs.shape[:-3], -1), None


class CoinConvValue(nn.Module):
    """Value of an observation for baselines: conv trunk and a linear layer.

    ``obs [..., 4, N, N]`` -> ``[...]`` (the value head of the LOLA Coin Game code, here
    with a trunk of its own).
    """

    def __init__(self, grid_size: int = 3, channels: int = 20) -> None:
        super().__init__()
        self.trunk = CoinConvTrunk(grid_size, channels)
        self.head = nn.Linear(self.trunk.out_features, 1)

    def forward(self, obs: Tensor) -> Tensor:
        features = self.trunk(obs)
        return self.head(features.reshape(-1, features.shape[-1])).view(features.shape[:-1])


class CoinMLPValue(nn.Module):
    """MLP value of the flattened observation: ``[..., 4, N, N]`` -> ``[...]``."""

    def __init__(self, grid_size: int = 3, hidden: Sequence[int] = (64,)) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.mlp = MLPValue(self.obs_size, hidden)

    def forward(self, obs: Tensor) -> Tensor:
        return self.mlp(obs.reshape(-1, self.obs_size)).view(obs.shape[:-3])


class CoinGRUPolicy(nn.Module):
    """The POLA paper's Coin Game policy: a dense layer (ReLU), a GRU, a linear head.

    As in Silent-Zebra/POLA (``jax_files/POLA_dice_jax.py``, ``RNN`` with
    ``layers_before_gru=1``): the flattened board ``[B, T, 4 N N]`` goes through one dense
    layer of ``hidden_size`` units with ReLU, a GRU of ``hidden_size`` units, and a linear
    layer to the 4 action logits (the paper's runs use 64 units).

    ``forward(obs [B, T, 4, N, N], hidden [B, H] | None) -> (logits [B, T, 4], hidden)``.

    ``records_logits``: the Coin Game sampler keeps the logits it computes (with their
    graph), so the log-probabilities of a rollout cost no second pass over its episodes
    (`lola_games.rollouts.coin.sample_coin_rollout`).
    """

    records_logits = True

    def __init__(self, grid_size: int = 3, n_actions: int = 4, hidden_size: int = 64) -> None:
        super().__init__()
        self.obs_size = 4 * grid_size * grid_size
        self.dense = nn.Linear(self.obs_size, hidden_size)
        self.gru = GRUPolicy(hidden_size, n_actions, hidden_size)

    def forward(self, obs: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        lead = obs.shape[:-3]
        x = torch.relu(self.dense(obs.reshape(-1, self.obs_size)))
        return self.gru(x.view(*lead, -1), hidden)

    def forward_seeds(
        self, params: ParamDict, obs: Tensor, hidden: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Seed-batched forward (`seed_gru`): ``obs [S, B, T, 4, N, N]``, ``hidden [S, B,
        H]`` -> ``(logits [S, B, T, 4], hidden [S, B, H])``."""
        return self.seed_stepper(params)(obs, hidden)

    def seed_stepper(self, params: ParamDict) -> SeedStepper:
        """`forward_seeds` with the layers of ``params`` prepared once (`seed_layers`), for
        the sampler's calls one round at a time."""
        layers = seed_layers(params)

        def step(obs: Tensor, hidden: Tensor | None) -> tuple[Tensor, Tensor]:
            x = torch.relu(seed_linear(layers["dense."], obs.flatten(-3)))
            states, hidden = seed_gru(layers, "gru.", x, hidden)
            return seed_linear(layers["gru.head."], states), hidden

        return step


"""What a sampled learner needs from the game it plays: its networks and its rollouts.

The sampled learners (`lola_games.agents.pg`) play two kinds of games through one code
path; only three things depend on the kind:

* the **networks**, chosen by policy name (`build_modules`):

  ========================  =================================================================
  matrix games (2 actions)  ``tabular`` (`TabularPolicy`),
                            ``mlp`` (`MLPPolicy`), ``gru``
                            (`GRUPolicy`); observations are the
                            one-hot last outcome
  the Coin Game             ``conv-gru`` (`CoinConvGRUPolicy`,
                            the LOLA paper's two convolutions and a recurrent layer),
                            ``coin-mlp`` (`CoinMLPPolicy`, an MLP
                            over the board), ``coin-gru``
                            (`CoinGRUPolicy`, the POLA paper's
                            dense layer and GRU), ``loqa-gru``
                            (`LOQACoinActor`, the LOQA paper's
                            two dense layers and GRU); observations are the ``[4, N, N]`` board
  ========================  =================================================================

  with a value network for the ``"value"`` baseline that sees the same observations
  (`TabularValue` or `MLPValue`;
  `CoinConvValue` for ``conv-gru``, else
  `CoinMLPValue`). ``hidden_size`` sets the width of every
  network but the tabular ones. A policy given as an ``nn.Module`` is used as it is on any
  game (it must read that game's observations).
* the **rollouts** (`sample_game_rollout`): `lola_games.rollouts.sampling.sample_rollout`
  for matrix games, `lola_games.rollouts.coin.sample_coin_rollout` for the Coin Game.
  Both give ``actions`` and ``rewards`` ``[S, B, T, 2]`` and the observations that
  `log_probs` reads, so the DiCE objective is the same code.
* the **metrics** (`game_metrics`): memory-one probabilities on matrix games; the
  share of own-colour coins and coins per round on the Coin Game.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import Tensor, nn

from lola_games.core.tensors import ParamDict
from lola_games.games.coin import CoinGame
from lola_games.rollouts.coin import CoinRollout, coin_metrics, sample_coin_rollout
from lola_games.rollouts.coin_nets import (
    CoinConvGRUPolicy,
    CoinConvValue,
    CoinGRUPolicy,
    CoinMLPPolicy,
    CoinMLPValue,
)
from lola_games.rollouts.loqa_nets import LOQACoinActor
from lola_games.rollouts.nets import GRUPolicy, MLPPolicy, MLPValue, TabularPolicy, TabularValue
from lola_games.rollouts.sampling import Rollout, sample_rollout

__all__ = [
    "MATRIX_POLICIES",
    "COIN_POLICIES",
    "POLICIES",
    "is_coin_game",
    "build_modules",
    "check_policy_fits",
    "sample_game_rollout",
    "game_metrics",
]

MATRIX_POLICIES = ("tabular", "mlp", "gru")
"""Policy names for two-action matrix games."""
COIN_POLICIES = ("conv-gru", "coin-mlp", "coin-gru", "loqa-gru")
"""Policy names for the Coin Game."""
POLICIES = MATRIX_POLICIES + COIN_POLICIES
"""Every policy name a sampled learner takes."""


def is_coin_game(game: Any) -> bool:
    """Whether ``game`` is a `CoinGame`."""
    return isinstance(game, CoinGame)


def _policy_module(name: str, hidden_size: int, grid_size: int) -> nn.Module:
    if name == "tabular":
        return TabularPolicy()
    if name == "mlp":
        return MLPPolicy(5, 2, (hidden_size,))
    if name == "gru":
        return GRUPolicy(5, 2, hidden_size)
    if name == "conv-gru":
        return CoinConvGRUPolicy(grid_size, hidden_size=hidden_size)
    if name == "coin-mlp":
        return CoinMLPPolicy(grid_size, hidden=(hidden_size,))
    if name == "coin-gru":
        return CoinGRUPolicy(grid_size, hidden_size=hidden_size)
    if name == "loqa-gru":
        return LOQACoinActor(grid_size, hidden_size=hidden_size)
    raise ValueError(f"policy must be one of {', '.join(POLICIES)} or an nn.Module, got {name!r}")


def _value_module(policy: str | nn.Module, module: nn.Module, hidden_size: int,
                  coin: bool, grid_size: int) -> nn.Module:
    if not coin:
        tabular = getattr(module, "memory_one", False)
        return TabularValue() if tabular else MLPValue(5, (hidden_size,))
    if policy == "conv-gru":
        return CoinConvValue(grid_size)
    return CoinMLPValue(grid_size, (hidden_size,))


def build_modules(
    policy: str | nn.Module, value: nn.Module | None, hidden_size: int, game: Any = None
) -> tuple[nn.Module, nn.Module]:
    """``(policy module, value module)`` of a sampled learner on ``game``.

    Args:
        policy: a name of `POLICIES` or an ``nn.Module`` (used as it is).
        value: the value module, or ``None`` for the default of the policy and game (see the
            module docstring).
        hidden_size: width of the networks.
        game: the game; ``None`` means a matrix game for matrix policy names and the 3 x 3
            Coin Game for Coin Game policy names (the modules an agent shows before it is
            given a game).

    Raises:
        ValueError: an unknown policy name, or a value that is not an ``nn.Module``.
    """
    if isinstance(policy, str) and policy not in POLICIES:
        raise ValueError(
            f"policy must be one of {', '.join(POLICIES)} or an nn.Module, got {policy!r}")
    if not isinstance(policy, (str, nn.Module)):
        raise ValueError(
            f"policy must be one of {', '.join(POLICIES)} or an nn.Module, got {policy!r}")
    coin = is_coin_game(game) or (game is None and policy in COIN_POLICIES)
    grid_size = game.grid_size if is_coin_game(game) else 3
    module = policy if isinstance(policy, nn.Module) else _policy_module(policy, hidden_size,
                                                                         grid_size)
    if value is None:
        value = _value_module(policy, module, hidden_size, coin, grid_size)
    if not isinstance(value, nn.Module):
        raise ValueError(f"value must be an nn.Module or None, got {value!r}")
    return module, value


def check_policy_fits(policy: str | nn.Module, game: Any, who: str) -> None:
    """Raise ``ValueError`` when the policy name ``policy`` is not one for ``game``.

    ``who`` names the agent in the message. Modules pass (they are the caller's choice).
    """
    if not isinstance(policy, str):
        return
    name = getattr(game, "name", game)
    if is_coin_game(game) and policy not in COIN_POLICIES:
        raise ValueError(
            f"{who}: policy {policy!r} is a policy of two-action matrix games (it reads the "
            f"last outcome) and cannot play {name!r}; on the Coin Game use one of "
            f"{', '.join(COIN_POLICIES)} (--policy)")
    if not is_coin_game(game) and policy in COIN_POLICIES:
        raise ValueError(
            f"{who}: policy {policy!r} reads Coin Game boards and cannot play {name!r}; on "
            f"matrix games use one of {', '.join(MATRIX_POLICIES)} (--policy)")


def sample_game_rollout(
    game: Any,
    policies: tuple[nn.Module, nn.Module] | list[nn.Module],
    params: tuple[ParamDict, ParamDict] | list[ParamDict],
    batch_size: int,
    length: int,
    generator: torch.Generator | None = None,
) -> Rollout | CoinRollout:
    """``batch_size`` episodes of ``length`` rounds per seed of ``game`` (no gradients): a
    `Rollout` of a matrix game or a
    `CoinRollout` of the Coin Game."""
    modules = cast(tuple[nn.Module, nn.Module], tuple(policies))
    stacked = cast(tuple[ParamDict, ParamDict], tuple(params))
    if is_coin_game(game):
        return sample_coin_rollout(game, modules, stacked, batch_size, length, generator)
    return sample_rollout(game, modules, stacked, batch_size, length, generator)


def game_metrics(game: Any, roll: Rollout | CoinRollout) -> dict[str, Tensor]:
    """The metrics ``[2, S]`` that only the game's kind has, from a rollout: on the Coin
    Game ``own_coin_share`` and ``coins_per_round`` (`coin_metrics`); none for matrix games
    (their memory-one probabilities come from the policies, not from play)."""
    if isinstance(roll, CoinRollout):
        metrics = coin_metrics(roll)
        return {k: v for k, v in metrics.items() if k != "value"}
    return {}

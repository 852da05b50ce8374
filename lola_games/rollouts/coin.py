"""Sampled Coin Game episodes of two policies, batched over seeds, and their metrics.

The Coin Game counterpart of `lola_games.rollouts.sampling.Rollout` and
`lola_games.rollouts.sampling.sample_rollout`: `sample_coin_rollout` plays ``S`` seeds x
``B`` episodes of ``T`` rounds in one `BatchedCoinGame`
of ``S * B`` games, without gradients, and returns a `CoinRollout` that stores the
boards (not the images) and rebuilds each player's observations on demand. A
`CoinRollout` has the ``actions``, ``rewards`` and ``obs(player, dtype)`` that
`lola_games.rollouts.sampling.log_probs` and `lola_games.rollouts.sampling.rollout_values` read,
so those recompute differentiable log-probabilities ``[S, B, T]`` and values of a Coin Game
rollout exactly as for a matrix game::

    roll = sample_coin_rollout(game, (pol0, pol1), (params0, params1), 128, 150, gen)
    logp0 = log_probs(pol0, params0, roll, player=0)       # [S, B, T], with gradients
    metrics = coin_metrics(roll)                            # name -> [2, S]

Policies are any modules with the package's policy signature over Coin Game observations,
``forward(obs [B, T, 4, N, N], hidden) -> (logits [B, T, 4], hidden)`` (see
`CoinConvGRUPolicy`, `CoinMLPPolicy`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import Tensor, nn

from lola_games.core.tensors import ParamDict
from lola_games.envs.batched_coin import BatchedCoinGame
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_any_game
from lola_games.rollouts.coin_rollout import CoinRollout
from lola_games.rollouts.nets import SeedStepper
from lola_games.rollouts.sampling import sample_categorical, seed_forward

__all__ = ["CoinRollout", "sample_coin_rollout", "coin_metrics", "COIN_METRICS"]

COIN_METRICS = ("value", "own_coin_share", "coins_per_round")
"""Names of the metrics of `coin_metrics`."""





def _checked_game_and_length(
    game: CoinGame | str, batch_size: int, length: int | None
) -> tuple[CoinGame, int]:
    """The `CoinGame` of ``game`` and the episode length (default ``game.max_cycles``), after
    checking them and ``batch_size`` (``TypeError`` / ``ValueError``)."""
    if isinstance(game, str):
        game = get_any_game(game)
    if not isinstance(game, CoinGame):
        raise TypeError(f"game must be a CoinGame or 'coin_game', got {game!r}")
    length = game.max_cycles if length is None else length
    for name, v, high in (("batch_size", batch_size, None), ("length", length, game.max_cycles)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or (high and v > high):
            bound = f" and <= game.max_cycles = {high}" if high else ""
            raise ValueError(f"{name} must be an int >= 1{bound}, got {v!r}")
    return game, length


def sample_coin_rollout(
    game: CoinGame | str,
    policies: tuple[nn.Module, nn.Module],
    params: tuple[ParamDict, ParamDict],
    batch_size: int,
    length: int | None = None,
    generator: torch.Generator | None = None,
) -> CoinRollout:
    """Sample ``batch_size`` episodes of ``length`` rounds per seed from fresh start boards.

    Nothing is differentiated, except for a policy with ``records_logits = True`` (the
    recurrent ``coin-gru``, `CoinGRUPolicy`): its logits of every round are kept in the
    rollout, with their graph when grad is enabled (``CoinRollout.logits``), and
    `lola_games.rollouts.sampling.log_probs` then reads them instead of running the policy
    over the episodes a second time.

    Args:
        game: a `CoinGame` or ``"coin_game"``.
        policies: the two players' modules (signature in the module docstring).
        params: their stacked per-seed parameters ``[S, ...]`` (same ``S``, same device).
        batch_size: episodes per seed.
        length: rounds per episode, ``1 <= length <= game.max_cycles`` (default
            ``game.max_cycles``): the first ``length`` rounds of each episode.
        generator: ``torch.Generator`` on the parameters' device, for start boards, coin
            placements and actions; when omitted one is seeded from torch's global RNG.

    Raises:
        ValueError, TypeError: a bad argument, named in the message.
    """
    game, length = _checked_game_and_length(game, batch_size, length)
    first = next(iter(params[0].values()))
    n_seeds, device = first.shape[0], first.device
    if next(iter(params[1].values())).shape[0] != n_seeds:
        raise ValueError("both players' params must have the same number of seeds")
    if generator is None:
        generator = torch.Generator(device=device)
        generator.manual_seed(int(torch.randint(0, 2**62, ())))
    elif generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device} but params are on {device}")
    dtype = first.dtype if first.is_floating_point() else torch.get_default_dtype()

    env = BatchedCoinGame(game, n_seeds * batch_size, device=device, dtype=dtype,
                          generator=generator)
    obs, _ = env.reset()
    u = torch.rand(n_seeds, batch_size, length, 2, generator=generator, device=device)
    hidden: list[Tensor | None] = [None, None]
    steps: dict[str, list[Tensor]] = {k: [] for k in ("cells", "coin_owner", "actions",
                                                       "rewards", "picked_own", "picked_other")}
    records = [getattr(p, "records_logits", False) for p in policies]
    steppers = [stepper(p, pr, r) for p, pr, r in zip(policies, params, records, strict=True)]
    grad = torch.is_grad_enabled()
    logits_t: list[list[Tensor]] = [[], []]
    codes: list[Tensor] = []  # the boards as integers, decoded once at the end
    for t in range(length):
        record_boards(env, steps, codes)
        logits = []
        for i in range(2):
            o = obs[:, i].view(n_seeds, batch_size, 1, *game.obs_shape)
            with torch.set_grad_enabled(grad and records[i]):
                logits_i, hidden[i] = steppers[i](o, hidden[i])
            if records[i]:
                logits_t[i].append(logits_i)
            logits.append(logits_i[:, :, 0])
        with torch.no_grad():  # both players' draws in one call, row by row as two would
            a = sample_categorical(torch.stack(logits, dim=2), u[:, :, t])  # [S, B, 2]
        obs, rewards, _, _, info = env.step(a.view(-1, 2), check=False)
        steps["actions"].append(a.view(-1, 2))
        steps["rewards"].append(rewards)
        steps["picked_own"].append(info["picked_own"])
        steps["picked_other"].append(info["picked_other"])
    out = {
        k: torch.stack(v, dim=1).view(n_seeds, batch_size, length, *v[0].shape[1:])
        for k, v in steps.items() if v
    }
    if codes:
        cells, owner = env.decode_boards(torch.stack(codes, dim=1))
        out["cells"] = cells.view(n_seeds, batch_size, length, 3)
        out["coin_owner"] = owner.view(n_seeds, batch_size, length)
    recorded = tuple(torch.cat(lg, dim=2) if lg else None for lg in logits_t)
    used = tuple(tuple(p.values()) if r else () for p, r in zip(params, records, strict=True))
    return CoinRollout(game=game, cells=out["cells"], coin_owner=out["coin_owner"],
                       actions=out["actions"], rewards=out["rewards"],
                       picked_own=out["picked_own"], picked_other=out["picked_other"],
                       logits=(recorded[0], recorded[1]), sampled_with=(used[0], used[1]))


def record_boards(env: BatchedCoinGame, steps: dict[str, list[Tensor]], codes: list[Tensor]
                  ) -> None:
    """Keep the boards before a round: their integer codes ``[B]`` in ``codes`` when the
    env has them (`BatchedCoinGame.board_codes`), else ``cells`` and ``coin_owner`` in
    ``steps``."""
    board = env.board_codes
    if board is not None:
        codes.append(board)
    else:
        steps["cells"].append(env.cells)
        steps["coin_owner"].append(env.coin_owner)


def stepper(policy: nn.Module, params: ParamDict, records: bool) -> SeedStepper:
    """The policy's calls for one round at a time: its ``seed_stepper(params)`` when it
    records its logits (`CoinGRUPolicy`), else `seed_forward` of ``params``."""
    if records and hasattr(policy, "seed_stepper"):
        return cast(Callable[[ParamDict], SeedStepper], policy.seed_stepper)(params)
    return lambda obs, hidden: seed_forward(policy, params, obs, hidden)


def coin_metrics(rollout: CoinRollout) -> dict[str, Tensor]:
    """Per player and seed, each ``[2, S]`` (player, seed), over all episodes and rounds:

    * ``value``: mean reward per round;
    * ``own_coin_share``: coins of its own colour / all coins the player picked up (NaN for
      a seed in which the player picked up none);
    * ``coins_per_round``: coins the player picked up per round (a coin both players step
      on counts for both).
    """
    rewards = rollout.rewards
    dtype = rewards.dtype
    own = rollout.picked_own.sum(dim=(1, 2)).T.to(dtype)
    coins = own + rollout.picked_other.sum(dim=(1, 2)).T.to(dtype)
    rounds = rewards.shape[1] * rewards.shape[2]
    return {
        "value": rewards.mean(dim=(1, 2)).T,
        "own_coin_share": own / coins,
        "coins_per_round": coins / rounds,
    }

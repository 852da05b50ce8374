"""Meta-training M-FOS with PPO (`meta_train`); see `lola_games.agents.mfos`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.mfos.config import OPPONENTS, MFOSConfig
from lola_games.agents.mfos.game import MetaGame, episode, opponent_agent, self_play_episode
from lola_games.agents.mfos.ppo import init_actor_critic, ppo_update
from lola_games.agents.mfos.saved import (
    FORMAT,
    SAVED_FILES,
    MetaTraining,
    save_meta_training,
)
from lola_games.core.device import resolve_device
from lola_games.core.files import DirectoryLock, check_out_path, refuse_link
from lola_games.functional import Adam
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game
from lola_games.values.exact import check_gamma

__all__ = ["meta_train", "check_meta_game", "meta_training_dir", "check_meta_training_dir",
           "MetaLearners"]


def meta_train(
    game: str | MatrixGame,
    opponent: str,
    n_seeds: int = 1,
    config: MFOSConfig | None = None,
    *,
    gamma: float | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    callback: Callable[[int, Tensor], None] | None = None,
) -> MetaTraining:
    """Meta-train ``n_seeds`` M-FOS agents against ``opponent`` on ``game``.

    Args:
        game: a two-action matrix game or its name.
        opponent: ``"naive"``, ``"lola"`` or ``"self"`` (meta-self-play).
        n_seeds: independent meta-training runs, batched.
        config: the settings (default `MFOSConfig`, the official ones).
        gamma: inner discount (default 0.96; 0 makes a one-shot game).
        seed: seeds everything (initial params, games, sampling).
        device: where to train.
        out_dir: write a meta-training directory here (see the module docstring).
        overwrite: replace the files of an existing one.
        callback: called after each meta-episode with its index and rewards ``[2, S]``.

    Raises:
        ValueError: unknown opponent, a game that is not a two-action matrix game, bad
            settings; FileExistsError: ``out_dir`` already holds a meta-training run.
    """
    cfg = config or MFOSConfig()
    if not isinstance(cfg, MFOSConfig):
        raise TypeError(f"config must be an MFOSConfig, got {type(cfg).__name__}")
    game, gamma = check_meta_game(game, gamma, opponent, n_seeds)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    device = resolve_device(device)
    check_meta_training_dir(out_dir, overwrite)  # before anything is made
    out = meta_training_dir(out_dir, overwrite)
    lock = DirectoryLock(out).acquire() if out is not None else None
    try:
        return _meta_train(game, gamma, opponent, n_seeds, cfg, seed, device, out, callback)
    finally:
        if lock is not None:
            lock.release()


def _meta_train(game: MatrixGame, gamma: float, opponent: str, n_seeds: int, cfg: MFOSConfig,
                seed: int, device: torch.device, out: Path | None,
                callback: Callable[[int, Tensor], None] | None) -> MetaTraining:
    """`meta_train` after its checks (``out`` made and locked, or ``None``)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    opp_agent = opponent_agent("naive" if opponent == "self" else opponent, cfg.opponent_lr)
    meta = MetaGame(game, gamma, opp_agent)
    lr = cfg.lr / 10 if opponent == "self" else cfg.lr  # the official self-play rate
    learners = MetaLearners(meta, cfg, Adam(lr, betas=cfg.betas), 2 if opponent == "self"
                            else 1, n_seeds, generator, device)
    log = torch.full((cfg.meta_episodes, 2, n_seeds), float("nan"), dtype=torch.float64)
    lamb = 1.0
    for index in range(cfg.meta_episodes):
        if opponent == "self":
            lamb = lamb - cfg.anneal if lamb > 0 else lamb
            coin = float(torch.rand((), generator=generator, device=device))
            learners.self_play(log[index]) if coin > lamb else learners.against_naive()
        else:
            learners.against_opponent(log[index])
        if callback is not None:
            callback(index, log[index])
    run_config: dict[str, Any] = {
        "format": FORMAT, "kind": "mfos", "game": game.name, "game_spec": game.spec(),
        "gamma": gamma, "opponent": opponent, "n_seeds": n_seeds, "seed": seed,
        "policy_dim": meta.d, "mfos": {**asdict(cfg), "betas": list(cfg.betas)},
        "meta_lr": lr}
    result = MetaTraining(run_config, game, [{k: v.detach() for k, v in p.items()}
                                             for p in learners.params], log, out)
    if out is not None:
        save_meta_training(out, result)
    return result


def check_meta_game(game: str | MatrixGame, gamma: float | None, opponent: str, n_seeds: int
                    ) -> tuple[MatrixGame, float]:
    """The game and inner discount of a meta-training (gamma 0.96 by default), after checking
    them, the opponent and the seed count.

    Raises:
        ValueError: a game that is not a two-action matrix game, a bad gamma, an unknown
            opponent or a bad seed count.
    """
    game = get_game(game)
    if not isinstance(game, MatrixGame) or game.n_actions != 2:
        raise ValueError(f"M-FOS plays two-action matrix games, not {game!r}")
    gamma = 0.96 if gamma is None else gamma
    check_gamma(gamma)
    if opponent not in OPPONENTS:
        raise ValueError(f"opponent must be one of {', '.join(OPPONENTS)}, got {opponent!r}")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    return game, float(gamma)


def meta_training_dir(out_dir: str | os.PathLike[str] | None, overwrite: bool) -> Path | None:
    """The meta-training directory, made (``None`` for none).

    Raises:
        FileExistsError: it holds a meta-training run and ``overwrite`` is false.
    """
    check_meta_training_dir(out_dir, overwrite)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    return out


def check_meta_training_dir(out_dir: str | os.PathLike[str] | None, overwrite: bool) -> None:
    """Check a meta-training directory before anything is made (nothing is written).

    Args:
        out_dir: the directory, or ``None`` for none.
        overwrite: whether an existing meta-training may be replaced.

    Raises:
        ValueError: an empty path, a path that is not a directory, or a meta-training file
            that is a symbolic link; FileExistsError: it holds a meta-training run and
            ``overwrite`` is false.
    """
    if out_dir is None:
        return
    out = check_out_path(out_dir, "out_dir")
    for name in SAVED_FILES:
        refuse_link(out / name)
    if (out / "mfos.pt").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a meta-training run: replace it "
                              f"(--overwrite, or overwrite=True) or choose another directory")


class MetaLearners:
    """One or two meta-agents (actor-critic params ``[S, ...]`` and Adam states) that learn
    with PPO, one meta-episode at a time, on ``meta``."""

    def __init__(self, meta: MetaGame, cfg: MFOSConfig, optimizer: Adam, n_agents: int,
                 n_seeds: int, generator: torch.Generator, device: torch.device) -> None:
        self.meta, self.cfg, self.optimizer = meta, cfg, optimizer
        self.n_seeds, self.generator, self.device = n_seeds, generator, device
        self.dtype = torch.float32
        self.params = [init_actor_critic(n_seeds, meta.d, cfg.hidden_size, generator, device,
                                         self.dtype) for _ in range(n_agents)]
        self.states: list[Any] = [optimizer.init(p) for p in self.params]

    def learn(self, i: int, batch: tuple[Tensor, ...]) -> None:
        """Meta-agent ``i``'s PPO update on ``(obs, actions, logps, rewards)``."""
        obs, actions, logps, rewards = batch
        self.params[i], self.states[i] = ppo_update(self.params[i], self.states[i],
                                                    self.optimizer, obs, actions, logps,
                                                    rewards, self.cfg)

    def play(self, i: int) -> tuple[Tensor, ...]:
        """An episode of meta-agent ``i`` against learning opponents (`episode`)."""
        return episode(self.meta, self.params[i], self.cfg, self.n_seeds, self.generator,
                       self.device, self.dtype)

    def against_opponent(self, log: Tensor) -> None:
        """One meta-episode against the opponent; logs both players' rewards ``[2, S]``."""
        ep = self.play(0)
        self.learn(0, ep[:4])
        log[0] = ep[3].mean((1, 2)).double().cpu()
        log[1] = ep[4].mean((1, 2)).double().cpu()

    def against_naive(self) -> None:
        """Meta-self-play: each meta-agent learns against naive learners (nothing logged)."""
        for i in range(2):
            self.learn(i, self.play(i)[:4])

    def self_play(self, log: Tensor) -> None:
        """Meta-self-play: one episode of the two meta-agents; logs both rewards ``[2, S]``."""
        both = self_play_episode(self.meta, (self.params[0], self.params[1]), self.cfg,
                                 self.n_seeds, self.generator, self.device, self.dtype)
        for i in range(2):
            self.learn(i, both[i])
            log[i] = both[i][3].mean((1, 2)).double().cpu()

"""``lola-games reproduce mfos``: the M-FOS paper's head-to-head table (Lu et al. 2022).

Each row meta-trains M-FOS (`lola_games.agents.mfos.training.meta_train`, ``n_seeds`` seeds batched)
against one opponent on one game, then reports the mean reward per step of both players over
the last 50 meta-episodes (the paper's measure) beside the published numbers (one seed of the
official code), and plays the trained agent through the runner
(`lola_games.agents.MFOS`) against the same opponent for one inner episode.

Games as the official code has them: the IPD and matching pennies iterated (gamma 0.96,
memory-one), chicken one-shot with a crash of -100 (`lola_games.agents.mfos.mfos_chicken`).

Rows whose meta-training directory is already complete with the same settings are kept
(so an interrupted reproduction continues where it stopped); ``overwrite`` trains them
again.

Sizes: ``full`` is the official code's (batch 4096, 1024 meta-episodes, 100 inner steps) with
4 seeds; ``medium`` (``--medium``) is what a shared 2-core CPU finishes in about half an hour:
4 seeds, batch 64, 500 meta-episodes, a 32-unit actor-critic and PPO learning rate 0.02
(0.002 in self-play) instead of 256 units and 0.002 (0.0002), so that so few meta-episodes
learn at all, and the self-play annealing compressed to the same share of training;
``quick`` keeps the promise of every experiment's ``quick`` (under two minutes of one CPU
core): ``medium``'s network and learning rates with 150 meta-episodes of 16 opponents and
20 inner steps (the batch and inner steps in which `tests/agents/test_mfos.py` checks that
M-FOS learns); ``smoke``
only checks the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure

from lola_games.agents.base import Agent
from lola_games.agents.lola import LOLA
from lola_games.agents.mfos import MFOSConfig, load_meta_training, meta_train, mfos_chicken
from lola_games.agents.mfos.agent import MFOS
from lola_games.agents.naive import NaiveLearner
from lola_games.analysis import plots as plotting
from lola_games.experiments.base import Reproduction, write_rows
from lola_games.games.registry import get_game
from lola_games.runner.training import train

__all__ = ["ROWS", "SIZES", "PUBLISHED", "reproduce"]


@dataclass(frozen=True)
class Row:
    key: str
    game: str  # "ipd", "imp" or "chicken" (the official code's chicken)
    opponent: str  # "naive", "lola" or "self"


ROWS = (Row("ipd_nl", "ipd", "naive"), Row("ipd_lola", "ipd", "lola"),
        Row("ipd_self", "ipd", "self"), Row("imp_nl", "imp", "naive"),
        Row("imp_lola", "imp", "lola"), Row("chicken_nl", "chicken", "naive"))

PUBLISHED = {"ipd_nl": (-0.48, -2.17), "ipd_lola": (-1.02, -1.02), "ipd_self": (-1.00, -1.01),
             "imp_nl": (0.81, None), "imp_lola": (0.78, None), "chicken_nl": (0.97, -1.03)}
"""M-FOS / opponent, mean reward per step over the last 50 meta-episodes (the paper's
table; matching pennies gives M-FOS's only)."""

SIZES: dict[str, dict[str, Any]] = {
    "full": {"n_seeds": 4, "batch_size": 4096, "meta_episodes": 1024},
    "quick": {"n_seeds": 4, "batch_size": 16, "meta_episodes": 150, "inner_steps": 20,
              "hidden_size": 32, "lr": 0.02, "anneal": 1 / (0.65 * 150)},
    "medium": {"n_seeds": 4, "batch_size": 64, "meta_episodes": 500, "hidden_size": 32,
               "lr": 0.02, "anneal": 1 / (0.65 * 500)},
    "smoke": {"n_seeds": 2, "batch_size": 4, "meta_episodes": 3, "inner_steps": 5,
              "hidden_size": 8},
}


def _game(name: str):
    return (mfos_chicken(), 0.0) if name == "chicken" else (get_game(name), 0.96)


def reproduce(out: str | os.PathLike | None = None, *, size: str = "full", device: str = "cpu",
              seed: int = 0, figures_dir: str | os.PathLike | None = None,
              formats: Sequence[str] = ("png", "pdf"), overwrite: bool = False,
              plot_only: bool = False, progress: bool = False, n_seeds: int | None = None):
    """Meta-train every row, play the trained agents through the runner, write
    ``out/results.md``/``.csv`` and a figure of the meta-training curves. ``n_seeds``
    replaces the size's number of seeds."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    out = Path(out) if out is not None else Path("runs", "reproduce", "mfos")
    figures_dir = Path(figures_dir) if figures_dir is not None else out
    settings = dict(SIZES[size])
    size_seeds = settings.pop("n_seeds")
    n_seeds = size_seeds if n_seeds is None else n_seeds
    cfg = replace(MFOSConfig(), **settings)
    trained = {}
    for row in ROWS:
        game, gamma = _game(row.game)
        path = out / row.key
        if plot_only:
            trained[row.key] = load_meta_training(path)
            continue
        if not overwrite and (path / "mfos.pt").exists():  # a finished row: keep it
            trained[row.key] = _finished(path, cfg, n_seeds, seed)
            continue

        def report(episode: int, rewards: torch.Tensor, key: str = row.key) -> None:
            if progress and (episode % 10 == 0 or episode == cfg.meta_episodes - 1):
                print(f"{key}: meta-episode {episode + 1}: {rewards.nanmean(-1).tolist()}",
                      flush=True)

        trained[row.key] = meta_train(game, row.opponent, n_seeds, cfg, gamma=gamma, seed=seed,
                                      device=device, out_dir=path, overwrite=overwrite,
                                      callback=report)
    rows = [_row(row, trained[row.key], out / row.key, device, seed) for row in ROWS]
    files = write_rows(rows, out / "results")
    files += plotting.save_figure(_figure(trained), figures_dir / "mfos_meta_training", formats)
    return Reproduction("mfos", out, {}, rows, files)


def _finished(path: Path, cfg, n_seeds: int, seed: int):
    """The meta-training in ``path`` if it was run with these settings."""
    run = load_meta_training(path)
    same = {**asdict(cfg), "betas": list(cfg.betas)} == run.config["mfos"] and \
        run.config["n_seeds"] == n_seeds and run.config["seed"] == seed
    if not same:
        raise FileExistsError(f"{path} holds a meta-training with other settings; pass "
                              f"--overwrite to replace it")
    return run


def _row(row: Row, run, path: Path, device: str, seed: int) -> dict[str, Any]:
    """Published and our numbers for one row (means over seeds; per-seed values listed)."""
    last = min(50, run.rewards.shape[0])
    final = run.final_rewards(last)  # [2, S]
    paper = PUBLISHED[row.key]
    game, gamma = _game(row.game)
    agents: list[Agent]
    if row.opponent == "self":
        agents = [MFOS(str(path), which=0), MFOS(str(path), which=1)]
    else:
        opponent = NaiveLearner(lr=1.0) if row.opponent == "naive" else LOLA(
            lr=1.0, eta=1.0, stop_gradient=False)
        agents = [MFOS(str(path)), opponent]
    inner = int(run.config["mfos"]["inner_steps"])
    played = train(game, agents, n_seeds=256, n_updates=inner, gamma=gamma, device=device,
                   seed=seed)
    value = played.metrics["value"][1:].mean(axis=(0, 2))  # [P]

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:+.2f}"

    return {
        "game": row.game, "opponent": {"naive": "NL", "lola": "LOLA", "self": "M-FOS"}[
            row.opponent],
        "paper M-FOS / opponent": f"{fmt(paper[0])} / {fmt(paper[1])}",
        f"ours, last {last} meta-episodes": f"{final[0].mean():+.2f} / {final[1].mean():+.2f}",
        "per seed (M-FOS)": " ".join(f"{x:+.2f}" for x in final[0].tolist()),
        "runner, 256 games": f"{value[0]:+.2f} / {value[1]:+.2f}",
    }


def _figure(trained: dict[str, Any]):
    fig = Figure(figsize=(11.0, 6.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    for ax, row in zip(axes, ROWS, strict=True):
        r = trained[row.key].rewards  # [E, 2, S]
        episodes = torch.arange(1, r.shape[0] + 1)
        for i, (label, color) in enumerate((("M-FOS", "tab:blue"), ("opponent", "tab:orange"))):
            mean = r[:, i].nanmean(-1)
            ax.plot(episodes, mean, color=color, label=label)
            for s in range(r.shape[2]):
                ax.plot(episodes, r[:, i, s], color=color, alpha=0.2, lw=0.7)
        paper = PUBLISHED[row.key]
        for value, color in zip(paper, ("tab:blue", "tab:orange"), strict=True):
            if value is not None:
                ax.axhline(value, color=color, ls="--", lw=0.8)
        ax.set_title(f"{row.game} vs {row.opponent}")
        ax.set_xlabel("meta-episode")
        ax.set_ylabel("reward per step")
    axes[0].legend()
    fig.suptitle("M-FOS meta-training (dashed: the paper's final numbers)")
    return fig

"""The training runner: agents learn against each other, ``S`` seeds batched.

Each update is simultaneous: every agent steps from the same current parameters (the LOLA
paper's setting). Before the first update (update 0), after every ``log_every`` updates and
after the last one the runner evaluates all players and logs the named metrics of the
evaluator (see `lola_games.agents.base`); a run directory (`lola_games.runner.rundir`)
receives them as they come, with a checkpoint every ``checkpoint_every`` updates.

Randomness: the run's ``torch.Generator`` (seeded with ``seed``) draws the initial params
and everything the agents sample while learning. Each evaluation gets its own generator,
seeded from ``(seed, update)``, so evaluating more or less often never changes training, and a
run resumed from any checkpoint, or extended, gives the numbers of an uninterrupted run.

The loop reads top to bottom in `train`: `prepare_run` checks the arguments,
`_begin` starts a run or resumes one, `_update_all` is one update of every agent,
`_evaluate` one evaluation, and the run directory checkpoints. After the last update, runs of
the IPD and the Coin Game play their final params against fixed opponents (and optionally a
trained exploiter) and write ``evaluation.csv`` (`lola_games.runner.evaluation`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lola_games.agents.base import Agent, Context, Evaluator
from lola_games.core.tensors import tree_map
from lola_games.runner.evaluation import (
    DEFAULT_EXPLOITER,
    check_evaluation,
    evaluate_agents,
    evaluates,
)
from lola_games.runner.evaluation_io import write_evaluation
from lola_games.runner.files import EVALUATION
from lola_games.runner.metrics_io import LoggedUpdate, stack_updates
from lola_games.runner.run import Run
from lola_games.runner.rundir import RunDirectory
from lola_games.runner.setup import RunSetup, prepare_run
from lola_games.runner.trackers import ProgressDisplay, Tracker, resolve_trackers, tracked_scalars

__all__ = [
    "train",
    "Interrupted",
    "evaluation_generator",
]


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C; its last complete update is checkpointed when it has a run
    directory.

    Attributes:
        update: the last complete update.
        path: the run directory (``None`` for a run without one).
    """

    def __init__(self, update: int, path: Path | None) -> None:
        super().__init__(f"interrupted after update {update}")
        self.update = update
        self.path = path


def evaluation_generator(seed: int, update: int, device: torch.device) -> torch.Generator:
    """The generator of the evaluation after ``update`` in a run seeded with ``seed``."""
    state = np.random.SeedSequence([seed, update, 0x1E7A]).generate_state(1, np.uint64)[0]
    generator = torch.Generator(device=device)
    generator.manual_seed(int(state) >> 1)
    return generator


# -- progress: what changes from update to update -------------------------------------------


@dataclass
class _Progress:
    update: int
    params: tuple[Any, ...]
    states: tuple[Any, ...]
    generator: torch.Generator

    def snapshot(self) -> tuple[int, tuple[Any, ...], tuple[Any, ...], torch.Tensor]:
        return self.update, self.params, self.states, self.generator.get_state()


def _fresh(setup: RunSetup) -> _Progress:
    generator = torch.Generator(device=setup.device)
    generator.manual_seed(setup.seed)
    params = tuple(
        a.init_params(setup.n_seeds, generator, setup.device, setup.dtype, game=setup.game,
                      player=i)
        for i, a in enumerate(setup.agents))
    states = tuple(a.init_state(p) for a, p in zip(setup.agents, params, strict=True))
    return _Progress(0, params, states, generator)


def _begin(setup: RunSetup, out_dir: str | os.PathLike | None, resume: bool, overwrite: bool
           ) -> tuple[RunDirectory | None, _Progress, list[LoggedUpdate]]:
    """A fresh run (logging update 0), or a resumed one with the groups logged so far."""
    if out_dir is None:
        return None, _fresh(setup), []
    if not resume:
        directory = RunDirectory.create(out_dir, setup.config, overwrite=overwrite)
        return directory, _fresh(setup), []
    directory, ck, groups = RunDirectory.reopen(out_dir, setup.config, setup.logged,
                                                setup.n_updates,
                                                map_location=setup.device)
    if ck["update"] < setup.n_updates:  # an evaluation of an earlier end is stale
        (directory.path / EVALUATION).unlink(missing_ok=True)
    generator = torch.Generator(device=setup.device)
    generator.set_state(ck["rng"])
    progress = _Progress(ck["update"], tuple(ck["params"]), tuple(ck["states"]), generator)
    return directory, progress, groups


# -- one update, one evaluation -------------------------------------------------------------


def _others(items: tuple[Any, ...], i: int) -> Any:
    """What player ``i`` sees of the others: the opponent, or a tuple with > 2 players."""
    rest = items[:i] + items[i + 1:]
    return rest[0] if len(rest) == 1 else rest


def _update_all(setup: RunSetup, progress: _Progress) -> None:
    """One simultaneous update of every agent from the current params (in place)."""
    new_params, new_states = [], []
    for i, agent in enumerate(setup.agents):
        ctx = Context(setup.game, setup.gamma, i, progress.generator, setup.device,
                      _others(setup.agents, i))
        p, s = agent.update(progress.params[i], _others(progress.params, i),
                            progress.states[i], ctx)
        new_params.append(tree_map(torch.Tensor.detach, p))
        new_states.append(s)
    progress.params, progress.states = tuple(new_params), tuple(new_states)
    progress.update += 1


def _evaluate(setup: RunSetup, progress: _Progress) -> dict[str, np.ndarray]:
    """The evaluator's metrics after the current update, as float64 arrays ``[P, S]``."""
    generator = evaluation_generator(setup.seed, progress.update, setup.device)
    metrics = setup.evaluate(setup.game, setup.agents, progress.params, setup.gamma, generator)
    if not isinstance(metrics, dict) or "value" not in metrics:
        raise TypeError(f"an evaluator must return a dict of metrics with 'value', got "
                        f"{type(metrics).__name__}")
    out = {}
    shape = (setup.n_players, setup.n_seeds)
    for name, value in metrics.items():
        raw = value.detach().double().cpu().numpy() if isinstance(value, torch.Tensor) else value
        array = np.asarray(raw, dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"metric {name!r} must have shape [P, S] = {list(shape)}, "
                             f"got {list(array.shape)}")
        out[str(name)] = array
    return out


# -- the loop ------------------------------------------------------------------------------


def train(
    game: Any,
    agents: Sequence[Agent | str],
    n_seeds: int = 64,
    n_updates: int = 200,
    gamma: float = 0.96,
    device: str | torch.device = "cpu",
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    *,
    dtype: torch.dtype | str = torch.float32,
    label: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    log_every: int = 1,
    checkpoint_every: int = 10,
    evaluate: Evaluator | None = None,
    progress: bool = False,
    trackers: Sequence[str | Tracker] | None = None,
    opponent_evaluation: bool = True,
    exploiter_updates: int = 0,
    exploiter: Agent | str = DEFAULT_EXPLOITER,
) -> Run:
    """Train one agent per player of ``game`` against each other, ``n_seeds`` seeds at once.

    Args:
        game: a game (e.g. a `MatrixGame`) or its name.
        agents: one `Agent` (or registry name) per player.
        n_seeds: independent runs ``S``, batched.
        n_updates: learning steps of each agent.
        gamma: discount in ``[0, 1)``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        seed: seeds the run (initial params, sampling, evaluations); in ``[0, 2**63)``.
        out_dir: run directory to write (see `lola_games.runner.rundir`); ``None`` writes none.
        dtype: float dtype of the params (``torch.float32``/``float64`` or their names).
        label: human label of the run (default ``"<agent0> vs <agent1> on <game>"``).
        resume: continue ``out_dir`` from its checkpoint; the numbers are those of an
            uninterrupted run. ``n_updates`` may be larger than the original run's (not
            smaller than its progress).
        overwrite: start afresh in an ``out_dir`` that holds a run (or run files).
        log_every: evaluate and log every this many updates (and update 0 and the last).
        checkpoint_every: write ``checkpoint.pt`` every this many updates (and the last one,
            and when interrupted).
        evaluate: evaluator (default: see `evaluator_for`).
        progress: show the progress on stderr: a tqdm bar on a terminal, elsewhere a plain
            line every tenth of the run (no carriage returns in log files).
        trackers: experiment trackers fed at every logged update with the columns of
            ``metrics.csv`` (mean over seeds) and the run's config: ``"tensorboard"``,
            ``"wandb"`` (offline; both write into ``out_dir`` and need their optional extra)
            and/or `lola_games.runner.trackers.Tracker` objects. A resumed run continues them
            from its checkpoint's update.
        opponent_evaluation: after the last update of a two-player IPD or Coin Game run, play
            each player's final params against itself, always-cooperate and always-defect
            (and the exploiter) and write ``evaluation.csv`` (`lola_games.runner.evaluation`;
            its own generators: training and ``metrics.csv`` do not change).
        exploiter_updates: train a best-response exploiter for this many updates against
            each frozen player and report its gain (0: none).
        exploiter: the exploiter's learner, an `Agent` or a registry name.

    Returns:
        a `Run` with the logged metrics (``[U, P, S]`` each), ``final_params`` and the
        ``evaluation`` rows (``None`` without one).

    Raises:
        ValueError: unknown game or agent, agents that cannot play the game or each other,
            gamma outside ``[0, 1)``, bad counts or seed, an unavailable device, a resume
            whose settings or files do not match the run, an unknown tracker or a built-in
            tracker without ``out_dir``.
        ImportError: a built-in tracker whose optional package is not installed.
        FileExistsError: ``out_dir`` holds a run or run files and neither ``resume`` nor
            ``overwrite``.
        ValueError, TypeError: a bad exploiter (an unknown name, ``exploiter_updates`` < 0,
            a learner that cannot play the game), checked before the run starts.
        Interrupted: Ctrl-C (a ``KeyboardInterrupt``), after checkpointing the last
            complete update.
    """
    setup = prepare_run(game, agents, n_seeds, n_updates, gamma, device, seed, dtype, label,
                     log_every, checkpoint_every, evaluate)
    if not isinstance(opponent_evaluation, bool):
        raise TypeError(f"opponent_evaluation must be True or False, got {opponent_evaluation!r}")
    learner = check_evaluation(setup.game, setup.agents, exploiter, exploiter_updates)
    _check_out_dir(out_dir, resume, overwrite)
    tracking = resolve_trackers(trackers, out_dir)
    directory, prog, history = _begin(setup, out_dir, resume, overwrite)
    _Loop(setup, directory, prog, history, tracking).run(progress)
    if directory is not None:
        directory.save_final(prog.params)
    rows = None
    if opponent_evaluation and evaluates(setup.game) and setup.n_players == 2:
        rows = evaluate_agents(setup.game, setup.agents, prog.params, setup.gamma, setup.seed,
                               setup.device, setup.dtype, exploiter=learner or exploiter,
                               exploiter_updates=exploiter_updates, trainer=train)
        if directory is not None:
            write_evaluation(directory.path, rows)
    names = list(history[0].metrics) if history else ["value"]
    updates, metrics = stack_updates(history, names, setup.n_players, setup.n_seeds)
    return Run(config=setup.config, game=setup.game, updates=updates, metrics=metrics,
               path=None if directory is None else directory.path, final_params=prog.params,
               evaluation=rows)


def _check_out_dir(out_dir: str | os.PathLike | None, resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir")
    if out_dir is not None and str(out_dir) == "":
        raise ValueError("out_dir is empty; give a directory or None")


_Snapshot = tuple[int, tuple[Any, ...], tuple[Any, ...], torch.Tensor, "dict[str, Any] | None"]
"""``(update, params, states, rng state, metrics mark)``: what a checkpoint saves."""


class _Loop:
    """The update loop of one run: evaluations logged, checkpoints written, and the last
    complete update checkpointed when the run stops on an exception (Ctrl-C included)."""

    def __init__(self, setup: RunSetup, directory: RunDirectory | None, prog: _Progress,
                 history: list[LoggedUpdate], trackers: Sequence[Tracker] = ()) -> None:
        self.setup, self.directory, self.prog, self.history = setup, directory, prog, history
        self.trackers = tuple(trackers)
        self.done = self.saved = prog.update
        self.last = self.snapshot()

    def record(self) -> None:
        """Evaluate the current update and log it."""
        metrics = _evaluate(self.setup, self.prog)
        self.history.append(LoggedUpdate(self.prog.update, metrics))
        if self.directory is not None:
            self.directory.log(self.prog.update, metrics)
        if self.trackers:
            scalars = tracked_scalars(metrics)
            for tracker in self.trackers:
                tracker.log(self.prog.update, scalars)

    def snapshot(self) -> _Snapshot:
        mark = None if self.directory is None else self.directory.mark()
        return (*self.prog.snapshot(), mark)

    def start(self) -> None:
        """Log (and checkpoint) update 0 of a fresh run."""
        if self.prog.update == 0 and not self.history:
            self.record()
            if self.directory is not None:
                self.directory.save_checkpoint(*self.snapshot())

    def step(self) -> None:
        """One update of every agent, then its evaluation and checkpoint when due."""
        setup, prog = self.setup, self.prog
        _update_all(setup, prog)
        if setup.logged(prog.update):
            self.record()
        self.done, self.last = prog.update, self.snapshot()
        if self.directory is not None and (prog.update % setup.checkpoint_every == 0
                                           or prog.update == setup.n_updates):
            self.directory.save_checkpoint(*self.last)
            self.saved = self.done

    def stopped(self, error: BaseException) -> Interrupted | None:
        """Checkpoint the last complete update; the `Interrupted` to raise for Ctrl-C."""
        if self.directory is not None and self.done > self.saved:
            self.directory.save_checkpoint(*self.last)
        if isinstance(error, KeyboardInterrupt) and not isinstance(error, Interrupted):
            return Interrupted(self.done, None if self.directory is None else self.directory.path)
        return None

    def run(self, progress: bool) -> None:
        """Run the remaining updates (closes the trackers and the run directory)."""
        bar = ProgressDisplay(self.setup.n_updates, self.prog.update,
                              self.setup.config["label"], progress)
        try:
            for tracker in self.trackers:
                tracker.start(dict(self.setup.config))
            self.start()
            while self.prog.update < self.setup.n_updates:
                self.step()
                bar.update()
        except BaseException as e:
            interrupted = self.stopped(e)
            if interrupted is not None:
                raise interrupted from None
            raise
        finally:
            bar.close()
            for tracker in self.trackers:
                tracker.close()
            if self.directory is not None:
                self.directory.close()

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

The loop reads top to bottom in `train`: `_prepare` checks the arguments,
`_begin` starts a run or resumes one, `_update_all` is one update of every agent,
`_evaluate` one evaluation, and the run directory checkpoints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from lola_games.agents.base import (
    Agent,
    Context,
    Evaluator,
    check_agents,
    evaluator_for,
    make_agent,
)
from lola_games.core.checks import check_positive_int
from lola_games.core.device import resolve_device
from lola_games.core.tensors import tree_map
from lola_games.core.version import __version__
from lola_games.games.registry import all_game_names, get_any_game
from lola_games.runner.rundir import FORMAT, LoggedUpdate, Run, RunDirectory, stack_updates
from lola_games.values.exact import check_gamma

__all__ = [
    "train",
    "Interrupted",
    "resolve_device",
    "resolve_game",
    "evaluation_generator",
    "outcome_shares",
    "summary_line",
    "extra_metrics",
    "OUTCOMES",
]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_SEED = 2**63 - 1


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


# -- set-up --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    """The checked settings of a run."""

    game: Any
    agents: tuple[Agent, ...]
    n_seeds: int
    n_updates: int
    gamma: float
    device: torch.device
    seed: int
    dtype: torch.dtype
    log_every: int
    checkpoint_every: int
    evaluate: Evaluator
    config: dict[str, Any]

    @property
    def n_players(self) -> int:
        return len(self.agents)

    def logged(self, update: int) -> bool:
        """Whether ``update`` is evaluated and logged."""
        return update == 0 or update % self.log_every == 0 or update == self.n_updates


def _resolve_agents(agents: Sequence[Agent | str], n_players: int) -> tuple[Agent, ...]:
    if isinstance(agents, (str, Agent)) or not isinstance(agents, Sequence):
        raise ValueError(f"agents must be a sequence of {n_players} agents (one per player), "
                         f"got {agents!r}")
    if len(agents) != n_players:
        what = "a pair (player 0, player 1)" if n_players == 2 else f"{n_players} agents"
        raise ValueError(f"agents must be {what}, got {len(agents)}: {list(agents)!r}")
    out = []
    for a in agents:
        if isinstance(a, str):
            a = make_agent(a)
        if not isinstance(a, Agent):
            raise TypeError(f"agents must be Agent objects or registry names, got {type(a)}")
        out.append(a)
    return tuple(out)


def resolve_game(game: Any) -> Any:
    """A built-in game by name (any kind, see `get_any_game`), or a
    game object as it is: anything with a ``name`` and a ``spec()`` (see
    `lola_games.agents.base`).

    Raises:
        ValueError: an unknown name, or an object that is not a game.
    """
    if isinstance(game, str):
        return get_any_game(game)
    if isinstance(getattr(game, "name", None), str) and callable(getattr(game, "spec", None)):
        return game
    raise ValueError(f"game must be a game object or one of {', '.join(all_game_names())}, "
                     f"got {game!r}")


def _prepare(game, agents, n_seeds, n_updates, gamma, device, seed, dtype, label, log_every,
             checkpoint_every, evaluate) -> _Setup:
    game = resolve_game(game)
    n_players = int(getattr(game, "n_players", 2))
    agents = _resolve_agents(agents, n_players)
    n_seeds = check_positive_int("n_seeds", n_seeds)
    n_updates = check_positive_int("n_updates", n_updates)
    log_every = check_positive_int("log_every", log_every)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    check_gamma(gamma)
    gamma = float(gamma)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed!r}")
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        dtype = _DTYPES[dtype]
    if dtype not in _DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a callable evaluator (see "
                        f"lola_games.agents.base.Evaluator) or None, got {evaluate!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string, got {label!r}")
    device = resolve_device(device)
    check_agents(game, agents)
    evaluate = evaluate or evaluator_for(game, agents)
    config = {
        "format": FORMAT,
        "game": game.name,
        "game_spec": game.spec(),
        "n_players": n_players,
        "agents": [{"name": a.name, "hparams": a.hparams()} for a in agents],
        "n_seeds": n_seeds,
        "n_updates": n_updates,
        "gamma": gamma,
        "seed": seed,
        "device": str(device),
        "dtype": str(dtype).removeprefix("torch."),
        "mode": "exact" if all(a.mode == "exact" for a in agents) else "sampled",
        "log_every": log_every,
        "label": label or f"{' vs '.join(a.name for a in agents)} on {game.name}",
        "version": __version__,
    }
    config = json.loads(json.dumps(config))  # as config.json will hold it
    return _Setup(game, agents, n_seeds, n_updates, gamma, device, seed, dtype, log_every,
                  checkpoint_every, evaluate, config)


# -- progress: what changes from update to update -------------------------------------------


@dataclass
class _Progress:
    update: int
    params: tuple[Any, ...]
    states: tuple[Any, ...]
    generator: torch.Generator

    def snapshot(self) -> tuple[int, tuple[Any, ...], tuple[Any, ...], torch.Tensor]:
        return self.update, self.params, self.states, self.generator.get_state()


def _fresh(setup: _Setup) -> _Progress:
    generator = torch.Generator(device=setup.device)
    generator.manual_seed(setup.seed)
    params = tuple(
        a.init_params(setup.n_seeds, generator, setup.device, setup.dtype, game=setup.game,
                      player=i)
        for i, a in enumerate(setup.agents))
    states = tuple(a.init_state(p) for a, p in zip(setup.agents, params, strict=True))
    return _Progress(0, params, states, generator)


def _begin(setup: _Setup, out_dir: str | os.PathLike | None, resume: bool, overwrite: bool
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
    generator = torch.Generator(device=setup.device)
    generator.set_state(ck["rng"])
    progress = _Progress(ck["update"], tuple(ck["params"]), tuple(ck["states"]), generator)
    return directory, progress, groups


# -- one update, one evaluation -------------------------------------------------------------


def _others(items: tuple[Any, ...], i: int) -> Any:
    """What player ``i`` sees of the others: the opponent, or a tuple with > 2 players."""
    rest = items[:i] + items[i + 1:]
    return rest[0] if len(rest) == 1 else rest


def _update_all(setup: _Setup, progress: _Progress) -> None:
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


def _evaluate(setup: _Setup, progress: _Progress) -> dict[str, np.ndarray]:
    """The evaluator's metrics after the current update, as float64 arrays ``[P, S]``."""
    generator = evaluation_generator(setup.seed, progress.update, setup.device)
    metrics = setup.evaluate(setup.game, setup.agents, progress.params, setup.gamma, generator)
    if not isinstance(metrics, dict) or "value" not in metrics:
        raise TypeError(f"an evaluator must return a dict of metrics with 'value', got "
                        f"{type(metrics).__name__}")
    out = {}
    shape = (setup.n_players, setup.n_seeds)
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().double().cpu().numpy()
        value = np.asarray(value, dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"metric {name!r} must have shape [P, S] = {list(shape)}, "
                             f"got {list(value.shape)}")
        out[str(name)] = value
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
        progress: show a tqdm progress bar.

    Returns:
        a `Run` with the logged metrics (``[U, P, S]`` each) and
        ``final_params``.

    Raises:
        ValueError: unknown game or agent, agents that cannot play the game or each other,
            gamma outside ``[0, 1)``, bad counts or seed, an unavailable device, a resume
            whose settings or files do not match the run.
        FileExistsError: ``out_dir`` holds a run or run files and neither ``resume`` nor
            ``overwrite``.
        Interrupted: Ctrl-C (a ``KeyboardInterrupt``), after checkpointing the last
            complete update.
    """
    setup = _prepare(game, agents, n_seeds, n_updates, gamma, device, seed, dtype, label,
                     log_every, checkpoint_every, evaluate)
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir")
    if out_dir is not None and str(out_dir) == "":
        raise ValueError("out_dir is empty; give a directory or None")
    directory, prog, history = _begin(setup, out_dir, resume, overwrite)

    def record() -> None:
        metrics = _evaluate(setup, prog)
        history.append(LoggedUpdate(prog.update, metrics))
        if directory is not None:
            directory.log(prog.update, metrics)

    def snapshot() -> tuple[Any, ...]:
        return (*prog.snapshot(), None if directory is None else directory.mark())

    done = saved = prog.update
    last = snapshot()
    bar = tqdm(total=setup.n_updates, initial=prog.update, disable=not progress,
               desc=setup.config["label"])
    try:
        if prog.update == 0 and not history:
            record()
            if directory is not None:
                directory.save_checkpoint(*snapshot())
        while prog.update < setup.n_updates:
            _update_all(setup, prog)
            if setup.logged(prog.update):
                record()
            done, last = prog.update, snapshot()
            if directory is not None and (prog.update % setup.checkpoint_every == 0
                                          or prog.update == setup.n_updates):
                directory.save_checkpoint(*last)
                saved = done
            bar.update(1)
    except BaseException as e:
        if directory is not None and done > saved:  # keep the last complete update
            directory.save_checkpoint(*last)
        if isinstance(e, KeyboardInterrupt) and not isinstance(e, Interrupted):
            raise Interrupted(done, None if directory is None else directory.path) from None
        raise
    finally:
        bar.close()
        if directory is not None:
            directory.close()
    if directory is not None:
        directory.save_final(prog.params)
    names = list(history[0].metrics) if history else ["value"]
    updates, metrics = stack_updates(history, names, setup.n_players, setup.n_seeds)
    return Run(config=setup.config, game=setup.game, updates=updates, metrics=metrics,
               path=None if directory is None else directory.path, final_params=prog.params)


# -- outcomes -------------------------------------------------------------------------------

Criterion = Callable[[dict[str, np.ndarray]], np.ndarray]
"""``final metrics (name -> [P, S]) -> bool [S]``."""


def _joint(m: dict[str, np.ndarray]) -> np.ndarray:
    return m["value"].mean(axis=0)


def _near_half(m: dict[str, np.ndarray]) -> np.ndarray:
    probs = np.stack([v for k, v in m.items() if k.startswith("p_")])  # [states, P, S]
    return (np.abs(probs - 0.5) < 0.1).all(axis=(0, 1))


OUTCOMES: dict[str, dict[str, Criterion]] = {
    # IPD: mutual cooperation scores -1 per step, mutual defection (the Nash outcome) -2.
    "ipd": {
        "cooperation": lambda m: _joint(m) > -1.1,
        "defection (Nash)": lambda m: _joint(m) < -1.9,
    },
    # Matching pennies is zero-sum; its only Nash equilibrium plays each action half the time.
    "imp": {"Nash": _near_half},
    # Stag hunt: both stag (4) and both hare (2) are equilibria.
    "stag_hunt": {
        "both stag": lambda m: _joint(m) > 3.9,
        "both hare": lambda m: _joint(m) < 2.1,
    },
    # Chicken: both swerve (0, 0); the pure Nash outcomes have one going straight (+1, -1).
    "chicken": {
        "both swerve": lambda m: m["value"].min(axis=0) > -0.1,
        "one yields (Nash)": lambda m: (m["value"].max(axis=0) > 0.9)
        & (m["value"].min(axis=0) < -0.9),
    },
    # Coin Game: random play picks up own-colour coins half the time, a player that leaves
    # the other's coins alone always; a seed cooperates when both players are closer to the
    # latter (own-coin share above the midpoint 0.75).
    "coin_game": {
        "cooperation (own coins > 0.75)": lambda m: (m["own_coin_share"] > 0.75).all(axis=0),
    },
    # Differentiable one-shot games (lola_games.games.differentiable), judged on their parameters.
    # Tandem: the stable fixed points are x + y = 1; LOLA at alpha 0.1 settles at x + y = 4/3.
    "tandem": {
        "x + y = 1": lambda m: np.abs(m["x_plus_y"][0] - 1) < 0.05,
        "x + y = 4/3": lambda m: np.abs(m["x_plus_y"][0] - 4 / 3) < 0.05,
    },
    # One-shot matching pennies: Nash plays heads with probability 1/2.
    "one_shot_mp": {"Nash": lambda m: m["nash_gap"].max(axis=0) < 0.05},
    "hamiltonian": {"fixed point": lambda m: m["radius"][0] < 0.05},
    "balduzzi": {"fixed point": lambda m: m["radius"][0] < 0.05},
    "ultimatum": {
        "fair split": lambda m: m["p"][0] > 0.9,
        "unfair split accepted": lambda m: (m["p"][0] < 0.1) & (m["p"][1] > 0.9),
    },
    "one_shot_chicken": {
        "both swerve": lambda m: m["p"].min(axis=0) > 0.9,
        "one yields": lambda m: (m["p"].max(axis=0) > 0.9) & (m["p"].min(axis=0) < 0.1),
        "crash": lambda m: m["p"].max(axis=0) < 0.1,
    },
}
"""Named outcomes per game, judged on the final update of each seed."""


def outcome_shares(run: Run) -> dict[str, float]:
    """Share of seeds at each named outcome of the run's game after the last update.

    Games without an entry in `OUTCOMES` use their ``reference_levels``: a seed is at a
    level when its joint score (mean of the players' values) is within 0.1 of it. Outcomes
    whose metrics the run did not log are left out.
    """
    final = {name: values[-1] for name, values in run.metrics.items()}
    criteria = OUTCOMES.get(run.game.name)
    if criteria is None:
        levels = getattr(run.game, "reference_levels", {})
        criteria = {
            name: (lambda m, level=level: np.abs(_joint(m) - level) < 0.1)
            for name, level in levels.items()
        }
    shares = {}
    for name, fn in criteria.items():
        try:
            shares[name] = float(np.mean(fn(final)))
        except (KeyError, ValueError):
            continue
    return shares


def extra_metrics(run: Run) -> list[str]:
    """The run's metrics other than ``value`` and memory-one probabilities, in log order."""
    return [k for k in run.metrics if k != "value" and not k.startswith("p_")]


def summary_line(run: Run) -> str:
    """One line: final joint score mean and spread over seeds, each player's mean value, the
    mean of any other named metric, and the share of seeds at each named outcome."""
    joint = run.joint_score[-1]
    values = ", ".join(f"{v.mean():.3f}" for v in run.metrics["value"][-1])
    extra = "".join(f"; {k} {run.metrics[k][-1].mean():.3f}" for k in extra_metrics(run))
    shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in outcome_shares(run).items())
    return (
        f"{run.label}: update {int(run.updates[-1])}, {run.n_seeds} seeds: joint score "
        f"{joint.mean():.3f} +- {joint.std():.3f} (values {values}){extra}"
        + (f"; {shares}" if shares else "")
    )

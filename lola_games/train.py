"""The training runner: two agents learn against each other, ``S`` seeds batched.

Each update is simultaneous: both agents step from the same current parameters (the LOLA
paper's setting). After every ``log_every`` updates (and before the first, update 0) the
runner evaluates both players (exact values of memory-one policies by default) and appends
the numbers to the run directory, which also holds a checkpoint to resume from (see
:mod:`lola_games.runlog`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from lola_games import __version__
from lola_games.agents.base import Agent, Context, Evaluator, evaluator_for, make_agent
from lola_games.exact import check_gamma
from lola_games.games import MatrixGame, get_game
from lola_games.runlog import Run, RunWriter, load_run

__all__ = ["train", "resolve_device", "outcome_shares", "summary_line", "OUTCOMES"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; any other name is checked.

    Raises:
        ValueError: an unknown device name, or CUDA asked for but not available.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}; use auto, cpu, cuda or cuda:N")
    return dev


def _tree_map(fn: Callable[[torch.Tensor], Any], tree: Any) -> Any:
    if isinstance(tree, torch.Tensor):
        return fn(tree)
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # NamedTuple (optimizer states)
        return type(tree)(*(_tree_map(fn, v) for v in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_tree_map(fn, v) for v in tree)
    return tree


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _resolve_agents(agents: Sequence[Agent | str]) -> tuple[Agent, Agent]:
    if isinstance(agents, (str, Agent)) or len(agents) != 2:
        raise ValueError(f"agents must be a pair (player 0, player 1), got {agents!r}")
    out = []
    for a in agents:
        if isinstance(a, str):
            a = make_agent(a)
        if not isinstance(a, Agent):
            raise TypeError(f"agents must be Agent objects or registry names, got {type(a)}")
        out.append(a)
    return out[0], out[1]


_RESUME_KEYS = ("game", "game_payoffs", "agents", "n_seeds", "gamma", "seed", "dtype", "mode",
                "log_every")


def train(
    game: MatrixGame | str,
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
    """Train ``agents[0]`` (player 0) against ``agents[1]`` for ``n_seeds`` seeds at once.

    Args:
        game: a 2-action game or its name.
        agents: two :class:`~lola_games.agents.base.Agent` objects or registry names.
        n_seeds: independent runs ``S``, batched.
        n_updates: learning steps of each agent.
        gamma: discount in ``[0, 1)``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        seed: seeds the run's ``torch.Generator`` (initial params, and any sampling).
        out_dir: run directory to write (see :mod:`lola_games.runlog`); ``None`` writes none.
        dtype: float dtype of the params (``torch.float32``/``float64`` or their names).
        label: human label of the run (default ``"<agent0> vs <agent1> on <game>"``).
        resume: continue ``out_dir`` from its checkpoint; the numbers are the same as those
            of an uninterrupted run. ``n_updates`` may be larger than the original run's.
        overwrite: start afresh in an ``out_dir`` that already holds a run.
        log_every: evaluate and log every this many updates (and the last one).
        checkpoint_every: write ``checkpoint.pt`` every this many updates (and the last one,
            and when interrupted).
        evaluate: evaluator (default: exact for exact agents, see ``evaluator_for``).
        progress: show a tqdm progress bar.

    Returns:
        a :class:`~lola_games.runlog.Run` with the logged metrics (``[U, S]`` values,
        ``[U, S, 5]`` probabilities) and ``final_params``.

    Raises:
        ValueError: unknown game or agent, gamma outside ``[0, 1)``, non-positive counts,
            an unavailable device, or a resume whose settings differ from the run's.
    """
    game = get_game(game)
    if game.n_actions != 2:
        raise ValueError(f"game {game.name!r} has {game.n_actions} actions; runs need 2")
    agents = _resolve_agents(agents)
    n_seeds = _positive_int("n_seeds", n_seeds)
    n_updates = _positive_int("n_updates", n_updates)
    log_every = _positive_int("log_every", log_every)
    checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
    check_gamma(gamma)
    gamma = float(gamma)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        dtype = _DTYPES[dtype]
    if dtype not in _DTYPES.values():
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir")
    device = resolve_device(device)
    evaluate = evaluate or evaluator_for(agents)
    mode = "exact" if all(a.mode == "exact" for a in agents) else "sampled"

    config = {
        "game": game.name,
        "game_payoffs": game.payoffs.tolist(),
        "action_names": list(game.action_names),
        "agents": [{"name": a.name, "hparams": a.hparams()} for a in agents],
        "n_seeds": n_seeds,
        "n_updates": n_updates,
        "gamma": gamma,
        "seed": seed,
        "device": str(device),
        "dtype": str(dtype).removeprefix("torch."),
        "mode": mode,
        "log_every": log_every,
        "label": label or f"{agents[0].name} vs {agents[1].name} on {game.name}",
        "version": __version__,
    }

    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    params = tuple(a.init_params(n_seeds, generator, device, dtype) for a in agents)
    states = [a.init_state(p) for a, p in zip(agents, params, strict=True)]
    start = 0
    history: list[tuple[int, np.ndarray, np.ndarray]] = []
    writer = None
    if out_dir is not None:
        if resume:
            old = load_run(out_dir).config
            diff = [k for k in _RESUME_KEYS if old.get(k) != _jsonish(config[k])]
            if diff:
                raise ValueError(
                    f"cannot resume {out_dir}: settings differ from the run's ({', '.join(diff)})"
                )
        writer = RunWriter(out_dir, config, game, resume=resume, overwrite=overwrite)
        if resume:
            ck = writer.load_checkpoint(map_location=device)
            start = int(ck["update"])
            params = _tree_map(lambda t: t.to(device), ck["params"])
            states = list(_tree_map(lambda t: t.to(device), ck["states"]))
            generator.set_state(ck["rng"].to(generator.get_state().device))
            prior = load_run(out_dir)
            for u, i in zip(prior.updates, range(len(prior.updates)), strict=True):
                history.append((
                    int(u),
                    np.stack([prior.value_0[i], prior.value_1[i]]),
                    np.stack([prior.probs_0[i], prior.probs_1[i]]),
                ))

    def record(update: int) -> None:
        ev = evaluate(game, agents, params, gamma, generator)
        values = ev.values.detach().double().cpu().numpy()
        probs = ev.probs.detach().double().cpu().numpy()
        history.append((update, values, probs))
        if writer is not None:
            writer.log(update, values, probs)

    def checkpoint(update: int, rng: torch.Tensor) -> None:
        writer.save_checkpoint({
            "update": update, "params": params, "states": states, "rng": rng,
        })

    if start == 0:
        record(0)
        if writer is not None:
            checkpoint(0, generator.get_state())
    done, saved = start, start
    done_state = (params, states, generator.get_state())
    bar = tqdm(total=n_updates, initial=start, disable=not progress, desc=config["label"])
    try:
        for update in range(start + 1, n_updates + 1):
            new = []
            for i in range(2):
                ctx = Context(game, gamma, i, generator, device, agents[1 - i])
                p, states[i] = agents[i].update(params[i], params[1 - i], states[i], ctx)
                new.append(_tree_map(torch.Tensor.detach, p))
            params = (new[0], new[1])
            if update % log_every == 0 or update == n_updates:
                record(update)
            rng = generator.get_state()
            if writer is not None and (update % checkpoint_every == 0 or update == n_updates):
                checkpoint(update, rng)
                saved = update
            done, done_state = update, (params, list(states), rng)
            bar.update(1)
    except BaseException:
        if writer is not None and done > saved:  # keep the last complete update
            params, states, rng = done_state
            checkpoint(done, rng)
        raise
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    if writer is not None:
        writer.save_final(params)

    updates = np.array([h[0] for h in history], dtype=np.int64)
    values = np.stack([h[1] for h in history])  # [U, 2, S]
    probs = np.stack([h[2] for h in history])  # [U, 2, S, 5]
    return Run(
        config=config,
        game=game,
        updates=updates,
        value_0=values[:, 0],
        value_1=values[:, 1],
        probs_0=probs[:, 0],
        probs_1=probs[:, 1],
        path=None if out_dir is None else writer.path,
        final_params=params,
    )


def _jsonish(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))


# -- outcomes -------------------------------------------------------------------------------

Criterion = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``(value_0 [S], value_1 [S], probs_0 [S, 5], probs_1 [S, 5]) -> bool [S]``."""


def _joint(v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    return 0.5 * (v0 + v1)


OUTCOMES: dict[str, dict[str, Criterion]] = {
    # IPD: mutual cooperation scores -1 per step, mutual defection (the Nash outcome) -2.
    "ipd": {
        "cooperation": lambda v0, v1, p0, p1: _joint(v0, v1) > -1.1,
        "defection (Nash)": lambda v0, v1, p0, p1: _joint(v0, v1) < -1.9,
    },
    # Matching pennies is zero-sum; its only Nash equilibrium plays each action half the time.
    "imp": {
        "Nash": lambda v0, v1, p0, p1: (np.abs(p0 - 0.5) < 0.1).all(-1)
        & (np.abs(p1 - 0.5) < 0.1).all(-1),
    },
    # Stag hunt: both stag (4) and both hare (2) are equilibria.
    "stag_hunt": {
        "both stag": lambda v0, v1, p0, p1: _joint(v0, v1) > 3.9,
        "both hare": lambda v0, v1, p0, p1: _joint(v0, v1) < 2.1,
    },
    # Chicken: both swerve (0, 0); the pure Nash outcomes have one going straight (+1, -1).
    "chicken": {
        "both swerve": lambda v0, v1, p0, p1: np.minimum(v0, v1) > -0.1,
        "one yields (Nash)": lambda v0, v1, p0, p1: (np.maximum(v0, v1) > 0.9)
        & (np.minimum(v0, v1) < -0.9),
    },
}
"""Named outcomes per game, judged on the final update of each seed."""


def outcome_shares(run: Run) -> dict[str, float]:
    """Share of seeds at each named outcome of the run's game after the last update.

    Games without an entry in :data:`OUTCOMES` use their ``reference_levels``: a seed is at a
    level when its joint score (mean of the two values) is within 0.1 of it.
    """
    v0, v1 = run.value_0[-1], run.value_1[-1]
    p0, p1 = run.probs_0[-1], run.probs_1[-1]
    criteria = OUTCOMES.get(run.game.name)
    if criteria is None:
        criteria = {
            name: (lambda v0, v1, p0, p1, level=level: np.abs(_joint(v0, v1) - level) < 0.1)
            for name, level in run.game.reference_levels.items()
        }
    return {name: float(np.mean(fn(v0, v1, p0, p1))) for name, fn in criteria.items()}


def summary_line(run: Run) -> str:
    """One line: final joint score mean and spread over seeds, each player's mean value, and
    the share of seeds at each named outcome."""
    joint = run.joint_score[-1]
    shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in outcome_shares(run).items())
    return (
        f"{run.label}: update {int(run.updates[-1])}, {run.n_seeds} seeds: joint score "
        f"{joint.mean():.3f} +- {joint.std():.3f} (values {run.value_0[-1].mean():.3f}, "
        f"{run.value_1[-1].mean():.3f})" + (f"; {shares}" if shares else "")
    )

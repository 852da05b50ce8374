"""The evaluation of trained agents that recent opponent-shaping papers report, on the IPD
and the Coin Game: scores in self-play, against always-cooperate and always-defect, and
against a best-response exploiter.

For each player ``i`` of a finished run, its final params play in its own seat against:

* ``self``: a copy of itself (the same params in the other seat): the mutual-cooperation
  level the agent reaches with itself;
* ``allc`` and ``alld``: always cooperate and always defect (IPD: the memory-one agents of
  `lola_games.agents.fixed`; Coin Game: `lola_games.agents.coin_fixed`, which take only their
  own coins / walk to the nearest coin, as in the LOQA authors' evaluation, MiladInk/loqa
  ``coin_game.py``, ``eval_agent_against_always_cooperate`` / ``..._defect``, which report
  each side's mean reward per round and its pickups);
* opt-in, ``exploiter:<learner>``: a learner (registry name, default ``"ppo"``) trained for
  ``exploiter_updates`` updates against the agent frozen at its final params
  (`lola_games.agents.frozen.freeze`), through the runner's own training loop, then played
  against it. This is the "trained opponent" probe of the LOQA authors' league
  (MiladInk/loqa, ``league/trained_oponnent_loader.py``, a fresh agent trained against each
  frozen agent), used in the Advantage Alignment paper: the agent is robust when the
  exploiter gains little over the agent's self-play score (``opponent_gain``).

Each match is scored by the default evaluator of its two agents
(`lola_games.agents.evaluation.evaluator_for`: exact values for memory-one agents on the IPD,
sampled episodes otherwise) and reported per seed (`lola_games.runner.evaluation_io`).

Randomness: every match and every exploiter run has its own generator, seeded from the run's
seed, the evaluated player and the opponent (`evaluation_seed`); the run's training
generator is never touched, so training and ``metrics.csv`` are the same with or without
the evaluation, and a resumed run evaluates exactly as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from lola_games.agents.base import Agent
from lola_games.agents.coin_fixed import CoinAlwaysCooperate, CoinAlwaysDefect
from lola_games.agents.evaluation import evaluator_for
from lola_games.agents.fixed import AlwaysCooperate, AlwaysDefect
from lola_games.agents.frozen import freeze, seeds_of
from lola_games.agents.registry import make_agent
from lola_games.core.tensors import ParamTree
from lola_games.games.matrix import MatrixGame
from lola_games.rollouts.games import is_coin_game

__all__ = ["DEFAULT_EXPLOITER", "Trainer", "evaluates", "fixed_opponents", "evaluation_seed",
           "check_exploiter", "check_evaluation", "play_match", "train_exploiter",
           "evaluate_agents"]

DEFAULT_EXPLOITER = "ppo"
"""The exploiter's default learner (registry name)."""

_SALT = 0xE7A1  # tells the evaluation's generators from the training's and the logged ones'
_OPPONENT_KEYS = {"self": 0, "allc": 1, "alld": 2, "exploiter": 3, "exploiter-training": 4}


Trainer = Callable[..., Any]
"""The runner's training loop, `lola_games.runner.training.train`, which trains the
exploiters; passed in by the caller (the loop itself calls this module)."""


def evaluates(game: Any) -> bool:
    """Whether runs of ``game`` get the evaluation: the IPD and the Coin Game."""
    return is_coin_game(game) or (isinstance(game, MatrixGame) and game.name == "ipd")


def fixed_opponents(game: Any) -> dict[str, Agent]:
    """``{"allc": ..., "alld": ...}``: always cooperate and always defect on ``game``.

    Raises:
        ValueError: a game without them (see `evaluates`).
    """
    if is_coin_game(game):
        return {"allc": CoinAlwaysCooperate(), "alld": CoinAlwaysDefect()}
    if evaluates(game):
        return {"allc": AlwaysCooperate(), "alld": AlwaysDefect()}
    raise ValueError(f"no always-cooperate / always-defect policies for "
                     f"{getattr(game, 'name', game)!r}; the evaluation covers the IPD and the "
                     f"Coin Game")


def evaluation_seed(seed: int, player: int, opponent: str) -> int:
    """The seed, in ``[0, 2**63)``, of the match of ``player`` against ``opponent``
    (``self``, ``allc``, ``alld`` or ``exploiter[:<learner>]``), or of the exploiter's training
    run (``exploiter-training``), in a run seeded with ``seed``."""
    key = _OPPONENT_KEYS[opponent.split(":")[0]]
    state = np.random.SeedSequence([seed, _SALT, player, key]).generate_state(1, np.uint64)[0]
    return int(state) >> 1


def _generator(seed: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def check_exploiter(exploiter: Agent | str, exploiter_updates: int) -> Agent | None:
    """The exploiter's learner (made from its registry name), or ``None`` when
    ``exploiter_updates`` is 0 (then the name is not looked up).

    Raises:
        ValueError: ``exploiter_updates`` not an int >= 0, or an unknown exploiter name.
        TypeError: ``exploiter`` neither an `Agent` nor a name.
    """
    if isinstance(exploiter_updates, bool) or not isinstance(exploiter_updates, int) \
            or exploiter_updates < 0:
        raise ValueError(f"exploiter_updates must be an int >= 0 (0: no exploiter), got "
                         f"{exploiter_updates!r}")
    if not isinstance(exploiter, (str, Agent)):
        raise TypeError(f"exploiter must be an Agent or a registry name, got "
                        f"{type(exploiter).__name__}")
    if exploiter_updates == 0:
        return None  # no exploiter: its name is not looked up
    if isinstance(exploiter, Agent):
        return exploiter
    try:
        return make_agent(exploiter)
    except ValueError as e:
        raise ValueError(f"exploiter: {e}") from None


def _seated(player: int, agent: Any, other: Any) -> tuple[Any, Any]:
    return (agent, other) if player == 0 else (other, agent)


def play_match(game: Any, agents: tuple[Agent, Agent], params: tuple[ParamTree, ParamTree],
               player: int, gamma: float, generator: torch.Generator
               ) -> dict[str, np.ndarray]:
    """One match scored by the default evaluator of its agents (seats in player order).

    Returns:
        ``value`` (and ``own_coin_share`` on the Coin Game) as float64 ``[2, S]``: row 0
        the evaluated ``player``'s side, row 1 its opponent's.
    """
    metrics = evaluator_for(game, agents)(game, agents, params, gamma, generator)
    order = [player, 1 - player]
    out: dict[str, np.ndarray] = {}
    for name in ("value", "own_coin_share"):
        if name in metrics:
            value = metrics[name]
            raw = value.detach().double().cpu().numpy() if isinstance(value, torch.Tensor) \
                else value
            out[name] = np.asarray(raw, dtype=np.float64)[order]
    return out


def train_exploiter(trainer: Trainer, game: Any, agent: Agent, params: ParamTree,
                    player: int, learner: Agent, n_updates: int, gamma: float, seed: int,
                    device: torch.device, dtype: torch.dtype) -> ParamTree:
    """The final params of ``learner`` trained for ``n_updates`` in the seat opposite
    ``player`` against ``agent`` frozen at ``params`` (one exploiter per seed).

    The exploiter run is seeded with ``evaluation_seed(seed, player,
    "exploiter-training")``; it writes no run directory and is evaluated only at its start and
    end.
    """
    n_seeds = seeds_of(params)
    agents = _seated(player, freeze(agent, params), learner)
    run = trainer(game, agents, n_seeds=n_seeds, n_updates=n_updates, gamma=gamma,
                  device=device, seed=evaluation_seed(seed, player, "exploiter-training"),
                  dtype=dtype, log_every=n_updates, opponent_evaluation=False)
    return run.final_params[1 - player]


def _rows(player: int, opponent: str, updates: int, result: dict[str, np.ndarray],
          self_score: np.ndarray) -> list[dict[str, Any]]:
    values = result["value"]
    rows = []
    for s in range(values.shape[1]):
        row: dict[str, Any] = {
            "seed": s, "player": player, "opponent": opponent, "updates": updates,
            "agent_score": float(values[0, s]), "opponent_score": float(values[1, s]),
            "opponent_gain": float(values[1, s] - self_score[s]),
        }
        if "own_coin_share" in result:
            row["agent_own_coin_share"] = float(result["own_coin_share"][0, s])
            row["opponent_own_coin_share"] = float(result["own_coin_share"][1, s])
        rows.append(row)
    return rows


def evaluate_agents(
    game: Any,
    agents: Sequence[Agent],
    params: Sequence[ParamTree],
    gamma: float,
    seed: int,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    *,
    exploiter: Agent | str = DEFAULT_EXPLOITER,
    exploiter_updates: int = 0,
    trainer: Trainer | None = None,
) -> list[dict[str, Any]]:
    """The evaluation of each player's final params (rows of ``evaluation.csv``, see
    `lola_games.runner.evaluation_io`), ordered by seed, player and opponent (``self``,
    ``allc``, ``alld``, then the exploiter).

    Args:
        game: the IPD or the Coin Game.
        agents: the run's two agents, in player order.
        params: their final params ``[S, ...]``.
        gamma: the run's discount.
        seed: the run's seed (the evaluation's generators derive from it).
        device: the params' device.
        dtype: the params' dtype (the exploiter trains in it).
        exploiter: the exploiter's learner, an `Agent` or a registry name.
        exploiter_updates: its training updates per evaluated player; 0 = no exploiter.
        trainer: the training loop (`lola_games.runner.training.train`); needed with an
            exploiter.

    Raises:
        ValueError: a game other than the IPD and the Coin Game, not two agents, a bad
            exploiter (see `check_exploiter`), or an exploiter without ``trainer``.
    """
    if not evaluates(game):
        fixed_opponents(game)  # raises, naming the game
    if len(agents) != 2 or len(params) != 2:
        raise ValueError(f"the evaluation takes two agents and their params, got {len(agents)}")
    learner = check_exploiter(exploiter, exploiter_updates)
    if learner is not None and trainer is None:
        raise ValueError("an exploiter needs the training loop: pass trainer=train")
    rows = []
    for player in (0, 1):
        agent, own = agents[player], params[player]
        opponents: list[tuple[str, Agent, ParamTree]] = [("self", agent, own)]
        for name, fixed in fixed_opponents(game).items():
            opponents.append((name, fixed, fixed.init_params(seeds_of(own), None, device,
                                                            dtype, game=game,
                                                            player=1 - player)))
        if learner is not None and trainer is not None:
            trained = train_exploiter(trainer, game, agent, own, player, learner,
                                      exploiter_updates, gamma, seed, device, dtype)
            opponents.append((f"exploiter:{learner.name}", learner, trained))
        self_score = None
        for name, other, theirs in opponents:
            match = play_match(game, _seated(player, agent, other), _seated(player, own, theirs),
                               player, gamma,
                               _generator(evaluation_seed(seed, player, name), device))
            self_score = match["value"][0] if self_score is None else self_score
            updates = exploiter_updates if name.startswith("exploiter") else 0
            rows += _rows(player, name, updates, match, self_score)
    return sorted(rows, key=lambda r: (r["seed"], r["player"]))


def check_evaluation(game: Any, agents: Sequence[Agent], exploiter: Agent | str,
                     exploiter_updates: int) -> Agent | None:
    """Check, before a run starts, that its exploiter evaluation can run: its settings
    (`check_exploiter`), a two-player run of the IPD or the Coin Game, and a learner that can
    play the game against each agent. Returns the exploiter's learner (``None``: none).

    Raises:
        ValueError, TypeError: a bad exploiter, named.
    """
    learner = check_exploiter(exploiter, exploiter_updates)
    if learner is None:
        return None
    if not evaluates(game) or len(agents) != 2:
        raise ValueError(f"the exploiter evaluation covers two-player runs of the IPD and the "
                         f"Coin Game, not {getattr(game, 'name', game)!r}")
    try:
        learner.check_game(game)
    except ValueError as e:
        raise ValueError(f"exploiter {learner.name!r}: {e}") from None
    for player, agent in enumerate(agents):
        if learner.reads_opponent_logits and not agent.is_memory_one():
            raise ValueError(f"exploiter {learner.name!r} learns from memory-one logits, but "
                             f"player {player}, {agent.name!r}, has no memory-one policy; "
                             f"choose a sampled learner as the exploiter")
    return learner

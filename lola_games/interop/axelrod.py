"""The Axelrod library's strategies as lola-games agents, and memory-one policies as Axelrod
players (``pip install 'lola-games[axelrod]'``).

The two libraries play the same IPD with different payoffs: Axelrod's default is
``(R, S, T, P) = (3, 0, 5, 1)``, ours (the LOLA paper's) ``(-1, -3, 0, -2)``, and no affine map
takes one to the other (``3 -> -1`` and ``0 -> -3`` fix it as ``x -> 2x/3 - 3``, which sends
``T = 5`` to ``1/3``, not 0). So everything here plays Axelrod with our payoffs through a
custom ``axelrod.Game`` (`axelrod_game`); strategies whose rules read the payoffs (GTFT,
the zero-determinant ones) are set up with them.

* `AxelrodStrategy` (registered as ``axelrod``; ``axl:<Name>`` in tournaments) is a
  fixed memory-one agent with an Axelrod strategy's policy: its first move and P(C) after each
  outcome (CC, CD, DC, DD from its own side), read exactly (`memory_one_policy`). Only
  strategies that are memory-one in that sense convert; the others are refused by name.
* `axelrod_player` exports any memory-one policy (learned or fixed, as 5 logits or
  probabilities) as an Axelrod player, with a random first move where the policy has one.
* `play_in_env` plays Axelrod players against each other in the lola-games PettingZoo
  env (the check that both libraries play the same game).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

import torch

from lola_games.agents.fixed import SURE, FixedAgent
from lola_games.envs.iterated import parallel_env
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import get_game

__all__ = ["axelrod_game", "memory_one_policy", "memory_one_strategies", "AxelrodStrategy",
           "axelrod_player", "play_in_env", "require_axelrod"]

OUTCOMES = ("CC", "CD", "DC", "DD")


def require_axelrod():
    """The ``axelrod`` module, or a clear error naming the extra that installs it."""
    try:
        import axelrod
    except ImportError:
        raise RuntimeError("Axelrod strategies need the axelrod package: "
                           "pip install 'lola-games[axelrod]'") from None
    return axelrod


def _rpst(game: MatrixGame) -> tuple[float, float, float, float]:
    p = game.payoffs
    if game.n_actions != 2 or not (p[0] == p[1]).all():
        raise ValueError(f"Axelrod plays symmetric two-action games; {game.name!r} is not one")
    return float(p[0, 0, 0]), float(p[0, 0, 1]), float(p[0, 1, 0]), float(p[0, 1, 1])


def axelrod_game(game: str | MatrixGame = "ipd"):
    """An ``axelrod.Game`` with ``game``'s payoffs (action 0 is C): ``R`` for CC, ``S`` for
    CD, ``T`` for DC and ``P`` for DD, from the player's own side."""
    axl = require_axelrod()
    r, s, t, p = _rpst(get_game(game))
    return axl.Game(r=r, s=s, t=t, p=p)


def _strategy_class(strategy: Any):
    axl = require_axelrod()
    if isinstance(strategy, str):
        cls = getattr(axl, strategy, None)
        if not (isinstance(cls, type) and issubclass(cls, axl.Player)):
            raise ValueError(f"unknown Axelrod strategy {strategy!r}; names are class names "
                             f"such as TitForTat (see axelrod.strategies)")
        return cls
    if isinstance(strategy, type) and issubclass(strategy, axl.Player):
        return strategy
    raise TypeError(f"strategy must be an Axelrod strategy class or its name, got {strategy!r}")


def _fresh(cls, game):
    """A new ``cls`` player set up for a match of ``game`` (as ``axelrod.Match`` does)."""
    try:
        player = cls()
        player.set_match_attributes(length=-1, game=game, noise=0)
    except (ValueError, ZeroDivisionError) as e:
        rpst = tuple(float(x) for x in game.RPST())
        why = str(e) or "its probabilities leave [0, 1]"
        raise ValueError(f"Axelrod strategy {cls.__name__} cannot be set up with payoffs "
                         f"(R, P, S, T) = {rpst}: {why}") from None
    return player


def _move(cls, game, history: Sequence[tuple[Any, Any]]):
    """The move of a fresh ``cls`` player after ``history`` (own, opponent's) moves."""
    axl = require_axelrod()
    me, you = _fresh(cls, game), axl.Player()
    for own, other in history:
        me.update_history(own, other)
        you.update_history(other, own)
    return me.strategy(you)


@cache
def _policy(cls, payoffs: tuple[float, float, float, float]) -> tuple[float, ...]:
    axl = require_axelrod()
    C, D = axl.Action.C, axl.Action.D
    game = axl.Game(*payoffs)
    depth = cls.classifier.get("memory_depth", math.inf)
    if depth > 1:
        raise ValueError(f"Axelrod strategy {cls.__name__} has memory depth {depth}: its "
                         f"moves depend on more than the last outcome (not memory-one)")
    if issubclass(cls, axl.MemoryOnePlayer):
        player = _fresh(cls, game)
        vector = player._four_vector
        probs = [float(vector[(a, b)]) for a in (C, D) for b in (C, D)]
        if not all(0.0 <= p <= 1.0 for p in probs):
            raise ValueError(f"Axelrod strategy {cls.__name__} has no valid memory-one policy "
                             f"with these payoffs: {probs}")
        return (1.0 if player._initial == C else 0.0, *probs)
    if axl.Classifiers["stochastic"](cls()):
        raise ValueError(f"Axelrod strategy {cls.__name__} is stochastic and does not state its "
                         f"probabilities (not a MemoryOnePlayer): it cannot be read exactly")
    # deterministic: its move after each outcome, the same after every longer history
    table = [1.0 if _move(cls, game, ()) == C else 0.0]
    outcomes = [(a, b) for a in (C, D) for b in (C, D)]
    for last in outcomes:
        moves = {_move(cls, game, ([first] if first else []) + [last])
                 for first in [None, *outcomes]}
        if len(moves) != 1:
            raise ValueError(f"Axelrod strategy {cls.__name__} moves differently after the "
                             f"same last outcome (it keeps other state): not memory-one")
        table.append(1.0 if moves.pop() == C else 0.0)
    return tuple(table)


def memory_one_policy(strategy: Any, game: str | MatrixGame = "ipd") -> tuple[float, ...]:
    """P(C) of an Axelrod strategy at the start and after CC, CD, DC, DD (own side) ``[5]``.

    Read exactly: a ``MemoryOnePlayer``'s four-vector (set up with ``game``'s payoffs) and
    initial move, or a deterministic strategy's moves after each outcome (checked to be the
    same after longer histories ending in that outcome).

    Raises:
        ValueError: an unknown strategy, or one that is not memory-one in this sense
            (memory depth above 1, other state, or unstated probabilities), with the reason.
    """
    return _policy(_strategy_class(strategy), _rpst(get_game(game)))


def memory_one_strategies(game: str | MatrixGame = "ipd") -> list[str]:
    """Names of Axelrod's strategies that `memory_one_policy` reads (library order)."""
    axl = require_axelrod()
    names = []
    for cls in axl.strategies:
        if cls.classifier.get("memory_depth", math.inf) > 1:
            continue
        try:
            memory_one_policy(cls, game)
        except ValueError:
            continue
        names.append(cls.__name__)
    return names


def _logit(p: float) -> float:
    if p <= 0.0:
        return -SURE
    if p >= 1.0:
        return SURE
    return max(-SURE, min(SURE, math.log(p / (1 - p))))


class AxelrodStrategy(FixedAgent):
    """A fixed memory-one agent playing an Axelrod strategy (see `memory_one_policy`).

    Sure moves are logits ``+-10`` like the other fixed strategies.

    Args:
        strategy: the Axelrod class name, e.g. ``"TitForTat"``, ``"GTFT"``.
        game: the game whose payoffs set up payoff-dependent strategies (default the IPD).
    """

    name = "axelrod"

    def __init__(self, strategy: str = "TitForTat", game: str = "ipd") -> None:
        if not isinstance(strategy, str):
            raise ValueError(f"strategy must be an Axelrod strategy name, got {strategy!r}")
        self.strategy = strategy
        self.game = get_game(game).name
        self.policy = memory_one_policy(strategy, game)
        super().__init__(tuple(_logit(p) for p in self.policy))

    def check_game(self, game: Any) -> None:
        super().check_game(game)
        if _rpst(game) != _rpst(get_game(self.game)):
            raise ValueError(f"axelrod strategy {self.strategy} was set up for "
                             f"{self.game!r}; build it with game={game.name!r}")

    def hparams(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "game": self.game}


_CLASSES: dict[str, type] = {}


def _policy_class() -> type:
    """The Axelrod player class of exported policies (defined once axelrod is imported)."""
    if "policy" not in _CLASSES:
        axl = require_axelrod()
        base: Any = axl.MemoryOnePlayer  # a class known once axelrod is imported

        class MemoryOnePolicy(base):
            """A memory-one policy: P(C) at the start and after CC, CD, DC, DD (own side);
            the first move is random unless P(C) at the start is 0 or 1."""

            name = "lola-games memory-one"
            classifier: dict[str, Any]  # axelrod's (annotation only: nothing set here)

            def __init__(self, probs: Sequence[float] = (1.0, 1.0, 0.0, 1.0, 0.0),
                         name: str = "lola-games memory-one") -> None:
                start, *vector = (float(p) for p in probs)
                self._start = start
                super().__init__(four_vector=tuple(vector),
                                 initial=axl.Action.C if start >= 0.5 else axl.Action.D)
                self.name = name
                self.classifier = {**self.classifier, "stochastic": not all(
                    p in (0.0, 1.0) for p in (start, *vector))}

            def strategy(self, opponent):
                if len(self.history) == 0:
                    return self._random.random_choice(self._start)
                return super().strategy(opponent)

        MemoryOnePolicy.__module__ = __name__
        MemoryOnePolicy.__qualname__ = "MemoryOnePolicy"
        _CLASSES["policy"] = MemoryOnePolicy
    return _CLASSES["policy"]


def __getattr__(name: str) -> Any:
    if name == "MemoryOnePolicy":  # the class (made on first use: axelrod is optional)
        return _policy_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def axelrod_player(policy: Any, *, logits: bool = True, name: str = "lola-games memory-one"):
    """Export a memory-one policy as an Axelrod player.

    Args:
        policy: 5 numbers (start, CC, CD, DC, DD from the player's own side): logits of
            P(action 0) (the lola-games convention, e.g. an agent's params or
            ``agent.logits(params)[seed]``), or probabilities with ``logits=False``.
        name: the player's name in Axelrod's tables.

    Raises:
        ValueError: not 5 finite numbers, or probabilities outside ``[0, 1]``.
    """
    values = torch.as_tensor(policy, dtype=torch.float64).flatten()
    if values.numel() != 5 or not torch.isfinite(values).all():
        raise ValueError(f"policy must be 5 finite numbers (start, CC, CD, DC, DD), got "
                         f"{policy!r}")
    probs = torch.sigmoid(values) if logits else values
    if not logits and ((probs < 0) | (probs > 1)).any():
        raise ValueError(f"probabilities must be in [0, 1], got {probs.tolist()}")
    return _policy_class()(probs.tolist(), name)


def _check_players(axl: Any, players: Any) -> tuple[Any, Any]:
    """The two Axelrod player objects of ``players``; a clear error for anything else."""
    if isinstance(players, (str, bytes)) or not isinstance(players, Sequence) \
            or len(players) != 2:
        raise TypeError(f"players must be two Axelrod player objects, e.g. "
                        f"(axelrod.TitForTat(), axelrod.Defector()), got {players!r}")
    for i, p in enumerate(players):
        if not isinstance(p, axl.Player):
            hint = (f"; a name is not a player: pass axelrod.{p}() (an instance)"
                    if isinstance(p, str) else
                    "; pass an instance, e.g. axelrod.TitForTat()"
                    if isinstance(p, type) else "")
            raise TypeError(f"players[{i}] must be an Axelrod player object, got "
                            f"{p!r}{hint}")
    return players[0], players[1]


def play_in_env(players: Sequence[Any], turns: int, game: str | MatrixGame = "ipd",
                seed: int = 0) -> tuple[list[tuple[int, int]], list[tuple[float, float]]]:
    """Play two Axelrod players in the lola-games PettingZoo env for ``turns`` rounds.

    Each round asks both players for their move (as ``axelrod.Match`` does), steps the env with
    them and records the env's rewards. Returns ``(actions, rewards)`` per round, action 0 = C.
    """
    axl = require_axelrod()
    a, b = _check_players(axl, players)
    if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
        raise ValueError(f"turns must be a positive int, got {turns!r}")
    game = get_game(game)
    for p in (a, b):
        p.reset()
        p.set_match_attributes(length=turns, game=axelrod_game(game), noise=0)
        p.set_seed(seed)
    env = parallel_env(game, max_cycles=turns)
    env.reset(seed=seed)
    actions, rewards = [], []
    for _ in range(turns):
        move_a, move_b = a.strategy(b), b.strategy(a)
        act = (0 if move_a == axl.Action.C else 1, 0 if move_b == axl.Action.C else 1)
        _, r, *_ = env.step({"player_0": act[0], "player_1": act[1]})
        a.update_history(move_a, move_b)
        b.update_history(move_b, move_a)
        actions.append(act)
        rewards.append((float(r["player_0"]), float(r["player_1"])))
    return actions, rewards

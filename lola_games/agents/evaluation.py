"""Which evaluator a run uses, and whether its agents can play its game together (see
`lola_games.agents.base` for the `Evaluator` signature and the metrics it returns)."""

from __future__ import annotations

from typing import Any

from lola_games.agents.base import Agent, Evaluator
from lola_games.games.matrix import MatrixGame
from lola_games.values.evaluate import exact_evaluate

__all__ = ["evaluator_for", "check_agents"]


def evaluator_for(game: Any, agents: tuple[Agent, ...]) -> Evaluator:
    """The default evaluator of a run: a sampled agent's own evaluator when the agents include
    one; else the game's ``exact_evaluate`` method when it has one; else exact memory-one
    values (`exact_evaluate`) for a matrix game.

    Raises:
        ValueError: no evaluator is known for these agents and this game.
    """
    for agent in agents:
        if agent.mode != "exact":
            if agent.evaluator is None:
                raise ValueError(
                    f"agent {agent.name!r} is {agent.mode!r} and has no evaluator; "
                    f"pass one to train(evaluate=...)"
                )
            return agent.evaluator
    own = getattr(game, "exact_evaluate", None)
    if callable(own):
        return own
    if isinstance(game, MatrixGame):
        return exact_evaluate
    raise ValueError(f"no evaluator for exact agents on {getattr(game, 'name', game)!r}; "
                     f"pass one to train(evaluate=...)")


def check_agents(game: Any, agents: tuple[Agent, ...]) -> None:
    """Raise ``ValueError`` unless every agent can play ``game`` against the others.

    Each agent's `Agent.check_game` must pass, and an exact learner (one that
    `reads_opponent_logits`) needs opponents whose whole policy is memory-one
    (`Agent.is_memory_one`).
    """
    for i, agent in enumerate(agents):
        agent.check_game(game)
        if not agent.reads_opponent_logits:
            continue
        for j, other in enumerate(agents):
            if j != i and not other.is_memory_one():
                raise ValueError(
                    f"agent {agent.name!r} (player {i}) learns from exact values of memory-one "
                    f"policies, but player {j}, {other.name!r}, has no memory-one policy "
                    f"({other!r}); give it a memory-one policy (e.g. tabular) or pair it with a "
                    f"sampled learner")

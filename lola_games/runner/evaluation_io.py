"""``evaluation.csv`` of a run directory: the rows of the opponent evaluation
(`lola_games.runner.evaluation`), written, read back and summarised.

One row per (seed, evaluated player, opponent)::

    seed,player,opponent,updates,agent_score,opponent_score,opponent_gain[,agent_own_coin_share,opponent_own_coin_share]

* ``seed``: the run's seed index ``0 .. S-1``; ``player``: the evaluated player (its final
  params, in its own seat);
* ``opponent``: ``self`` (a copy of the agent: self-play), ``allc`` / ``alld`` (always
  cooperate / always defect: on the Coin Game ``coin-allc`` / ``coin-alld``, see
  `lola_games.agents.coin_fixed`), or ``exploiter:<learner>`` (a best response trained
  against the frozen agent); ``updates``: the exploiter's training updates (0 otherwise);
* ``agent_score`` / ``opponent_score``: each side's value, the metric ``value`` of the run's
  evaluator (reward per step, the mean reward per round on the Coin Game);
* ``opponent_gain``: the opponent's score minus the agent's self-play score on that seed
  (what the opponent gains over mutual cooperation with the agent; an exploiter that gains
  little means a robust agent);
* on the Coin Game ``agent_own_coin_share`` / ``opponent_own_coin_share``: coins of its own
  colour / all coins each side picked up (empty when it picked up none).

Numbers are written with full precision (``repr``).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lola_games.runner.files import EVALUATION, RunDirectoryError, atomic_write, refuse_link

__all__ = ["EVALUATION_COLUMNS", "COIN_COLUMNS", "write_evaluation", "read_evaluation",
           "evaluation_means", "evaluation_summary"]

EVALUATION_COLUMNS = ("seed", "player", "opponent", "updates", "agent_score", "opponent_score",
                      "opponent_gain")
"""The columns of every ``evaluation.csv``."""
COIN_COLUMNS = ("agent_own_coin_share", "opponent_own_coin_share")
"""The columns a Coin Game run adds."""
_INTS = ("seed", "player", "updates")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def write_evaluation(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` to ``path/evaluation.csv`` atomically (a link is refused).

    Args:
        path: the run directory.
        rows: the rows of `lola_games.runner.evaluation.evaluate_agents`.
    """
    coin = any(COIN_COLUMNS[0] in r for r in rows)
    columns = EVALUATION_COLUMNS + (COIN_COLUMNS if coin else ())
    lines = [",".join(columns)]
    lines += [",".join(_cell(r.get(c, float("nan"))) for c in columns) for r in rows]
    text = "\n".join(lines) + "\n"
    atomic_write(Path(path) / EVALUATION, lambda f: f.write(text.encode()))


def _parse(row: dict[str, str], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        for key, text in row.items():
            if key in _INTS:
                out[key] = int(text)
            elif key == "opponent":
                out[key] = text
            else:
                out[key] = float(text) if text else float("nan")
    except (TypeError, ValueError) as e:
        raise RunDirectoryError(f"{where}: a damaged row ({e})") from None
    return out


def read_evaluation(path: Path) -> list[dict[str, Any]] | None:
    """The rows of ``path/evaluation.csv``, or ``None`` when the run has none.

    Raises:
        RunDirectoryError: a damaged file (named), or a link.
    """
    file = Path(path) / EVALUATION
    refuse_link(file)
    if not file.exists():
        return None
    reader = csv.DictReader(io.StringIO(file.read_text()))
    header = tuple(reader.fieldnames or ())
    if header[:len(EVALUATION_COLUMNS)] != EVALUATION_COLUMNS:
        raise RunDirectoryError(f"{file}: expected the columns {', '.join(EVALUATION_COLUMNS)}, "
                                f"got {', '.join(header)}")
    return [_parse(row, str(file)) for row in reader]


def evaluation_means(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """By opponent (in order of appearance): the mean over seeds and evaluated players of
    each number column (``agent_score``, ``opponent_score``, ``opponent_gain``, ...); NaNs
    (no coins picked up) are left out of the means."""
    names: list[str] = []
    for r in rows:
        if r["opponent"] not in names:
            names.append(r["opponent"])
    out = {}
    for name in names:
        mine = [r for r in rows if r["opponent"] == name]
        keys = [k for k in mine[0] if k not in _INTS and k != "opponent"]
        means = {}
        for k in keys:
            values = np.array([r[k] for r in mine], dtype=np.float64)
            means[k] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        out[name] = means
    return out


def evaluation_summary(rows: Sequence[dict[str, Any]]) -> str:
    """A short text: the agents' mean score against each opponent and, for an exploiter,
    its mean gain over the agents' self-play score, e.g.
    ``scores vs self -1.02, allc -0.03, alld -2.10, exploiter:ppo -1.40 (gain -0.38)``."""
    parts = []
    for name, means in evaluation_means(rows).items():
        text = f"{name} {means['agent_score']:.3f}"
        if name.startswith("exploiter"):
            text += f" (gain {means['opponent_gain']:+.3f})"
        parts.append(text)
    return "scores vs " + ", ".join(parts) if parts else ""

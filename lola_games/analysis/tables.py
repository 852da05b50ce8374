"""Results tables of runs: one row per run after its last logged update (`results_table`),
as markdown and CSV (`table_markdown`, `write_table`); and the opponent evaluation of IPD
and Coin Game runs, one row per run, player and opponent (`evaluation_table`,
`evaluation_markdown`, `write_evaluation_table`; see `lola_games.runner.evaluation`).

Outcome classes (all judged after the last logged update):

* the game's named outcomes of `lola_games.runner.outcomes.OUTCOMES`, e.g. IPD *cooperation*
  (joint score > -1.1), IPD *defection (Nash)* (joint score < -1.9), matching-pennies
  *Nash* (all 5 probabilities of both players within 0.1 of 0.5); see
  `lola_games.runner.outcomes.outcome_shares`;
* IPD *TFT-like* (`lola_games.analysis.runs.tft_like`): the share of seeds where a player
  plays tit-for-tat.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lola_games.analysis.runs import RunLike, as_runs, tft_like
from lola_games.core.files import write_dict_csv, write_text
from lola_games.runner.outcomes import OUTCOMES, extra_metrics, outcome_shares

__all__ = ["results_table", "table_markdown", "write_table", "evaluation_table",
           "evaluation_markdown", "write_evaluation_table"]


def results_table(runs: RunLike | Iterable[RunLike]) -> list[dict[str, Any]]:
    """One row per run after its last logged update, as in the LOLA paper's results table.

    Columns: ``run`` (label), ``game``, ``seeds``, ``updates``, ``value_<i>`` and ``std_<i>``
    for each player ``i`` (mean and standard deviation over seeds of its final reward per
    step), ``joint``/``joint_std`` (of the joint score), the mean over seeds and players of
    every other named metric except memory-one probabilities (e.g. ``own_coin_share``), then
    the share of seeds (0..1) at each named outcome of
    `lola_games.runner.outcomes.outcome_shares`, and for memory-one IPD runs
    ``TFT-like p<i>`` (share of seeds where player ``i`` is `tft_like`).
    Standard deviations are over seeds with ``ddof=0`` (as ``numpy.std``).
    """
    rows = []
    for run in as_runs(runs):
        joint = run.joint_score[-1]
        row: dict[str, Any] = {
            "run": run.label,
            "game": run.game.name,
            "seeds": run.n_seeds,
            "updates": int(run.updates[-1]),
        }
        for i in range(run.n_players):
            v = run.metric("value", i)[-1]
            row[f"value_{i}"] = float(v.mean())
            row[f"std_{i}"] = float(v.std())
        row["joint"] = float(joint.mean())
        row["joint_std"] = float(joint.std())
        for name in extra_metrics(run):
            row[name] = float(run.metrics[name][-1].mean())
        row.update(outcome_shares(run))
        if run.game.name == "ipd" and run.memory_one:
            for i in range(run.n_players):
                row[f"TFT-like p{i}"] = float(tft_like(run.probs(i)[-1]).mean())
        rows.append(row)
    return rows


def _players(rows: Sequence[dict[str, Any]]) -> int:
    return max((sum(1 for k in r if k.startswith("value_")) for r in rows), default=2)


def _fixed(rows: Sequence[dict[str, Any]]) -> list[str]:
    per_player = [k for i in range(_players(rows)) for k in (f"value_{i}", f"std_{i}")]
    return ["run", "game", "seeds", "updates", *per_player, "joint", "joint_std"]


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    fixed = _fixed(rows)
    extra = []
    for row in rows:
        extra += [k for k in row if k not in fixed and k not in extra]
    return [*fixed, *extra]


def _shares(rows: Sequence[dict[str, Any]]) -> set[str]:
    """Columns that hold shares of seeds (outcomes, TFT-like), shown in percent."""
    names = set()
    for row in rows:
        run_outcomes = set(OUTCOMES.get(row["game"], {}))
        names |= {k for k in row if k in run_outcomes or k.startswith("TFT-like")}
    return names


def table_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows of `results_table` as a markdown table: ``mean (std)`` per value (the header
    says so: the bracket is the standard deviation over seeds), other metrics' means, and
    outcome shares in percent (``-`` where a run has no such column)."""
    n_players = _players(rows)
    extra = _columns(rows)[len(_fixed(rows)):]
    shares = _shares(rows)
    head = ["run", "game", "seeds", "updates",
            *(f"player {i}: mean (std over seeds)" for i in range(n_players)),
            "joint: mean (std over seeds)", *(f"% {k}" if k in shares else k for k in extra)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["run"], r["game"], str(r["seeds"]), str(r["updates"])]
        cells += [f"{r[f'value_{i}']:.3f} ({r[f'std_{i}']:.3f})" if f"value_{i}" in r else "-"
                  for i in range(n_players)]
        cells.append(f"{r['joint']:.3f} ({r['joint_std']:.3f})")
        for k in extra:
            if k not in r:
                cells.append("-")
            elif k in shares:
                cells.append(f"{100 * r[k]:.1f}")
            else:
                cells.append(f"{r[k]:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(
    rows: Sequence[dict[str, Any]], path: str | os.PathLike
) -> tuple[Path, Path]:
    """Write ``path`` with suffixes ``.md`` (`table_markdown`) and ``.csv`` (full
    precision, shares as fractions, empty where not applicable); returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    md, csv_path = path.with_suffix(".md"), path.with_suffix(".csv")
    write_text(md, table_markdown(rows))
    write_dict_csv(csv_path, rows, _columns(rows))
    return md, csv_path


# -- the opponent evaluation ----------------------------------------------------------------

_EVALUATED = ("agent_score", "opponent_score", "opponent_gain", "agent_own_coin_share",
              "opponent_own_coin_share")


def evaluation_table(runs: RunLike | Iterable[RunLike]) -> list[dict[str, Any]]:
    """One row per run, evaluated player and opponent (``self``, ``allc``, ``alld``,
    ``exploiter:<learner>``) of the runs that have an ``evaluation.csv``.

    Columns: ``run``, ``game``, ``player``, ``opponent``, ``seeds``, then the mean over seeds
    of ``agent_score`` (with ``agent_score_std``, over seeds, ``ddof=0``),
    ``opponent_score``, ``opponent_gain`` (the opponent's score minus the agent's self-play
    score) and, on the Coin Game, the own-coin shares (mean over the seeds where that side
    picked up a coin).
    """
    rows = []
    for run in as_runs(runs):
        for (player, opponent), mine in _groups(run.evaluation or []).items():
            row: dict[str, Any] = {"run": run.label, "game": run.game.name, "player": player,
                                   "opponent": opponent, "seeds": len(mine)}
            for key in _EVALUATED:
                if key in mine[0]:
                    values = np.array([r[key] for r in mine], dtype=np.float64)
                    finite = values[np.isfinite(values)]
                    row[key] = float(finite.mean()) if finite.size else float("nan")
                    if key == "agent_score":
                        row["agent_score_std"] = float(values.std())
            rows.append(row)
    return rows


def _groups(rows: Sequence[dict[str, Any]]) -> dict[tuple[int, str], list[dict[str, Any]]]:
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["player"], r["opponent"]), []).append(r)
    return dict(sorted(groups.items(), key=lambda kv: kv[0][0]))


def evaluation_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The rows of `evaluation_table` as a markdown table (``-`` where a row has no value)."""
    head = ["run", "player", "opponent", "seeds", "agent score: mean (std over seeds)",
            "opponent score", "opponent's gain over self-play"]
    coin = any("agent_own_coin_share" in r for r in rows)
    head += ["agent own-coin share", "opponent own-coin share"] if coin else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["run"], str(r["player"]), r["opponent"], str(r["seeds"]),
                 f"{r['agent_score']:.3f} ({r['agent_score_std']:.3f})",
                 f"{r['opponent_score']:.3f}", f"{r['opponent_gain']:+.3f}"]
        if coin:
            cells += [f"{r[k]:.3f}" if k in r else "-"
                      for k in ("agent_own_coin_share", "opponent_own_coin_share")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_evaluation_table(rows: Sequence[dict[str, Any]], path: str | os.PathLike
                           ) -> tuple[Path, Path]:
    """Write ``path`` with suffixes ``.md`` (`evaluation_markdown`) and ``.csv`` (full
    precision); returns both paths.

    Raises:
        ValueError: no rows (none of the runs has an ``evaluation.csv``).
    """
    if not rows:
        raise ValueError("no evaluation to tabulate: none of the runs has an evaluation.csv "
                         "(IPD and Coin Game runs of this version write one)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    md, csv_path = path.with_suffix(".md"), path.with_suffix(".csv")
    write_text(md, evaluation_markdown(rows))
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    write_dict_csv(csv_path, rows, columns)
    return md, csv_path

"""The evaluation table (`evaluation_table`) against a hand computation on hand-written
``evaluation.csv`` rows."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from lola_games.analysis.tables import (
    evaluation_markdown,
    evaluation_table,
    write_evaluation_table,
)
from lola_games.runner.evaluation_io import read_evaluation, write_evaluation
from lola_games.runner.training import train


def test_evaluation_table_matches_hand_computation(tmp_path):
    run = train("ipd", ["allc", "alld"], n_seeds=2, n_updates=1, out_dir=tmp_path / "run")
    rows = [
        {"seed": s, "player": 0, "opponent": o, "updates": 0, "agent_score": a,
         "opponent_score": b, "opponent_gain": b - sp, "agent_own_coin_share": c,
         "opponent_own_coin_share": 1.0}
        for s, sp in ((0, -1.0), (1, -0.5))
        for o, a, b, c in (("self", sp, sp, 0.5), ("allc", -0.2 * (s + 1), -1.5, float("nan")))
    ]
    write_evaluation(tmp_path / "run", rows)
    assert read_evaluation(tmp_path / "run")[3]["agent_own_coin_share"] != 0.0  # nan kept
    assert math.isnan(read_evaluation(tmp_path / "run")[3]["agent_own_coin_share"])
    table = evaluation_table([tmp_path / "run"])
    assert [(r["player"], r["opponent"]) for r in table] == [(0, "self"), (0, "allc")]
    allc = table[1]
    assert allc["seeds"] == 2 and allc["run"] == run.label
    assert allc["agent_score"] == pytest.approx(-0.3)
    assert allc["agent_score_std"] == pytest.approx(np.std([-0.2, -0.4]))
    assert allc["opponent_gain"] == pytest.approx(np.mean([-1.5 + 1.0, -1.5 + 0.5]))
    assert math.isnan(allc["agent_own_coin_share"])  # no coins picked up on any seed
    text = evaluation_markdown(table)
    assert "| allc vs alld on ipd | 0 | allc | 2 | -0.300 (0.100) | -1.500 | -0.750 | nan |" \
        in text
    md, csv_path = write_evaluation_table(table, tmp_path / "t")
    assert md.read_text() == text
    with open(csv_path, newline="") as f:
        assert float(list(csv.DictReader(f))[0]["agent_score"]) == pytest.approx(-0.75)


def test_runs_without_an_evaluation_give_no_table(tmp_path):
    imp = train("imp", ["naive", "naive"], n_seeds=2, n_updates=1)
    assert evaluation_table([imp]) == []
    with pytest.raises(ValueError, match="none of the runs has an evaluation.csv"):
        write_evaluation_table([], tmp_path / "t")

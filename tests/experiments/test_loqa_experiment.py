"""The ``loqa`` reproduction at smoke size (the pipeline: runs, tables, figure)."""

from __future__ import annotations

import json

from lola_games.cli.app import main as cli_main
from lola_games.experiments.base import EXPERIMENTS
from lola_games.experiments.loqa import LOQA_SIZES
from lola_games.experiments.reproduce import reproduce


def test_loqa_smoke(tmp_path):
    result = reproduce("loqa", tmp_path, size="smoke", formats=("png",))
    run = result.runs["loqa"]
    assert run.n_seeds == 2 and list(run.updates) == [0, 1, 2]
    for name in ("self_own_coin_share", "self_value", "own_coin_share", "value"):
        assert run.metrics[name].shape == (3, 2, 2), name
    hp = run.config["agents"][0]["hparams"]
    assert hp["batch_size"] == 4 and hp["hidden_size"] == 8  # smoke overrides
    assert hp["buffer_capacity"] == 10000 and hp["policy"] == "LOQACoinActor"
    table = (tmp_path / "loqa_coin.md").read_text()
    assert "own-coin share (self-play)" in table
    assert (tmp_path / "loqa_coin.png").stat().st_size > 1000
    # the evaluation matrix: every learner against itself, the fixed policies and a PPO
    # exploiter trained against it for the size's updates
    opponents = {(r["seed"], r["player"], r["opponent"], r["updates"]) for r in run.evaluation}
    assert opponents == {(s, p, o, 1 if o == "exploiter:ppo" else 0) for s in range(2)
                         for p in range(2) for o in ("self", "allc", "alld", "exploiter:ppo")}
    assert "exploiter:ppo" in (tmp_path / "evaluation.md").read_text()
    assert (tmp_path / "loqa_evaluation.png").stat().st_size > 1000


def test_loqa_sizes_keep_the_game():
    """``cpu`` keeps the paper's board, rounds and learner; ``paper`` is ``full``."""
    assert LOQA_SIZES["paper"] == LOQA_SIZES["full"]
    assert LOQA_SIZES["full"]["n_updates"] == 6000
    assert set(LOQA_SIZES["cpu"]) <= {"n_seeds", "n_updates", "log_every", "batch_size",
                                      "exploiter_updates"}
    assert EXPERIMENTS["loqa"].runs[0].game == "coin_game"


def test_loqa_smoke_via_cli(tmp_path):
    out = tmp_path / "cli"
    code = cli_main(["reproduce", "loqa", "--smoke", "--out", str(out), "--formats", "png",
                     "--no-progress"])
    assert code == 0
    cfg = json.loads((out / "loqa" / "config.json").read_text())
    assert cfg["agents"][0]["name"] == "loqa" and cfg["gamma"] == 0.96

"""Reproductions end to end: the quick exact runs hold the papers' qualitative results.

``lola-exact`` and ``lookahead`` run at their quick sizes (32 to 64 seeds); the sampled
experiments (``dice-paper``, ``lola-dice``, ``lola-pg``) run at smoke size here (their learning
results are tested in ``test_dice_paper.py``, ``test_pg_agents.py`` and ``test_lola_pg.py``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lola_games.cli.app import main as cli_main
from lola_games.experiments.reproduce import EXPERIMENTS, reproduce

ROOT = Path(__file__).resolve().parents[2]


def _rows(result):
    return {(r["game"], r["run"]): r for r in result.table}


def _figures_ok(result, stems, formats=("png",)):
    for stem in stems:
        for fmt in formats:
            path = result.out / f"{stem}.{fmt}"
            assert path.stat().st_size > 1000, path


def test_lola_exact_quick(tmp_path):
    """64 seeds, 150 updates (published: 200)."""
    result = reproduce("lola-exact", tmp_path, size="quick", formats=("png",))
    rows = _rows(result)
    assert len(rows) == 6
    assert rows["ipd", "LOLA-Ex vs LOLA-Ex"]["joint"] > -1.2
    assert rows["ipd", "LOLA-Ex vs LOLA-Ex"]["cooperation"] > 0.8
    assert rows["ipd", "NL-Ex vs NL-Ex"]["joint"] < -1.8
    assert rows["ipd", "NL-Ex vs NL-Ex"]["defection (Nash)"] > 0.8
    assert rows["imp", "LOLA-Ex vs LOLA-Ex"]["Nash"] > 0.7
    assert rows["imp", "NL-Ex vs NL-Ex"]["Nash"] < 0.1
    mixed = rows["ipd", "LOLA-Ex vs NL-Ex"]
    assert -1.8 < mixed["joint"] < -1.1  # between the two self-play outcomes
    _figures_ok(result, ["lola_exact_ipd", "lola_exact_imp", "lola_exact_policies_ipd",
                         "lola_exact_policies_imp"])
    assert (tmp_path / "results.md").read_text().count("\n") == 8
    cfg = result.runs["ipd_lola_lola"].config
    assert cfg["gamma"] == 0.96 and cfg["n_updates"] == 150
    assert cfg["agents"][0]["hparams"]["lr"] == 1.0 and cfg["agents"][0]["hparams"]["eta"] == 1.0
    assert result.runs["imp_nl_nl"].config["gamma"] == 0.9

    # redraw from the run directories: same table
    again = reproduce("lola-exact", tmp_path, size="quick", plot_only=True, formats=("png",))
    assert again.table == result.table
    with pytest.raises(FileExistsError, match="already holds a run"):
        reproduce("lola-exact", tmp_path, size="smoke")


def test_lookahead_quick(tmp_path):
    """32 seeds, 100 updates: k = 0 ends at mutual defection, every k >= 1 well above it.

    Measured: k = 0, 1, 2, 3 end at -2.00, -1.28, -1.21, -1.18 (std over seeds 0.24-0.32).
    """
    result = reproduce("lookahead", tmp_path, size="quick", formats=("png",))
    ks = [run.config["agents"][0]["hparams"].get("lookahead_steps", 0)
          for run in result.runs.values()]
    assert ks == [0, 1, 2, 3]
    assert [r["updates"] for r in result.table] == [100] * 4
    final = [run.joint_score[-1].mean() for run in result.runs.values()]
    np.testing.assert_allclose(final, [r["joint"] for r in result.table])
    assert final[0] < -1.9, final
    for k in (1, 2, 3):
        assert final[k] > -1.45 and final[k] > final[0] + 0.4, (k, final)
    assert (tmp_path / "lookahead_ipd.png").stat().st_size > 1000


def test_lola_dice_smoke_via_cli(tmp_path, capsys):
    out, figs = tmp_path / "runs", tmp_path / "figs"
    code = cli_main(["reproduce", "lola-dice", "--smoke", "--out", str(out), "--figures",
                     str(figs), "--formats", "png", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "LOLA-DiCE, 3 lookaheads" in printed and "NL-PG" in printed
    assert (figs / "lola_dice_ipd.png").stat().st_size > 1000
    assert not (figs / "lola_dice_ipd.pdf").exists()
    for k in range(4):
        assert (out / f"k{k}" / "metrics.csv").exists()
    cfg = (out / "k3" / "config.json").read_text()
    assert '"n_lookaheads": 3' in cfg and '"batch_size": 4' in cfg  # smoke override

    # a second time into the same directory is a clear error, resume finishes it
    assert cli_main(["reproduce", "lola-dice", "--smoke", "--out", str(out), "--no-progress"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert cli_main(["reproduce", "lola-dice", "--smoke", "--out", str(out), "--resume",
                     "--formats", "png", "--no-progress"]) == 0


def test_dice_paper_smoke(tmp_path, capsys):
    out = tmp_path / "runs"
    code = cli_main(["reproduce", "dice-paper", "--smoke", "--out", str(out), "--formats", "png",
                     "--no-progress", "--seeds", "3"])
    assert code == 0
    printed = capsys.readouterr().out
    for label in ("NL-PG", "LOLA-DiCE, 3 lookaheads", "LOLA-DiCE-OM", "no magic box",
                  "original estimator", "inner lr 0.3"):
        assert label in printed
    comparison = (out / "comparison.md").read_text()
    assert "stored mean" in comparison and "-1.113" in comparison  # the stored 2-lookahead runs
    assert (out / "comparison.csv").exists() and (out / "dice_paper_ipd.png").stat().st_size > 1000
    import json
    cfg = json.loads((out / "om" / "config.json").read_text())
    hp = cfg["agents"][0]["hparams"]
    assert cfg["n_seeds"] == 3 and hp["opponent_model"] and hp["optimizer"] == "sgd"
    assert hp["baseline"] == "batch-mean" and hp["batch_size"] == 4  # smoke override
    assert json.loads((out / "original" / "config.json").read_text())["agents"][0]["name"] == \
        "lola-pg"


def test_lola_pg_smoke(tmp_path):
    result = reproduce("lola-pg", tmp_path, size="smoke", formats=("png",))
    assert [r["run"] for r in result.table][:3] == ["NL-PG vs NL-PG", "LOLA-PG vs LOLA-PG",
                                                   "LOLA-PG, correction halved"]
    table = (tmp_path / "paper_table.md").read_text()
    assert "paper %TFT" in table and "66.4" in table and "93.2" in table
    assert result.runs["imp_lola"].config["gamma"] == 0.9
    assert result.runs["imp_lola_half"].config["agents"][0]["hparams"]["eta"] == 0.5
    assert (tmp_path / "lola_pg.png").stat().st_size > 1000


def test_lola_dice_without_pg_agents(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "lola_games.agents.pg", None)  # import fails
    with pytest.raises(RuntimeError, match="needs lola_games.agents.pg"):
        reproduce("lola-dice", tmp_path, size="smoke")


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown experiment 'lola'"):
        reproduce("lola", tmp_path)
    with pytest.raises(ValueError, match="size must be one of"):
        reproduce("lookahead", tmp_path, size="tiny")
    with pytest.raises(ValueError, match="exclude each other"):
        reproduce("lookahead", tmp_path, overwrite=True, resume=True)
    assert cli_main(["reproduce", "lookahead", "--smoke", "--out", str(tmp_path / "a"),
                     "--device", "tpu", "--no-progress"]) == 2
    assert "device" in capsys.readouterr().err
    assert cli_main(["reproduce", "lookahead", "--plot-only", "--out", str(tmp_path / "b")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["reproduce", "lookahead", "--quick", "--smoke"])


def test_every_experiment_has_three_sizes():
    for exp in EXPERIMENTS.values():
        assert {"full", "quick", "smoke"} <= set(exp.sizes)  # and possibly its own
        assert len({r.key for r in exp.runs}) == len(exp.runs)


def test_a_size_can_train_some_of_the_runs(tmp_path):
    """A size's ``runs`` trains, tables and draws those runs only; bad names are refused."""
    lookahead = EXPERIMENTS["lookahead"]
    smoke = lookahead.sizes["smoke"]
    drawn = []
    two = replace(lookahead, sizes={**lookahead.sizes, "two": {**smoke, "runs": ("k2", "k0")}},
                  figures=lambda runs, size: drawn.append(list(runs)) or {})
    assert [s.key for s in two.runs_of("two")] == ["k0", "k2"]
    assert two.runs_of("smoke") == lookahead.runs
    EXPERIMENTS.register("lookahead", two, replace=True)
    try:
        result = reproduce("lookahead", tmp_path, size="two", formats=("png",))
    finally:
        EXPERIMENTS.register("lookahead", lookahead, replace=True)
    assert list(result.runs) == ["k0", "k2"] and drawn == [["k0", "k2"]]
    assert [row["run"] for row in result.table] == [two.runs[0].label, two.runs[2].label]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["k0", "k2"]
    for bad in (("k9",), ()):
        with pytest.raises(ValueError, match=r"size 'two' must name one or more of the runs"):
            replace(lookahead, sizes={"two": {**smoke, "runs": bad}})


def test_scripts_run(tmp_path):
    runs = tmp_path / "runs"
    subprocess.run([sys.executable, "-m", "lola_games.cli.app", "reproduce", "lookahead",
                    "--smoke", "--out", str(runs), "--formats", "png", "--no-progress"],
                   check=True, capture_output=True)
    assert (runs / "lookahead_ipd.png").exists()
    done = subprocess.run(
        [sys.executable, "-m", "lola_games.cli.app", "plot", str(runs / "k0"), str(runs / "k1"),
         "--band", "ci95", "--out", str(tmp_path / "joint")],
        check=True, capture_output=True, text=True)
    assert f"wrote {tmp_path / 'joint.pdf'}" in done.stdout
    assert (tmp_path / "joint.pdf").stat().st_size > 1000


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_lookahead_smoke_on_cuda(tmp_path):
    result = reproduce("lookahead", tmp_path, size="smoke", device="cuda", formats=("png",))
    assert result.runs["k1"].config["device"].startswith("cuda")

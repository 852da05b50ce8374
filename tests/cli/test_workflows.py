"""The researcher's workflows through `lola_games.cli.app.main`, as docs/guide documents them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lola_games.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--seeds", "2", "--updates", "3", "--no-progress"]


def test_train_writes_a_default_run_dir_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--agents", "naive", "lola", *SMALL]) == 0
    out = Path("runs/train/ipd-naive-lola")
    assert (tmp_path / out / "config.json").exists()
    assert f"run written to {out}" in capsys.readouterr().out
    # again: a directory that holds results needs --resume or --overwrite
    assert main(["train", "--agents", "naive", "lola", *SMALL]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err
    assert main(["train", "--agents", "naive", "lola", *SMALL, "--overwrite"]) == 0


def test_per_agent_settings_win_over_shared_flags(tmp_path):
    out = tmp_path / "r"
    assert main(["train", "--agents", "lola:lr=0.5,eta=2", "naive", "--lr", "0.1",
                 "--out", str(out), *SMALL]) == 0
    agents = json.loads((out / "config.json").read_text())["agents"]
    text = json.dumps(agents)
    assert "0.5" in text and "0.1" in text and "2" in text


@pytest.mark.parametrize("argv, message", [
    (["--agents", "naive", "naive", "--eta", "5"], "--eta: taken by none of the agents"),
    (["--agents", "naive:foo=1", "lola"], "agent 'naive' takes no setting 'foo'"),
    (["--agents", "naive:lr=-1", "lola"], "lr"),
])
def test_options_no_agent_takes_are_errors(tmp_path, capsys, argv, message):
    assert main(["train", *argv, "--out", str(tmp_path / "r"), *SMALL]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_tournament_refuses_options_no_entrant_takes(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["tournament", "--agents", "tft", "alld", "--eta", "0.5", "--out", str(out),
                 "--seeds", "2", "--updates", "2", "--no-progress", "--formats", ""]) == 2
    assert "--eta: taken by none of the entrants tft, alld" in capsys.readouterr().err
    assert not out.exists()
    assert main(["tournament", "--agents", "tft", "lola", "--eta", "0.5", "--out", str(out),
                 "--seeds", "2", "--updates", "2", "--no-progress", "--formats", ""]) == 0


def test_config_toml_and_a_runs_config_json(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text('game = "stag_hunt"\nagents = ["naive:lr=0.3", "lola"]\nseeds = 2\n'
                    'updates = 3\nno-progress = true\nlog_every = 1\n')
    first = tmp_path / "a"
    assert main(["train", "--config", str(toml), "--out", str(first), "--seed", "3"]) == 0
    config = json.loads((first / "config.json").read_text())
    assert config["n_seeds"] == 2 and config["seed"] == 3
    assert "stag_hunt" in json.dumps(config["game"])
    again = tmp_path / "b"
    assert main(["train", "--config", str(first / "config.json"), "--out", str(again),
                 "--no-progress"]) == 0
    second = json.loads((again / "config.json").read_text())
    assert second["agents"] == config["agents"] and second["n_updates"] == 3
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = 1\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "'nonsense' is no option" in capsys.readouterr().err


def test_import_registers_a_user_agent(tmp_path, monkeypatch):
    (tmp_path / "mymod.py").write_text(
        "from lola_games.agents import register_agent\n"
        "from lola_games.agents.naive import NaiveLearner\n\n\n"
        "@register_agent('naive-momentum')\n"
        "class NaiveMomentum(NaiveLearner):\n"
        "    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r"
    assert main(["train", "--agents", "naive-momentum", "lola", "--out", str(tmp_path / "s"),
                 *SMALL]) == 2  # unknown before --import
    assert main(["train", "--import", "mymod", "--agents", "naive-momentum", "lola",
                 "--out", str(out), *SMALL]) == 0
    assert (out / "config.json").exists()


def test_plot_a_metric_and_the_policies(tmp_path, capsys):
    ipd, imp = tmp_path / "ipd", tmp_path / "imp"
    assert main(["train", "--agents", "naive", "lola", "--out", str(ipd), *SMALL]) == 0
    assert main(["train", "--game", "imp", "--agents", "naive", "lola", "--out", str(imp),
                 *SMALL]) == 0
    capsys.readouterr()
    assert main(["plot", str(ipd), "--band", "ci95", "--formats", "png"]) == 0
    assert (ipd / "joint.png").stat().st_size > 1000
    assert main(["plot", str(imp), "--formats", "png"]) == 0  # zero-sum: values per player
    assert (imp / "value.png").exists()
    assert main(["plot", str(ipd), "--policies", "--out", str(tmp_path / "p"),
                 "--formats", "png"]) == 0
    assert (tmp_path / "p.png").exists()
    assert main(["plot", str(ipd), "--metric", "nonsense"]) == 2
    assert "unknown metric 'nonsense'" in capsys.readouterr().err


def test_plot_legend_states_the_band(tmp_path):
    from lola_games.analysis.metric_plots import plot_metric

    run = tmp_path / "r"
    assert main(["train", "--agents", "naive", "lola", "--out", str(run), *SMALL]) == 0
    fig, name = plot_metric([run], band="se")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert name == "joint" and any("mean ± s.e." in t for t in labels)


def test_tournament_needs_resume_or_overwrite(tmp_path, capsys):
    out = str(tmp_path / "t")
    argv = ["tournament", "--agents", "naive", "lola", "--out", out, "--formats", "",
            "--seeds", "2", "--updates", "2", "--no-progress"]
    assert main(argv) == 0
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err
    assert main([*argv, "--resume"]) == 0


def test_log_tensorboard_reaches_train(tmp_path):
    pytest.importorskip("tensorboard")
    assert main(["train", "--agents", "naive", "lola", "--out", str(tmp_path / "r"),
                 "--log", "tensorboard", *SMALL]) == 0
    assert list((tmp_path / "r" / "tensorboard").glob("events.out.tfevents.*"))


def test_documented_commands_run(tmp_path, monkeypatch):
    """Every ``lola-games`` line of docs/guide/runner-and-cli.md's workflow section runs."""
    text = (ROOT / "docs" / "guide" / "runner-and-cli.md").read_text()
    section = text.split("<!-- workflow-begin -->")[1].split("<!-- workflow-end -->")[0]
    commands = [line.split("#")[0].split()[1:] for line in section.splitlines()
                if line.startswith("lola-games ")]
    assert len(commands) >= 6
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text('agents = ["lola:lr=0.5", "naive"]\nseeds = 2\n'
                                       'updates = 3\n')
    for argv in commands:
        argv = [re.sub(r"^~", str(tmp_path), a) for a in argv]
        assert main(argv) == 0, argv


def test_ctrl_c_while_a_subcommand_loads_is_one_line(monkeypatch, capsys):
    """Ctrl-C while the subcommand's modules (torch) load: one line, exit 130, no traceback."""
    import lola_games.cli.app as app

    def interrupted(entry):
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "load_entry", interrupted)
    assert app.main(["train", "--agents", "naive", "naive", *SMALL]) == 130
    assert capsys.readouterr().err == "lola-games: interrupted\n"


def test_log_tensorboard_reaches_every_run_of_a_reproduction(tmp_path):
    pytest.importorskip("tensorboard")
    out = tmp_path / "r"
    assert main(["reproduce", "lookahead", "--smoke", "--out", str(out), "--formats", "",
                 "--no-progress", "--log", "tensorboard"]) == 0
    runs = [d for d in out.iterdir() if (d / "config.json").exists()]
    assert runs and all(list((d / "tensorboard").glob("events.out.tfevents.*")) for d in runs)
    assert main(["reproduce", "mfos", "--smoke", "--out", str(tmp_path / "m"),
                 "--log", "tensorboard"]) == 2


def test_train_evaluates_and_plot_tabulates_the_evaluation(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--agents", "allc", "alld", "--out", str(out), *SMALL,
                 "--exploiter-updates", "2", "--exploiter", "naive-pg"]) == 0
    line = capsys.readouterr().out
    assert "scores vs self" in line and "exploiter:naive-pg" in line and "(gain" in line
    assert "exploiter:naive-pg" in (out / "evaluation.csv").read_text()
    assert main(["plot", str(out), "--evaluation"]) == 0
    table = (out / "evaluation_table.md").read_text()
    assert "| allc vs alld on ipd | 0 | alld | 2 | -3.000 (0.000) |" in table
    assert (out / "evaluation_table.csv").exists()
    assert (out / "evaluation_table.png").stat().st_size > 1000  # the evaluation's figure


def test_bad_exploiter_flags_are_one_line_errors(tmp_path, capsys):
    base = ["train", "--agents", "naive", "naive", "--out", str(tmp_path / "r"), *SMALL]
    with pytest.raises(SystemExit) as stop:  # argparse names the flag
        main([*base, "--exploiter-updates", "-1"])
    assert stop.value.code == 2
    assert "--exploiter-updates: must be an int >= 0" in capsys.readouterr().err
    assert main([*base, "--exploiter-updates", "2", "--exploiter", "nope"]) == 2
    assert "exploiter: unknown agent 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()

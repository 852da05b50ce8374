"""The runner, the run directory and the ``train`` command."""

import json

import numpy as np
import pytest
import torch

from lola_games.agents import LOLA, NaiveLearner, TitForTat, make_agent
from lola_games.cli.app import main
from lola_games.core.device import resolve_device
from lola_games.runner.metrics_io import metric_columns
from lola_games.runner.outcomes import outcome_shares, summary_line
from lola_games.runner.run import load_run
from lola_games.runner.rundir import RunDirectory
from lola_games.runner.training import train
from lola_games.values.exact import exact_values


def small(**kw):
    args = dict(game="ipd", agents=[LOLA(), NaiveLearner()], n_seeds=6, n_updates=12,
                gamma=0.96, seed=3)
    args.update(kw)
    return train(**args)


def test_results_shapes_and_values_are_exact():
    run = small()
    assert run.value_0.shape == (13, 6) and run.probs_1.shape == (13, 6, 5)
    assert list(run.updates) == list(range(13))
    p0, p1 = run.final_params
    v0, v1 = exact_values("ipd", p0, p1, 0.96)
    np.testing.assert_allclose(run.value_0[-1], v0.numpy(), rtol=1e-6)
    np.testing.assert_allclose(run.probs_1[-1], torch.sigmoid(p1).numpy(), rtol=1e-6)
    assert not np.allclose(run.probs_0[0], run.probs_0[-1])  # it learned


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b, c = small(), small(), small(seed=4)
    np.testing.assert_array_equal(a.value_0, b.value_0)
    np.testing.assert_array_equal(a.probs_1, b.probs_1)
    assert not np.allclose(a.value_0, c.value_0)


def test_fixed_agent_never_changes_in_a_run():
    run = small(agents=[TitForTat(), NaiveLearner()])
    np.testing.assert_array_equal(run.probs_0[0], run.probs_0[-1])


def test_run_directory_format(tmp_path):
    out = tmp_path / "run"
    run = small(out_dir=out, label="lola vs nl")
    config = json.loads((out / "config.json").read_text())
    for key in ("game", "agents", "n_seeds", "n_updates", "gamma", "seed", "device", "mode",
                "label", "version"):
        assert key in config
    assert config["mode"] == "exact" and config["label"] == "lola vs nl"
    assert config["agents"][0] == {"name": "lola", "hparams": {
        "lr": 1.0, "eta": 1.0, "stop_gradient": True, "optimizer": "sgd"}}
    assert config["format"] == 2 and config["n_players"] == 2
    assert config["game_spec"]["kind"] == "matrix"
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert header == ("update,seed,value_0,value_1,p_start_0,p_start_1,p_CC_0,p_CC_1,p_CD_0,"
                      "p_CD_1,p_DC_0,p_DC_1,p_DD_0,p_DD_1")
    loaded = load_run(out)
    assert loaded.value_0.shape == (13, 6) and loaded.probs_0.shape == (13, 6, 5)
    np.testing.assert_array_equal(loaded.value_1, run.value_1)
    np.testing.assert_array_equal(loaded.probs_0, run.probs_0)
    assert loaded.game.name == "ipd" and loaded.label == "lola vs nl"
    final = torch.load(out / "final_params.pt", weights_only=True)
    assert torch.equal(final["params"][0], run.final_params[0])
    assert torch.load(out / "checkpoint.pt", weights_only=True)["update"] == 12
    with pytest.raises(FileExistsError, match="already holds a run") as taken:
        small(out_dir=out)
    message = str(taken.value)  # both ways to go on, for the CLI and for Python
    assert "--resume" in message and "resume=True" in message
    assert "--overwrite" in message and "overwrite=True" in message


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("agents", [["lola", "naive"], ["sos", "lookahead-lola"]])
def test_interrupted_run_resumes_to_the_same_numbers(tmp_path, monkeypatch, agents):
    ref = small(agents=[make_agent(a, optimizer="adam", lr=0.1) for a in agents],
                out_dir=tmp_path / "ref")
    original_log = RunDirectory.log

    def log_then_die(self, update, metrics):
        original_log(self, update, metrics)
        if update == 7:
            raise Interrupt

    monkeypatch.setattr(RunDirectory, "log", log_then_die)
    out = tmp_path / "cut"
    make = lambda: [make_agent(a, optimizer="adam", lr=0.1) for a in agents]  # noqa: E731
    with pytest.raises(Interrupt):
        small(agents=make(), out_dir=out, checkpoint_every=5)
    kept = load_run(out)
    assert list(kept.updates) == list(range(8))  # what it logged is kept
    monkeypatch.setattr(RunDirectory, "log", original_log)
    resumed = small(agents=make(), out_dir=out, checkpoint_every=5, resume=True)
    for field in ("value_0", "value_1", "probs_0", "probs_1"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(ref, field))
        np.testing.assert_array_equal(getattr(load_run(out), field), getattr(ref, field))
    assert torch.equal(resumed.final_params[1], ref.final_params[1])


def test_resume_can_extend_and_checks_settings(tmp_path):
    out = tmp_path / "run"
    small(out_dir=out, n_updates=5)
    longer = small(out_dir=out, n_updates=12, resume=True)
    np.testing.assert_array_equal(longer.value_0, small().value_0)
    with pytest.raises(ValueError, match="settings differ"):
        small(out_dir=out, n_updates=20, resume=True, gamma=0.9)
    with pytest.raises(FileNotFoundError):
        small(out_dir=tmp_path / "none", resume=True)


def test_log_every_and_writer_checks(tmp_path):
    run = small(log_every=5)
    assert list(run.updates) == [0, 5, 10, 12]
    w = RunDirectory.create(tmp_path / "w", {"n_seeds": 2, "n_players": 2})
    with pytest.raises(ValueError, match=r"must include 'value'"):
        w.log(0, {"p_CC": np.zeros((2, 2))})
    w.log(0, {"value": np.zeros((2, 2)), "p_CC": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"'p_CC' must have shape \[P, S\] = \[2, 2\]"):
        w.log(1, {"value": np.zeros((2, 2)), "p_CC": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="differ from the run's"):
        w.log(1, {"value": np.zeros((2, 2))})
    w.close()
    assert metric_columns(["value", "p_start"], 2) == ["update", "seed", "value_0", "value_1",
                                                       "p_start_0", "p_start_1"]


@pytest.mark.parametrize("kwargs,message", [
    (dict(game="nope"), "unknown game"),
    (dict(agents=["lola", "nope"]), "unknown agent"),
    (dict(agents=["lola"]), "pair"),
    (dict(gamma=1.0), "gamma"),
    (dict(n_seeds=0), "n_seeds"),
    (dict(n_updates=-1), "n_updates"),
    (dict(seed=-1), "seed"),
    (dict(dtype="float16"), "dtype"),
    (dict(device="tpu"), "device"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        small(**kwargs)


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_outcomes_and_summary():
    run = small(agents=["alld", "alld"], n_updates=1)
    assert outcome_shares(run) == {"cooperation": 0.0, "defection (Nash)": 1.0}
    run = small(game="imp", agents=["random", "random"], n_updates=1)
    assert outcome_shares(run) == {"Nash": 1.0}
    line = summary_line(small(agents=["allc", "tft"], n_updates=1))
    assert "joint score -1.000 +- 0.000" in line and "cooperation 100%" in line


def test_cli_train_writes_run(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["train", "--game", "imp", "--agents", "lola", "naive", "--seeds", "4",
               "--updates", "3", "--gamma", "0.9", "--lr", "0.5", "--eta", "2", "--device",
               "auto", "--out", str(out), "--no-progress"])
    assert rc == 0
    assert "4 seeds" in capsys.readouterr().out
    config = load_run(out).config
    assert config["agents"][0]["hparams"]["eta"] == 2.0
    assert config["agents"][1]["hparams"] == {"lr": 0.5, "optimizer": "sgd"}


@pytest.mark.parametrize("argv,message", [
    (["--game", "nope"], "unknown game 'nope'"),
    (["--agents", "lola", "nope"], "unknown agent 'nope'"),
    (["--gamma", "1.5"], "gamma must be in [0, 1)"),
    (["--seeds", "0"], "--seeds: must be a positive int, got 0"),
    (["--updates", "0"], "--updates: must be a positive int, got 0"),
    (["--lr", "-1"], "lr must be"),
    (["--seeds", "many"], "--seeds: must be a positive int, got 'many'"),
])
def test_cli_bad_arguments_one_line_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["train", "--no-progress", *argv]))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_cuda_absent_is_an_error(capsys):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    assert main(["train", "--device", "cuda", "--no-progress"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_cuda_run_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    cpu = small(dtype=torch.float64)
    gpu = small(dtype=torch.float64, device="cuda")
    assert gpu.config["device"].startswith("cuda")
    np.testing.assert_allclose(gpu.value_0[0], cpu.value_0[0], rtol=1e-10)

"""Tournaments, sweeps and run-grid backends: tables against exact values, resuming, bad
input, and identical run directories on every backend."""

import csv
import os

import numpy as np
import pytest
import torch

import lola_games.runner.training as training_module
from lola_games.agents import make_agent
from lola_games.cli.app import main
from lola_games.core.files import LOCK_FILE
from lola_games.experiments.sweep import parse_grid, sweep
from lola_games.experiments.tournament import entrants, pairings, tournament, tournament_tasks
from lola_games.experiments.tournament_presets import PRESETS
from lola_games.runner.backends import InProcess, LocalProcesses, RayCluster, make_backend
from lola_games.runner.checkpoint import load_final_params
from lola_games.runner.files import RUN_FILES
from lola_games.runner.grid import run_grid
from lola_games.values.exact import exact_values

FIXED = ("tft", "alld", "allc")


def test_results_of_fixed_strategies_are_their_exact_values(tmp_path):
    result = tournament("ipd", FIXED, n_seeds=3, n_updates=2, out=tmp_path, formats=("png",))
    logits = {a: make_agent(a).init_params(1, dtype=torch.float64)[0] for a in FIXED}
    for i, a in enumerate(FIXED):
        for j, b in enumerate(FIXED):
            v_a, v_b = exact_values("ipd", logits[a], logits[b], 0.96)
            want = float(v_a) if i != j else float((v_a + v_b) / 2)
            assert result.matrix[i, j] == pytest.approx(want, abs=1e-5)
            assert result.ci[i, j] == pytest.approx(0.0, abs=1e-6)  # no randomness
    np.testing.assert_allclose(result.average, result.matrix.mean(axis=1), atol=1e-12)
    # ALLD exploits ALLC: averages -1.31 (ALLD), -1.35 (TFT), -1.67 (ALLC)
    assert [FIXED[i] for i in result.ranking] == ["alld", "tft", "allc"]
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert [r["agent"] for r in rows] == list(FIXED)
    assert float(rows[1]["vs_tft"]) == pytest.approx(result.matrix[1, 0])
    assert rows[1]["rank"] == "1"
    text = (tmp_path / "results.md").read_text()
    assert "| 1 | alld |" in text and "± 0.000" in text
    for stem in ("heatmap", "ranking", "curves"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
    assert len(pairings(len(FIXED))) == 6 == len(list((tmp_path / "runs").iterdir()))


def test_confidence_intervals_and_averages_over_seeds(tmp_path):
    result = tournament("ipd", ["naive", "tft"], n_seeds=8, n_updates=3, out=tmp_path,
                        formats=())
    final = result.values[0, 1][-1]  # naive's value against tft, per seed
    assert result.matrix[0, 1] == pytest.approx(final.mean())
    assert result.ci[0, 1] == pytest.approx(1.96 * final.std(ddof=1) / np.sqrt(8))
    per_seed = (result.values[0, 0][-1] + result.values[0, 1][-1]) / 2
    assert result.average[0] == pytest.approx(per_seed.mean())
    assert result.average_ci[0] == pytest.approx(1.96 * per_seed.std(ddof=1) / np.sqrt(8))


def test_a_finished_pairing_is_not_rerun_and_an_interrupted_one_resumes(tmp_path,
                                                                        monkeypatch):
    agents = ["naive", "lola", "nl-q"]
    kwargs = dict(n_seeds=3, n_updates=6, formats=(), hparams={"rollout_len": 10})
    whole = tournament("ipd", agents, out=tmp_path / "whole", **kwargs)

    train_module = training_module
    real = train_module._update_all
    calls = {"n": 0}

    def crash(setup, progress):  # Ctrl-C in the third pairing, after its update 4
        if setup.config["label"] == "naive vs nl-q" and progress.update == 4:
            raise KeyboardInterrupt
        calls["n"] += 1
        real(setup, progress)

    monkeypatch.setattr(train_module, "_update_all", crash)
    with pytest.raises(KeyboardInterrupt):
        tournament("ipd", agents, out=tmp_path / "t", **kwargs)
    monkeypatch.setattr(train_module, "_update_all", real)
    runs = tmp_path / "t" / "runs"
    stamps = {d.name: (d / "metrics.csv").stat().st_mtime_ns for d in runs.iterdir()}
    seen = []
    again = tournament("ipd", agents, out=tmp_path / "t",
                       report=lambda r, done, total: seen.append((r.key, r.skipped)), **kwargs)
    assert ("naive__vs__naive", True) in seen and ("naive__vs__lola", True) in seen
    assert ("naive__vs__nl-q", False) in seen
    for key in ("naive__vs__naive", "naive__vs__lola"):
        assert (runs / key / "metrics.csv").stat().st_mtime_ns == stamps[key]
    np.testing.assert_array_equal(again.matrix, whole.matrix)
    for key, v in whole.values.items():
        np.testing.assert_array_equal(again.values[key], v)


@pytest.mark.parametrize("agents,message", [
    (["lola", "lola"], "duplicate entrant name 'lola'"),
    (["lola", "nope"], "unknown agent 'nope'"),
    ({"a/b": "lola"}, "entrant name"),
    ([], "at least one agent"),
])
def test_bad_entrants_write_nothing(tmp_path, agents, message):
    with pytest.raises(ValueError, match=message):
        tournament("ipd", agents, out=tmp_path / "t", n_seeds=2, n_updates=1)
    assert not (tmp_path / "t").exists()


def test_agents_that_cannot_play_or_meet_write_nothing(tmp_path):
    from lola_games.agents import NaivePG
    from lola_games.games.matrix import MatrixGame

    rps = MatrixGame("rps", ("R", "P", "S"),
                     np.stack([np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])] * 2))
    with pytest.raises(ValueError, match="entrant 'naive' cannot play 'rps'"):
        tournament(rps, ["naive", "tft"], out=tmp_path / "t", n_seeds=2, n_updates=1)
    gru = {"naive": make_agent("naive"), "pg-gru": NaivePG("gru", hidden_size=4)}
    with pytest.raises(ValueError, match="pairing naive vs pg-gru cannot be played"):
        tournament("ipd", gru, out=tmp_path / "t", n_seeds=2, n_updates=1)
    assert not (tmp_path / "t").exists()


def test_a_directory_with_other_settings_is_refused_untouched(tmp_path):
    tournament("ipd", ["tft", "alld"], out=tmp_path, n_seeds=2, n_updates=2, formats=())
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="other settings"):
        tournament("ipd", ["tft", "alld"], out=tmp_path, n_seeds=3, n_updates=2)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == before


def _grid_tasks(out):
    return tournament_tasks("ipd", entrants(["lola", "nl-q", "tft"], {"rollout_len": 8}), out,
                            n_seeds=3, n_updates=3, gamma=0.96, seed=4)


def _same_run_files(a, b):
    for name in ("config.json", "metrics.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for x, y in zip(load_final_params(a), load_final_params(b), strict=True):
        if isinstance(x, dict):
            assert all(torch.equal(x[k], y[k]) for k in x)
        else:
            assert torch.equal(x, y)


def test_local_processes_write_the_same_run_directories(tmp_path):
    run_grid(_grid_tasks(tmp_path / "a"), InProcess())
    seen = []
    run_grid(_grid_tasks(tmp_path / "b"), LocalProcesses(2),
             report=lambda r, done, total: seen.append(done))
    assert seen == list(range(1, 7))
    for task in _grid_tasks(tmp_path / "a"):
        key = os.path.basename(task.out_dir)
        _same_run_files(tmp_path / "a" / "runs" / key, tmp_path / "b" / "runs" / key)


def test_ray_writes_the_same_run_directories(tmp_path):
    pytest.importorskip("ray")
    run_grid(_grid_tasks(tmp_path / "a"), InProcess())
    backend = RayCluster("local", num_cpus=2)
    try:
        run_grid(_grid_tasks(tmp_path / "b"), backend)
        # an interrupted run travels to the worker and is resumed there
        resumed = _grid_tasks(tmp_path / "c")[1]
        from lola_games.runner.training import train

        kw = dict(resumed.train_kwargs, n_updates=1)
        train("ipd", list(resumed.agents), out_dir=resumed.out_dir, **kw)
        os.remove(os.path.join(resumed.out_dir, "final_params.pt"))
        run_grid([resumed], backend)
    finally:
        backend.close()
    for task in _grid_tasks(tmp_path / "a"):
        key = os.path.basename(task.out_dir)
        _same_run_files(tmp_path / "a" / "runs" / key, tmp_path / "b" / "runs" / key)
    key = os.path.basename(resumed.out_dir)
    _same_run_files(tmp_path / "a" / "runs" / key, tmp_path / "c" / "runs" / key)
    # (the local train above held the run's advisory lock file; the worker ships run files)
    listing = set(os.listdir(tmp_path / "c" / "runs" / key)) - {LOCK_FILE}
    assert sorted(listing) == sorted(RUN_FILES)


def test_unreachable_ray_address_is_one_clear_error(capsys):
    try:
        import ray  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match=r"lola-games\[ray\]"):
            RayCluster("auto")
        return
    with pytest.raises(ConnectionError, match="no Ray cluster answers at '127.0.0.1:9'"):
        RayCluster("127.0.0.1:9")
    with pytest.raises(ValueError, match="HOST:PORT"):
        RayCluster("nowhere")
    code = main(["tournament", "--agents", "tft", "alld", "--ray", "127.0.0.1:9", "--out",
                 "/nonexistent/never"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Ray cluster answers" in err


def test_backend_options_exclude_each_other():
    with pytest.raises(ValueError, match="exclude each other"):
        make_backend(workers=2, ray="auto")
    with pytest.raises(ValueError, match="workers"):
        make_backend(workers=0)
    assert isinstance(make_backend(), InProcess)


def test_sweep_runs_every_point_and_draws_the_grid(tmp_path):
    result = sweep("ipd", ["lola", "lola"], {"lr": [0.3, 1.0], "eta": [0.5, 1.0]},
                   n_seeds=2, n_updates=3, out=tmp_path, formats=("png",))
    keys = ["lr=0.3,eta=0.5", "lr=0.3,eta=1.0", "lr=1.0,eta=0.5", "lr=1.0,eta=1.0"]
    assert list(result.runs) == keys
    assert [r["run"] for r in result.table] == keys
    assert result.runs["lr=0.3,eta=1.0"].config["agents"][0]["hparams"]["lr"] == 0.3
    assert (tmp_path / "heatmap.png").exists() and (tmp_path / "results.md").exists()


def test_sweep_option_no_agent_takes_writes_nothing(tmp_path, capsys):
    with pytest.raises(ValueError, match="'foo' is taken by none of the agents"):
        sweep("ipd", ["lola", "naive"], {"foo": [1]}, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()
    assert main(["sweep", "--grid", "lr=1", "eta", "--out", str(tmp_path / "s")]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    assert parse_grid(["lookahead-steps=1,2", "optimizer=sgd,adam"]) == {
        "lookahead_steps": [1, 2], "optimizer": ["sgd", "adam"]}
    # the sampled agents read lr as their outer rate
    result = sweep("ipd", ["naive-pg", "naive-pg"], {"lr": [0.5]}, n_seeds=1, n_updates=1,
                   out=tmp_path / "pg", hparams={"batch_size": 2, "rollout_len": 3}, formats=())
    assert result.runs["lr=0.5"].config["agents"][0]["hparams"]["lr_out"] == 0.5


def test_tournament_command(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["tournament", "--agents", "tft", "alld", "nl-q", "--seeds", "2", "--updates",
                 "2", "--rollout-len", "5", "--out", str(out), "--formats", "png"]) == 0
    printed = capsys.readouterr()
    assert "| 1 |" in printed.out and "[6/6]" in printed.err
    assert (out / "results.md").exists() and (out / "heatmap.png").exists()
    assert main(["tournament", "--preset", "lola-paper-ipd", "--agents", "tft"]) == 2
    assert "--preset fixes the entrants" in capsys.readouterr().err


def test_paper_presets_hold_the_published_settings():
    ipd, imp = PRESETS["lola-paper-ipd"], PRESETS["lola-paper-imp"]
    assert (ipd.gamma, imp.gamma, ipd.n_updates) == (0.96, 0.9, 1000)
    names = list(ipd.entrants())
    assert names == ["NL-Q", "JAL-Q", "PHC", "WoLF-PHC", "NL-Ex", "LOLA-Ex"]
    assert set(ipd.published) == set(names) == set(imp.published)
    nlq = ipd.entrants()["NL-Q"]
    assert (nlq.alpha, nlq.alpha_decay, nlq.eps, nlq.gamma, nlq.rollout_len) == (
        0.01, 1e-4, 0.05, 0.96, 200)


def test_reproduce_runs_through_a_backend(tmp_path):
    from lola_games.experiments.reproduce import reproduce

    reproduce("lola-exact", tmp_path / "a", size="smoke", formats=())
    reproduce("lola-exact", tmp_path / "b", size="smoke", formats=(),
              backend=LocalProcesses(2))
    for key in ("ipd_lola_nl", "imp_nl_nl"):
        _same_run_files(tmp_path / "a" / key, tmp_path / "b" / key)
    with pytest.raises(FileExistsError, match="already holds a run"):
        reproduce("lola-exact", tmp_path / "b", size="smoke", formats=())

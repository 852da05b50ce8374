"""Run directories under faults: planted files, links, damage, kills at any point, bad flags.

Every test here failed on lola-games 0.1 (the runner before named metrics).
"""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

import lola_games.runner.rundir as rundir_module
import lola_games.runner.training as train_module
from lola_games.agents import LOLA, LOLADiCE, NaiveLearner, NaivePG, make_agent
from lola_games.cli.app import main
from lola_games.experiments.reproduce import reproduce
from lola_games.functional.optim import AdamState, SGDState
from lola_games.runner.checkpoint import decode_state, encode_state, load_final_params, safe_load
from lola_games.runner.files import RunDirectoryError
from lola_games.runner.run import load_run
from lola_games.runner.training import Interrupted, train


def exact(out=None, **kw):
    args = dict(game="ipd", agents=[LOLA(), NaiveLearner()], n_seeds=3, n_updates=6,
                gamma=0.96, seed=1, out_dir=out, checkpoint_every=2)
    args.update(kw)
    return train(**args)


def sampled(out=None, **kw):
    agent = LOLADiCE(batch_size=8, rollout_len=6)
    args = dict(game="ipd", agents=[agent, agent], n_seeds=2, n_updates=5, gamma=0.96, seed=2,
                out_dir=out, checkpoint_every=2)
    args.update(kw)
    return train(**args)


def same(a, b):
    assert list(a.updates) == list(b.updates)
    assert a.metrics.keys() == b.metrics.keys()
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name], err_msg=name)


def tree_equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(tree_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def digest(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def kill_at(monkeypatch, update, error=KeyboardInterrupt):
    """Make the runner's update number ``update`` raise ``error`` before it completes."""
    real = train_module._update_all

    def update_all(setup, progress):
        if progress.update + 1 == update:
            raise error()
        real(setup, progress)

    monkeypatch.setattr(train_module, "_update_all", update_all)
    return lambda: monkeypatch.setattr(train_module, "_update_all", real)


# -- security -------------------------------------------------------------------------------


class Payload:
    """Pickles to a call that creates a marker file: it must never run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("target", ["checkpoint.pt", "final_params.pt"])
def test_planted_pickle_never_runs(tmp_path, capsys, target):
    out, marker = tmp_path / "run", tmp_path / "pwned"
    exact(out, n_updates=2)
    torch.save({"update": 1, "params": Payload(marker)}, out / target)
    with pytest.raises(RunDirectoryError, match=f"{target}.*weights_only"):
        if target == "checkpoint.pt":
            exact(out, n_updates=4, resume=True)
        else:
            load_final_params(out)
    if target == "checkpoint.pt":
        argv = ["train", "--agents", "lola", "naive", "--seeds", "3", "--updates", "4",
                "--seed", "1", "--out", str(out), "--resume", "--no-progress"]
        assert main(argv) == 2
        assert "weights_only" in capsys.readouterr().err
    assert not marker.exists()


def test_planted_pickle_never_runs_in_reproduce_resume(tmp_path, capsys):
    out, marker = tmp_path / "repro", tmp_path / "pwned"
    reproduce("lookahead", out, size="smoke", formats=("png",))
    torch.save({"update": 1, "params": Payload(marker)}, out / "k1" / "checkpoint.pt")
    argv = ["reproduce", "lookahead", "--smoke", "--out", str(out), "--resume", "--formats",
            "png", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "k1" in err and "checkpoint.pt" in err and err.count("\n") == 1
    assert not marker.exists()


@pytest.mark.parametrize("name", ["config.json", "metrics.csv", "checkpoint.pt"])
def test_links_in_a_run_directory_are_refused_not_followed(tmp_path, name):
    out, victim = tmp_path / "run", tmp_path / "victim"
    exact(out, n_updates=2)
    victim.write_bytes((out / name).read_bytes())
    before = victim.read_bytes()
    (out / name).unlink()
    (out / name).symlink_to(victim)
    for attempt in (lambda: exact(out, n_updates=4, resume=True),
                    lambda: exact(out, overwrite=True)):
        with pytest.raises(RunDirectoryError, match="symbolic link"):
            attempt()
    assert victim.read_bytes() == before


def test_planted_temporary_file_links_are_not_written_through(tmp_path):
    out, victim = tmp_path / "run", tmp_path / "victim"
    victim.write_text("keep me")
    out.mkdir()
    for name in ("checkpoint.pt.tmp", "config.json.tmp", "final_params.pt.tmp",
                 ".checkpoint.pt.tmp"):
        (out / name).symlink_to(victim)
    exact(out, n_updates=3)
    assert victim.read_text() == "keep me"
    assert load_run(out).updates.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("edit,field", [
    (lambda c: c.update(n_seeds=0), "n_seeds"),
    (lambda c: c.update(n_seeds=-1), "n_seeds"),
    (lambda c: c.update(n_seeds="two"), "n_seeds"),
    (lambda c: c.update(gamma=2), "gamma"),
    (lambda c: c.update(agents="lola"), "agents"),
    (lambda c: c.pop("agents"), "agents"),
    (lambda c: c.pop("game_spec"), "game_spec"),
    (lambda c: c.update(game_spec={"kind": "nope"}), "game_spec"),
    (lambda c: c.update(n_players=3), "n_players"),
    (lambda c: c.update(format=99), "format"),
])
def test_untrusted_config_is_one_error_naming_file_and_field(tmp_path, capsys, edit, field):
    out = tmp_path / "ipd_nl_nl"  # the first run that `reproduce lola-exact` reads
    exact(out, n_updates=1)
    config = json.loads((out / "config.json").read_text())
    edit(config)
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunDirectoryError, match=f"config.json.*{field}"):
        load_run(out)
    assert main(["reproduce", "lola-exact", "--plot-only", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config.json" in err and field in err and err.count("\n") == 1


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", ""])
def test_config_that_is_not_an_object(tmp_path, text):
    out = tmp_path / "run"
    exact(out, n_updates=1)
    (out / "config.json").write_text(text)
    with pytest.raises(RunDirectoryError, match="config.json"):
        load_run(out)


# -- resume equals an uninterrupted run -----------------------------------------------------


@pytest.mark.parametrize("run", [exact, sampled])
@pytest.mark.parametrize("kill", [1, 2, 4])
def test_kill_at_any_update_resumes_to_the_same_numbers(tmp_path, monkeypatch, run, kill):
    ref = run(tmp_path / "ref")
    restore = kill_at(monkeypatch, kill)
    with pytest.raises(Interrupted) as stop:
        run(tmp_path / "cut")
    assert stop.value.update == kill - 1
    kept = load_run(tmp_path / "cut")
    assert kept.updates.tolist() == list(range(kill))  # nothing logged is lost
    restore()
    resumed = run(tmp_path / "cut", resume=True)
    same(resumed, ref)
    same(load_run(tmp_path / "cut"), ref)
    assert tree_equal(load_final_params(tmp_path / "cut"), load_final_params(tmp_path / "ref"))
    assert tree_equal(resumed.final_params, ref.final_params)


def test_a_crash_in_an_evaluation_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    """A kill while update 3 is logged keeps update 2's checkpoint; update 3 is redone."""
    ref = sampled(tmp_path / "ref")
    real = train_module._evaluate

    def evaluate(setup, progress):
        if progress.update == 3:
            raise KeyboardInterrupt
        return real(setup, progress)

    monkeypatch.setattr(train_module, "_evaluate", evaluate)
    with pytest.raises(Interrupted) as stop:
        sampled(tmp_path / "cut", checkpoint_every=10)
    assert stop.value.update == 2
    monkeypatch.setattr(train_module, "_evaluate", real)
    same(sampled(tmp_path / "cut", checkpoint_every=10, resume=True), ref)


def test_extending_a_run_with_log_every_equals_an_uninterrupted_run(tmp_path):
    short = sampled(tmp_path / "run", n_updates=5, log_every=2)
    assert short.updates.tolist() == [0, 2, 4, 5]
    longer = sampled(tmp_path / "run", n_updates=9, log_every=2, resume=True)
    ref = sampled(n_updates=9, log_every=2)
    assert ref.updates.tolist() == [0, 2, 4, 6, 8, 9]
    same(longer, ref)
    same(load_run(tmp_path / "run"), ref)
    assert load_run(tmp_path / "run").config["n_updates"] == 9


def test_evaluating_more_often_does_not_change_training(tmp_path):
    every = sampled(n_updates=6)
    sparse = sampled(n_updates=6, log_every=3)
    for k, u in enumerate(sparse.updates):
        i = every.updates.tolist().index(u)
        np.testing.assert_array_equal(sparse.metrics["value"][k], every.metrics["value"][i])


def test_config_rewrite_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "run"
    exact(out, n_updates=2)
    before = (out / "config.json").read_text()
    real = os.replace

    def die_on_config(src, dst):
        if Path(dst).name == "config.json":
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", die_on_config)
    with pytest.raises(KeyboardInterrupt):
        exact(out, n_updates=4, resume=True)
    monkeypatch.setattr(os, "replace", real)
    assert (out / "config.json").read_text() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    same(exact(out, n_updates=4, resume=True), exact(n_updates=4))


# -- metrics and checkpoint must agree ------------------------------------------------------


def _lines(path):
    return path.read_text().splitlines(keepends=True)


@pytest.mark.parametrize("damage", ["drop rows", "nan", "edit number", "other seed"])
def test_metrics_and_checkpoint_that_disagree_are_refused(tmp_path, damage):
    out = tmp_path / "run"
    exact(out, n_updates=4)
    metrics = out / "metrics.csv"
    lines = _lines(metrics)
    if damage == "drop rows":
        metrics.write_text("".join(lines[:4] + lines[7:]))  # update 1 (3 seeds) lost
    elif damage == "nan":
        fields = lines[5].split(",")
        fields[3] = "nan"
        metrics.write_text("".join(lines[:5] + [",".join(fields)] + lines[6:]))
    elif damage == "edit number":
        metrics.write_text("".join(lines).replace(lines[2].split(",")[2], "-1.5", 1))
    else:
        exact(tmp_path / "other", n_updates=4, seed=7)
        (out / "checkpoint.pt").write_bytes((tmp_path / "other" / "checkpoint.pt").read_bytes())
    before = digest(out)
    match = "another run.*seed" if damage == "other seed" else "does not match checkpoint"
    with pytest.raises(RunDirectoryError, match=match):
        exact(out, n_updates=6, resume=True)
    assert digest(out) == before  # nothing written


# -- flags and directories ------------------------------------------------------------------


def test_run_files_without_config_are_not_deleted_silently(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("precious\n")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="run files.*--overwrite"):
        exact(out)
    assert (out / "metrics.csv").read_text() == "precious\n"
    exact(out, overwrite=True, n_updates=1)
    assert (out / "notes.txt").read_text() == "mine"  # only run files are replaced


def test_bad_flag_combinations_change_nothing(tmp_path):
    out = tmp_path / "run"
    exact(out, n_updates=4)
    before = digest(out)
    with pytest.raises(ValueError, match="empty"):
        exact("")
    with pytest.raises(ValueError, match="exclude each other"):
        exact(out, resume=True, overwrite=True)
    with pytest.raises(ValueError, match="already at update 4"):
        exact(out, n_updates=3, resume=True)
    assert digest(out) == before
    assert exact(out, n_updates=4, resume=True).updates.tolist() == list(range(5))


@pytest.mark.parametrize("argv,message", [
    (["--out", ""], "empty"),
    (["--out", "D", "--resume", "--overwrite"], "exclude each other"),
])
def test_cli_refuses_bad_flag_combinations(tmp_path, capsys, argv, message):
    argv = [a.replace("D", str(tmp_path / "d")) if a == "D" else a for a in argv]
    assert main(["train", "--seeds", "2", "--updates", "2", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_ctrl_c_is_one_line_exit_130_and_resume_continues(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    argv = ["train", "--agents", "lola", "naive", "--seeds", "3", "--updates", "6", "--seed",
            "1", "--out", str(out), "--checkpoint-every", "2", "--no-progress"]
    restore = kill_at(monkeypatch, 4)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "after update 3" in err and "--resume" in err and str(out) in err
    restore()
    assert main([*argv, "--resume"]) == 0
    same(load_run(out), exact())


def test_interrupted_first_update_points_to_overwrite(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real = train_module._evaluate

    def evaluate(setup, progress):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_evaluate", evaluate)
    with pytest.raises(Interrupted):
        exact(out)
    monkeypatch.setattr(train_module, "_evaluate", real)
    with pytest.raises(FileNotFoundError, match="--overwrite"):
        exact(out, resume=True)
    with pytest.raises(FileExistsError, match="--overwrite"):
        exact(out)
    for argv in (["--seeds", "3"], ["--agents", "lola", "naive", "--seeds", "3", "--seed", "1"]):
        assert main(["train", "--out", str(out), "--resume", "--no-progress", *argv]) == 2
        assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("name,damage", [
    ("checkpoint.pt", lambda b: b[: len(b) // 2]),
    ("checkpoint.pt", lambda b: b"garbage"),
    ("config.json", lambda b: b"{\"game\": "),
    ("metrics.csv", lambda b: b.replace(b"\n", b"\nx,y,z\n", 3)),
])
def test_damaged_files_are_one_line_naming_the_file(tmp_path, capsys, name, damage):
    out = tmp_path / "run"
    exact(out, n_updates=4)
    (out / name).write_bytes(damage((out / name).read_bytes()))
    argv = ["train", "--agents", "lola", "naive", "--seeds", "3", "--updates", "6", "--seed",
            "1", "--out", str(out), "--resume", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert name in err and err.count("\n") == 1 and "Traceback" not in err


def test_out_that_is_a_file_or_unwritable_is_one_line(tmp_path, capsys):
    file = tmp_path / "file"
    file.write_text("x")
    for out in (file, file / "sub"):
        assert main(["train", "--seeds", "2", "--updates", "1", "--out", str(out),
                     "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert str(file) in err and err.count("\n") == 1
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["train", "--seeds", "2", "--updates", "1", "--out",
                     str(locked / "run"), "--no-progress"]) == 2
        assert "Permission denied" in capsys.readouterr().err


def test_resume_reads_metrics_once_and_streams(tmp_path, monkeypatch):
    out = tmp_path / "run"
    agents = [NaiveLearner(), NaiveLearner()]
    exact(out, agents=agents, n_seeds=64, n_updates=300, checkpoint_every=300)
    size = (out / "metrics.csv").stat().st_size
    runlog = rundir_module

    scans = []
    real = runlog.scan_metrics
    monkeypatch.setattr(runlog, "scan_metrics", lambda *a, **k: scans.append(1) or real(*a, **k))
    tracemalloc.start()
    exact(out, agents=agents, n_seeds=64, n_updates=301, checkpoint_every=300, resume=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(scans) == 1
    assert peak < 1.5 * size, (peak, size)


# -- format 1 directories -------------------------------------------------------------------


def test_format_1_directories_load_but_do_not_resume(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    config = {"game": "ipd", "agents": [{"name": "lola", "hparams": {}},
                                        {"name": "naive", "hparams": {}}],
              "n_seeds": 2, "n_updates": 1, "gamma": 0.96, "seed": 0, "label": "old run"}
    (out / "config.json").write_text(json.dumps(config))
    header = "update,seed,value_0,value_1," + ",".join(
        f"p{i}_{s}" for i in range(2) for s in ("start", "CC", "CD", "DC", "DD"))
    rows = [f"{u},{s},-1.5,-1.25," + ",".join(str(0.1 * k + s) for k in range(10))
            for u in range(2) for s in range(2)]
    (out / "metrics.csv").write_text("\n".join([header, *rows]) + "\n")
    run = load_run(out)
    assert run.updates.tolist() == [0, 1] and run.n_players == 2
    np.testing.assert_allclose(run.probs_1[1, 1], [1.5, 1.6, 1.7, 1.8, 1.9])
    np.testing.assert_allclose(run.value_1, -1.25)
    with pytest.raises(RunDirectoryError, match="format 1"):
        train("ipd", ["lola", "naive"], n_seeds=2, n_updates=2, out_dir=out, resume=True)


# -- agents that meet ----------------------------------------------------------------------


@pytest.mark.parametrize("pair", [("naive", "lola-dice"), ("sos", "naive-pg"),
                                  ("lola-dice", "lola")])
def test_exact_learners_play_sampled_learners(pair):
    agents = [make_agent(a, **({"batch_size": 8, "rollout_len": 6} if "-" in a else {}))
              for a in pair]
    run = train("ipd", agents, n_seeds=2, n_updates=3, seed=0)
    assert run.config["mode"] == "sampled" and np.isfinite(run.metrics["value"]).all()
    exact_player = [i for i, a in enumerate(agents) if a.mode == "exact"][0]
    first, last = run.probs(exact_player)[0], run.probs(exact_player)[-1]
    assert not np.allclose(first, last)  # the exact learner learned from the sampled policy


def test_exact_learner_against_a_recurrent_policy_fails_at_start():
    with pytest.raises(ValueError, match="no memory-one policy"):
        train("ipd", [NaiveLearner(), NaivePG("gru", hidden_size=4)], n_seeds=2, n_updates=1)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(seed=2**64), ValueError, "seed"),
    (dict(seed=2**63), ValueError, "seed"),
    (dict(seed=1.5), ValueError, "seed"),
    (dict(evaluate=5), TypeError, "evaluate"),
    (dict(label=3), TypeError, "label"),
    (dict(agents=[LOLA(), NaiveLearner(), LOLA()]), ValueError, "pair"),
])
def test_train_argument_checks(kwargs, error, message):
    with pytest.raises(error, match=message):
        exact(**kwargs)


def test_unregistered_state_types_are_refused_when_checkpointing(tmp_path):
    from typing import NamedTuple

    class Mine(NamedTuple):
        x: torch.Tensor

    class Odd(NaiveLearner):
        def init_state(self, params):
            return Mine(params)

    with pytest.raises(TypeError, match="not registered"):
        train("ipd", [Odd(), NaiveLearner()], n_seeds=2, n_updates=1, out_dir=tmp_path / "r")


# -- checkpoints of earlier versions ----------------------------------------------------------


def _retag(tree, old_module):
    """``tree`` with every state-type tag moved to ``old_module`` (as an earlier version wrote)."""
    if isinstance(tree, dict):
        out = {k: _retag(v, old_module) for k, v in tree.items()}
        tag = "__lola_games_namedtuple__"
        if tag in out:
            out[tag] = f"{old_module}.{out[tag].rpartition('.')[2]}"
        return out
    if isinstance(tree, (list, tuple)):
        return type(tree)(_retag(v, old_module) for v in tree)
    return tree


@pytest.mark.parametrize("old_module", ["lola_games.lookahead", "lola_games.functional.lookahead"])
def test_optimizer_states_tagged_with_their_old_module_load(tmp_path, old_module):
    states = (AdamState(step=3, exp_avg=torch.ones(2, 5), exp_avg_sq=torch.zeros(2, 5)),
              SGDState(step=1, momentum_buffer=None))
    file = tmp_path / "old.pt"
    torch.save({"states": _retag(encode_state(states), old_module)}, file)
    assert old_module + ".AdamState" in repr(torch.load(file, weights_only=True))
    loaded = decode_state(safe_load(file)["states"], None)
    assert type(loaded[0]) is AdamState and type(loaded[1]) is SGDState
    assert loaded[0].step == 3 and torch.equal(loaded[0].exp_avg, torch.ones(2, 5))
    assert loaded[1] == SGDState(step=1, momentum_buffer=None)


def test_a_run_checkpointed_before_the_restructure_resumes_to_the_same_numbers(tmp_path):
    """Checkpoints of lola-games before the layered package tagged the optimizer states
    ``lola_games.lookahead.AdamState``; such a run resumes as if never interrupted."""
    agents = [NaiveLearner(optimizer="adam"), NaiveLearner()]
    kw = dict(game="ipd", agents=agents, n_seeds=3, gamma=0.96, seed=4, checkpoint_every=2)
    whole = train(n_updates=6, **kw)
    out = tmp_path / "run"
    train(n_updates=4, out_dir=out, **kw)
    ck_file = out / "checkpoint.pt"
    ck = torch.load(ck_file, weights_only=True)
    ck["states"] = _retag(ck["states"], "lola_games.lookahead")
    assert "lola_games.lookahead.AdamState" in repr(ck["states"])
    torch.save(ck, ck_file)
    resumed = train(n_updates=6, out_dir=out, resume=True, **kw)
    np.testing.assert_array_equal(resumed.metrics["value"], whole.metrics["value"])
    assert len(load_final_params(out)) == 2

"""Experiment trackers (TensorBoard, W&B offline, any `Tracker`), the progress display,
``log_every`` thinning and ``Run.__repr__``."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

from lola_games.agents import NaiveLearner
from lola_games.runner.run import load_run
from lola_games.runner.trackers import ProgressDisplay, Tracker, resolve_trackers
from lola_games.runner.training import Interrupted, train


class Recorder:
    """A tracker that keeps what it is given; raises Ctrl-C when it reaches ``stop_at``."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.configs, self.logged, self.closed, self.stop_at = [], [], 0, stop_at

    def start(self, config):
        self.configs.append(config)

    def log(self, update, metrics):
        self.logged.append((update, dict(metrics)))
        if update == self.stop_at:
            raise KeyboardInterrupt

    def close(self):
        self.closed += 1


def run_args(out, **kw):
    args = dict(game="ipd", agents=[NaiveLearner(), NaiveLearner(lr=0.5)], n_seeds=5,
                n_updates=8, seed=2, out_dir=out, checkpoint_every=3, log_every=1)
    args.update(kw)
    return args


def interrupted_then_resumed(out, trackers, stop_at=5, **kw):
    """A run stopped by Ctrl-C while logging update ``stop_at`` (so checkpointed at the
    update before it, the last complete one), then resumed."""
    with pytest.raises(Interrupted):
        train(**run_args(out, trackers=(*trackers, Recorder(stop_at=stop_at)), **kw))
    return train(**run_args(out, trackers=trackers, resume=True, **kw))


def csv_means(run):
    """``{column: [mean over seeds per logged update]}`` of metrics.csv, via load_run."""
    return {f"{name}_{p}": values[:, p].mean(axis=-1)
            for name, values in run.metrics.items() for p in range(values.shape[1])}


def test_tracker_objects_get_the_csv_columns_config_and_resume_without_duplicates(tmp_path):
    first = Recorder()
    interrupted_then_resumed(tmp_path / "run", (first,))
    run = load_run(tmp_path / "run")
    # session 1 logged 0..5 (5 interrupted: checkpoint at 4); session 2 goes on from 4
    steps = [u for u, _ in first.logged]
    assert steps == [0, 1, 2, 3, 4, 5, 5, 6, 7, 8]
    assert first.closed == 2 and first.configs[0] == run.config == first.configs[1]
    resumed = dict(first.logged[6:])
    means = csv_means(run)
    assert list(resumed[8]) == list(means)  # the metrics.csv columns, in their order
    for k, u in enumerate(run.updates):
        if u >= 5:
            np.testing.assert_allclose([resumed[u][c] for c in means],
                                       [m[k] for m in means.values()], rtol=1e-12)


def test_log_every_thins_trackers_and_metrics_csv(tmp_path):
    rec = Recorder()
    run = train(**run_args(tmp_path / "run", n_updates=25, log_every=10, trackers=[rec]))
    assert [u for u, _ in rec.logged] == [0, 10, 20, 25] == list(run.updates)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 * 5  # header + 4 logged updates x 5 seeds


def test_tensorboard_events_match_metrics_csv_after_resume(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    interrupted_then_resumed(tmp_path / "run", ("tensorboard",))
    run = load_run(tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    means = csv_means(run)
    assert sorted(events.Tags()["scalars"]) == sorted(means)
    for column, values in means.items():
        scalars = events.Scalars(column)
        assert [s.step for s in scalars] == list(run.updates)  # purged: no step twice
        np.testing.assert_allclose([s.value for s in scalars], values, rtol=1e-6)
    config = events.Tensors("config/text_summary")[-1].tensor_proto.string_val[0].decode()
    assert json.loads(config) == run.config


def wandb_records(path: Path):
    """The protobuf records of a ``.wandb`` file (a LevelDB-style log: 32 KiB blocks,
    7-byte chunk headers ``crc32, length (2, little-endian), type``)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, out, buf = 7, 32768, [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7 or data[pos + 6] == 0:  # block trailer or zero padding
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        buf += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(buf)
            out.append(record)
            buf = b""
    return out


def test_wandb_offline_history_matches_metrics_csv_after_resume(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    interrupted_then_resumed(tmp_path / "run", ("wandb",), stop_at=6, log_every=2)
    run = load_run(tmp_path / "run")
    files = sorted((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
    run_id = (tmp_path / "run" / "wandb" / "run_id").read_text().strip()
    assert len(files) == 2 and all(f.name == f"run-{run_id}.wandb" for f in files)
    history, configs = {}, []
    for f in files:  # session 1 logged 0, 2, 4, 6 (6 interrupted: checkpoint at 5)
        records = wandb_records(f)
        for r in records:
            if r.WhichOneof("record_type") == "history":
                row = {i.key or "/".join(i.nested_key): json.loads(i.value_json)
                       for i in r.history.item}
                history.setdefault(f, []).append((r.history.step.num, row))
            if r.WhichOneof("record_type") == "run":
                configs.append({u.key: json.loads(u.value_json) for u in r.run.config.update})
    first, second = (history[f] for f in files)
    assert [s for s, _ in first] == [0, 2, 4, 6] and [s for s, _ in second] == [6, 8]
    rows = dict(first[:3] + second)  # the resumed session from update 6 on
    means = csv_means(run)
    assert sorted(rows) == list(run.updates)
    for k, u in enumerate(run.updates):
        np.testing.assert_allclose([rows[u][c] for c in means], [m[k] for m in means.values()],
                                   rtol=1e-12)
    assert configs and {k: v for k, v in configs[0].items() if k != "_wandb"} == run.config


def test_bad_trackers_are_named_and_write_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="unknown tracker 'tensorbord'"):
        train(**run_args(out, trackers=("tensorbord",)))
    with pytest.raises(ValueError, match="'tensorboard' writes into the run directory"):
        train(**run_args(None, trackers=("tensorboard",)))
    with pytest.raises(TypeError, match="neither a tracker name"):
        train(**run_args(out, trackers=(object(),)))
    with pytest.raises(ValueError, match="given twice"):
        resolve_trackers(["wandb", "wandb"], out)
    assert not out.exists()
    assert isinstance(Recorder(), Tracker) and resolve_trackers(None, out) == []


def test_progress_writes_no_carriage_return_off_a_terminal(tmp_path, capsys):
    stream = io.StringIO()
    bar = ProgressDisplay(total=40, initial=0, desc="lola vs naive", enabled=True, stream=stream)
    for _ in range(40):
        bar.update()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 10
    assert lines[-1] == "lola vs naive: update 40/40"
    train(**run_args(None, progress=True))
    err = capsys.readouterr().err
    assert "\r" not in err and err.splitlines()[-1].endswith("update 8/8")


def test_run_repr_is_one_short_line(tmp_path):
    run = train(**run_args(tmp_path / "run", n_seeds=64, n_updates=30))
    text = repr(run)
    assert "\n" not in text and len(text) < 300
    assert text.startswith("Run(game='ipd', agents=['naive', 'naive'], seeds=64, updates=30/30")
    assert "(31 logged)" in text and str(tmp_path / "run") in text
    assert repr(load_run(tmp_path / "run")) == text

"""Run directories written before the package was layered (lola-games 0.1.0 at commit 8051961,
modules ``lola_games.train``/``lola_games.lookahead``) still load, and resume to exactly the
numbers that version computed without interruption.

``data/pre_layers/*_partial`` are 3-update runs checkpointed by that version;
``*_whole_metrics.csv`` the same runs' 6-update metrics, also written by it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lola_games.agents import LOLA, NaiveLearner, make_agent
from lola_games.runner import load_run, train

DATA = Path(__file__).parent / "data" / "pre_layers"

RUNS = {
    "exact": dict(agents=lambda: [LOLA(lr=0.1, optimizer="adam"), NaiveLearner(lr=0.5)],
                  n_seeds=3, seed=7),
    "sampled": dict(agents=lambda: [make_agent("lola-dice", batch_size=8, rollout_len=10),
                                    make_agent("naive-pg", batch_size=8, rollout_len=10)],
                    n_seeds=2, seed=3),
}


@pytest.mark.parametrize("kind", RUNS)
def test_an_old_run_directory_loads(kind):
    run = load_run(DATA / f"{kind}_partial")
    assert run.metrics["value"].shape == (4, 2, RUNS[kind]["n_seeds"])  # updates 0-3


@pytest.mark.parametrize("kind", RUNS)
def test_an_old_run_directory_resumes_to_the_old_versions_numbers(kind, tmp_path):
    out = tmp_path / kind
    shutil.copytree(DATA / f"{kind}_partial", out)
    spec = RUNS[kind]
    train("ipd", spec["agents"](), n_seeds=spec["n_seeds"], n_updates=6, gamma=0.96,
          seed=spec["seed"], out_dir=out, checkpoint_every=1, resume=True)
    assert (out / "metrics.csv").read_bytes() == \
        (DATA / f"{kind}_whole_metrics.csv").read_bytes()

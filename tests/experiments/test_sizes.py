"""Every experiment's sizes keep their promise: ``smoke`` < ``quick`` < ``full``, and the
docs state the measured CPU cost of ``--quick``.

``QUICK_CPU_S`` holds the measured CPU time (user + sys, `/usr/bin/time -v`) of
``lola-games reproduce NAME --quick --no-progress --formats png`` with one torch thread
(``OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``), each experiment in its own process, on
2026-12-07 on a shared 2-core AMD EPYC virtual machine (torch 2.13.0+cpu). CPU time, not
wall clock: the machine was shared and heavily loaded (wall clock was 1.3 to 15 times the
CPU time). The promise of ``--quick`` is under two minutes of one CPU core; each
experiment's docs page states its number, so a re-measurement that changes the table must
change the page too.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from lola_games.experiments.base import EXPERIMENTS, OWN_LOOP, SIZES
from lola_games.experiments.mfos import SIZES as MFOS_SIZES

ROOT = Path(__file__).resolve().parents[2]

QUICK_CPU_S: dict[str, int] = {
    "lola-exact": 9,
    "lookahead": 6,
    "dice-paper": 10,
    "lola-dice": 7,
    "lola-pg": 30,
    "coin-game": 46,
    "pola-exact": 70,
    "sos": 14,
    "cola": 39,
    "lola-higher-order": 12,
    "pola-dice": 25,
    "loqa": 10,
    "advantage-alignment": 27,
    "mfos": 55,
}
"""Measured CPU seconds of ``reproduce NAME --quick`` (see the module docstring)."""

QUICK_BUDGET_S = 120
"""The promise of ``--quick``: under two minutes of one CPU core."""

PAGES = {
    "lola-exact": "lola-exact.md", "lookahead": "lookahead.md", "dice-paper": "dice-paper.md",
    "lola-dice": "lola-dice.md", "lola-pg": "lola-pg.md", "coin-game": "coin-game.md",
    "pola-exact": "pola-exact.md", "sos": "sos.md", "cola": "cola.md",
    "lola-higher-order": "higher-order-lola.md", "pola-dice": "pola-dice.md",
    "loqa": "loqa.md", "advantage-alignment": "advantage_alignment.md", "mfos": "mfos.md",
}
"""The docs page (under ``docs/papers/``) of each experiment."""

ALL = (*EXPERIMENTS.names(), *OWN_LOOP)


def _sizes(name: str) -> dict[str, dict[str, Any]]:
    if name in OWN_LOOP:
        module = importlib.import_module(OWN_LOOP[name][0])
        return module.SIZES
    return EXPERIMENTS[name].sizes


def _work(name: str, size: dict[str, Any]) -> float:
    """What a size costs, in the experiment's own unit: seeds x updates (M-FOS: seeds x
    opponents in the batch x meta-episodes x inner steps)."""
    if name == "mfos":
        inner = size.get("inner_steps", 100)  # MFOSConfig's default: the official code's
        return size["n_seeds"] * size["batch_size"] * size["meta_episodes"] * inner
    return size["n_seeds"] * size["n_updates"]


def test_every_experiment_is_listed():
    """A new experiment must get a measured quick cost and a docs page here."""
    assert set(ALL) == set(QUICK_CPU_S) == set(PAGES)
    assert set(OWN_LOOP) == {"mfos"}  # `_work` knows the M-FOS size's keys only
    assert len(ALL) == 14


@pytest.mark.parametrize("name", ALL)
def test_smoke_smaller_than_quick_smaller_than_full(name):
    sizes = _sizes(name)
    assert set(SIZES) <= set(sizes), name
    smoke, quick, full = (_work(name, sizes[s]) for s in ("smoke", "quick", "full"))
    assert smoke < quick < full, (name, smoke, quick, full)


def test_mfos_medium_between_quick_and_full():
    quick, medium, full = (_work("mfos", MFOS_SIZES[s]) for s in ("quick", "medium", "full"))
    assert quick < medium < full


@pytest.mark.parametrize("name", ALL)
def test_quick_keeps_its_promise(name):
    assert QUICK_CPU_S[name] < QUICK_BUDGET_S, name


@pytest.mark.parametrize("name", ALL)
def test_docs_state_the_quick_cost(name):
    """The experiment's page says ``--quick`` takes the measured number of CPU seconds."""
    page = " ".join((ROOT / "docs" / "papers" / PAGES[name]).read_text().split())
    phrase = f"`--quick`: {QUICK_CPU_S[name]} CPU seconds"
    assert phrase in page, f"docs/papers/{PAGES[name]} must state {phrase!r}"


def test_index_tables_every_quick_cost():
    """``docs/papers/index.md`` has one row per experiment with its measured quick cost."""
    page = (ROOT / "docs" / "papers" / "index.md").read_text()
    for name, seconds in QUICK_CPU_S.items():
        row = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", page, re.MULTILINE)
        assert row is not None, name
        assert re.search(rf"\b{seconds}\b", row.group(1)), (name, row.group(0))

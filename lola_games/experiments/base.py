"""What every reproduction shares: runs, experiments, sizes, the registry, tables of rows.

An `Experiment` is a set of `RunSpec` (one run each, with the agents' registry
names and hyper-parameters), its sizes and its figures; `EXPERIMENTS` names them all
(lazy ``"module:attr"`` entries: one module per paper), and
`lola_games.experiments.reproduce.reproduce` runs one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lola_games.core.files import write_dict_csv, write_text
from lola_games.core.registry import Registry
from lola_games.runner.run import Run

__all__ = ["SIZES", "AgentSpec", "RunSpec", "Experiment", "EXPERIMENTS", "OWN_LOOP",
           "Reproduction", "write_rows"]

SIZES = ("full", "quick", "smoke")
"""The sizes every experiment has (some have more, e.g. ``coin-game``'s ``cpu``), the same
promise everywhere: ``full`` the published settings (or the stated CPU stand-in for them);
``quick`` under two minutes of one CPU core (one torch thread), still showing the paper's
qualitative result where it can; ``smoke`` seconds, a check of the pipeline whose numbers
mean nothing. ``tests/experiments/test_sizes.py`` holds the measured CPU seconds of every
``quick`` and checks that each experiment's docs page states them."""

AgentSpec = tuple[str, dict[str, Any]]
"""A registry name and its hyper-parameters, e.g. ``("lola", {"lr": 1.0, "eta": 1.0})``."""


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment.

    Attributes:
        key: run directory name under the experiment's output directory.
        label: legend and table label.
        game: game name (or a game object).
        gamma: discount.
        agents: one registry name with hyper-parameters per player; a string hyper-parameter
            may name a file under the experiment's output directory as ``{out}/...``.
        updates: this run's own number of updates, capped by the size's ``n_updates``
            (default: the size's).
        seeds: this run's own number of seeds, capped by the size's ``n_seeds`` (default:
            the size's).
    """

    key: str
    label: str
    game: Any
    gamma: float
    agents: tuple[AgentSpec, ...]
    updates: int | None = None
    seeds: int | None = None


@dataclass(frozen=True)
class Experiment:
    """An experiment: its runs, sizes and figures.

    Attributes:
        name: command-line name.
        description: one line, with the source of the settings.
        runs: the runs.
        sizes: ``{size: {"n_seeds", "n_updates", ...}}`` for ``full``/``quick``/``smoke``
            (and any other size of this experiment, chosen with ``--size``); ``log_every``
            overrides the experiment's; ``runs`` (a tuple of run keys) trains and draws only
            those runs (default: all); any other key is a hyper-parameter override applied
            to every agent that takes it (e.g. a smaller ``batch_size`` for quick sampled
            runs).
        dtype: params dtype of every run.
        figures: ``(runs by key, size) -> {file stem: Figure}``.
        requires: a module the agents need, imported before training (clear error if absent).
        log_every: evaluate and log every this many updates (and the last one).
        tables: ``runs -> {file stem: rows}``: extra tables (one dict per row),
            written as markdown and CSV by `write_rows` (e.g. a comparison with stored
            runs).
        prepare: ``(out, size, device, seed, overwrite) -> None``, run before training (e.g.
            to train what the agents read from ``{out}/...`` files); not with ``plot_only``.
        report: ``(runs, out, size, figures_dir, formats) -> [files]``: more tables and
            figures, drawn after the runs (also with ``plot_only``).
        exploiter: the learner (registry name, hyper-parameters) trained against each frozen
            player of every run for the size's ``exploiter_updates`` updates (a size key; 0 or
            absent: no exploiter), as in `lola_games.runner.evaluation`; the size's other
            overrides apply to it too. Runs of the IPD and the Coin Game always get the
            evaluation against themselves, always-cooperate and always-defect.
    """

    name: str
    description: str
    runs: tuple[RunSpec, ...]
    sizes: dict[str, dict[str, Any]]
    dtype: str
    figures: Callable[[dict[str, Run], str], dict[str, Any]]
    requires: str | None = None
    log_every: int = 1
    tables: Callable[[dict[str, Run]], dict[str, list[dict[str, Any]]]] | None = None
    prepare: Callable[[Path, str, str, int, bool], None] | None = None
    report: Callable[[dict[str, Run], Path, str, Path, Sequence[str]], list[Path]] | None = None
    exploiter: AgentSpec | None = None

    def __post_init__(self) -> None:
        keys = [spec.key for spec in self.runs]
        for size, settings in self.sizes.items():
            chosen = settings.get("runs")
            if chosen is None:
                continue
            if not chosen or set(chosen) - set(keys):
                raise ValueError(f"{self.name}: size {size!r} must name one or more of the "
                                 f"runs {keys}, got runs={chosen!r}")

    def runs_of(self, size: str) -> tuple[RunSpec, ...]:
        """The runs size ``size`` trains and draws (its ``runs``; default all), in order."""
        chosen = self.sizes[size].get("runs")
        return self.runs if chosen is None else tuple(s for s in self.runs if s.key in chosen)


EXPERIMENTS: Registry[Experiment] = Registry("experiment", group="lola_games.experiments")
"""The reproductions by name (run by `lola_games.experiments.reproduce.reproduce`)."""
for _name, _entry in (
    ("lola-exact", "lola_exact:LOLA_EXACT_EXPERIMENT"),
    ("lookahead", "lookahead_lola:LOOKAHEAD_EXPERIMENT"),
    ("dice-paper", "dice_paper:DICE_PAPER_EXPERIMENT"),
    ("lola-dice", "lola_dice:LOLA_DICE_EXPERIMENT"),
    ("lola-pg", "lola_pg:LOLA_PG_EXPERIMENT"),
    ("coin-game", "coin_game:COIN_GAME_EXPERIMENT"),
    ("pola-exact", "pola_exact:POLA_EXACT_EXPERIMENT"),
    ("sos", "sos:SOS_EXPERIMENT"),
    ("cola", "cola:COLA_EXPERIMENT"),
    ("lola-higher-order", "lola_higher_order:HIGHER_ORDER_EXPERIMENT"),
    ("pola-dice", "pola_dice:POLA_SAMPLED_EXPERIMENTS.pola-dice"),
    ("loqa", "loqa:LOQA_EXPERIMENT"),
    ("advantage-alignment", "advantage_alignment:AA_EXPERIMENT"),
):
    EXPERIMENTS.register(_name, "lola_games.experiments." + _entry)

OWN_LOOP: dict[str, tuple[str, str]] = {
    "mfos": ("lola_games.experiments.mfos",
             "M-FOS paper (Lu et al. 2022): meta-trained M-FOS against NL, LOLA and itself on "
             "the IPD, matching pennies and chicken, the official code's settings"),
}
"""Experiments with their own training loop: module (with a ``reproduce`` function taking
`reproduce`'s arguments) and description."""


@dataclass
class Reproduction:
    """What `reproduce` made.

    Attributes:
        name: the experiment.
        out: its output directory.
        runs: the runs by key (``runs[key].path`` is the run directory).
        table: the rows of `lola_games.analysis.plots.results_table`, in run order.
        files: figures and tables written.
    """

    name: str
    out: Path
    runs: dict[str, Run]
    table: list[dict[str, Any]]
    files: list[Path] = field(default_factory=list)


def write_rows(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> list[Path]:
    """Write ``rows`` (dicts; columns in order of first appearance, empty where a row has no
    such key) as ``path.md`` (floats with 3 decimals) and ``path.csv`` (full precision);
    return both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]

    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r.get(k, "")) for k in keys) + " |" for r in rows]
    md, csv_path = path.with_suffix(".md"), path.with_suffix(".csv")
    write_text(md, "\n".join(lines) + "\n")
    write_dict_csv(csv_path, rows, keys)
    return [md, csv_path]

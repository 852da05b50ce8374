"""Paper reproductions: published settings, one command per figure.

Each experiment is a set of runs of `lola_games.runner.training.train` (one run directory each,
under ``out/<key>``) followed by its figures and a results table (``out/results.md`` and
``.csv``, see `lola_games.analysis.plots.results_table`)::

    lola-games reproduce lola-exact
    lola-games reproduce lookahead --quick
    lola-games reproduce dice-paper --device cuda

Experiments (`EXPERIMENTS`; one module each, e.g. `lola_games.experiments.lola_exact`):

* ``lola-exact`` -- the LOLA paper's exact-gradient experiments (Foerster et al. 2018,
  Sec. 4-5): NL-Ex vs NL-Ex, LOLA-Ex vs LOLA-Ex and LOLA-Ex vs NL-Ex on the IPD
  (gamma 0.96) and on matching pennies (gamma 0.9); delta = eta = 1 on the unnormalised
  discounted value, logits ~ N(0, 1), 200 updates.
* ``lookahead`` -- joint score against update with k = 0, 1, 2, 3 lookahead steps on the
  exact IPD (k = 0: naive learners; k >= 1: `LookaheadLOLA`):
  the exact-gradient counterpart of the DiCE paper's lookahead figure, with the learning
  rates of the published LOLA-DiCE code (Adam outer step 0.2, opponent's inner step 0.3).
* ``dice-paper`` -- the DiCE paper's IPD figure (Foerster et al. 2018b, Sec. 5) from the
  settings of the paper's own code (`lola_games.agents.pg.DICE_PAPER`: batch 64,
  150 rounds, plain outer steps 0.2, inner steps 0.1, rewards centred by their batch mean,
  truncated-normal initial logits, normalised discounted return logged): NL-PG, LOLA-DiCE
  with 1, 2, 3 lookaheads, 2 lookaheads with opponent modelling, 2 lookaheads without the
  magic box, the LOLA paper's original estimator (`LOLAPG`, batch
  64) and 1 lookahead with inner steps 0.3 (the script's value before its last change);
  figures show the stored runs of the paper's code (`DICE_PAPER_STORED`) next to ours.
* ``lola-dice`` -- NL-PG and LOLA-DiCE with 1, 2, 3 lookaheads in the setting of an
  unofficial PyTorch port (`lola_games.agents.pg.UNOFFICIAL_PORT`: batch 128, Adam
  outer steps 0.2, inner steps 0.3, learned value baseline with Adam 0.1, logits starting at
  0, mean reward per round logged).
* ``coin-game`` -- the Coin Game (LOLA paper Sec. 5.3, 3 x 3 board, gamma 0.96): NL-PG,
  LOLA-DiCE and LOLA-DiCE with opponent models (`COIN_OM`), ``full`` in the POLA
  paper's LOLA-DiCE setting (`lola_games.agents.pg.POLA_COIN`: the ``coin-gru``
  network, 2000 episodes of 50 rounds, one lookahead step of 0.003, outer steps of Adam 0.003
  restarted every update, a learned baseline, 50,000 updates); ``cpu`` (``--size cpu``) what
  an hour of one CPU core shows: the ``coin-mlp`` network, 128 episodes, Adam 0.01 outer
  steps, lookahead steps of 0.3, 800 updates. Figures of own-coin share, reward per round
  and coins per round against updates; a table of final own-coin shares beside the
  published ones (`COIN_PUBLISHED`).
* ``lola-pg`` -- the LOLA paper's policy-gradient results (Foerster et al. 2018, Table 1):
  NL-PG and LOLA-PG with the paper's estimator (`LOLAPG`) on the
  IPD (gamma 0.96) and matching pennies (gamma 0.9), batches of 4000 episodes of 150 rounds,
  150 updates of plain steps 1, 50 runs; LOLA-PG with the paper's correction weight
  ``eta = 1`` and with the halved weight of the released code (``eta = 0.5``).
* ``pola-exact`` -- the POLA paper's exact-IPD experiment (Zhao et al. 2022, Fig. 3) with
  the POLA code's commands: outer POLA and LOLA on its contribution-game IPD, factors 1.1 to
  1.6, tabular and MLP, and its success test (share of seeds finding TFT) as ``summary.md``.
* ``pola-dice`` -- the POLA paper's sampled IPD (Fig. 4): POLA-DiCE, POLA-OM and LOLA-DiCE
  on its contribution-game IPD, tabular policies sized for a CPU
  (`lola_games.experiments.pola_dice`).
* ``mfos`` -- the M-FOS paper's head-to-head table (Lu et al. 2022), its own meta-training
  loop (`lola_games.experiments.mfos`; sizes ``full``, ``medium``, ``quick``, ``smoke``).

* ``sos``, ``cola``, ``lola-higher-order`` -- the SOS paper, the COLA paper and the LOLA
  paper's higher-order LOLA on differentiable games (`lola_games.experiments.sos`,
  `lola_games.experiments.cola`, `lola_games.experiments.lola_higher_order`).

The sampled experiments need `lola_games.agents.pg`.

Sizes: ``full`` (the published settings), ``quick`` (fewer seeds/updates/episodes; under two
minutes of one CPU core) and ``smoke`` (tiny, for the test suite; numbers mean nothing). All
runs of an experiment share ``seed``, so runs with the same agents start from the same
parameters (paired comparisons).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lola_games.agents.base import Agent, accepted_hparams
from lola_games.agents.registry import AGENTS, make_agent
from lola_games.analysis import plots as plotting
from lola_games.analysis.tables import evaluation_table, write_evaluation_table
from lola_games.core.registry import load_entry
from lola_games.experiments.base import (
    EXPERIMENTS,
    OWN_LOOP,
    SIZES,
    Experiment,
    Reproduction,
    RunSpec,
    write_rows,
)
from lola_games.runner.grid import run_grid
from lola_games.runner.run import Run, load_run
from lola_games.runner.setup import resolve_game
from lola_games.runner.tasks import RunTask

__all__ = ["RunSpec", "Experiment", "EXPERIMENTS", "SIZES", "Reproduction", "reproduce",
           "write_rows"]


@dataclass(frozen=True)
class _Plan:
    """What every run of one call of `reproduce` shares."""

    out: Path
    settings: dict[str, Any]  # the size's hyper-parameter overrides
    n_seeds: int
    seeds_given: bool
    n_updates: int
    log_every: int
    device: str
    seed: int
    progress: bool
    overwrite: bool
    resume: bool
    trackers: tuple[str, ...] = ()
    exploiter_updates: int = 0  # the size's updates of each exploiter (0: none)


def _require(module: str, experiment: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise RuntimeError(
            f"the {experiment!r} reproduction needs {module} (sampled NaivePG / LOLA-DiCE "
            f"agents), which cannot be imported: {e}"
        ) from e


def _experiment(name: str, size: str, overwrite: bool, resume: bool) -> Experiment:
    """The experiment ``name`` of `EXPERIMENTS`, its size and options checked."""
    if name not in EXPERIMENTS:
        known = ", ".join([*EXPERIMENTS, *OWN_LOOP])
        raise ValueError(f"unknown experiment {name!r}; known: {known}")
    exp = EXPERIMENTS[name]
    if size not in exp.sizes:
        raise ValueError(f"size must be one of {', '.join(exp.sizes)}, got {size!r}")
    if overwrite and resume:
        raise ValueError("overwrite and resume exclude each other")
    return exp


def reproduce(
    name: str,
    out: str | os.PathLike | None = None,
    *,
    size: str = "full",
    device: str = "cpu",
    seed: int = 0,
    figures_dir: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    overwrite: bool = False,
    resume: bool = False,
    plot_only: bool = False,
    progress: bool = False,
    backend: Any = None,
    n_seeds: int | None = None,
    trackers: Sequence[str] = (),
) -> Reproduction:
    """Run experiment ``name`` of `EXPERIMENTS`, then draw its figures and table.

    Args:
        name: a key of `EXPERIMENTS`.
        out: output directory (default ``runs/reproduce/<name>``); run ``key`` goes to
            ``out/<key>``, the table to ``out/results.md`` and ``out/results.csv``.
        size: ``"full"`` (published settings), ``"quick"``, ``"smoke"`` or a size of the
            experiment's own (see its ``sizes``).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        seed: the runs' seed (shared, see module docstring).
        figures_dir: where figures go (default ``out``), as ``<stem>.<fmt>`` per format.
        formats: figure file formats.
        overwrite: replace run directories that already hold runs.
        resume: continue run directories from their checkpoints (finished runs are kept).
        plot_only: train nothing; read the run directories in ``out`` and draw.
        progress: show a progress bar per run.
        backend: where the runs execute (a `lola_games.runner.grid` backend; default one
            after the other in this process).
        n_seeds: run this many seeds instead of the size's (e.g. the full setting with
            fewer seeds on a small machine).
        trackers: names of `lola_games.runner.trackers` (``"tensorboard"``, ``"wandb"``)
            every run also logs to, in its run directory.

    Returns:
        The runs, the results table and the files written.

    Raises:
        ValueError: unknown experiment or size, or bad settings.
        RuntimeError: the experiment needs a module that is not available.
        FileExistsError: a run directory already holds a run (use ``overwrite``/``resume``).
    """
    if name in OWN_LOOP:
        if trackers:
            raise ValueError(f"the {name!r} experiment has its own training loop, which "
                             f"logs to no tracker")
        return _own_loop(name, out, size=size, device=device, seed=seed,
                         figures_dir=figures_dir, formats=formats, overwrite=overwrite,
                         plot_only=plot_only, progress=progress, n_seeds=n_seeds)
    exp = _experiment(name, size, overwrite, resume)
    out = Path(out) if out is not None else Path("runs", "reproduce", name)
    figures = Path(figures_dir) if figures_dir is not None else out
    if not plot_only:
        plan = _plan(exp, size, out, n_seeds, device=device, seed=seed, progress=progress,
                     overwrite=overwrite, resume=resume)
        plan = replace(plan, trackers=tuple(trackers))
        _train(exp, name, size, plan, backend)
    runs = {spec.key: load_run(out / spec.key) for spec in exp.runs_of(size)}
    table = plotting.results_table(list(runs.values()))
    files = _write_outputs(exp, runs, table, out, size, figures, formats)
    return Reproduction(name, out, runs, table, files)


def _own_loop(name: str, out: str | os.PathLike | None, **options: Any) -> Reproduction:
    """Run experiment ``name`` of `OWN_LOOP` with its module's ``reproduce``."""
    result: Reproduction = load_entry(OWN_LOOP[name][0] + ":reproduce")(out, **options)
    return result


def _plan(exp: Experiment, size: str, out: Path, n_seeds: int | None, *, device: str,
          seed: int, progress: bool, overwrite: bool, resume: bool) -> _Plan:
    """The settings of size ``size`` of ``exp``, with ``n_seeds`` (if given) for its seeds."""
    settings = dict(exp.sizes[size])
    settings.pop("runs", None)  # `Experiment.runs_of`
    size_seeds, n_updates = settings.pop("n_seeds"), settings.pop("n_updates")
    log_every = settings.pop("log_every", exp.log_every)
    exploiter_updates = settings.pop("exploiter_updates", 0)
    return _Plan(out, settings, size_seeds if n_seeds is None else n_seeds, n_seeds is not None,
                 n_updates, log_every, device, seed, progress, overwrite, resume,
                 exploiter_updates=exploiter_updates)


def _train(exp: Experiment, name: str, size: str, plan: _Plan, backend: Any) -> None:
    """Prepare ``exp`` and train its runs on ``backend``."""
    if exp.requires:
        _require(exp.requires, name)
    if exp.prepare is not None:
        exp.prepare(plan.out, size, plan.device, plan.seed, plan.overwrite)
    run_grid([_task(exp, spec, plan) for spec in exp.runs_of(size)], backend, replan=False)


def _task(exp: Experiment, spec: RunSpec, plan: _Plan) -> RunTask:
    """The run of ``spec``: its agents with the size's overrides they take, its numbers of
    seeds and updates capped by the size's."""
    agents: list[Agent] = [make_agent(a, **{**_in_out(hp, plan.out), **_known(a, plan.settings)})
                           for a, hp in spec.agents]
    run_dir = plan.out / spec.key
    # --resume continues every run from its checkpoint; a run stopped before its
    # first checkpoint (it can hold update 0 at most) starts again
    checkpointed = (run_dir / "checkpoint.pt").exists()
    n_seeds = plan.n_seeds if plan.seeds_given else min(spec.seeds or plan.n_seeds,
                                                        plan.n_seeds)
    return RunTask(
        spec.key, resolve_game(spec.game).spec(), tuple(agents), str(run_dir),
        dict(n_seeds=n_seeds, n_updates=min(spec.updates or plan.n_updates, plan.n_updates),
             gamma=spec.gamma, device=plan.device, seed=plan.seed, dtype=exp.dtype,
             label=spec.label, progress=plan.progress, log_every=plan.log_every,
             **({"trackers": plan.trackers} if plan.trackers else {}),
             **_exploiter(exp, plan)),
        resume=plan.resume and checkpointed,
        overwrite=plan.overwrite or (plan.resume and not checkpointed))


def _exploiter(exp: Experiment, plan: _Plan) -> dict[str, Any]:
    """``train``'s exploiter arguments for ``exp`` at ``plan``'s size (none without one)."""
    if exp.exploiter is None or not plan.exploiter_updates:
        return {}
    name, hparams = exp.exploiter
    learner = make_agent(name, **{**hparams, **_known(name, plan.settings)})
    return {"exploiter": learner, "exploiter_updates": plan.exploiter_updates}


def _write_outputs(exp: Experiment, runs: dict[str, Run], table: list[dict[str, Any]],
                   out: Path, size: str, figures_dir: Path,
                   formats: Sequence[str]) -> list[Path]:
    """Write the results table, the experiment's tables, figures and report; return the
    files."""
    files = list(plotting.write_table(table, out / "results"))
    evaluation = evaluation_table(list(runs.values()))
    if evaluation:
        files += write_evaluation_table(evaluation, out / "evaluation")
    if exp.tables is not None:
        for stem, rows in exp.tables(runs).items():
            files += write_rows(rows, out / stem)
    for stem, fig in exp.figures(runs, size).items():
        files += plotting.save_figure(fig, figures_dir / stem, formats)
    if exp.report is not None:
        files += exp.report(runs, out, size, figures_dir, formats)
    return files


def _in_out(hparams: dict[str, Any], out: Path) -> dict[str, Any]:
    """``hparams`` with ``{out}`` in string values replaced by the output directory."""
    return {k: v.replace("{out}", str(out)) if isinstance(v, str) else v
            for k, v in hparams.items()}


def _known(agent: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The size overrides that ``agent`` takes (`accepted_hparams`)."""
    accepted = set(accepted_hparams(AGENTS[agent]))
    return {k: v for k, v in overrides.items() if k in accepted}

"""The runner: training many seeds at once, run directories with exact resume, and grids of
runs on local processes or Ray."""

from lola_games.core.device import resolve_device
from lola_games.runner.backends import Backend, InProcess, LocalProcesses, RayCluster, make_backend
from lola_games.runner.checkpoint import load_final_params, register_state_type
from lola_games.runner.config import FORMAT, read_config
from lola_games.runner.files import RUN_FILES, RunDirectoryError
from lola_games.runner.grid import run_grid
from lola_games.runner.metrics_io import LoggedUpdate, metric_columns, split_column, stack_updates
from lola_games.runner.outcomes import OUTCOMES, extra_metrics, outcome_shares, summary_line
from lola_games.runner.run import Run, load_run
from lola_games.runner.rundir import RunDirectory
from lola_games.runner.setup import resolve_game
from lola_games.runner.tasks import RunResult, RunTask, execute
from lola_games.runner.training import Interrupted, evaluation_generator, train

__all__ = [
    "FORMAT",
    "RUN_FILES",
    "RunDirectoryError",
    "RunDirectory",
    "Run",
    "load_run",
    "read_config",
    "metric_columns",
    "split_column",
    "register_state_type",
    "load_final_params",
    "LoggedUpdate",
    "stack_updates",
    "train",
    "Interrupted",
    "resolve_device",
    "resolve_game",
    "evaluation_generator",
    "outcome_shares",
    "summary_line",
    "extra_metrics",
    "OUTCOMES",
    "RunTask",
    "RunResult",
    "Backend",
    "InProcess",
    "LocalProcesses",
    "RayCluster",
    "make_backend",
    "run_grid",
    "execute",
]

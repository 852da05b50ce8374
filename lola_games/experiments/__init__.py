"""The papers' experiments, tournaments and sweeps."""

from lola_games.experiments.base import (
    EXPERIMENTS,
    OWN_LOOP,
    SIZES,
    AgentSpec,
    Experiment,
    Reproduction,
    RunSpec,
    write_rows,
)
from lola_games.experiments.cola import PAPER_CONSISTENCY
from lola_games.experiments.cola_consistency import train_cola_networks
from lola_games.experiments.dice_paper import DICE_PAPER_STORED
from lola_games.experiments.lola_higher_order import (
    PAPER_HIGHER_ORDER,
)
from lola_games.experiments.lola_pg import LOLA_PAPER_PG_RESULTS
from lola_games.experiments.mfos import (
    PUBLISHED,
    ROWS,
)
from lola_games.experiments.pola_dice import (
    CPU_SETTING,
    POLA_PUBLISHED_IPD,
    POLA_SAMPLED_EXPERIMENTS,
)
from lola_games.experiments.reproduce import reproduce
from lola_games.experiments.sweep import (
    ALIASES,
    SweepResult,
    parse_grid,
    sweep,
    sweep_points,
)
from lola_games.experiments.tournament import (
    Entrant,
    collect,
    entrants,
    pairings,
    tournament,
    tournament_tasks,
)
from lola_games.experiments.tournament_presets import PRESETS, Preset
from lola_games.experiments.tournament_results import (
    TournamentResult,
    plot_curves,
    plot_heatmap,
    plot_ranking,
    results_markdown,
    write_results,
)

__all__ = [
    "SIZES",
    "AgentSpec",
    "RunSpec",
    "Experiment",
    "EXPERIMENTS",
    "OWN_LOOP",
    "Reproduction",
    "write_rows",
    "reproduce",
    "DICE_PAPER_STORED",
    "LOLA_PAPER_PG_RESULTS",
    "Entrant",
    "TournamentResult",
    "Preset",
    "PRESETS",
    "entrants",
    "pairings",
    "tournament",
    "tournament_tasks",
    "collect",
    "plot_heatmap",
    "plot_ranking",
    "plot_curves",
    "write_results",
    "results_markdown",
    "ALIASES",
    "SweepResult",
    "parse_grid",
    "sweep_points",
    "sweep",
    "PAPER_CONSISTENCY",
    "PAPER_HIGHER_ORDER",
    "train_cola_networks",
    "POLA_SAMPLED_EXPERIMENTS",
    "POLA_PUBLISHED_IPD",
    "CPU_SETTING",
    "ROWS",
    "PUBLISHED",
]

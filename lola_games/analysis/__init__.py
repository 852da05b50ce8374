"""Analysis of runs: outcomes, tables, figures, consistency measures."""

from lola_games.analysis.consistency import (
    cosine_similarity,
    hola_consistency,
    hola_updates,
    network_consistency,
    network_updates,
    sample_region,
    update_consistency,
)
from lola_games.analysis.evaluation_plots import plot_evaluation
from lola_games.analysis.figures import (
    BANDS,
    plot_joint_scores,
    plot_learning_curves,
    plot_policies,
    save_figure,
)
from lola_games.analysis.runs import METRICS, as_runs, metric, tft_like
from lola_games.analysis.tables import (
    evaluation_markdown,
    evaluation_table,
    results_table,
    table_markdown,
    write_evaluation_table,
    write_table,
)

__all__ = [
    "plot_evaluation",
    "BANDS",
    "METRICS",
    "as_runs",
    "metric",
    "tft_like",
    "plot_learning_curves",
    "plot_joint_scores",
    "plot_policies",
    "results_table",
    "table_markdown",
    "write_table",
    "evaluation_table",
    "evaluation_markdown",
    "write_evaluation_table",
    "save_figure",
    "sample_region",
    "hola_consistency",
    "network_consistency",
    "update_consistency",
    "hola_updates",
    "network_updates",
    "cosine_similarity",
]

"""Figures and tables of training runs: learning curves, end-of-training policies, results.

The names of `lola_games.analysis.runs` (runs and their curves),
`lola_games.analysis.figures` (plots, `save_figure`) and `lola_games.analysis.tables`
(results tables) in one namespace, as ``from lola_games.analysis import plots as plotting``
uses them.

Conventions (those of `lola_games.runner.rundir`): values are rewards per step ``[U, S]``
(``U`` logged updates, ``S`` seeds); the *joint score* is the mean of both players' values;
policies are P(action 0) in the memory-one states (start, CC, CD, DC, DD), each player seen
from its own side (``CD`` = "I played C, the other D").

Outcome classes used by `results_table` (all judged after the last logged update):

* the game's named outcomes of `lola_games.runner.outcomes.OUTCOMES`, e.g. IPD *cooperation*
  (joint score > -1.1), IPD *defection (Nash)* (joint score < -1.9), matching-pennies
  *Nash* (all 5 probabilities of both players within 0.1 of 0.5); see
  `lola_games.runner.outcomes.outcome_shares`;
* IPD *TFT-like* (`tft_like`): a player whose P(C) is above 0.9 after CC and DC (the
  opponent cooperated) and below 0.1 after CD and DD (the opponent defected), from its own
  side; the first move is not judged (its weight is discounted away and learning barely
  moves it). The table reports, for each player, the share of seeds where it is TFT-like.
"""

from lola_games.analysis.figures import (
    BANDS,
    plot_joint_scores,
    plot_learning_curves,
    plot_policies,
    save_figure,
)
from lola_games.analysis.runs import METRICS, RunLike, as_runs, metric, tft_like
from lola_games.analysis.tables import results_table, table_markdown, write_table

__all__ = [
    "BANDS",
    "METRICS",
    "RunLike",
    "as_runs",
    "metric",
    "tft_like",
    "plot_learning_curves",
    "plot_joint_scores",
    "plot_policies",
    "results_table",
    "table_markdown",
    "write_table",
    "save_figure",
]

"""Published tournaments (`PRESETS`): the LOLA paper's tournament (Foerster et al. 2018,
Fig. 4) on the IPD and on matching pennies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lola_games.agents.lola import LOLA
from lola_games.agents.naive import NaiveLearner
from lola_games.agents.online import (
    JointActionLearner,
    NaiveQLearner,
    PolicyHillClimbing,
    WoLFPolicyHillClimbing,
)

__all__ = ["Preset", "PRESETS"]


@dataclass(frozen=True)
class Preset:
    """A published tournament: its game, discount, entrants and the published averages.

    Attributes:
        name: command-line name (``lola-games tournament --preset NAME``).
        game: the game's name.
        gamma: the discount.
        n_updates: updates of every pairing.
        log_every: log every this many updates.
        entrants: builds ``name -> agent`` in the published order.
        published: the published average over opponents after the last update, per entrant.
        source: where the settings and numbers come from.
    """

    name: str
    game: str
    gamma: float
    n_updates: int
    log_every: int
    entrants: Callable[[], dict[str, Any]]
    published: dict[str, float]
    source: str


def _lola_paper_entrants() -> dict[str, Any]:
    """The LOLA paper's tournament (Foerster et al. 2018, Fig. 4), published settings: the
    online learners with their published defaults and discount 0.96 in both games (the
    published script does not pass the game's discount to them), 200 rounds per episode;
    NL-Ex and LOLA-Ex with delta = eta = 1, one exact update per episode."""
    return {
        "NL-Q": NaiveQLearner(gamma=0.96, rollout_len=200),
        "JAL-Q": JointActionLearner(gamma=0.96, rollout_len=200),
        "PHC": PolicyHillClimbing(gamma=0.96, rollout_len=200),
        "WoLF-PHC": WoLFPolicyHillClimbing(gamma=0.96, rollout_len=200),
        "NL-Ex": NaiveLearner(lr=1.0),
        "LOLA-Ex": LOLA(lr=1.0, eta=1.0),
    }


_FIG4 = ("LOLA paper, Fig. 4: alshedivat/lola scripts/run_tournament.py (200 rounds per "
         "episode, gamma 0.96 IPD / 0.9 IMP) run for 1000 episodes, as its "
         "notebooks/tournament/analysis.ipynb plots them; averages at episode 1000 read off "
         "that figure")
PRESETS: dict[str, Preset] = {
    "lola-paper-ipd": Preset(
        "lola-paper-ipd", "ipd", 0.96, 1000, 10, _lola_paper_entrants,
        {"NL-Q": -1.6, "JAL-Q": -1.95, "PHC": -1.57, "WoLF-PHC": -1.33, "NL-Ex": -2.1,
         "LOLA-Ex": -1.08}, _FIG4),
    "lola-paper-imp": Preset(
        "lola-paper-imp", "imp", 0.9, 1000, 10, _lola_paper_entrants,
        {"NL-Q": 0.14, "JAL-Q": 0.10, "PHC": 0.10, "WoLF-PHC": 0.03, "NL-Ex": -0.25,
         "LOLA-Ex": -0.09}, _FIG4),
}
"""Published tournaments by name."""


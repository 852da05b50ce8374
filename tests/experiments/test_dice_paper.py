"""The DiCE paper's IPD results in the settings of its own code, 16 seeds x 200 updates.

Setting (:data:`lola_games.agents.pg.DICE_PAPER`): batch 64, 150 rounds, gamma 0.96, plain
outer steps 0.2, inner steps 0.1, rewards centred by their batch mean, truncated-normal
initial logits; the score of a seed is the mean of both players' normalised discounted
returns on a fresh batch of 64 episodes after update 200. The runs stored with the paper's
code (5 each) end at: 2 lookaheads -1.093 -1.148 -1.169 -1.112 -1.042 (mean -1.11, all
above -1.3); naive learners and no magic box -1.99; opponent modelling mean -1.09.

Measured (the thresholds below are the issue's), with run seeds 0, 1, 2: 2 lookaheads mean
-1.180, -1.127, -1.133 with 15, 16, 16 of 16 seeds above -1.3; naive and no magic box
-1.992, -1.993, -1.992; opponent modelling -1.121, -1.110, -1.113. Over 32 seeds
(``reproduce dice-paper``) 2 of 32 seeds with 2 lookaheads end at mutual defection.
"""

from __future__ import annotations

import numpy as np
import pytest

from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.published import DICE_PAPER
from lola_games.runner.training import train

SEEDS, UPDATES = 16, 200
NAIVE = {k: v for k, v in DICE_PAPER.items()
         if k not in ("lr_in", "lr_om", "om_batch_size", "om_epochs")}


def final_joint(agent) -> np.ndarray:
    run = train("ipd", (agent, agent), n_seeds=SEEDS, n_updates=UPDATES, gamma=0.96, seed=0)
    assert run.config["agents"][0]["hparams"]["metric"] == "discounted"
    return run.joint_score[-1]


@pytest.fixture(scope="module")
def two_lookaheads() -> np.ndarray:
    return final_joint(LOLADiCE(n_lookaheads=2, **DICE_PAPER))


def test_two_lookaheads_cooperate(two_lookaheads):
    assert (two_lookaheads > -1.3).sum() >= 14, two_lookaheads
    assert two_lookaheads.mean() > -1.2, two_lookaheads


@pytest.mark.parametrize("agent", [
    pytest.param(lambda: NaivePG(**NAIVE), id="naive"),
    pytest.param(lambda: LOLADiCE(n_lookaheads=2, magic_box=False, **DICE_PAPER),
                 id="no-magic-box"),
])
def test_naive_and_no_magic_box_defect(agent):
    final = final_joint(agent())
    assert final.mean() < -1.9, final


def test_opponent_modelling_matches_two_lookaheads(two_lookaheads):
    final = final_joint(LOLADiCE(n_lookaheads=2, opponent_model=True, **DICE_PAPER))
    assert abs(final.mean() - two_lookaheads.mean()) < 0.15, (final, two_lookaheads)

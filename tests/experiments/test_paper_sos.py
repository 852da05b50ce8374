"""The SOS paper's results (Letcher et al. 2019) with its authors' notebook's settings.

Every learner uses one rate alpha for its step and its look-ahead; LOLA is the SOS paper's
(the full Taylor form). Thresholds are judged over many seeds.
"""

import numpy as np
import pytest

from lola_games.agents import make_agent
from lola_games.runner.outcomes import outcome_shares
from lola_games.runner.training import train


def learner(name, alpha):
    hp = {"lr": alpha}
    if name == "lola":
        hp.update(eta=alpha, stop_gradient=False)
    return make_agent(name, **hp)


def run(game, name, alpha, updates, seeds):
    agent = learner(name, alpha)
    return train(game, [agent, agent], n_seeds=seeds, n_updates=updates, gamma=0.96, seed=0)


@pytest.fixture(scope="module")
def tandem():
    """Tandem: alpha 0.1, 100 runs of 30 steps, init N(0, 0.1^2) (the notebook's)."""
    return {name: run("tandem", name, 0.1, 30, 100) for name in ("naive", "lola", "sos")}


def test_tandem_lola_settles_at_four_thirds(tandem):
    r = tandem["lola"]
    s = r.metrics["x_plus_y"][-1, 0]
    assert np.abs(s - 4 / 3).max() < 0.01
    loss = -r.metrics["value"][-1]  # [P, S]; 16/9 - 4/3 = 4/9 when x = y
    assert abs(loss.mean() - 4 / 9) < 0.02
    assert outcome_shares(r)["x + y = 4/3"] == 1.0


@pytest.mark.parametrize("name", ["naive", "sos"])
def test_tandem_sos_and_naive_reach_the_stable_fixed_points(tandem, name):
    r = tandem[name]
    assert np.abs(r.metrics["x_plus_y"][-1, 0] - 1).max() < 0.01
    assert abs(-r.metrics["value"][-1].mean()) < 0.02  # losses ~ 0
    assert outcome_shares(r)["x + y = 1"] == 1.0


def test_one_shot_matching_pennies_sos_finds_nash_naive_does_not():
    sos = run("one_shot_mp", "sos", 1.0, 100, 100)
    naive = run("one_shot_mp", "naive", 1.0, 100, 100)
    assert outcome_shares(sos)["Nash"] >= 0.9
    assert outcome_shares(naive)["Nash"] == 0.0
    assert naive.metrics["nash_gap"][-1].mean() > 0.25  # naive learners cycle far from 1/2


def test_hamiltonian_co_sga_sos_converge_naive_circles():
    for name in ("co", "sga", "sos"):
        r = run("hamiltonian", name, 0.1, 500, 64)
        assert outcome_shares(r)["fixed point"] == 1.0, name
    naive = run("hamiltonian", "naive", 0.1, 500, 64)
    radius = naive.metrics["radius"][:, 0]
    assert outcome_shares(naive)["fixed point"] == 0.0
    assert (radius[-1] > 5 * radius[0]).all()  # spirals out, around the fixed point
    assert np.ptp(naive.metrics["theta"][-100:, 0], axis=0).min() > 1.0  # still turning


def test_ipd_sos_cooperates_la_cgd_defect():
    """The SOS paper's IPD comparison (alpha 1, gamma 0.96): SOS and LOLA reach cooperation,
    LA and CGD mutual defection."""
    shares = {name: outcome_shares(run("ipd", name, 1.0, 100, 48))
              for name in ("sos", "lola", "la", "cgd")}
    for name in ("sos", "lola"):
        assert shares[name]["cooperation"] >= 0.75, (name, shares[name])
    for name in ("la", "cgd"):
        assert shares[name]["defection (Nash)"] >= 0.8, (name, shares[name])

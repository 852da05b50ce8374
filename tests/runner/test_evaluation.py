"""The opponent evaluation of IPD and Coin Game runs (``evaluation.csv``): exact rows against
closed forms, sampled rows against exact values, the exploiter against the exact best
response, determinism, resume, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lola_games.agents.fixed import SURE, FixedAgent
from lola_games.agents.pg import NaivePG
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_game
from lola_games.runner import training as train_module
from lola_games.runner.evaluation import evaluate_agents, evaluation_seed
from lola_games.runner.evaluation_io import (
    COIN_COLUMNS,
    EVALUATION_COLUMNS,
    evaluation_means,
    read_evaluation,
)
from lola_games.runner.outcomes import summary_line
from lola_games.runner.run import load_run
from lola_games.runner.training import Interrupted, train
from lola_games.values.exact import exact_values

IPD = get_game("ipd")
GAMMA = 0.96
TFT = (SURE, SURE, -SURE, SURE, -SURE)


def rows_of(rows, player, opponent):
    return [r for r in rows if r["player"] == player and r["opponent"] == opponent]


def column(rows, player, opponent, key):
    return np.array([r[key] for r in rows_of(rows, player, opponent)])


# -- scores ---------------------------------------------------------------------------------


def test_exact_rows_match_the_closed_forms():
    """TFT vs AD: TFT loses once (-3), then both defect (-2); per step (1 - g)(-3) + g(-2)."""
    run = train("ipd", ["tft", "allc"], n_seeds=2, n_updates=1, gamma=GAMMA, dtype="float64")
    rows = run.evaluation
    assert [(r["player"], r["opponent"]) for r in rows[:6]] == [
        (p, o) for p in (0, 1) for o in ("self", "allc", "alld")]
    expected = {  # (player, opponent): (agent, opponent) reward per step
        (0, "self"): (-1, -1), (0, "allc"): (-1, -1),
        (0, "alld"): ((1 - GAMMA) * -3 + GAMMA * -2, GAMMA * -2),
        (1, "self"): (-1, -1), (1, "allc"): (-1, -1), (1, "alld"): (-3, 0),
    }
    for (player, opponent), (mine, theirs) in expected.items():
        assert column(rows, player, opponent, "agent_score") == pytest.approx(mine, abs=2e-3)
        assert column(rows, player, opponent, "opponent_score") == pytest.approx(theirs,
                                                                                 abs=2e-3)
    gain = column(rows, 0, "alld", "opponent_gain")
    assert gain == pytest.approx(GAMMA * -2 - -1, abs=2e-3)  # AD's gain over mutual C


@pytest.mark.parametrize("logits", [TFT, (SURE,) * 5, (0.5, 1.5, -1.0, 0.3, -0.7)])
def test_sampled_evaluation_agrees_with_the_exact_values(logits):
    """A tabular sampled learner holding memory-one logits, evaluated on episodes, against
    the exact values of the same policy (`exact_values`), within Monte-Carlo error."""
    n_seeds = 32
    table = torch.tensor(logits, dtype=torch.float64).expand(n_seeds, 5)
    learner = NaivePG(batch_size=64, rollout_len=300, metric="discounted")
    params = {"policy": {"logits": table.clone()}, "value": {"values": torch.zeros(n_seeds, 5,
                                                                               dtype=torch.float64)}}
    sampled = evaluate_agents(IPD, (learner, learner), (params, params), GAMMA, 5,
                              torch.device("cpu"), torch.float64)
    exact = evaluate_agents(IPD, (FixedAgent(logits), FixedAgent(logits)), (table, table),
                            GAMMA, 5, torch.device("cpu"), torch.float64)
    for opponent, key in itertools.product(("self", "allc", "alld"),
                                           ("agent_score", "opponent_score")):
        got = column(sampled, 0, opponent, key)
        want = column(exact, 0, opponent, key)
        # 4 standard errors over the 32 seeds' independent estimates, plus the episode's
        # truncation after 300 rounds (gamma^300 * 3 < 1e-4)
        tol = 4 * got.std(ddof=1) / np.sqrt(n_seeds) + 1e-4
        assert abs(got.mean() - want.mean()) <= tol, (opponent, key, got.mean(), want.mean())
    # the exact side is exact_values itself
    allc = torch.full((n_seeds, 5), SURE, dtype=torch.float64)
    v0, v1 = exact_values(IPD, table, allc, GAMMA)
    assert column(exact, 0, "allc", "agent_score") == pytest.approx(v0.numpy())


def best_response_value(frozen_logits, gamma):
    """The exact best response to a memory-one policy (player 0): the best of the 32
    deterministic memory-one policies of player 1 (an optimal stationary policy of the
    5-state MDP exists among them), by exact values."""
    frozen = torch.tensor(frozen_logits, dtype=torch.float64)
    best = -np.inf
    for bits in itertools.product((30.0, -30.0), repeat=5):
        _, v1 = exact_values(IPD, frozen, torch.tensor(bits, dtype=torch.float64), gamma)
        best = max(best, float(v1))
    return best


@pytest.mark.parametrize("agent", ["allc", "tft"])
def test_the_exploiter_finds_the_best_response(agent):
    """Against a frozen AC the best response defects (0 per step, a gain of 1 over mutual
    cooperation); against TFT at gamma 0.96 it cooperates (no gain): TFT is robust."""
    logits = {"allc": (SURE,) * 5, "tft": TFT}[agent]
    best = best_response_value(logits, GAMMA)
    exploiter = NaivePG(lr_out=1.0, batch_size=32)  # 150 rounds: gamma^150 < 0.003
    run = train("ipd", [agent, agent], n_seeds=8, n_updates=1, gamma=GAMMA,
                exploiter_updates=60, exploiter=exploiter)
    theirs = column(run.evaluation, 0, "exploiter:naive-pg", "opponent_score")
    gain = column(run.evaluation, 0, "exploiter:naive-pg", "opponent_gain")
    assert len(theirs) == 8
    if agent == "allc":
        assert best == pytest.approx(0.0, abs=1e-3)
        assert (theirs > best - 0.1).all(), theirs  # every seed learned to defect
        assert (gain > 0.9).all()
    else:
        assert best == pytest.approx(-1.0, abs=1e-3)
        assert (theirs > best - 0.1).all() and (gain < 0.05).all(), theirs
    assert (column(run.evaluation, 0, "exploiter:naive-pg", "updates") == 60).all()


def test_coin_game_rows_report_the_own_coin_share():
    learner = NaivePG(policy="coin-mlp", hidden_size=8, batch_size=8, rollout_len=20)
    run = train(CoinGame(3, 20), [learner, "coin-alld"], n_seeds=2, n_updates=1)
    rows = run.evaluation
    assert set(COIN_COLUMNS) <= set(rows[0])
    assert (column(rows, 0, "allc", "opponent_own_coin_share") == 1.0).all()
    assert (column(rows, 1, "allc", "opponent_own_coin_share") == 1.0).all()
    # always defect takes the cooperator's coins: it scores more
    assert (column(rows, 1, "allc", "agent_score") > column(rows, 1, "allc",
                                                            "opponent_score")).all()
    # alld against itself: both sides alike, every coin half own, half other
    assert column(rows, 1, "self", "agent_own_coin_share") == pytest.approx(0.5, abs=0.05)


# -- files, determinism, resume -------------------------------------------------------------


def small(out, **kw):
    return train("ipd", ["lola-dice", "naive"], n_seeds=3, n_updates=4, out_dir=out,
                 checkpoint_every=1, **kw)


def test_evaluation_csv_is_written_read_back_and_deterministic(tmp_path):
    run = small(tmp_path / "a")
    small(tmp_path / "b")
    quiet = small(tmp_path / "c", opponent_evaluation=False)
    text = (tmp_path / "a" / "evaluation.csv").read_bytes()
    assert text == (tmp_path / "b" / "evaluation.csv").read_bytes()
    assert text.decode().splitlines()[0] == ",".join(EVALUATION_COLUMNS)
    # the evaluation leaves training alone
    assert not (tmp_path / "c" / "evaluation.csv").exists() and quiet.evaluation is None
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == \
        (tmp_path / "c" / "metrics.csv").read_bytes()
    loaded = load_run(tmp_path / "a")
    assert loaded.evaluation == read_evaluation(tmp_path / "a") == run.evaluation
    assert len(run.evaluation) == 3 * 2 * 3  # seeds x players x opponents
    assert "scores vs self" in summary_line(loaded)
    means = evaluation_means(run.evaluation)
    assert list(means) == ["self", "allc", "alld"]


def test_a_resumed_run_writes_the_same_evaluation(tmp_path, monkeypatch):
    kw = {"exploiter_updates": 2, "exploiter": NaivePG(batch_size=4, rollout_len=10)}
    small(tmp_path / "ref", **kw)
    real = train_module._update_all

    def update_all(setup, progress):
        if progress.update + 1 == 3:
            raise KeyboardInterrupt
        real(setup, progress)

    # an earlier, shorter run left an evaluation; the longer run is cut before its end
    train("ipd", ["lola-dice", "naive"], n_seeds=3, n_updates=2, out_dir=tmp_path / "cut",
          checkpoint_every=1, **kw)
    monkeypatch.setattr(train_module, "_update_all", update_all)
    with pytest.raises(Interrupted):
        small(tmp_path / "cut", resume=True, **kw)
    assert not (tmp_path / "cut" / "evaluation.csv").exists()  # the stale one is gone
    monkeypatch.setattr(train_module, "_update_all", real)
    small(tmp_path / "cut", resume=True, **kw)
    assert (tmp_path / "cut" / "evaluation.csv").read_bytes() == \
        (tmp_path / "ref" / "evaluation.csv").read_bytes()


def test_each_match_has_its_own_seed():
    seeds = {evaluation_seed(7, p, o) for p in (0, 1) for o in ("self", "allc", "alld",
                                                               "exploiter:ppo",
                                                               "exploiter-training")}
    assert len(seeds) == 10 and all(0 <= s < 2**63 for s in seeds)
    assert evaluation_seed(7, 0, "self") != evaluation_seed(8, 0, "self")


def test_games_without_the_evaluation_get_none(tmp_path):
    run = train("imp", ["naive", "naive"], n_seeds=2, n_updates=1, out_dir=tmp_path / "imp")
    assert run.evaluation is None and not (tmp_path / "imp" / "evaluation.csv").exists()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"exploiter_updates": -1}, ValueError, "exploiter_updates must be an int >= 0"),
    ({"exploiter_updates": True}, ValueError, "exploiter_updates must be an int >= 0"),
    ({"exploiter_updates": 2, "exploiter": "no-such-agent"}, ValueError,
     "exploiter: unknown agent 'no-such-agent'"),
    ({"exploiter_updates": 2, "exploiter": 3}, TypeError, "exploiter must be an Agent"),
    ({"exploiter_updates": 2, "exploiter": "coin-alld"}, ValueError,
     "exploiter 'coin-alld'.*plays the Coin Game"),
    ({"opponent_evaluation": "yes"}, TypeError, "opponent_evaluation must be True or False"),
])
def test_bad_exploiter_input_is_refused_before_the_run(tmp_path, kw, error, match):
    with pytest.raises(error, match=match):
        train("ipd", ["naive", "naive"], n_seeds=2, n_updates=1, out_dir=tmp_path / "x", **kw)
    assert not (tmp_path / "x").exists()


def test_an_exploiter_needs_a_game_with_the_evaluation_and_a_trainer():
    with pytest.raises(ValueError, match="covers two-player runs of the IPD and the Coin Game"):
        train("imp", ["naive", "naive"], n_seeds=2, n_updates=1, exploiter_updates=2,
              exploiter="naive-pg")
    logits = torch.zeros(2, 5)
    with pytest.raises(ValueError, match="pass trainer=train"):
        evaluate_agents(IPD, (FixedAgent(logits[0]), FixedAgent(logits[0])), (logits, logits),
                        GAMMA, 0, torch.device("cpu"), exploiter="naive-pg",
                        exploiter_updates=2)


def test_resuming_a_finished_run_adds_an_exploiter_and_keeps_its_numbers(tmp_path):
    small(tmp_path / "r")
    before = {n: (tmp_path / "r" / n).read_bytes() for n in ("metrics.csv", "final_params.pt")}
    run = small(tmp_path / "r", resume=True, exploiter_updates=2,
                exploiter=NaivePG(batch_size=4, rollout_len=10))
    assert "exploiter:naive-pg" in {r["opponent"] for r in run.evaluation}
    assert "exploiter:naive-pg" in (tmp_path / "r" / "evaluation.csv").read_text()
    assert all((tmp_path / "r" / n).read_bytes() == b for n, b in before.items())

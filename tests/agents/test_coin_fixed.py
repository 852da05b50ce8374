"""The fixed Coin Game agents (``coin-allc``, ``coin-alld``): made by name, never learning,
played by the sampled learners and the runner."""

from __future__ import annotations

import pytest
import torch

from lola_games.agents.base import Context
from lola_games.agents.coin_fixed import CoinAlwaysCooperate, CoinAlwaysDefect
from lola_games.agents.pg import NaivePG
from lola_games.agents.registry import make_agent
from lola_games.agents.sampled import as_player
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_game
from lola_games.rollouts.coin_fixed import CoinAlwaysCooperatePolicy, CoinAlwaysDefectPolicy
from lola_games.runner.training import train

GAME = CoinGame(3, 20)


def test_registry_names_make_the_fixed_coin_agents():
    allc, alld = make_agent("coin-allc"), make_agent("coin-alld")
    assert isinstance(allc, CoinAlwaysCooperate) and isinstance(alld, CoinAlwaysDefect)
    assert isinstance(allc.modules(GAME)[0], CoinAlwaysCooperatePolicy)
    assert isinstance(alld.modules(GAME)[0], CoinAlwaysDefectPolicy)
    assert allc.mode == "sampled" and allc.hparams() == {}
    with pytest.raises(TypeError, match="takes no hyper-parameter"):
        CoinAlwaysCooperate(lr=1.0)


def test_they_play_only_the_coin_game():
    CoinAlwaysDefect().check_game(GAME)
    with pytest.raises(ValueError, match="plays the Coin Game.*allc / alld"):
        CoinAlwaysDefect().check_game(get_game("ipd"))


def test_params_draw_nothing_and_never_change():
    agent = CoinAlwaysCooperate()
    gen = torch.Generator().manual_seed(3)
    before = gen.get_state()
    params = agent.init_params(4, gen, "cpu", torch.float64, game=GAME)
    assert torch.equal(gen.get_state(), before)
    assert params["policy"]["gap"].shape == (4,) and params["value"] == {}
    new, state = agent.update(params, None, {}, Context(GAME, 0.9, 0))
    assert new is params and state == {}


def test_a_sampled_learner_plays_them_as_policy_modules():
    agent = CoinAlwaysDefect()
    params = agent.init_params(2)
    policy, player, value = as_player(agent, params, GAME)
    assert policy is agent.policy and player is params and value is None


def test_a_learner_trains_against_them_and_they_stay_fixed():
    learner = NaivePG(policy="coin-mlp", hidden_size=8, batch_size=4, rollout_len=10)
    run = train(GAME, [learner, "coin-allc"], n_seeds=2, n_updates=2, opponent_evaluation=False)
    assert torch.equal(run.final_params[1]["policy"]["gap"],
                       CoinAlwaysCooperate().init_params(2)["policy"]["gap"])
    assert (run.metrics["own_coin_share"][:, 1] == 1.0).all()  # allc: only its own coins

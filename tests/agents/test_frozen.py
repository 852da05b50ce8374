"""Frozen agents: a copy of an agent that plays given params and never learns (the
exploiter's opponent)."""

from __future__ import annotations

import pytest
import torch

from lola_games.agents.base import Context
from lola_games.agents.coin_fixed import CoinAlwaysDefect
from lola_games.agents.fixed import AlwaysCooperate
from lola_games.agents.frozen import freeze, seeds_of
from lola_games.agents.lola import LOLA
from lola_games.agents.pg import NaivePG
from lola_games.agents.sampled import as_player
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_game
from lola_games.runner.training import train


def test_freeze_keeps_the_agent_and_its_params():
    params = torch.randn(3, 5)
    frozen = freeze(LOLA(lr=0.5), params)
    assert isinstance(frozen, LOLA) and frozen.name == "lola" and frozen.lr == 0.5
    assert not frozen.reads_opponent_logits  # it learns from nothing
    assert seeds_of(params) == 3
    assert torch.equal(frozen.init_params(3, None, "cpu"), params)
    game = get_game("ipd")
    new, _ = frozen.update(params, torch.zeros(3, 5), {}, Context(game, 0.9, 0))
    assert new is params
    with pytest.raises(ValueError, match="3 seeds, the run has 4"):
        frozen.init_params(4)


def test_a_frozen_learner_does_not_learn_in_a_run():
    params = LOLA().init_params(4, torch.Generator().manual_seed(0))
    run = train("ipd", [freeze(LOLA(), params), AlwaysCooperate()], n_seeds=4, n_updates=3,
                opponent_evaluation=False)
    assert torch.equal(run.final_params[0], params)


def test_freeze_refuses_what_is_not_an_agent_or_params():
    with pytest.raises(TypeError, match="takes an Agent"):
        freeze("lola", torch.zeros(2, 5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no tensor"):
        freeze(LOLA(), {})


def test_a_frozen_sampled_learner_keeps_its_modules():
    game = CoinGame(3, 10)
    learner = NaivePG(policy="coin-mlp", hidden_size=8, batch_size=4, rollout_len=10)
    params = learner.init_params(2, torch.Generator().manual_seed(0), game=game)
    frozen = freeze(learner, params)
    assert isinstance(frozen, NaivePG)
    assert as_player(frozen, params, game)[0] is learner.modules(game)[0]
    run = train(game, [CoinAlwaysDefect(), frozen], n_seeds=2, n_updates=2,
                opponent_evaluation=False)
    assert all(torch.equal(run.final_params[1]["policy"][k], v)
               for k, v in params["policy"].items())

"""The sampled learners' updates give the numbers they gave before their speed-ups.

``data/sampled_updates.pt`` holds, for each case below, both players' parameters after one
update of each (player 0 then player 1, from the same start and generator), recorded with
the per-step implementation that preceded the fused sequence GRU and the batched rollouts
(commit 7c6f6cb, CPU, torch 2.13.0+cpu). Any later change to how the learners compute may
reorder floating-point sums, so the check is to float32 tolerance (relative 1e-4 of each
tensor's scale); the changed tensors would differ by the size of a learning step.

Re-record (only when a change of the numbers is intended):
``python tests/agents/test_update_golden.py --record``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.pola_dice import POLADiCE
from lola_games.agents.published import POLA_COIN, POLA_DICE_COIN
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_game

DATA = Path(__file__).parent / "data" / "sampled_updates.pt"
SMALL = {"hidden_size": 16, "batch_size": 6, "rollout_len": 9}
NAIVE_DROP = ("n_lookaheads", "lr_in")

CASES: dict[str, tuple[Any, dict[str, Any], str]] = {
    "lola-dice-coin-gru": (LOLADiCE, {**POLA_COIN, **SMALL}, "coin"),
    "naive-pg-coin-gru": (NaivePG, {**{k: v for k, v in POLA_COIN.items()
                                       if k not in NAIVE_DROP}, **SMALL}, "coin"),
    "pola-dice-coin-gru": (POLADiCE, {**POLA_DICE_COIN, **SMALL, "inner_steps": 2,
                                      "outer_steps": 2}, "coin"),
    "lola-dice-conv-gru": (LOLADiCE, {**POLA_COIN, **SMALL, "policy": "conv-gru",
                                      "hidden_size": 8}, "coin"),
    "lola-dice-coin-mlp": (LOLADiCE, {**POLA_COIN, **SMALL, "policy": "coin-mlp"}, "coin"),
    "lola-dice-ipd-gru": (LOLADiCE, {**POLA_COIN, **SMALL, "policy": "gru"}, "ipd"),
}


def run_case(name: str) -> dict[str, torch.Tensor]:
    """Both players' flattened params after one update each (2 seeds)."""
    cls, settings, game_name = CASES[name]
    game = CoinGame(3, 50) if game_name == "coin" else get_game(game_name)
    agent = cls(**settings)
    gen = torch.Generator().manual_seed(3)
    params = [agent.init_params(2, gen, "cpu", game=game, player=i) for i in range(2)]
    states = [agent.init_state(p) for p in params]
    out: dict[str, torch.Tensor] = {}
    for i in range(2):
        ctx = Context(game, 0.96, i, gen, torch.device("cpu"), agent)
        new, _ = agent.update(params[i], params[1 - i], states[i], ctx)
        for part, tensors in new.items():
            for key, value in tensors.items():
                out[f"{i}/{part}/{key}"] = value.detach().clone()
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_update_matches_the_recorded_numbers(name):
    torch.set_num_threads(1)
    recorded = torch.load(DATA)[name]
    got = run_case(name)
    assert sorted(got) == sorted(recorded)
    for key, want in recorded.items():
        scale = want.abs().max().clamp_min(1e-6)
        assert got[key].shape == want.shape, key
        torch.testing.assert_close(got[key], want, rtol=0, atol=1e-4 * float(scale), msg=key)


def test_the_recorded_updates_moved_the_params():
    """The golden updates are not no-ops: each case changed its learner's policy."""
    recorded = torch.load(DATA)
    for name, cls_settings in CASES.items():
        cls, settings, game_name = cls_settings
        game = CoinGame(3, 50) if game_name == "coin" else get_game(game_name)
        agent = cls(**settings)
        start = agent.init_params(2, torch.Generator().manual_seed(3), "cpu", game=game)
        moved = [(recorded[name][f"0/policy/{k}"] - v).abs().max() for k, v in
                 start["policy"].items()]
        assert max(moved) > 1e-5, name


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    torch.set_num_threads(1)
    torch.save({name: run_case(name) for name in CASES}, DATA)
    print(f"recorded {len(CASES)} cases in {DATA}")

"""The Axelrod bridge: Axelrod's strategies played in our env as axelrod.Match plays them,
exact values against Axelrod's Monte Carlo, and Axelrod strategies in tournaments."""

import sys

import numpy as np
import pytest
import torch

from lola_games.values.exact import exact_values

axl = pytest.importorskip("axelrod")

from lola_games.interop.axelrod import (  # noqa: E402
    AxelrodStrategy,
    axelrod_game,
    axelrod_player,
    memory_one_policy,
    memory_one_strategies,
    play_in_env,
)

DETERMINISTIC = ["TitForTat", "Grudger", "TitFor2Tats", "Alternator", "WinStayLoseShift",
                 "SuspiciousTitForTat", "Bully", "Cooperator", "Defector", "CyclerCCD"]


def test_game_has_our_payoffs_which_axelrods_cannot_be_mapped_to():
    game = axelrod_game()
    assert game.RPST() == (-1, -2, -3, 0)
    r, p, s, t = axl.Game().RPST()
    scale = (-1 - -3) / (r - s)  # the affine map fixed by R and S
    assert scale * t + (-1 - scale * r) != 0  # sends Axelrod's T elsewhere than ours


@pytest.mark.parametrize("pair", [(a, b) for i, a in enumerate(DETERMINISTIC)
                                  for b in DETERMINISTIC[i:]])
def test_deterministic_strategies_play_our_env_as_axelrod_match(pair):
    players = [getattr(axl, name)() for name in pair]
    actions, rewards = play_in_env(players, turns=25)
    match = axl.Match([getattr(axl, name)() for name in pair], turns=25, game=axelrod_game())
    moves = match.play()
    assert actions == [(int(a == axl.Action.D), int(b == axl.Action.D)) for a, b in moves]
    assert rewards == [tuple(float(x) for x in s) for s in match.scores()]


@pytest.mark.parametrize("name", [n for n in DETERMINISTIC if n not in
                                  ("Grudger", "TitFor2Tats", "CyclerCCD")])
def test_memory_one_tables_play_as_the_strategies(name):
    """The table read from a deterministic strategy plays the same moves as the strategy."""
    table = memory_one_policy(name)
    for opponent in ("TitForTat", "Alternator", "Grudger", "Defector"):
        moves = axl.Match([getattr(axl, name)(), getattr(axl, opponent)()], turns=20,
                          game=axelrod_game()).play()
        last = None
        for own, other in moves:
            state = 0 if last is None else 1 + 2 * last[0] + last[1]
            assert table[state] == (1.0 if own == axl.Action.C else 0.0)
            last = (int(own == axl.Action.D), int(other == axl.Action.D))


@pytest.mark.parametrize("pair", [("GTFT", "StochasticWSLS"), ("FirstByJoss", "SoftJoss"),
                                  ("ZDGTFT2", "StochasticCooperator"),
                                  ("export", "WinStayLoseShift")])
def test_exact_values_match_axelrod_monte_carlo(pair):
    """Exact discounted values (delta = 0.9) equal Axelrod matches that end with probability
    1 - delta after each turn: mean total payoff within 4.5 standard errors, 4000 matches."""
    delta, n = 0.9, 4000
    exported = [0.3, 0.9, 0.2, 0.7, 0.4]  # a stochastic first move too

    def player(name):
        return axelrod_player(exported, logits=False) if name == "export" \
            else getattr(axl, name)()

    def logits(name):
        probs = exported if name == "export" else memory_one_policy(name)
        return torch.logit(torch.tensor(probs, dtype=torch.float64), eps=1e-12)

    v0, v1 = exact_values("ipd", logits(pair[0]), logits(pair[1]), delta)
    totals = []
    for k in range(n):
        match = axl.Match([player(pair[0]), player(pair[1])], prob_end=1 - delta,
                          game=axelrod_game(), seed=k)
        match.play()
        totals.append(match.final_score())
    totals = np.array(totals, dtype=float) * (1 - delta)  # per-step, like exact_values
    se = totals.std(axis=0, ddof=1) / np.sqrt(n)
    for value, mean, err in zip((float(v0), float(v1)), totals.mean(axis=0), se, strict=True):
        assert abs(value - mean) < 4.5 * err + 1e-3, (pair, value, mean, err)


def test_memory_one_strategies_and_refusals():
    names = memory_one_strategies()
    assert {"TitForTat", "GTFT", "WinStayLoseShift", "Cooperator", "Defector"} <= set(names)
    assert memory_one_policy("WinStayLoseShift") == (1.0, 1.0, 0.0, 0.0, 1.0)
    assert memory_one_policy("TitForTat") == (1.0, 1.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="memory depth"):
        AxelrodStrategy("Grudger")
    with pytest.raises(ValueError, match="does not state its probabilities"):
        AxelrodStrategy("Random")
    with pytest.raises(ValueError, match="unknown Axelrod strategy 'Nope'"):
        AxelrodStrategy("Nope")
    with pytest.raises(ValueError, match="5 finite numbers"):
        axelrod_player([1.0, 2.0])


def test_axelrod_strategies_in_a_tournament(tmp_path):
    from lola_games.experiments.tournament import tournament

    result = tournament("ipd", ["lola", "axl:TitForTat", "axl:GTFT", "axl:Defector"],
                        n_seeds=2, n_updates=2, out=tmp_path, formats=())
    assert result.names[1:] == ["axl:TitForTat", "axl:GTFT", "axl:Defector"]
    assert (tmp_path / "runs" / "axl-TitForTat__vs__axl-GTFT").is_dir()
    tft = AxelrodStrategy("TitForTat")
    v, _ = exact_values("ipd", tft.init_params(1)[0], AxelrodStrategy("Defector").init_params(
        1)[0], 0.96)
    assert result.matrix[1, 3] == pytest.approx(float(v), abs=1e-5)


def test_exported_learned_policy_plays_in_axelrod():
    from lola_games.runner.training import train

    run = train("ipd", ["lola", "lola"], n_seeds=2, n_updates=5, seed=0)
    player = axelrod_player(run.final_params[0][0])
    tournament = axl.Tournament([player, axl.TitForTat(), axl.Defector()], turns=20,
                                repetitions=2, game=axelrod_game(), seed=1)
    results = tournament.play(progress_bar=False)
    assert len(results.ranked_names) == 3


def test_without_axelrod_the_error_names_the_extra(monkeypatch):
    from lola_games.interop.axelrod import require_axelrod

    monkeypatch.setitem(sys.modules, "axelrod", None)
    with pytest.raises(RuntimeError, match=r"lola-games\[axelrod\]"):
        require_axelrod()

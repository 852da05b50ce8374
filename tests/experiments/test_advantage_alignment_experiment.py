"""The ``advantage-alignment`` reproduction at smoke size: both runs, their evaluation
(with the exploiter) and the figures."""

from __future__ import annotations

from lola_games.experiments.advantage_alignment import AA_SIZES, PPO_COIN
from lola_games.experiments.base import EXPERIMENTS
from lola_games.experiments.reproduce import reproduce


def test_advantage_alignment_smoke(tmp_path):
    result = reproduce("advantage-alignment", tmp_path, size="smoke", formats=("png",))
    assert set(result.runs) == {"aa", "ppo"}
    for key, name in (("aa", "advantage-alignment"), ("ppo", "ppo")):
        run = result.runs[key]
        assert run.config["agents"][0]["name"] == name
        assert run.metrics["own_coin_share"].shape == (3, 2, 2)  # updates 0..2, players, seeds
        hp = run.config["agents"][0]["hparams"]
        assert hp["batch_size"] == 4 and hp["rollout_len"] == 6  # the smoke overrides
        opponents = {(r["seed"], r["player"], r["opponent"], r["updates"])
                     for r in run.evaluation}
        assert opponents == {(s, p, o, 1 if o == "exploiter:ppo" else 0) for s in range(2)
                             for p in range(2) for o in ("self", "allc", "alld", "exploiter:ppo")}
    assert result.runs["aa"].config["agents"][0]["hparams"]["aa_weight"] == 0.5
    assert "Advantage Alignment" in (tmp_path / "evaluation.md").read_text()
    for stem in ("aa_coin", "aa_evaluation"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000


def test_the_baseline_is_the_same_ppo_without_the_alignment():
    exp = EXPERIMENTS["advantage-alignment"]
    (_, aa), (_, ppo) = exp.runs[0].agents[0], exp.runs[1].agents[0]
    assert {k: v for k, v in aa.items() if k != "aa_weight"} == ppo == PPO_COIN
    assert exp.exploiter == ("ppo", PPO_COIN)
    assert AA_SIZES["paper"] == AA_SIZES["full"]

"""M-FOS: meta-training on exact batched games, the trained agent through the runner."""

from dataclasses import replace

import pytest
import torch

from lola_games.agents import MFOS, NaiveLearner
from lola_games.agents.base import Context
from lola_games.agents.mfos import (
    MFOSConfig,
    act,
    load_meta_training,
    meta_train,
    mfos_chicken,
)
from lola_games.runner.training import train
from lola_games.values.exact import exact_values

TINY = MFOSConfig(batch_size=4, meta_episodes=2, inner_steps=4, hidden_size=8)


def test_mfos_earns_more_than_a_naive_learner_after_short_meta_training():
    """8 seeds, 200 meta-episodes of 16 games x 20 inner steps (a small actor-critic, lr
    0.02): over the last 10 meta-episodes M-FOS's mean reward per step is clearly above the
    naive learner's in (nearly) every seed. Untrained, it is far below (about -2.4 against
    -1.0: the naive learner defects against its random cooperation)."""
    cfg = MFOSConfig(batch_size=16, meta_episodes=200, inner_steps=20, hidden_size=32, lr=0.02)
    run = meta_train("ipd", "naive", 8, cfg, seed=0)
    first, last = run.rewards[:5].mean(0), run.final_rewards(10)  # [2, S]
    assert (first[0] < first[1] - 1.0).all()
    margin = last[0] - last[1]
    assert margin.mean() > 0.25, margin
    assert (margin > 0.05).sum() >= 7, margin


def test_runner_plays_the_meta_game(tmp_path):
    """The runner's simultaneous updates are the meta-game's inner steps: the trained agent
    (mean actions) against a naive learner through ``train`` gives the values of the same
    episode played by hand."""
    meta_train("ipd", "naive", 2, TINY, seed=1, out_dir=tmp_path / "m")
    agent = MFOS(str(tmp_path / "m"), sample=False)
    run = train("ipd", [agent, NaiveLearner(lr=1.0)], n_seeds=3, n_updates=5, gamma=0.96, seed=7)
    g = torch.Generator().manual_seed(7)
    own, opp = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    net = load_meta_training(tmp_path / "m").params[0]
    net = {k: v[torch.arange(3) % 2] for k, v in net.items()}
    nl, ctx = NaiveLearner(lr=1.0), Context(run.game, 0.96, 1)
    for u in range(6):
        v0, v1 = exact_values("ipd", own, opp, 0.96)
        torch.testing.assert_close(torch.as_tensor(run.metrics["value"][u], dtype=torch.float32),
                                   torch.stack([v0, v1]))
        obs = torch.sigmoid(torch.cat([own, opp], -1)).unsqueeze(1)
        new_own = act(net, obs, None, sample=False)[0][:, 0]
        opp, _ = nl.update(opp, own, nl.init_state(opp), ctx)
        own = new_own


def test_saved_agent_loads_from_its_directory_only_as_data(tmp_path):
    result = meta_train("ipd", "lola", 2, TINY, seed=0, out_dir=tmp_path / "m")
    loaded = load_meta_training(tmp_path / "m")
    for a, b in zip(result.params[0].values(), loaded.params[0].values(), strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(loaded.rewards, result.rewards)
    out = train("ipd", [MFOS(str(tmp_path / "m")), "naive"], n_seeds=4, n_updates=3,
                out_dir=tmp_path / "run")
    assert out.config["agents"][0] == {"name": "mfos", "hparams": {
        "path": str(tmp_path / "m"), "sample": True, "which": 0}}
    with pytest.raises(FileExistsError):
        meta_train("ipd", "lola", 2, TINY, out_dir=tmp_path / "m")
    (tmp_path / "m" / "mfos.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="damaged"):
        MFOS(str(tmp_path / "m"))
    with pytest.raises(FileNotFoundError):
        MFOS(str(tmp_path / "nothing"))


def test_one_shot_chicken_and_self_play(tmp_path):
    cfg = replace(TINY, meta_episodes=3, anneal=0.5)
    run = meta_train(mfos_chicken(), "self", 2, cfg, gamma=0.0, seed=0, out_dir=tmp_path / "c")
    assert run.config["policy_dim"] == 1 and len(run.params) == 2
    assert torch.isfinite(run.rewards[-1]).all()  # the last episode is self-play
    agents = [MFOS(str(tmp_path / "c"), which=0), MFOS(str(tmp_path / "c"), which=1)]
    played = train(mfos_chicken(), agents, n_seeds=3, n_updates=2, gamma=0.0)
    logits = played.final_params[0]
    assert torch.all(logits == logits[:, :1])  # one logit, used in every state
    with pytest.raises(ValueError, match="meta-trained on 'chicken_mfos'"):
        train("chicken", agents, n_seeds=1, n_updates=1, gamma=0.0)
    with pytest.raises(ValueError, match="gamma"):
        train(mfos_chicken(), agents, n_seeds=1, n_updates=1, gamma=0.5)
    with pytest.raises(ValueError, match="which"):
        MFOS(str(tmp_path / "c"), which=2)


@pytest.mark.parametrize("kwargs, match", [
    ({"opponent": "tft"}, "opponent"), ({"n_seeds": 0}, "n_seeds"), ({"game": "rps"}, "game"),
    ({"gamma": 1.0}, "gamma"),
])
def test_bad_meta_training_arguments(kwargs, match):
    args = {"game": "ipd", "opponent": "naive", "n_seeds": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        meta_train(args.pop("game"), args.pop("opponent"), args.pop("n_seeds"), TINY, **args)


@pytest.mark.parametrize("field, value", [("batch_size", 0), ("lr", -1.0), ("entropy", -0.1),
                                          ("meta_gamma", 1.5), ("inner_steps", 2.5)])
def test_bad_config(field, value):
    with pytest.raises(ValueError, match=field):
        MFOSConfig(**{field: value})


def test_reproduce_mfos_smoke_through_the_cli(tmp_path, capsys):
    from lola_games.cli import app as cli

    code = cli.main(["reproduce", "mfos", "--smoke", "--out", str(tmp_path), "--formats", "png",
                     "--no-progress"])
    assert code == 0
    table = (tmp_path / "results.md").read_text().splitlines()
    assert len(table) == 2 + 6 and "paper M-FOS / opponent" in table[0]
    assert "-0.48 / -2.17" in table[2]
    assert (tmp_path / "mfos_meta_training.png").stat().st_size > 1000
    assert "results.md" in capsys.readouterr().out
    assert cli.main(["reproduce", "mfos", "--smoke", "--out", str(tmp_path), "--formats", "png",
                     "--plot-only"]) == 0
    # finished rows are kept (an interrupted reproduction continues), other settings refused
    before = (tmp_path / "ipd_nl" / "mfos.pt").stat().st_mtime_ns
    assert cli.main(["reproduce", "mfos", "--smoke", "--out", str(tmp_path), "--formats", "png",
                     "--no-progress"]) == 0
    assert (tmp_path / "ipd_nl" / "mfos.pt").stat().st_mtime_ns == before
    assert cli.main(["reproduce", "mfos", "--quick", "--out", str(tmp_path)]) == 2
    assert "other settings" in capsys.readouterr().err


def test_meta_train_and_play_through_the_cli(tmp_path, capsys):
    from lola_games.cli import app as cli

    out = str(tmp_path / "m")
    assert cli.main(["meta-train", "--game", "chicken_mfos", "--opponent", "naive", "--seeds",
                     "2", "--batch-size", "4", "--meta-episodes", "2", "--inner-steps", "3",
                     "--hidden-size", "8", "--out", out]) == 0
    assert "M-FOS vs naive on chicken_mfos" in capsys.readouterr().out
    assert cli.main(["train", "--game", "chicken", "--agents", "mfos", "naive", "--path", out,
                     "--gamma", "0", "--seeds", "2", "--updates", "2", "--no-progress"]) == 2
    assert "meta-trained on 'chicken_mfos'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # refused while parsing, naming the flag
        cli.main(["meta-train", "--game", "ipd", "--out", out, "--batch-size", "0"])
    assert exit_.value.code == 2
    assert "--batch-size: must be a positive int, got 0" in capsys.readouterr().err

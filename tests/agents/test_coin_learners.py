"""NL-PG, LOLA-DiCE and LOLA-DiCE-OM on the Coin Game: the same agents, runner and CLI as on
the matrix games, with Coin Game networks, rollouts and metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.published import POLA_COIN
from lola_games.agents.registry import make_agent
from lola_games.agents.sampled import evaluate_sampled
from lola_games.cli import app as cli
from lola_games.experiments.reproduce import reproduce
from lola_games.games.coin import CoinGame, random_play_rates
from lola_games.games.registry import get_game
from lola_games.rollouts import (
    CoinConvGRUPolicy,
    CoinConvValue,
    CoinGRUPolicy,
    CoinMLPPolicy,
    CoinMLPValue,
    log_probs,
    rollout_values,
    seed_forward,
)
from lola_games.rollouts.coin import coin_metrics, sample_coin_rollout
from lola_games.rollouts.games import build_modules, sample_game_rollout
from lola_games.runner.outcomes import outcome_shares, summary_line
from lola_games.runner.run import load_run
from lola_games.runner.training import train
from lola_games.values.dice import dice_objective, discounted_returns, normalised_discounted_return

GAME = CoinGame(3, 150)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def small(cls=LOLADiCE, **kw):
    """A learner small enough for single updates in tests."""
    base = {"policy": "coin-mlp", "hidden_size": 8, "batch_size": 6, "rollout_len": 7}
    return cls(**{**base, **kw})


# -- networks follow the game ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "policy", "value"), [
    ("conv-gru", CoinConvGRUPolicy, CoinConvValue),
    ("coin-mlp", CoinMLPPolicy, CoinMLPValue),
    ("coin-gru", CoinGRUPolicy, CoinMLPValue),
])
def test_policy_names_build_coin_networks_for_the_board(name, policy, value):
    agent = LOLADiCE(name, hidden_size=16)
    assert isinstance(agent.policy, policy) and isinstance(agent.value, value)
    pol4, val4 = agent.modules(CoinGame(4, 20))
    assert isinstance(pol4, policy) and isinstance(val4, value)
    assert agent.modules(CoinGame(4, 20))[0] is pol4  # built once per board size
    params = agent.init_params(2, gen(), game=CoinGame(4, 20))
    assert pol4(torch.zeros(3, 5, 4, 4, 4))[0].shape == (3, 5, 4)
    assert set(params) == {"policy", "value"}
    assert agent.hparams()["policy"] == policy.__name__


def test_matrix_games_keep_their_modules():
    agent = LOLADiCE()
    assert agent.modules(get_game("ipd")) == (agent.policy, agent.value)
    assert agent.modules(None) == (agent.policy, agent.value)
    module = CoinMLPPolicy(4)
    custom = LOLADiCE(module)
    pol, val = custom.modules(CoinGame(4, 10))
    assert pol is module and isinstance(val, CoinMLPValue)  # a value of the game's boards


def test_pola_networks():
    """The POLA paper's policy: dense 64 (ReLU), GRU 64, linear head."""
    pol, _ = build_modules("coin-gru", None, 64, GAME)
    shapes = {k: tuple(v.shape) for k, v in pol.named_parameters()}
    assert shapes["dense.weight"] == (64, 36)
    assert shapes["gru.h2h.weight"] == (3 * 64, 64) and shapes["gru.x2h.weight"] == (192, 64)
    assert shapes["gru.head.weight"] == (4, 64)
    # one-step calls equal the whole sequence (sampling and log_probs agree)
    pol = pol.double()
    obs = torch.rand(3, 6, 4, 3, 3, dtype=torch.float64, generator=gen(1)).round()
    whole, _ = pol(obs)
    hidden, steps = None, []
    for t in range(6):
        out, hidden = pol(obs[:, t:t + 1], hidden)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), whole, rtol=1e-12, atol=1e-12)


# -- one update against the equations -------------------------------------------------------


def test_one_lola_dice_step_matches_the_equations_on_the_coin_game():
    """One LOLA-DiCE step (1 lookahead, value baseline in the "mao" form, Adam restarted) in
    float64 against the equations written out here on the same rollouts (same generator,
    same order: the inner batch, then the outer one)."""
    agent = small(n_lookaheads=1, lr_in=0.5, lr_out=0.01, optimizer="adam-reset",
                  baseline="value", baseline_form="mao", lr_v=0.02)
    pol, val = agent.modules(GAME)
    g = gen(3)
    own = agent.init_params(2, g, dtype=torch.float64, game=GAME)
    other = agent.init_params(2, g, dtype=torch.float64, game=GAME, player=1)
    ctx = Context(GAME, 0.96, 0, gen(4), torch.device("cpu"), agent)
    new, _ = agent.update(own, other, agent.init_state(own), ctx)

    pol, val, g = pol.double(), val.double(), gen(4)

    def loss(player, roll, th, ph, values):
        lp = [log_probs(pol, th, roll, 0), log_probs(pol, ph, roll, 1)]
        b = rollout_values(val, values, roll, player).detach()
        mine, yours = lp[player], lp[1 - player]
        return -dice_objective(roll.rewards[..., player], mine, yours, 0.96, b, "mao"
                               ).mean(-1).sum()

    theta = {k: v.clone().requires_grad_(True) for k, v in own["policy"].items()}
    phi = {k: v.clone().requires_grad_(True) for k, v in other["policy"].items()}
    roll = sample_coin_rollout(GAME, (pol, pol), (theta, phi), 6, 7, g)
    grads = torch.autograd.grad(loss(1, roll, theta, phi, other["value"]), list(phi.values()),
                                create_graph=True)
    phi = {k: v - 0.5 * gr for (k, v), gr in zip(phi.items(), grads, strict=True)}
    roll = sample_coin_rollout(GAME, (pol, pol), (theta, phi), 6, 7, g)
    grads = torch.autograd.grad(loss(0, roll, theta, phi, own["value"]), list(theta.values()))
    for (k, v), gr in zip(theta.items(), grads, strict=True):
        first_adam_step = v.detach() - 0.01 * gr / (gr.abs() + 1e-8)
        torch.testing.assert_close(new["policy"][k], first_adam_step, rtol=1e-10, atol=1e-12)
    # the value function: one fresh Adam step on the MSE to the outer rollout's returns
    v = {k: x.clone().requires_grad_(True) for k, x in own["value"].items()}
    returns = discounted_returns(roll.rewards[..., 0], 0.96)
    mse = ((rollout_values(val, v, roll, 0) - returns) ** 2).mean(dim=(-1, -2)).sum()
    for (k, x), gr in zip(v.items(), torch.autograd.grad(mse, list(v.values())), strict=True):
        torch.testing.assert_close(new["value"][k], x.detach() - 0.02 * gr / (gr.abs() + 1e-8),
                                   rtol=1e-10, atol=1e-12)


# -- evaluation -----------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["reward", "discounted"])
def test_evaluator_returns_the_coin_metrics(metric):
    agent = small(metric=metric, batch_size=16, rollout_len=30)
    params = (agent.init_params(3, gen(1), game=GAME), agent.init_params(3, gen(2), game=GAME))
    metrics = evaluate_sampled(GAME, (agent, agent), params, 0.96, gen(5))
    expected = {"value", "own_coin_share", "coins_per_round"}
    if metric == "discounted":
        expected.add("discounted_return")
    assert set(metrics) == expected
    assert all(v.shape == (2, 3) for v in metrics.values())
    roll = sample_coin_rollout(GAME, (agent.policy, agent.policy),
                               (params[0]["policy"], params[1]["policy"]), 16, 30, gen(5))
    for name, value in coin_metrics(roll).items():
        torch.testing.assert_close(metrics[name], value)
    if metric == "discounted":
        torch.testing.assert_close(
            metrics["discounted_return"],
            normalised_discounted_return(roll.rewards.movedim(-1, 0), 0.96).mean(-1))
    with pytest.raises(ValueError, match="no memory-one probabilities"):
        agent.probs(params[0])


# -- learning -------------------------------------------------------------------------------

NL_CI = {"policy": "coin-mlp", "hidden_size": 32, "batch_size": 32, "rollout_len": 50,
         "optimizer": "adam", "lr_out": 0.05, "baseline": "batch-mean", "metric": "reward"}
"""A CI-sized NL-PG on the Coin Game (see :func:`test_nl_pg_learns_to_collect_coins`)."""


def test_nl_pg_learns_to_collect_coins():
    """NL-PG vs NL-PG, 8 seeds, 100 updates of 32 episodes of 50 rounds (Adam 0.05): the
    players pick up far more coins than random play (exact rate 0.113 per round and player)
    and take the other's coins about as often as their own, as in the LOLA paper's Fig. 5.

    Measured with run seeds 0, 1, 2 (per seed, both players' mean): coins per round 0.241,
    0.220, 0.236 on average over seeds (lowest seed 0.182, 0.160, 0.183); own-coin share
    0.561, 0.570, 0.539 on average (seeds from 0.506 to 0.616). Before learning: 0.113 and
    0.5.
    """
    agent = NaivePG(**NL_CI)
    run = train(GAME, (agent, agent), n_seeds=8, n_updates=100, seed=0, log_every=50)
    random_rate = random_play_rates(CoinGame(3, 50))["coins_per_round"]
    coins = run.metrics["coins_per_round"][-1].mean(0)  # [S], mean of both players
    share = run.metrics["own_coin_share"][-1].mean(0)
    assert abs(run.metrics["coins_per_round"][0].mean() - random_rate) < 0.01
    assert coins.mean() > 1.7 * random_rate and (coins > 1.3 * random_rate).all(), coins
    # no cooperation: every seed far from picking only its own coins (0.75 is the midpoint)
    assert abs(share.mean() - 0.5) < 0.1 and (share < 0.7).all(), share


def test_opponent_model_fits_the_opponents_coin_policy():
    """The model (the learner's own network) approaches the opponent's action distribution
    on the boards of real play: mean KL(opponent || model) falls to a fraction of its start."""
    agent = small(opponent_model=True, batch_size=32, rollout_len=20, om_epochs=15,
                  om_batch_size=5, lr_om=1.0)
    pol = agent.modules(GAME)[0]
    own = agent.init_params(2, gen(0), game=GAME)
    other = agent.init_params(2, gen(1), game=GAME)
    other["policy"]["mlp.net.2.bias"] = torch.tensor([[2.0, 0.0, -1.0, 0.5],
                                                      [-1.0, 1.5, 0.0, 0.0]])
    ctx = Context(GAME, 0.96, 0, gen(2), torch.device("cpu"), agent)
    fitted = agent.update(own, other, agent.init_state(own), ctx)[0]["model"]
    roll = sample_coin_rollout(GAME, (pol, pol), (own["policy"], other["policy"]), 32, 20,
                               gen(3))

    def kl(model):
        logp = [torch.log_softmax(seed_forward(pol, params, roll.obs(1))[0], -1)
                for params in (other["policy"], model)]  # [S, B, T, 4] on the boards seen
        return (logp[0].exp() * (logp[0] - logp[1])).sum(-1).mean(dim=(1, 2))  # [S]

    before, after = kl(own["model"]), kl(fitted)
    assert (after < 0.05 * before).all(), (before, after)


# -- the runner: resume, CLI, checks ---------------------------------------------------------


def _coin_run(out, **kw):
    agent = small(n_lookaheads=1, opponent_model=True, om_epochs=1, om_batch_size=4,
                  baseline="value", optimizer="adam")
    args = dict(game="coin_game", agents=[agent, agent], n_seeds=2, n_updates=4, seed=3,
                out_dir=out, checkpoint_every=2)
    return train(**{**args, **kw})


def test_resume_of_a_coin_game_run_equals_an_uninterrupted_run(tmp_path):
    ref = _coin_run(tmp_path / "ref")
    _coin_run(tmp_path / "cut", n_updates=2)
    resumed = _coin_run(tmp_path / "cut", resume=True)
    assert resumed.metrics.keys() == ref.metrics.keys() == {
        "value", "own_coin_share", "coins_per_round", "discounted_return"}
    for name in ref.metrics:
        np.testing.assert_array_equal(resumed.metrics[name], ref.metrics[name])
    for a, b in zip(resumed.final_params, ref.final_params, strict=True):
        for part in ("policy", "value", "model"):
            assert all(torch.equal(a[part][k], b[part][k]) for k in a[part])
    loaded = load_run(tmp_path / "cut")
    assert loaded.game == GAME and loaded.metric("own_coin_share", 1).shape == (5, 2)
    assert not loaded.memory_one


def test_cli_trains_the_lola_papers_policy_on_the_coin_game(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--game", "coin_game", "--agents", "lola-dice", "lola-dice",
                     "--policy", "conv-gru", "--hidden-size", "4", "--seeds", "2", "--updates",
                     "1", "--batch-size", "3", "--rollout-len", "5", "--lookahead-steps", "1",
                     "--optimizer", "adam-reset", "--metric", "reward", "--out", str(out),
                     "--no-progress", "--device", "cpu"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "own_coin_share" in printed.out and "coins_per_round" in printed.out
    config = json.loads((out / "config.json").read_text())
    assert config["game_spec"] == GAME.spec()
    assert config["agents"][0]["hparams"]["policy"] == "CoinConvGRUPolicy"
    assert config["agents"][0]["hparams"]["optimizer"] == "adam-reset"
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == ["update", "seed", "value_0", "value_1", "own_coin_share_0",
                      "own_coin_share_1", "coins_per_round_0", "coins_per_round_1"]


@pytest.mark.parametrize(("agents", "message"), [
    (["lola", "lola-dice"], "agent 'lola' learns from exact gradients.*'coin_game' is neither"),
    (["lola-dice", "naive"], "agent 'naive' learns from exact gradients.*'coin_game' is neither"),
    (["lola-pg", "lola-dice"], "agent 'lola-pg' plays memory-one policies"),
    (["lola-om", "lola-dice"], "agent 'lola-om' plays memory-one policies"),
])
def test_exact_learners_are_refused_at_start(agents, message):
    coin = small()
    made = [coin if a == "lola-dice" else make_agent(a) for a in agents]
    with pytest.raises(ValueError, match=message):
        train("coin_game", made, n_seeds=2, n_updates=1)


@pytest.mark.parametrize(("agent", "game", "message"), [
    (LOLADiCE(), "coin_game", r"policy 'tabular' is a policy of two-action matrix games.*"
                              r"conv-gru, coin-mlp, coin-gru"),
    (NaivePG("mlp"), "coin_game", "policy 'mlp' is a policy of two-action matrix games"),
    (NaivePG("gru"), "coin_game", "policy 'gru'"),
    (LOLADiCE("conv-gru"), "ipd", r"policy 'conv-gru' reads Coin Game boards.*'ipd'"),
    (NaivePG("coin-mlp", batch_size=4), "stag_hunt", "policy 'coin-mlp'"),
    (LOLADiCE("coin-mlp", rollout_len=151), "coin_game", "rollout_len=151 is longer"),
])
def test_policies_that_do_not_fit_the_game_are_refused_at_start(agent, game, message):
    with pytest.raises(ValueError, match=message):
        train(game, (agent, agent), n_seeds=2, n_updates=1)


def test_cli_bad_input_is_one_line(capsys):
    base = ["train", "--game", "coin_game", "--seeds", "2", "--updates", "1", "--no-progress"]
    assert cli.main([*base, "--agents", "lola-dice", "lola-dice"]) == 2
    assert "policy 'tabular'" in capsys.readouterr().err
    assert cli.main([*base, "--agents", "lola", "lola-dice", "--policy", "coin-mlp"]) == 2
    assert "exact gradients" in capsys.readouterr().err
    assert cli.main([*base, "--agents", "lola-dice", "lola-dice", "--policy", "coin-mlp",
                     "--rollout-len", "200"]) == 2
    assert "rollout_len=200" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*base, "--agents", "lola-dice", "lola-dice", "--policy", "cnn"])
    with pytest.raises(ValueError, match="optimizer"):
        LOLADiCE(optimizer="adam-restart")


# -- tables, outcomes, figures, reproduce ----------------------------------------------------


def test_summary_outcomes_and_plots_read_the_coin_metrics(tmp_path):
    from lola_games.analysis import plots as plotting

    agent = small(batch_size=8, rollout_len=20)
    run = train(GAME, (agent, agent), n_seeds=3, n_updates=2, seed=0)
    line = summary_line(run)
    assert "own_coin_share" in line and "coins_per_round" in line and "random play" not in line
    shares = outcome_shares(run)
    final = run.metrics["own_coin_share"][-1]
    assert shares == {"cooperation (own coins > 0.75)": float((final > 0.75).all(0).mean())}
    row = plotting.results_table(run)[0]
    assert row["own_coin_share"] == pytest.approx(final.mean())
    fig = plotting.plot_learning_curves(run, "own_coin_share_1")
    levels = [line.get_ydata()[0] for line in fig.axes[0].get_lines()[1:]]
    assert levels == [0.5]
    fig = plotting.plot_learning_curves(run, "coins_per_round")
    levels = [line.get_ydata()[0] for line in fig.axes[0].get_lines()[1:]]
    assert levels == [pytest.approx(random_play_rates(GAME)["coins_per_round"])]
    with pytest.raises(ValueError, match="memory-one"):
        plotting.plot_policies(run)


def test_reproduce_coin_game_smoke_via_cli(tmp_path, capsys):
    code = cli.main(["reproduce", "coin-game", "--smoke", "--out", str(tmp_path),
                     "--formats", "png", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    result = reproduce("coin-game", tmp_path, size="smoke", plot_only=True, formats=("png",))
    assert [r["run"] for r in result.table] == ["NL-PG", "LOLA-DiCE", "LOLA-DiCE-OM"]
    assert (tmp_path / "coin_game.png").stat().st_size > 1000
    shares = (tmp_path / "coin_shares.md").read_text()
    assert "published share" in shares and "POLA paper" in shares
    om = result.runs["om"].config["agents"][0]["hparams"]
    assert om["opponent_model"] and om["policy"] == "CoinMLPPolicy"
    lola = load_run(tmp_path / "lola").config["agents"][0]["hparams"]
    assert {k: lola[k] for k in ("lr_in", "optimizer", "baseline_form")} == {
        "lr_in": POLA_COIN["lr_in"], "optimizer": "adam-reset", "baseline_form": "mao"}
    with pytest.raises(ValueError, match="size must be one of full, cpu, quick, smoke"):
        reproduce("coin-game", tmp_path, size="tiny")
    with pytest.raises(ValueError, match="size must be one of full, quick, smoke"):
        reproduce("lookahead", tmp_path, size="cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("policy", ["conv-gru", "coin-mlp"])
def test_cuda_coin_game_run(policy):
    agent = LOLADiCE(policy, n_lookaheads=1, hidden_size=8, batch_size=16, rollout_len=20,
                     opponent_model=True, om_epochs=1)
    run = train("coin_game", (agent, agent), n_seeds=4, n_updates=2, seed=0, device="cuda")
    assert run.metrics["own_coin_share"].shape == (3, 2, 4)
    params = run.final_params[0]["policy"]
    assert all(v.device.type == "cuda" and torch.isfinite(v).all() for v in params.values())


def test_value_step_reuses_the_baselines_forward_pass_with_the_same_gradients():
    """`LOLADiCE.value_grads` on a rollout whose baseline values were computed with the same
    value params reuses that forward pass (kept in ``roll.memo``) and gives exactly the
    gradients of a fresh pass; other params, or the opponent's baseline, leave no reuse."""
    agent = LOLADiCE(**{**POLA_COIN, "hidden_size": 8, "batch_size": 4, "rollout_len": 6})
    game = CoinGame(3, 50)
    params = [agent.init_params(2, torch.Generator().manual_seed(i), "cpu", game=game,
                                player=i) for i in range(2)]
    policy, value = agent.modules(game)
    roll = sample_game_rollout(game, [policy, policy], [p["policy"] for p in params], 4, 6,
                               torch.Generator().manual_seed(5))
    ctx = Context(game, 0.96, 0, torch.Generator(), torch.device("cpu"), agent)
    fresh = agent.value_grads(ctx, params[0]["value"], roll)
    agent.baseline_values(ctx, 1, value, params[1]["value"], roll)  # the opponent's: not kept
    assert roll.memo == {}
    baseline = agent.baseline_values(ctx, 0, value, params[0]["value"], roll)
    assert not baseline.requires_grad
    torch.testing.assert_close(baseline, rollout_values(value, params[0]["value"], roll, 0),
                               rtol=0, atol=0)
    assert ("values", 0) in roll.memo
    reused = agent.value_grads(ctx, params[0]["value"], roll)
    copied = agent.value_grads(ctx, {k: v.clone() for k, v in params[0]["value"].items()}, roll)
    for key, grad in fresh.items():
        assert grad.abs().sum() > 0, key
        assert torch.equal(reused[key], grad), key
        assert torch.equal(copied[key], grad), key

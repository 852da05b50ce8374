"""POLA-DiCE and POLA-OM: POLA on sampled rollouts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lola_games.agents import AlwaysDefect, make_agent
from lola_games.agents.base import Context
from lola_games.agents.pg import LOLADiCE, NaivePG
from lola_games.agents.pola_dice import POLAOM, POLADiCE, rollout_kl
from lola_games.agents.pola_metrics import FIXED_STRATEGIES, evaluate_pola
from lola_games.agents.published import POLA_DICE_COIN, POLA_IPD, POLA_OM_COIN
from lola_games.games.coin import CoinGame
from lola_games.games.paper import contribution_ipd
from lola_games.games.registry import get_game
from lola_games.rollouts import (
    CoinGRUPolicy,
    MLPPolicy,
    TabularPolicy,
    init_params,
    sample_rollout,
    seed_forward,
)
from lola_games.rollouts.coin import sample_coin_rollout
from lola_games.runner.training import train


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def ctx_for(agent, player=0, seed=4, game="ipd"):
    game = get_game(game) if isinstance(game, str) else game
    return Context(game, 0.96, player, gen(seed), torch.device("cpu"), agent)


def test_defaults_are_the_pola_codes_ipd_settings():
    agent = POLADiCE()
    for key, value in POLA_IPD.items():
        assert getattr(agent, key) == value, key
    assert make_agent("pola-om").opponent_model and not make_agent("pola-dice").opponent_model
    assert {"inner_steps", "outer_steps", "beta_in", "beta_out", "om_batches"} <= set(
        POLAOM().hparams())
    assert "n_lookaheads" not in POLADiCE().hparams()


def test_rollout_kl_is_the_mean_over_the_rollouts_observations():
    """The per-state shortcut of a tabular policy equals the KL averaged over every round of
    every episode; a neural policy goes through its module; KL(p || p) = 0."""
    g = gen(1)
    pol = TabularPolicy()
    a, b = ({"logits": torch.randn(3, 5, generator=g, dtype=torch.float64)} for _ in range(2))
    roll = sample_rollout("ipd", (pol, pol), (a, b), 7, 11, g)
    for player, anchor, params in ((0, a, b), (1, b, a)):
        lp_anchor = pol.state_log_probs(anchor)[torch.arange(3)[:, None, None],
                                                roll.states[..., player]]  # [S, B, T, 2]
        lp = pol.state_log_probs(params)[torch.arange(3)[:, None, None], roll.states[..., player]]
        expected = (lp_anchor.exp() * (lp_anchor - lp)).sum(-1).mean(dim=(-1, -2))
        torch.testing.assert_close(rollout_kl(pol, anchor, params, roll, player), expected)
    assert rollout_kl(pol, a, a, roll, 0).abs().max() < 1e-15
    mlp = MLPPolicy(5, 2, (4,))
    m = [{k: v.double() for k, v in init_params(mlp, 3, g).items()} for _ in range(2)]
    kl = rollout_kl(mlp, m[0], m[1], roll, 0)
    assert kl.shape == (3,) and (kl > 0).all()
    # an anchor of the same values (other tensors) is not run again; the KL and its gradient
    # are those of two separate passes: 0
    leaf = {k: v.clone().requires_grad_() for k, v in m[0].items()}
    kl = rollout_kl(mlp, m[0], leaf, roll, 0)
    assert kl.abs().max() < 1e-15
    grads = torch.autograd.grad(kl.sum(), list(leaf.values()))
    assert max(g.abs().max() for g in grads) < 1e-12


def test_inner_proximal_solve_gradient_against_finite_differences():
    """The outer objective through a 3-step inner proximal solve with both rollout-KL terms,
    in float64, against finite differences. A DiCE surrogate evaluates to the sampled
    return whatever the parameters (only its derivatives estimate anything), so here each
    player's loss is its exact value (tabular policies) and the KL terms are measured on
    fixed rollouts: the objective is then a smooth function of the parameters, computed by
    the agent's own inner solve, KL terms and outer objective."""
    from lola_games.values.exact import discounted_values

    agent = POLADiCE(batch_size=6, rollout_len=8, inner_steps=3, lr_in=0.7, beta_in=2.0,
                     beta_out=3.0, baseline="none")
    g = gen(2)
    own = agent.init_params(2, g, dtype=torch.float64)
    other = agent.init_params(2, g, dtype=torch.float64)
    other["policy"] = {"logits": torch.randn(2, 5, generator=g, dtype=torch.float64)}
    ctx = ctx_for(agent)
    pol = agent.policy
    # 4 rollouts (3 inner, 1 outer) drawn once and replayed in order
    rolls = itertools.cycle([sample_rollout(ctx.game, (pol, pol), (own["policy"],
                                            other["policy"]), 6, 8, gen(10 + k))
                             for k in range(4)])
    agent._rollout = lambda *args: next(rolls)

    def exact_loss(ctx, learner, pols, vals, params, roll):
        values = discounted_values(ctx.game, params[0]["policy"]["logits"],
                                   params[1]["policy"]["logits"], ctx.gamma)
        return -values[learner].sum()

    agent._dice_loss = exact_loss
    objective = agent.outer_objective(own, (pol, other, None), ctx)
    start = own["policy"]["logits"] + 0.3 * torch.randn(2, 5, generator=g, dtype=torch.float64)
    grad = torch.autograd.grad(objective({"logits": start.requires_grad_()}, {})[0], start)[0]
    assert grad.abs().max() > 0.1
    assert torch.autograd.gradcheck(lambda t: objective({"logits": t}, {})[0], start)
    # the inner solve depends on theta: without it the gradient differs
    agent.inner_steps = 0
    assert not torch.allclose(
        torch.autograd.grad(objective({"logits": start}, {})[0], start)[0], grad)


@pytest.mark.parametrize("baseline", ["value", "batch-mean"])
def test_one_step_with_zero_betas_is_lola_dice(baseline):
    """inner_steps = outer_steps = 1, both betas 0, plain steps: the same update as
    LOLA-DiCE with one lookahead on the same rollouts (same generator), in float64."""
    common = dict(batch_size=5, rollout_len=7, lr_out=0.4, lr_in=0.6, lr_v=0.05,
                  optimizer="sgd", baseline=baseline, baseline_form="mao", init="normal",
                  init_scale=1.0)
    pola = POLADiCE(inner_steps=1, outer_steps=1, beta_in=0.0, beta_out=0.0, **common)
    lola = LOLADiCE(n_lookaheads=1, **common)
    g = gen(5)
    own = pola.init_params(3, g, dtype=torch.float64)
    other = pola.init_params(3, g, dtype=torch.float64)
    for params in (own, other):
        params["value"] = {"values": torch.randn(3, 5, generator=g, dtype=torch.float64)}
    for player in (0, 1):
        ours = pola.update(own, other, pola.init_state(own), ctx_for(pola, player))[0]
        theirs = lola.update(own, other, lola.init_state(own), ctx_for(lola, player))[0]
        torch.testing.assert_close(ours["policy"], theirs["policy"], rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(ours["value"], theirs["value"], rtol=1e-13, atol=1e-13)
        assert not torch.equal(ours["policy"]["logits"], own["policy"]["logits"])


def test_betas_keep_the_update_close_to_the_anchor():
    """The outer KL term bounds how far an update moves the policy."""
    moved = []
    for beta in (0.0, 1.0, 30.0):
        agent = POLADiCE(batch_size=32, rollout_len=20, outer_steps=20, lr_out=0.05,
                         beta_out=beta, beta_in=0.0)
        g = gen(0)
        own, other = agent.init_params(4, g), agent.init_params(4, g)
        new = agent.update(own, other, {}, ctx_for(agent))[0]
        moved.append((new["policy"]["logits"] - own["policy"]["logits"]).abs().mean().item())
    assert moved[0] > moved[1] > moved[2]


def test_opponent_model_fits_the_opponents_policy():
    """POLA-OM's model, fitted to play against tit-for-tat, plays like it in the states the
    play visits (start, CC, DC for a learner that mostly cooperates, and CD, DD)."""
    agent = POLAOM(batch_size=64, rollout_len=20, om_batches=150, lr_om=0.1)
    g = gen(0)
    own = agent.init_params(4, g)
    tft = torch.tensor(FIXED_STRATEGIES["tft"]).clamp(-4, 4).expand(4, 5)
    ctx = ctx_for(None, seed=1)
    model, _ = agent.fit_model(own, TabularPolicy(), {"policy": {"logits": tft}}, ctx)
    probs = torch.sigmoid(model["logits"])
    assert (probs[:, [0, 1, 3]] > 0.9).all() and (probs[:, [2, 4]] < 0.1).all()


def test_pola_om_never_reads_the_opponents_parameters():
    """The update of POLA-OM depends on the opponent's parameters only through play: an
    opponent whose extra, unplayed parameters change gives the same update."""
    agent = POLAOM(batch_size=16, rollout_len=10, om_batches=3, outer_steps=2)
    g = gen(0)
    own, other = agent.init_params(2, g), agent.init_params(2, g)
    twin = {**other, "value": {"values": other["value"]["values"] + 5.0},
            "model": {"logits": other["model"]["logits"] - 3.0}}
    a = agent.update(own, other, {}, ctx_for(agent))[0]
    b = agent.update(own, twin, {}, ctx_for(agent))[0]
    for key in ("policy", "value", "model", "model_value"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
    assert not torch.equal(a["model"]["logits"], own["model"]["logits"])


def test_learning_on_the_pola_codes_ipd():
    """8 seeds on the POLA code's IPD (factor 1.33: mutual cooperation 0.33 per round, a
    random policy 0.167, mutual defection 0), tabular policies, short runs: POLA-DiCE with
    itself cooperates clearly more than NL-PG given as many outer steps; its policies are
    not exploited by always-defect (a random policy loses 0.167 per round to it); and
    trained against always-defect it learns to defect."""
    game = contribution_ipd(1.33)
    pola = POLADiCE(batch_size=100, rollout_len=50, outer_steps=10, lr_out=0.05, lr_in=1.0)
    naive = NaivePG(batch_size=100, rollout_len=50, lr_out=0.05, optimizer="adam",
                    baseline="value", baseline_form="mao", metric="reward", init="normal",
                    init_scale=0.1)
    kw = dict(n_seeds=8, gamma=0.96, seed=0, progress=False)
    run = train(game, (pola, pola), n_updates=40, log_every=40, **kw)
    together, vs_alld = run.metrics["value"][-1].mean(0), run.metrics["vs_alld"][-1]
    nl = train(game, (naive, naive), n_updates=400, log_every=400, **kw)
    nl = nl.metrics["value"][-1].mean(0)
    assert (together > 0.15).sum() >= 6 and together.mean() > nl.mean() + 0.12, (together, nl)
    assert (vs_alld > -0.1).all() and vs_alld.mean() > -0.05, vs_alld
    trained = train(game, (pola, AlwaysDefect()), n_updates=40, log_every=40, **kw)
    assert (trained.metrics["value"][-1][0] > -0.084).all(), trained.metrics["value"][-1][0]


def test_evaluator_scores_against_fixed_strategies():
    """``vs_alld``/``vs_allc``/``vs_tft`` against exact values of the same policies."""
    from lola_games.values.exact import exact_values

    game = contribution_ipd(1.33)
    agent = POLADiCE(batch_size=400, rollout_len=50)
    params = tuple(agent.init_params(3, gen(k)) for k in range(2))
    params[1]["policy"]["logits"] = torch.tensor([[4.0] * 5, [-4.0] * 5, [0.0] * 5])
    metrics = evaluate_pola(game, (agent, agent), params, 0.96, gen(9))
    for name, logits in FIXED_STRATEGIES.items():
        fixed = torch.tensor(logits).expand(3, 5)
        exact = exact_values(game, params[1]["policy"]["logits"].double(), fixed.double(),
                             0.999)[0]  # about the mean over 50 rounds for these policies
        assert metrics[f"vs_{name}"].shape == (2, 3)
        torch.testing.assert_close(metrics[f"vs_{name}"][1].double(), exact, atol=0.03,
                                   rtol=0)


def test_bad_options_and_impossible_combinations(tmp_path, capsys):
    from lola_games.cli.app import main
    for kwargs, match in (({"inner_steps": 0}, "inner_steps"), ({"outer_steps": 1.5},
                          "outer_steps"), ({"beta_out": -1.0}, "beta_out"),
                          ({"beta_in": float("nan")}, "beta_in"), ({"om_batches": 0},
                          "om_batches"), ({"lr_om": -0.1}, "lr_om")):
        with pytest.raises(ValueError, match=match):
            POLADiCE(**kwargs)
    with pytest.raises(ValueError, match="opponent_model"):
        make_agent("pola-om", opponent_model=False)
    # sampled learners need rollouts: a game with exact values only is refused
    with pytest.raises(ValueError, match="pola-om"):
        train("tandem", (POLAOM(), POLAOM()), n_seeds=2, n_updates=1)
    # exact POLA has no opponent model: the flag is an error, not silently dropped
    code = main(["train", "--agents", "pola", "pola", "--opponent-model", "--seeds", "2",
                 "--updates", "1", "--out", str(tmp_path / "run")])
    assert code == 2 and "opponent" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_runner_resume_and_cli(tmp_path, capsys):
    from lola_games.cli.app import main

    agent = POLAOM(batch_size=8, rollout_len=6, outer_steps=2, om_batches=2)
    full = train("ipd", (agent, agent), n_seeds=2, n_updates=3, seed=0, out_dir=tmp_path / "a")
    train("ipd", (agent, agent), n_seeds=2, n_updates=1, seed=0, out_dir=tmp_path / "b")
    resumed = train("ipd", (agent, agent), n_seeds=2, n_updates=3, seed=0,
                    out_dir=tmp_path / "b", resume=True)
    assert (full.value_0 == resumed.value_0).all()
    for key in ("policy", "model", "model_value"):
        assert torch.equal(full.final_params[1][key]["logits" if key != "model_value"
                                                     else "values"],
                           resumed.final_params[1][key]["logits" if key != "model_value"
                                                        else "values"])
    assert set(full.metrics) >= {"value", "vs_alld", "vs_allc", "vs_tft", "p_CC"}
    code = main(["train", "--agents", "pola-dice", "pola-om", "--seeds", "2", "--updates", "1",
                 "--batch-size", "8", "--rollout-len", "6", "--outer-steps", "2",
                 "--inner-steps", "1", "--beta-out", "5", "--out", str(tmp_path / "cli"),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_update():
    agent = POLAOM(batch_size=32, rollout_len=20, outer_steps=3, om_batches=3)
    run = train("ipd", (agent, agent), n_seeds=4, n_updates=2, seed=0, device="cuda")
    params = run.final_params[0]["policy"]["logits"]
    assert params.device.type == "cuda" and torch.isfinite(params).all()


def test_reproduce_pola_dice_smoke(tmp_path):
    from lola_games.experiments.reproduce import reproduce

    result = reproduce("pola-dice", tmp_path, size="smoke", formats=("png",))
    assert set(result.runs) == {"pola_dice", "pola_om", "lola_dice"}
    rows = (tmp_path / "pola_dice_ipd.md").read_text()
    assert "POLA-OM" in rows and "0.315" in rows and (tmp_path / "pola_dice_ipd.png").exists()
    lola = result.runs["lola_dice"].config["agents"][0]["hparams"]
    assert lola["beta_out"] == lola["beta_in"] == 0 and lola["inner_steps"] == 1


# -- the Coin Game ----------------------------------------------------------------------------


def coin_agent(cls=POLADiCE, **kw):
    """A Coin Game learner small enough for single updates in tests."""
    base = dict(policy="coin-gru", hidden_size=8, batch_size=8, rollout_len=10, inner_steps=2,
                outer_steps=2, lr_in=0.5, lr_out=0.05, om_batches=2, lr_om=0.05)
    return cls(**{**base, **kw})


def test_coin_game_settings_are_the_pola_codes():
    assert POLA_DICE_COIN["policy"] == "coin-gru" and POLA_DICE_COIN["hidden_size"] == 64
    assert (POLA_DICE_COIN["batch_size"], POLA_DICE_COIN["rollout_len"]) == (1000, 50)
    assert (POLA_DICE_COIN["inner_steps"], POLA_DICE_COIN["outer_steps"]) == (4, 200)
    assert (POLA_DICE_COIN["beta_in"], POLA_DICE_COIN["beta_out"]) == (5.0, 150.0)
    assert (POLA_DICE_COIN["lr_in"], POLA_DICE_COIN["lr_out"]) == (0.01, 0.003)
    assert (POLA_OM_COIN["inner_steps"], POLA_OM_COIN["beta_in"]) == (6, 15.0)
    for settings, cls in ((POLA_DICE_COIN, POLADiCE), (POLA_OM_COIN, POLAOM)):
        agent = cls(**settings)
        agent.check_game(CoinGame(3, 50))
        assert isinstance(agent.modules(CoinGame(3, 50))[0], CoinGRUPolicy)


def test_rollout_kl_on_the_coin_game_is_the_mean_over_the_boards_seen():
    """On Coin Game rollouts the KL is taken at the boards each player saw, through the
    recurrent policy's whole episodes: against a step-by-step computation, zero at the
    anchor, positive elsewhere."""
    game = CoinGame(3, 20)
    agent = coin_agent()
    policy = agent.modules(game)[0]
    g = gen(1)
    pa, pb = (agent.init_params(3, g, dtype=torch.float64, game=game) for _ in range(2))
    roll = sample_coin_rollout(game, (policy, policy), (pa["policy"], pb["policy"]), 5, 6, g)
    for player in (0, 1):
        kl = rollout_kl(policy, pa["policy"], pb["policy"], roll, player)
        obs = roll.obs(player, torch.float64)
        expected = torch.zeros(3, dtype=torch.float64)
        ha = hb = None
        for t in range(6):
            la, ha = seed_forward(policy, pa["policy"], obs[:, :, t:t + 1], ha)
            lb, hb = seed_forward(policy, pb["policy"], obs[:, :, t:t + 1], hb)
            pa_t, pb_t = torch.log_softmax(la, -1), torch.log_softmax(lb, -1)
            expected += (pa_t.exp() * (pa_t - pb_t)).sum(-1).mean(dim=(-1, -2)) / 6
        torch.testing.assert_close(kl, expected, rtol=1e-10, atol=1e-12)
        assert (kl > 0).all()
        same = rollout_kl(policy, pa["policy"], pa["policy"], roll, player)
        torch.testing.assert_close(same, torch.zeros(3, dtype=torch.float64), atol=1e-14,
                                   rtol=0)


def test_one_step_with_zero_betas_is_lola_dice_on_the_coin_game():
    """As on the IPD: one inner and one outer step, both betas 0, plain steps is
    LOLA-DiCE's update with one lookahead on the same Coin Game rollouts (float64)."""
    game = CoinGame(3, 20)
    common = dict(policy="coin-mlp", hidden_size=8, batch_size=5, rollout_len=7, lr_out=0.4,
                  lr_in=0.6, lr_v=0.05, optimizer="sgd", baseline="value",
                  baseline_form="mao")
    pola = POLADiCE(inner_steps=1, outer_steps=1, beta_in=0.0, beta_out=0.0, **common)
    lola = LOLADiCE(n_lookaheads=1, **common)
    g = gen(5)
    own = pola.init_params(3, g, dtype=torch.float64, game=game)
    other = pola.init_params(3, g, dtype=torch.float64, game=game, player=1)
    for player in (0, 1):
        ours = pola.update(own, other, {}, ctx_for(pola, player, game=game))[0]
        theirs = lola.update(own, other, lola.init_state(own), ctx_for(lola, player,
                                                                        game=game))[0]
        torch.testing.assert_close(ours["policy"], theirs["policy"], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(ours["value"], theirs["value"], rtol=1e-12, atol=1e-12)
        assert not all(torch.equal(v, own["policy"][k]) for k, v in ours["policy"].items())


@pytest.mark.parametrize("cls", [POLADiCE, POLAOM])
def test_outer_beta_keeps_coin_game_updates_close_to_the_anchor(cls):
    """On the Coin Game, the outer KL term bounds how far an update moves the policy
    (measured as the KL on fresh boards): over 4 seeds the mean shrinks as beta grows, and
    seed by seed beta 100 moves it far less than no proximal term."""
    game = CoinGame(3, 20)
    moved = []
    for beta in (0.0, 3.0, 100.0):
        agent = coin_agent(cls, outer_steps=6, beta_out=beta, beta_in=1.0)
        g = gen(0)
        own = agent.init_params(4, g, game=game)
        other = agent.init_params(4, g, game=game, player=1)
        new = agent.update(own, other, {}, ctx_for(agent, game=game))[0]
        policy = agent.modules(game)[0]
        roll = sample_coin_rollout(game, (policy, policy), (new["policy"], other["policy"]),
                                   32, 10, gen(9))
        moved.append(rollout_kl(policy, own["policy"], new["policy"], roll, 0))
    assert moved[0].mean() > moved[1].mean() > moved[2].mean(), moved
    assert (moved[2] < 0.01).all() and (moved[0] > 5 * moved[2]).all(), moved


@pytest.mark.parametrize("cls", [POLADiCE, POLAOM])
def test_coin_game_through_the_runner_is_deterministic_and_resumes(cls, tmp_path):
    """Both agents play the Coin Game through the runner (3 seeds): Coin Game metrics, the
    same numbers from the same seed, resume equal to an uninterrupted run, and networks
    built for the board they are given (4 x 4)."""
    agent = coin_agent(cls)
    kw = dict(n_seeds=3, seed=0, progress=False)
    full = train("coin_game", (agent, agent), n_updates=3, out_dir=tmp_path / "a", **kw)
    again = train("coin_game", (agent, agent), n_updates=3, **kw)
    train("coin_game", (agent, agent), n_updates=1, out_dir=tmp_path / "b", **kw)
    resumed = train("coin_game", (agent, agent), n_updates=3, out_dir=tmp_path / "b",
                    resume=True, **kw)
    assert set(full.metrics) >= {"value", "own_coin_share", "coins_per_round"}
    share = full.metrics["own_coin_share"]
    assert np.isfinite(share).all() and ((share >= 0) & (share <= 1)).all()
    for other in (again, resumed):
        np.testing.assert_array_equal(full.metrics["value"], other.metrics["value"])
        for key in full.final_params[0]:
            for k, v in full.final_params[0][key].items():
                assert torch.equal(v, other.final_params[0][key][k])
    big = train(CoinGame(4, 20), (agent, agent), n_updates=1, **kw)
    assert big.final_params[0]["policy"]["dense.weight"].shape[-1] == 4 * 4 * 4


def test_coin_game_bad_input():
    game = CoinGame(3, 20)
    with pytest.raises(ValueError, match="tabular"):
        POLADiCE().check_game(game)
    with pytest.raises(ValueError, match="rollout_len"):
        coin_agent(rollout_len=30).check_game(game)
    with pytest.raises(ValueError, match="coin-gru"):
        coin_agent(POLAOM).check_game(get_game("ipd"))


def test_coin_game_from_the_cli(tmp_path, capsys):
    import json

    from lola_games.cli.app import main

    code = main(["train", "--game", "coin_game", "--agents", "pola-dice", "pola-om", "--policy",
                 "coin-gru", "--hidden-size", "8", "--batch-size", "8", "--rollout-len", "10",
                 "--outer-steps", "1", "--inner-steps", "1", "--om-epochs", "2", "--seeds", "2",
                 "--updates", "1", "--out", str(tmp_path / "cli"), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    config = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert config["agents"][1]["hparams"]["om_batches"] == 2
    assert config["agents"][0]["hparams"]["policy"] == "CoinGRUPolicy"

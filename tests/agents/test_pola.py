"""POLA with exact values: the proximal machinery, parameterisations, the paper's central
property (invariance to the policy parameterisation) and agreement with the authors' code."""

import pytest
import torch

from lola_games.agents import POLA, NaiveLearner, make_agent
from lola_games.agents.base import Context
from lola_games.functional import SGD
from lola_games.functional.parameterisations import MLP, Tabular
from lola_games.functional.proximal import memory_one_kl, params_l2, proximal_loss, solve
from lola_games.games.paper import contribution_ipd
from lola_games.runner.run import load_run
from lola_games.runner.training import train
from lola_games.values.exact import discounted_values

STATES = ("start", "CC", "CD", "DC", "DD")


def final_probs(run, player):
    return torch.stack([torch.as_tensor(run.metrics[f"p_{s}"][-1, player]) for s in STATES], -1)


def test_memory_one_kl_is_the_pola_codes_kl():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    # the POLA code: kl_div(log(policy), target) over (P(0), P(1)) per state, summed
    pa, pb = torch.sigmoid(a), torch.sigmoid(b)
    dist = lambda p: torch.stack([p, 1 - p], -1)  # noqa: E731
    ref = torch.nn.functional.kl_div(dist(pb).log(), dist(pa), reduction="none").sum((-1, -2))
    torch.testing.assert_close(memory_one_kl(a, b), ref)
    assert torch.all(memory_one_kl(a, a).abs() < 1e-12)
    p = {"w": torch.ones(3, 2, 2)}
    assert params_l2({"w": torch.zeros(3, 2, 2)}, p).tolist() == [4.0, 4.0, 4.0]


def test_mlp_logits_equal_the_module_and_match_the_tabular_draw():
    mlp = MLP(hidden_size=6)
    params = mlp.init(7, torch.Generator().manual_seed(1), None, torch.float64, 0.7)
    tab = Tabular().init(7, torch.Generator().manual_seed(1), None, torch.float64, 0.7)
    torch.testing.assert_close(mlp.logits(params), mlp.module_logits(params))
    torch.testing.assert_close(mlp.logits(params), tab)
    actions = MLP(hidden_size=6, init="default", inputs="actions")
    p6 = actions.init(3, torch.Generator().manual_seed(1), None, torch.float64, 0.7)
    assert p6["0.weight"].shape == (3, 6, 6)
    torch.testing.assert_close(actions.logits(p6), actions.module_logits(p6))
    with pytest.raises(ValueError, match="match"):
        MLP(hidden_size=6, init="match", inputs="actions")
    default = MLP(hidden_size=6, init="default").init(7, torch.Generator().manual_seed(1), None,
                                                    torch.float64, 0.7)
    assert not torch.allclose(MLP(6).logits(default), tab)


def test_differentiable_inner_solve_against_finite_differences():
    """d/d theta1 of V1(theta1, theta2'(theta1)) with a 3-step proximal inner problem."""
    game = contribution_ipd(1.33)
    g = torch.Generator().manual_seed(2)
    th1, th2 = torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    mlp = MLP(3)
    th2 = mlp.init(4, g, None, torch.float64, 1.0)

    def outer(t1):
        inner = proximal_loss(lambda t2: -discounted_values(game, t1, mlp.logits(t2), 0.9)[1],
                              0.5, "kl", th2, mlp.logits)
        t2, _ = solve(inner, th2, 3, SGD(0.3), differentiable=True)
        return discounted_values(game, t1, mlp.logits(t2), 0.9)[0]

    assert torch.autograd.gradcheck(lambda t: outer(t).sum(), th1.requires_grad_())


def test_pola_is_parameterisation_invariant_and_lola_is_not():
    """The paper's central property, through the runner: one update of tabular and MLP
    learners that start from the same policy, against the same naive learner (8 seeds).
    With the proximal problem solved (policy KL), the new policies agree; LOLA's (the same
    agent with no proximity term and one step) differ."""
    def run(agent):
        return train("ipd", [NaiveLearner(lr=1.0), agent], n_seeds=8, n_updates=1,
                     gamma=0.96, dtype="float64", seed=3)

    pola = dict(lr_out=0.05, lr_in=1.0, beta_out=1.0, outer_steps=2000, tol=1e-11,
                optimizer="adam", init_std=1.0)
    lola = dict(lr_out=0.1, lr_in=1.0, beta_out=0.0, outer_steps=1, tol=None, init_std=1.0)
    gaps = {}
    for name, kw in (("pola", pola), ("lola", lola)):
        tab, mlp = run(POLA(**kw)), run(POLA(policy="mlp", hidden_size=8, **kw))
        torch.testing.assert_close(  # the same start
            torch.as_tensor(tab.metrics["p_CC"][0]), torch.as_tensor(mlp.metrics["p_CC"][0]))
        gaps[name] = (final_probs(tab, 1) - final_probs(mlp, 1)).abs().amax(-1)  # [S]
        moved = (final_probs(tab, 1) - torch.sigmoid(torch.zeros(1))).abs().amax()
        assert moved > 0.1
    assert gaps["pola"].max() < 0.002, gaps
    assert gaps["lola"].median() > 0.2 and gaps["lola"].min() > 0.1, gaps
    # with the divergence in parameter space (L2) the outcome depends on it again
    l2 = dict(pola, divergence="l2")
    tab, mlp = run(POLA(**l2)), run(POLA(policy="mlp", hidden_size=8, **l2))
    assert (final_probs(tab, 1) - final_probs(mlp, 1)).abs().amax(-1).median() > 0.05


def test_pola_matches_the_pola_code_on_its_first_run():
    """``LOLA_exact.py --outer_exact_prox --actual_update --lr_policies_inner 5
    --lr_policies_outer 0.3 --outer_beta 0.1 --base_cf_no_scale 1.1 --set_seed --seed 1``:
    the policies it printed after each of its two updates (first repeat), against ours from
    the same initial logits (its layout DD, DC, CD, CC, start in player 0's terms, P(C))."""
    game = contribution_ipd(1.1)
    torch.manual_seed(1)
    th = [torch.nn.init.normal_(torch.empty(5), std=0.1) for _ in range(2)]
    own = [th[0][[4, 3, 2, 1, 0]][None], th[1][[4, 3, 1, 2, 0]][None]]
    agent = POLA(lr_out=0.3, lr_in=5.0, beta_out=0.1)
    theirs = [torch.tensor([[0.0832, 0.9698, 0.1613, 0.5309, 0.0041]]),
              torch.tensor([[0.9381, 0.9990, 0.4631, 0.9707, 0.0028],
                            [0.9374, 0.9987, 0.4274, 0.9696, 0.0039]])]
    for epoch in range(2):
        own = [agent.update(own[i], own[1 - i], {}, Context(game, 0.96, i, other=agent))[0]
               for i in range(2)]
        ours = torch.sigmoid(own[0] if epoch == 0 else torch.cat(own))
        torch.testing.assert_close(ours, theirs[epoch], atol=0.01, rtol=0)


def test_pola_mlp_run_directory_resumes_to_the_same_numbers(tmp_path):
    agent = POLA(policy="mlp", hidden_size=4, outer_steps=30, tol=None, lr_out=0.05, lr_in=0.5)
    full = train("ipd", [agent, NaiveLearner()], n_seeds=3, n_updates=4, gamma=0.9,
                 out_dir=tmp_path / "full", checkpoint_every=1)
    train("ipd", [agent, NaiveLearner()], n_seeds=3, n_updates=2, gamma=0.9,
          out_dir=tmp_path / "part", checkpoint_every=1)
    resumed = train("ipd", [agent, NaiveLearner()], n_seeds=3, n_updates=4, gamma=0.9,
                    out_dir=tmp_path / "part", resume=True)
    for name in full.metrics:
        torch.testing.assert_close(torch.as_tensor(resumed.metrics[name]),
                                   torch.as_tensor(full.metrics[name]))
    loaded = load_run(tmp_path / "full")
    assert loaded.config["agents"][0]["hparams"]["policy"] == "mlp"


@pytest.mark.parametrize("kwargs, match", [
    ({"lr_out": 0}, "lr_out"), ({"beta_out": -1}, "beta_out"), ({"outer_steps": 0}, "outer_steps"),
    ({"divergence": "js"}, "divergence"), ({"policy": "cnn"}, "policy"),
    ({"policy": "mlp", "hidden_size": 0}, "hidden_size"), ({"mlp_init": "xavier", "policy": "mlp"},
                                                           "init"),
    ({"optimizer": "rmsprop"}, "optimizer"), ({"tol": 0.0}, "tol"),
])
def test_bad_hyper_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_agent("pola", **kwargs)


def test_bad_params_and_impossible_combinations():
    agent = POLA(policy="mlp", hidden_size=4)
    ctx = Context(contribution_ipd(1.33), 0.96, 0, other=NaiveLearner())
    with pytest.raises(TypeError, match="MLP own params"):
        agent.update(torch.zeros(2, 5), torch.zeros(2, 5), {}, ctx)
    with pytest.raises(ValueError, match="tol"):
        solve(lambda p: p.sum(-1), torch.zeros(2, 5), 3, SGD(0.1), differentiable=True, tol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        contribution_ipd(2.5)
    with pytest.raises(ValueError, match="two-action"):
        POLA().check_game(object())


def test_reproduce_pola_exact_smoke(tmp_path):
    from lola_games.experiments.reproduce import reproduce

    result = reproduce("pola-exact", tmp_path, size="smoke", formats=("png",))
    summary = (tmp_path / "summary.md").read_text().splitlines()
    assert len(summary) == 2 + 14 and "TFT found" in summary[0]
    assert result.runs["pola_cf1.1"].config["n_updates"] == 2
    assert result.runs["lola_cf1.1"].config["agents"][0]["hparams"]["beta_out"] == 0.0
    assert result.runs["pola_mlp_cf1.33"].game.name == "ipd_cf1.33"
    for stem in ("pola_exact_tft", "pola_exact_policies"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
    again = reproduce("pola-exact", tmp_path, size="smoke", plot_only=True, formats=("png",))
    assert (tmp_path / "summary.md").read_text().splitlines() == summary
    assert again.table == result.table


@pytest.mark.parametrize("game, gamma", [("imp", 0.9), ("chicken", 0.96), ("stag_hunt", 0.96)])
def test_pola_plays_other_matrix_games(game, gamma):
    """POLA needs nothing of the IPD: it runs on any two-action game, against itself and
    against exact learners, and its policies move."""
    pola = POLA(lr_out=0.1, lr_in=1.0, beta_out=1.0, outer_steps=50, tol=None, init_std=1.0)
    for other in (pola, NaiveLearner(lr=0.5)):
        run = train(game, [pola, other], n_seeds=4, n_updates=2, gamma=gamma, dtype="float64")
        moved = abs(run.metrics["p_start"][-1, 0] - run.metrics["p_start"][0, 0]).max()
        assert moved > 1e-3 and all(abs(v).max() < 1e6 for v in run.metrics.values())

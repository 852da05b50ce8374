"""The LOLA paper's tournament learners (NL-Q, JAL-Q, PHC, WoLF-PHC): one round against the
published update rules, play, meetings with every kind of agent, checkpoints, learning."""

import numpy as np
import pytest
import torch

from lola_games.agents import make_agent
from lola_games.agents.online_learner import Round, play_episode
from lola_games.games.registry import get_game
from lola_games.runner.checkpoint import load_final_params
from lola_games.runner.training import train

ONLINE = ("nl-q", "jal-q", "phc", "wolf-phc")


# -- one round against the published rules, written per seed in numpy --------------------


def _alpha(t, rate, decay):
    return 1 / (1 / rate + t * decay)


def _ref_q(q, s, a, r, s2, t, gamma=0.96):
    q = q.copy()
    alpha = _alpha(t, 1e-2, 1e-4)
    q[s, a] = (1 - alpha) * q[s, a] + alpha * (r + gamma * q[s2].max())
    return q


def _ref_climb(pi, q, s, a, delta):
    pi = pi.copy()
    step = np.minimum(pi[s], delta)
    change = step.sum() - step[a] if a == np.argmax(q[s]) else -step[a]
    pi[s, a] += change
    pi[s, 1 - a] -= change
    return np.clip(pi, 1e-8, 1 - 1e-8)


def _reference(name, p, s, a, b, r, s2, t):
    """The published baselines' update of one seed (alshedivat/lola lola/baselines.py)."""
    if name == "nl-q":
        return {"q": _ref_q(p["q"], s, a, r, s2, t)}
    if name == "jal-q":
        q, c = p["q"].copy(), p["counts"].copy()

        def expected(state):
            return (q[state] * (c[state] / (c[state].sum() + 1e-8))[None, :]).sum(-1)

        v = expected(s2).max()
        alpha = _alpha(t, 1e-2, 1e-4)
        q[s, a, b] = (1 - alpha) * q[s, a, b] + alpha * (r + 0.96 * v)
        c[s, b] += 1
        return {"q": q, "counts": c}
    if name == "phc":
        q = _ref_q(p["q"], s, a, r, s2, t)
        return {"q": q, "pi": _ref_climb(p["pi"], q, s, a, _alpha(t, 5e-5, 1.0))}
    q = _ref_q(p["q"], s, a, r, s2, t)
    visits, avg = p["visits"].copy(), p["pi_avg"].copy()
    visits[s] += 1
    avg[s] += (p["pi"][s] - avg[s]) / visits[s]
    avg[s] = np.clip(avg[s], 1e-8, 1 - 1e-8)
    avg[s] /= avg[s].sum()
    win = (p["pi"][s] * q[s]).sum() > (avg[s] * q[s]).sum()
    delta = _alpha(t, 1e-2, 5e-5) * (1 if win else 2)
    return {"q": q, "pi": _ref_climb(p["pi"], q, s, a, delta), "pi_avg": avg, "visits": visits}


@pytest.mark.parametrize("name", ONLINE)
def test_one_round_follows_the_published_update(name):
    agent = make_agent(name, gamma=0.96)
    n = 64
    gen = torch.Generator().manual_seed(3)
    params = agent.init_params(n, gen, dtype=torch.float64)
    # visited tables: random policies, averages and counts
    if "pi" in params:
        p0 = torch.rand(n, 5, generator=gen, dtype=torch.float64)
        params["pi"] = torch.stack([p0, 1 - p0], -1)
    if "pi_avg" in params:
        p0 = torch.rand(n, 5, generator=gen, dtype=torch.float64)
        params["pi_avg"] = torch.stack([p0, 1 - p0], -1)
        params["visits"] = torch.randint(0, 5, (n, 5), generator=gen).double()
    if "counts" in params:
        params["counts"] = torch.randint(0, 4, (n, 5, 2), generator=gen).double()
    params["steps"] = torch.full((n,), 1234)
    s, s2 = torch.randint(0, 5, (n,), generator=gen), torch.randint(1, 5, (n,), generator=gen)
    a, b = torch.randint(0, 2, (n,), generator=gen), torch.randint(0, 2, (n,), generator=gen)
    r = torch.randint(-3, 1, (n,), generator=gen).double()
    rates = {k: v[0] for k, v in agent.schedule(params["steps"], 1, torch.float64).items()}
    new = agent.learn(params, Round(torch.arange(n), s, a, b, r, s2, rates, 0.5))
    for k in range(n):
        one = {key: v[k].numpy() for key, v in params.items() if key != "steps"}
        want = _reference(name, one, int(s[k]), int(a[k]), int(b[k]), float(r[k]), int(s2[k]),
                          1235)
        for key, value in want.items():
            np.testing.assert_allclose(new[key][k].numpy(), value, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} {key} seed {k}")


# -- play -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ONLINE)
def test_memory_one_view_is_the_policy_played(name):
    """P(action 0) of ``logits`` in START is the frequency of action 0 in the first round."""
    agent = make_agent(name, rollout_len=1, alpha=1e-9, alpha_decay=0.0)
    n = 4000
    gen = torch.Generator().manual_seed(0)
    params = agent.init_params(n, gen, dtype=torch.float64)
    if "pi" in params:
        params["pi"] = torch.tensor([0.3, 0.7], dtype=torch.float64).expand(n, 5, 2).clone()
    want = torch.sigmoid(agent.logits(params))[:, 0]
    allc = torch.full((n, 5), 1.0, dtype=torch.float64)
    u_gen = torch.Generator().manual_seed(1)
    u = torch.rand(1, n, 2, generator=u_gen, dtype=torch.float64)
    out = play_episode(get_game("ipd"), [agent, make_agent("allc")], [params, allc], 1, 0.96,
                       torch.Generator().manual_seed(1))
    played_0 = (u[0, :, 0] < want).double()
    assert out[0]["steps"].eq(1).all()
    # the first action was drawn against P(action 0) in START: frequencies agree
    assert abs(played_0.mean() - want.mean()) < 4 * (0.25 / n) ** 0.5 + 1e-12


@pytest.mark.parametrize("pair", [("nl-q", "lola"), ("sos", "jal-q"), ("phc", "naive"),
                                  ("wolf-phc", "tft"), ("lola-dice", "nl-q"),
                                  ("jal-q", "wolf-phc")])
def test_online_learners_meet_every_kind_of_agent(pair):
    agents = [make_agent(a, **({"batch_size": 4, "rollout_len": 6} if a == "lola-dice"
                               else {"rollout_len": 20} if a in ONLINE else {})) for a in pair]
    run = train("ipd", agents, n_seeds=3, n_updates=3, seed=0)
    assert np.isfinite(run.metrics["value"]).all()
    for i, a in enumerate(agents):
        if a.name in ONLINE:
            assert run.final_params[i]["steps"].eq(60).all()
        elif a.name in ("lola", "naive", "sos"):
            assert not np.allclose(run.probs(i)[0], run.probs(i)[-1])  # learned from it


def test_two_online_learners_share_one_episode(monkeypatch):
    """Player 1 replays player 0's joint episode or reuses it: the numbers are the same."""
    import lola_games.agents.online_learner as online

    agents = [make_agent("wolf-phc", rollout_len=15), make_agent("jal-q", rollout_len=15)]
    reused = train("ipd", agents, n_seeds=4, n_updates=4, seed=2)

    class Forgetful(dict):
        def update(self, *args, **kwargs):
            pass

    monkeypatch.setattr(online, "LAST_JOINT", Forgetful())
    replayed = train("ipd", agents, n_seeds=4, n_updates=4, seed=2)
    np.testing.assert_array_equal(reused.metrics["value"], replayed.metrics["value"])
    for x, y in zip(reused.final_params, replayed.final_params, strict=True):
        for k in x:
            assert torch.equal(x[k], y[k])
    # one joint episode: both learners counted the same rounds, and JAL-Q's count of the
    # opponent's actions per state adds up to the rounds it played
    assert reused.final_params[1]["counts"].sum(dim=(1, 2)).eq(60).all()


@pytest.mark.parametrize("name", ONLINE)
def test_checkpointed_and_extended_runs_equal_uninterrupted(tmp_path, name):
    agents = [make_agent(name, rollout_len=10), make_agent("lola")]
    whole = train("ipd", agents, n_seeds=3, n_updates=4, seed=5)
    train("ipd", agents, n_seeds=3, n_updates=2, seed=5, out_dir=tmp_path / "r")
    extended = train("ipd", agents, n_seeds=3, n_updates=4, seed=5, out_dir=tmp_path / "r",
                     resume=True)
    np.testing.assert_array_equal(whole.metrics["value"], extended.metrics["value"])
    final = load_final_params(tmp_path / "r")  # plain tensors, read with weights_only
    assert set(final[0]) >= {"q", "steps"}


@pytest.mark.parametrize("name", ["nl-q", "jal-q", "wolf-phc"])
def test_learners_learn_to_exploit_unconditional_cooperation(name):
    """Against ALLC, defecting pays 1 more per round: after 20 episodes of 100 rounds the
    learner's exact value (0.95 * 0 + 0.05 * -1 for an epsilon-greedy defector) is above -0.2
    in at least 90% of 64 seeds (measured: NL-Q 98%, JAL-Q 97%, WoLF-PHC 100%)."""
    run = train("ipd", [make_agent(name, rollout_len=100), "allc"], n_seeds=64, n_updates=20,
                seed=1, log_every=20)
    assert (run.metrics["value"][-1, 0] > -0.2).mean() >= 0.9


def test_phc_climbs_slowly_towards_defection():
    run = train("ipd", [make_agent("phc", rollout_len=100), "allc"], n_seeds=64, n_updates=20,
                seed=1, log_every=20)
    start, end = run.metrics["value"][0, 0], run.metrics["value"][-1, 0]
    assert (end > start + 0.02).mean() >= 0.9


@pytest.mark.parametrize("kwargs,message", [
    (dict(alpha=0), "alpha"), (dict(eps=1.5), "eps"), (dict(gamma=1.0), "gamma"),
    (dict(rollout_len=0), "rollout_len"), (dict(alpha_decay=-1), "alpha_decay"),
])
def test_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_agent("nl-q", **kwargs)


def test_three_action_game_is_refused():
    from lola_games.games.matrix import MatrixGame

    rps = MatrixGame("rps", ("R", "P", "S"),
                     np.stack([np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])] * 2))
    with pytest.raises(ValueError, match="two-action"):
        train(rps, ["nl-q", "nl-q"], n_seeds=2, n_updates=1)

"""LOQA: one update against a plain reference written from the authors' formulas
(MiladInk/loqa ``coin_train.py``), settings, buffer, learning on the IPD."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch.func import functional_call

from lola_games.agents import make_agent
from lola_games.agents.base import Context
from lola_games.agents.loqa import LOQA
from lola_games.agents.published import LOQA_COIN, LOQA_IPD
from lola_games.games.coin import CoinGame
from lola_games.games.registry import get_game
from lola_games.rollouts.loqa_play import play_episodes
from lola_games.runner.rundir import RunDirectory
from lola_games.runner.training import train
from lola_games.values.exact import discounted_values

GAMMA = 0.96


def ctx_for(agent, game, seed=3):
    return Context(game, GAMMA, 0, torch.Generator().manual_seed(seed), torch.device("cpu"),
                   agent)


# -- the reference: one episode at a time, loops over rounds, as the original -------------
def ref_policy_losses(logp, q, acts, rews, op_logp, op_q, op_acts, op_rews, hp):
    """The original's ``agent_policy_loss`` (``loaded-dice``, ``TD0``) for ONE episode:
    ``logp, q [T+1, n]``, ``op_logp, op_q [T, n]``, actions/rewards ``[T]``."""
    gamma, lam, temp = hp["gamma"], hp["lam"], hp["temp"]
    n = len(acts)
    values = [(logp[t].exp() * q[t]).sum() for t in range(n + 1)]
    lps = [logp[t, acts[t]] for t in range(n)]
    adv = [rews[t] + gamma * values[t + 1] - values[t] for t in range(n)]
    loss_agent = -sum(lps[t] * adv[t] for t in range(n)) / n
    ent = [-(torch.nan_to_num(logp[t] * logp[t].exp())).sum() for t in range(n)]
    loss_ent = -sum(ent) / n
    # differentiable_loaded_dice_returns
    op_values = [(op_logp[t].exp() * op_q[t]).sum().detach() for t in range(n)]
    cums, acc = [], torch.ones((), dtype=logp.dtype)
    cums.append(acc)
    for t in range(n):
        acc = acc + lps[t]
        cums.append(acc)
    box = [torch.exp(c - c.detach()) for c in cums]
    dice = [box[t + 1] - box[t] for t in range(n)]
    returns, run = [0.0] * n, 0.0
    for t in reversed(range(n)):
        run = op_rews[t] + gamma * run
        returns[t] = run
    zero, carry = [0.0] * n, 0.0
    for t in reversed(range(n)):
        carry = (returns[t] - op_values[t]) * dice[t] + gamma * lam * carry
        zero[t] = carry
    op_returns = [returns[t] + zero[t] for t in range(n)]
    loss_op = 0.0
    for t in range(n):
        qd = op_rews[t] + gamma * op_returns[t + 1] if t < n - 1 else op_rews[t]
        row = [qd if a == op_acts[t] else op_q[t, a] for a in range(op_q.shape[1])]
        lsm = torch.log_softmax(torch.stack([torch.as_tensor(r) for r in row]) / temp, 0)
        loss_op = loss_op - lsm[op_acts[t]] * adv[t]
    return loss_agent, loss_ent, loss_op / n


def huber(x):
    return 0.5 * x * x if abs(float(x.detach())) <= 1 else abs(x) - 0.5


def ref_adam(p, g, lr, t, m, v):
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    return p - lr * (m / (1 - 0.9 ** t)) / ((v / (1 - 0.999 ** t)).sqrt() + 1e-8), m, v


def ref_update(agent, game, params, target, ep, opponent, hp):
    """The original's ``update_agent_actor`` + ``train_agent_qvalue`` for seed-stacked
    params, one seed and one episode at a time."""
    policy, critic = agent.modules(game)
    n_seeds, batch = ep.actions.shape[:2]
    keys = list(params)
    out = {}
    for s in range(n_seeds):
        leaf = {k: params[k][s].clone().requires_grad_(True) for k in keys}

        def net(p, obs, kind):
            mod = policy if kind == "policy" else critic
            sub = {k.split("/", 1)[1]: v for k, v in p.items() if k.startswith(kind + "/")}
            if kind == "policy":
                return torch.log_softmax(functional_call(mod, sub, (obs[None],))[0][0], -1)
            return functional_call(mod, sub, (obs[None],))[0]

        def opp(b, s=s):
            row = s if next(iter(opponent.values())).shape[0] == n_seeds else s * batch + b
            return {k: v[row] for k, v in opponent.items()}

        total_agent, total_op = 0.0, 0.0
        for b in range(batch):
            o = opp(b)
            lp, q = net(leaf, ep.obs[s, b], "policy"), net(leaf, ep.obs[s, b], "value")
            olp, oq = net(o, ep.op_obs[s, b], "policy"), net(o, ep.op_obs[s, b], "value")
            la, le, lo = ref_policy_losses(lp, q, ep.actions[s, b].tolist(),
                                           ep.rewards[s, b], olp, oq,
                                           ep.op_actions[s, b].tolist(), ep.op_rewards[s, b],
                                           hp)
            total_agent = total_agent + la + hp["beta"] * le
            total_op = total_op + lo
        g_agent = torch.autograd.grad(total_agent / batch, [leaf[k] for k in keys],
                                      allow_unused=True, retain_graph=True)
        g_op = torch.autograd.grad(total_op / batch, [leaf[k] for k in keys], allow_unused=True)
        grads = [(torch.zeros_like(leaf[k]) if a is None else a)
                 + hp["weight"] * (torch.zeros_like(leaf[k]) if c is None else c)
                 for k, a, c in zip(keys, g_agent, g_op, strict=True)]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        if hp["clip"] and norm >= hp["clip"]:
            grads = [g / norm * hp["clip"] for g in grads]
        new = {}
        for k, g in zip(keys, grads, strict=True):
            lr = hp["lr_actor_value"] if k.startswith("value/") else hp["lr_actor"]
            new[k], _, _ = ref_adam(params[k][s], g, lr, 1, 0.0, 0.0)
        # critic (agent_qvalue_loss, mode "mean"), on the params after the actor step
        vleaf = {k: new[k].clone().requires_grad_(True) for k in keys if k.startswith("value/")}
        tgt = {k: target[k][s] for k in keys}
        loss = 0.0
        for b in range(batch):
            obs, acts, rews = ep.obs[s, b], ep.actions[s, b].tolist(), ep.rewards[s, b]
            qs = net(vleaf, obs[:-1], "value")
            tq, tlp = net(tgt, obs, "value"), net(tgt, obs, "policy")
            n = len(acts)
            bars = [tq[t, acts[t]] for t in range(n)] + [(tlp[n].exp() * tq[n]).sum()]
            loss = loss + sum(huber(qs[t, acts[t]] - (rews[t] + GAMMA * bars[t + 1]).detach())
                              for t in range(n)) / n
        vkeys = list(vleaf)
        vgrads = torch.autograd.grad(loss / batch, [vleaf[k] for k in vkeys])
        for k, g in zip(vkeys, vgrads, strict=True):
            new[k], _, _ = ref_adam(new[k], g, hp["lr_critic"], 1, 0.0, 0.0)
        out[s] = {k: v.detach() for k, v in new.items()}
    return {k: torch.stack([out[s][k] for s in range(n_seeds)]) for k in keys}


CASES = {
    "ipd": ("ipd", dict(batch_size=5, rollout_len=7, buffer_capacity=3, buffer_every=1,
                        clip_grad_norm=0.05, entropy_beta=0.1, softmax_temp=0.7, init="normal",
                        init_scale=0.5)),
    "coin": (CoinGame(grid_size=3, max_cycles=8),
             dict(policy="loqa-gru", hidden_size=5, critic_hidden_size=4, batch_size=3,
                  rollout_len=6, buffer_capacity=2, buffer_every=1, clip_grad_norm=1.0,
                  entropy_beta=0.1, epsilon=0.1, lr_actor=0.01, lr_critic=0.02)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_update_matches_the_reference_float64(case):
    """Two updates (the buffer holds two past selves, so opponents differ per episode):
    the second update's params from `LOQA.learn` equal the reference's to 1e-10."""
    game, options = CASES[case]
    game = get_game(game) if isinstance(game, str) else game
    agent = LOQA(**options)
    ctx = ctx_for(agent, game)
    params = agent.init_params(2, ctx.generator, dtype=torch.float64, game=game)
    state = agent.init_state(params)
    params, state = agent.update(params, params, state, ctx)  # step 0: pushes, trains
    opponent, buffer = agent.opponents(params, params, state, ctx)
    assert next(iter(buffer.values())).shape[1] == 2
    ep = play_episodes(game, agent.modules(game)[0], (params["policy"],
                       {k.split("/", 1)[1]: v for k, v in opponent.items()
                        if k.startswith("policy/")}),
                       agent.batch_size, agent.rollout_len, 0, agent.epsilon, ctx.generator)
    fresh = agent.init_state(params)  # Adam at its first step, target = params
    new, new_state = agent.learn(params, fresh, ep, opponent, ctx)
    flat = {f"{part}/{k}": v for part in ("policy", "value") for k, v in params[part].items()}
    hp = {"gamma": GAMMA, "lam": agent.dice_discount, "temp": agent.softmax_temp,
          "beta": agent.entropy_beta, "weight": agent.shaping_weight, "clip": agent.clip_grad_norm,
          "lr_actor": agent.lr_actor, "lr_critic": agent.lr_critic,
          "lr_actor_value": agent.lr_actor if agent.lr_actor_value is None
          else agent.lr_actor_value}
    ref = ref_update(agent, game, flat, fresh["target"], ep, opponent, hp)
    for key, want in ref.items():
        part, name = key.split("/", 1)
        moved = (want - flat[key]).abs().max()
        assert (new[part][name] - want).abs().max() <= 1e-10, key
        assert moved > 0 or part == "value", key  # the step did something
    ema = agent.target_ema
    for key, v in new_state["target"].items():
        part, name = key.split("/", 1)
        want = ema * flat[key] + (1 - ema) * ref[key]
        assert torch.allclose(v, want, atol=1e-12, rtol=0)


def test_presets_are_the_papers_settings():
    coin = LOQA(**LOQA_COIN)
    assert (coin.batch_size, coin.rollout_len, coin.hidden_size, coin.lr_actor,
            coin.lr_critic, coin.entropy_beta, coin.buffer_capacity, coin.buffer_every,
            coin.clip_grad_norm, coin.dice_discount) == (512, 50, 128, 1e-3, 1e-2, 0.1, 10000, 10,
                                                    1.0, 0.9)
    ipd = LOQA(**LOQA_IPD)
    assert (ipd.batch_size, ipd.epsilon, ipd.buffer_capacity, ipd.entropy_beta) == (
        2048, 0.2, 0, 0.0)
    coin.check_game(CoinGame(grid_size=3, max_cycles=50))


@pytest.mark.parametrize("bad", [
    {"lr_actor": -1.0}, {"softmax_temp": 0.0}, {"dice_discount": 1.5}, {"epsilon": 2.0},
    {"buffer_capacity": -1}, {"buffer_every": 0}, {"self_play": "yes"},
    {"critic_hidden_size": 0}, {"target_ema": "0.9"}, {"clip_grad_norm": 0.0},
    {"clip_grad_norm": -1.0},
])
def test_bad_settings_are_refused_by_name(bad):
    name = next(iter(bad))
    with pytest.raises((ValueError, TypeError), match=name):
        LOQA(**bad)


def test_bad_games_and_opponents_are_refused():
    with pytest.raises(ValueError, match="epsilon"):
        LOQA(policy="gru", epsilon=0.2).check_game(get_game("ipd"))
    with pytest.raises(ValueError, match="rollout_len"):
        LOQA(**LOQA_COIN).check_game(CoinGame(grid_size=3, max_cycles=20))
    agent = LOQA(self_play=False, batch_size=4, rollout_len=3)
    game = get_game("ipd")
    ctx = Context(game, GAMMA, 0, torch.Generator().manual_seed(0), torch.device("cpu"),
                  make_agent("alld"))
    params = agent.init_params(1, game=game)
    with pytest.raises(ValueError, match="self_play=False"):
        agent.update(params, torch.zeros(1, 5), agent.init_state(params), ctx)
    other = LOQA(critic_hidden_size=8)
    ctx = Context(game, GAMMA, 0, torch.Generator().manual_seed(0), torch.device("cpu"), other)
    with pytest.raises(ValueError, match="same networks"):
        agent.update(params, other.init_params(1, game=game), agent.init_state(params), ctx)
    same = LOQA(batch_size=4, rollout_len=3)
    ctx = Context(game, GAMMA, 0, torch.Generator().manual_seed(0), torch.device("cpu"), same)
    theirs = same.init_params(1, game=game)
    new, state = agent.update(params, theirs, agent.init_state(params), ctx)
    assert not torch.equal(new["policy"]["logits"], params["policy"]["logits"])


def test_buffer_keeps_the_newest_past_selves():
    agent = LOQA(batch_size=4, rollout_len=3, buffer_capacity=2, buffer_every=2)
    game = get_game("ipd")
    ctx = ctx_for(agent, game)
    params = agent.init_params(3, ctx.generator, game=game)
    state = agent.init_state(params)
    history = []
    for _ in range(6):
        history.append(params["policy"]["logits"].clone())
        params, state = agent.update(params, params, state, ctx)
    stored = state["buffer"]["policy/logits"]  # pushed at steps 0, 2, 4; capacity 2
    assert stored.shape == (3, 2, 5)
    assert torch.equal(stored[:, 0], history[2]) and torch.equal(stored[:, 1], history[4])


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("game", ["ipd", CoinGame(grid_size=3, max_cycles=8)])
def test_interrupted_run_resumes_to_the_same_numbers(tmp_path, monkeypatch, game):
    """The buffer of past selves, Adam states and target params are checkpointed: a run cut
    after update 7 and resumed from its checkpoint at update 5 repeats the uninterrupted
    run exactly (metrics and final params)."""
    coin = isinstance(game, CoinGame)
    options = dict(batch_size=4, rollout_len=5, buffer_capacity=3, buffer_every=2,
                   entropy_beta=0.1, clip_grad_norm=1.0, lr_actor=0.05)
    if coin:
        options.update(policy="loqa-gru", hidden_size=6, critic_hidden_size=5, epsilon=0.0)

    def run(**kw):
        return train(game, [LOQA(**options), LOQA(**options)], n_seeds=2, n_updates=10,
                     gamma=GAMMA, seed=5, **kw)

    ref = run(out_dir=tmp_path / "ref")
    original_log = RunDirectory.log

    def log_then_die(self, update, metrics):
        original_log(self, update, metrics)
        if update == 7:
            raise Interrupt

    monkeypatch.setattr(RunDirectory, "log", log_then_die)
    with pytest.raises(Interrupt):
        run(out_dir=tmp_path / "cut", checkpoint_every=5)
    monkeypatch.setattr(RunDirectory, "log", original_log)
    resumed = run(out_dir=tmp_path / "cut", checkpoint_every=5, resume=True)
    for name, values in ref.metrics.items():
        np.testing.assert_array_equal(resumed.metrics[name], values, err_msg=name)
    for mine, theirs in zip(resumed.final_params, ref.final_params, strict=True):
        for part in ("policy", "value"):
            for key, v in theirs[part].items():
                assert torch.equal(mine[part][key], v), (part, key)


IPD_CI = {**LOQA_IPD, "batch_size": 64, "rollout_len": 50, "lr_critic": 0.05,
          "target_ema": 0.9}
"""LOQA_IPD with 64 episodes per update and a faster critic (Adam 0.05, target EMA 0.9)."""


@functools.cache
def _warm_critic(updates: int = 150):
    """8 seeds on the IPD (gamma 0.9) after ``updates`` updates with the actor frozen (the
    critic learns the values of the uniform policy first): ``(params, state, ctx)``."""
    game = get_game("ipd")
    warm = LOQA(**{**IPD_CI, "lr_actor": 0.0, "lr_actor_value": 0.0})
    ctx = Context(game, 0.9, 0, torch.Generator().manual_seed(0), torch.device("cpu"), warm)
    params = warm.init_params(8, ctx.generator, game=game)
    state = warm.init_state(params)
    for _ in range(updates):
        params, state = warm.update(params, params, state, ctx)
    return params, state, ctx


def _shaped_and_plain(updates: int = 150):
    """From `_warm_critic`, ``updates`` more updates with the shaping term (weight 2) and
    without it (weight 0); the memory-one P(C) per state ``[8, 5]`` of each."""
    options = IPD_CI
    params, state, ctx = _warm_critic()
    out = []
    for weight in (2.0, 0.0):
        learner = LOQA(**{**options, "lr_actor": 0.01, "shaping_weight": weight})
        ctx.generator.manual_seed(1)
        p, st = params, state
        for _ in range(updates):
            p, st = learner.update(p, p, st, ctx)
        out.append(learner.probs(p))
    return out


def test_ipd_shaping_turns_the_policy_towards_reciprocity():
    """With the critic trained first, LOQA's shaping term turns the uniform policy towards
    reciprocity: the gap ``(P(C|CC) - P(C|CD)) + (P(C|DC) - P(C|DD))`` (cooperating more
    after the other cooperated than after it defected) exceeds 0.04 in all 8 seeds (measured
    0.304 to 0.339; 0.056 to 0.113 while the actor step moved the critic at ``lr_actor``
    too), while the same steps without the shaping term leave it negative in all 8
    (measured -0.053 to -0.034). Full reciprocity: the next test."""
    gaps = []
    for probs in _shaped_and_plain():
        _, cc, cd, dc, dd = probs.unbind(-1)
        gaps.append((cc - cd) + (dc - dd))
    assert bool((gaps[0] > 0.04).all()), gaps
    assert bool((gaps[1] < 0).all()), gaps


def test_ipd_loqa_reciprocates_in_self_play_and_is_not_exploited():
    """Mutual cooperation is -1 per round, mutual defection -2, being exploited -3. From
    `_warm_critic`, 900 LOQA updates (Adam 0.03, shaping weight 3) in self-play: the
    trained policy played against itself gets more than -1.5 per round (exact discounted
    values, gamma 0.9, no exploration) and against always-defect more than -2.35, in at
    least 6 of 8 seeds (measured: all 8, -1.43 to -1.06 and -2.22 to -2.13; P(C) after CC
    0.81 to 0.99, after CD 0.09 to 0.16; about 33 CPU seconds). The paper's own setting
    (gamma 0.96, critic from scratch, weight 1): docs/papers/loqa.md."""
    params, state, ctx = _warm_critic()
    learner = LOQA(**{**IPD_CI, "lr_actor": 0.03, "shaping_weight": 3.0})
    ctx.generator.manual_seed(2)
    for _ in range(900):
        params, state = learner.update(params, params, state, ctx)
    logits = params["policy"]["logits"].double()
    game, gamma = get_game("ipd"), 0.9
    together = (1 - gamma) * discounted_values(game, logits, logits, gamma)[0]
    alld = torch.full_like(logits, -30.0)
    against_alld = (1 - gamma) * discounted_values(game, logits, alld, gamma)[0]
    reciprocal = (together > -1.5) & (against_alld > -2.35)
    assert int(reciprocal.sum()) >= 6, (together, against_alld)

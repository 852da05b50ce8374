"""PPO, Advantage Alignment and PAA: one update against an independent reference written from
the authors' code (jduquevan/advantage-alignment ``train.py``: ``compute_gae_advantages``,
``actor_losses``, ``aa_terms``, ``critic_losses`` in its ``'gae'`` mode, ``train_step``), in
float64, with per-seed ``torch.optim.Adam`` and Python loops over rounds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lola_games.agents.advantage_alignment import (
    AdvantageAlignment,
    ProximalAdvantageAlignment,
)
from lola_games.agents.base import Context
from lola_games.agents.ppo import PPO
from lola_games.agents.published import AA_COIN, AA_IPD
from lola_games.agents.registry import make_agent
from lola_games.games.registry import get_game
from lola_games.rollouts.games import sample_game_rollout
from lola_games.runner.training import train
from lola_games.values.exact import discounted_values

GAMMA = 0.96
TOL = 1e-10


def reference_gae(r, v, gamma, lam):
    """The code's ``compute_gae_advantages`` for one episode: ``[T]`` -> ``[T - 1]``."""
    out = [0.0] * (len(r) - 1)
    running = 0.0
    for t in reversed(range(len(r) - 1)):
        running = r[t] + gamma * v[t + 1] - v[t] + gamma * lam * running
        out[t] = running
    return torch.stack(out) if isinstance(out[0], torch.Tensor) else torch.tensor(out)


def reference_advantages(kind, hp, critics, states, rewards):
    """``(raw own GAE, advantages the policy learns from)`` ``[B, T - 1]`` of player 0 with
    tabular ``critics[i] [5]``."""
    batch, rounds = states.shape[:2]
    adv = {}
    for i, critic in enumerate(critics):
        rows = []
        for b in range(batch):
            v = [critic[states[b, t, i]].detach() for t in range(rounds)]
            rows.append(reference_gae([rewards[b, t, i] for t in range(rounds)], v, GAMMA,
                                      hp["gae_lambda"]))
        adv[i] = torch.stack(rows)
    a1, a2 = adv[0], adv[1]
    if kind == "ppo":
        return adv[0], (a1 - a1.mean()) / (a1.std() + 1e-8)
    both = torch.cat([a1.flatten(), a2.flatten()])
    a1 = (a1 - both.mean()) / (both.std() + 1e-8)
    a2 = (a2 - both.mean()) / (both.std() + 1e-8)
    aligned = a1.clone()
    for b in range(batch):
        for t in range(1, rounds - 1):
            aligned[b, t] = a1[b, t] + hp["aa_weight"] * a1[b, :t].sum() / t * a2[b, t]
    return adv[0], aligned


def log_pi(th, s, a):
    """Log-probability of action ``a`` in state ``s`` of logits ``th`` of P(action 0)."""
    return F.logsigmoid(th[s]) if a == 0 else F.logsigmoid(-th[s])


def reference_actor_loss(kind, hp, theta, adv, old, states, actions, episodes):
    """The code's actor loss (``actor_losses``, then ``- entropy_beta * entropy``) of the
    ``episodes`` of a minibatch."""
    rounds = states.shape[1]
    terms, entropies = [], []
    for b in episodes:
        for t in range(rounds):
            p = torch.sigmoid(theta[states[b, t, 0]])
            entropies.append(-(p * torch.log(p) + (1 - p) * torch.log(1 - p)))
            if t == rounds - 1:
                continue
            lp = log_pi(theta, states[b, t, 0], actions[b, t, 0])
            if kind in ("ppo", "paa"):
                ratio = torch.exp(torch.clamp(lp - old[b, t], -10, 10))
                eps = hp["clip_range"]
                terms.append(torch.min(adv[b, t] * torch.clamp(ratio, 1 - eps, 1 + eps),
                                       adv[b, t] * ratio))
            else:
                terms.append(adv[b, t] * lp)
    return -torch.stack(terms).mean() - hp["entropy_beta"] * torch.stack(entropies).mean()


def reference_update(kind, hp, theta, value, other_value, states, actions, rewards, perms):
    """One update of one seed of player 0: ``theta [5]`` logits of P(action 0), ``value [5]``
    and ``other_value [5]`` tabular critics; ``states, actions, rewards [B, T, 2]``;
    ``perms``: the episode order of each pass (minibatches are its consecutive slices)."""
    theta = torch.nn.Parameter(theta.clone())
    value = torch.nn.Parameter(value.clone())
    batch, rounds = states.shape[:2]
    raw_own, adv = reference_advantages(kind, hp, (value, other_value), states, rewards)
    old = torch.tensor([[log_pi(theta, states[b, t, 0], actions[b, t, 0]).item()
                         for t in range(rounds)] for b in range(batch)], dtype=torch.float64)
    opt = torch.optim.Adam([theta], lr=hp["lr_actor"])
    clip = hp.get("clip_grad_norm")
    for epoch in range(hp["epochs"]):
        if epoch >= 1 and hp.get("kl_threshold") is not None:
            with torch.no_grad():
                now = torch.tensor([[log_pi(theta, states[b, t, 0], actions[b, t, 0]).item()
                                     for t in range(rounds)] for b in range(batch)],
                                   dtype=torch.float64)
            if (old - now).mean() > hp["kl_threshold"]:
                break
        for episodes in torch.tensor_split(perms[epoch], hp.get("minibatches", 1)):
            loss = reference_actor_loss(kind, hp, theta, adv, old, states, actions,
                                        episodes.tolist())
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_([theta], clip)
            opt.step()
    critic_opt = torch.optim.Adam([value], lr=hp["lr_critic"])
    current = torch.stack([torch.stack([value[states[b, t, 0]] for t in range(rounds - 1)])
                           for b in range(batch)])
    if hp.get("critic_loss") == "td":  # the code's 'td-1': the target critic starts as V
        following = torch.stack([torch.stack([value[states[b, t + 1, 0]].detach()
                                              for t in range(rounds - 1)])
                                 for b in range(batch)])
        critic_loss = F.huber_loss(current, rewards[:, :-1, 0] + GAMMA * following)
    else:
        critic_loss = F.huber_loss(current, (raw_own + current.detach()).detach())
    critic_opt.zero_grad()
    critic_loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_([value], clip)
    critic_opt.step()
    return theta.detach(), value.detach()


HP = {"batch_size": 6, "rollout_len": 7, "lr_actor": 0.3, "lr_critic": 0.5, "epochs": 3,
      "gae_lambda": 0.9, "entropy_beta": 0.05}
KL = 0.02
CASES = {
    "ppo": (PPO, {**HP, "clip_range": 0.1}),
    "aa": (AdvantageAlignment, {**HP, "aa_weight": 1.5}),
    "paa": (ProximalAdvantageAlignment, {**HP, "aa_weight": 1.5, "clip_range": 0.1}),
    "ppo-minibatches": (PPO, {**HP, "clip_range": 0.1, "minibatches": 2,
                              "clip_grad_norm": 0.05}),
    "paa-clip-norm": (ProximalAdvantageAlignment, {**HP, "aa_weight": 1.5, "clip_range": 0.1,
                                                    "clip_grad_norm": 0.05}),
    "aa-td": (AdvantageAlignment, {**HP, "aa_weight": 1.5, "critic_loss": "td", "tau": 0.3}),
    "paa-kl": (ProximalAdvantageAlignment, {**HP, "aa_weight": 1.5, "clip_range": 0.1,
                                             "epochs": 4, "kl_threshold": KL}),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_one_update_matches_the_reference(kind):
    cls, hp = CASES[kind]
    agent = cls(**hp)
    game = get_game("ipd")
    gen = torch.Generator().manual_seed(3)
    n_seeds = 3
    own = agent.init_params(n_seeds, gen, dtype=torch.float64, game=game)
    other = agent.init_params(n_seeds, gen, dtype=torch.float64, game=game, player=1)
    own["value"] = {"values": torch.randn(n_seeds, 5, generator=gen, dtype=torch.float64) * 3}
    other["value"] = {"values": torch.randn(n_seeds, 5, generator=gen, dtype=torch.float64)}
    roll = sample_game_rollout(game, [agent.policy, agent.policy],
                               [own["policy"], other["policy"]], 6, 7, gen)
    ctx = Context(game, GAMMA, 0, gen, other=agent)
    before = gen.get_state()
    new, state = agent.learn(own, other, agent.init_state(own), ctx, roll)
    minibatches = hp.get("minibatches", 1)
    if "kl_threshold" in hp:  # one Adam state per seed; the seeds stop at different passes
        steps = [seed_state.step for seed_state in state["actor"]]
        assert len(set(steps)) > 1 and min(steps) >= 1, steps
    else:
        assert state["actor"].step == hp["epochs"] * minibatches
    assert state["critic"].step == 1
    replay = torch.Generator().set_state(before)
    perms = [torch.randperm(6, generator=replay) if minibatches > 1 else torch.arange(6)
             for _ in range(hp["epochs"])]
    kind = kind.split("-")[0]
    for s in range(n_seeds):
        theta, value = reference_update(kind, {**hp}, own["policy"]["logits"][s],
                                        own["value"]["values"][s], other["value"]["values"][s],
                                        roll.states[s], roll.actions[s],
                                        roll.rewards[s].double(), perms)
        assert (new["policy"]["logits"][s] - theta).abs().max() < TOL
        assert (new["value"]["values"][s] - value).abs().max() < TOL
        if "tau" in hp:
            follow = hp["tau"] * value + (1 - hp["tau"]) * own["value"]["values"][s]
            assert (state["target"]["values"][s] - follow).abs().max() < TOL
    if kind in ("ppo", "paa"):  # the ratio's clip is reached: a wider one changes the update
        wider = cls(**{**hp, "clip_range": 0.9})
        other_new, _ = wider.learn(own, other, wider.init_state(own), ctx, roll)
        assert not torch.allclose(other_new["policy"]["logits"], new["policy"]["logits"])


def test_alignment_term_changes_the_update_and_own_critic_option():
    game = get_game("ipd")
    gen = torch.Generator().manual_seed(0)
    agents = [AdvantageAlignment(**HP, aa_weight=w, opponent_critic=c)
              for w, c in ((0.0, "opponent"), (2.0, "opponent"), (2.0, "own"))]
    own = agents[0].init_params(2, gen, dtype=torch.float64, game=game)
    other = agents[0].init_params(2, gen, dtype=torch.float64, game=game, player=1)
    own["value"] = {"values": torch.randn(2, 5, generator=gen, dtype=torch.float64)}
    roll = sample_game_rollout(game, [agents[0].policy] * 2, [own["policy"], other["policy"]],
                               6, 7, gen)
    out = [a.learn(own, other, a.init_state(own), Context(game, GAMMA, 0, gen, other=a),
                   roll)[0]["policy"]["logits"] for a in agents]
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[1], out[2])


def test_player_one_and_fixed_opponent():
    """Player 1 learns from its own side; an opponent without a critic (always-defect) gives
    its advantages through the agent's critic."""
    game = get_game("ipd")
    agent = make_agent("advantage-alignment", batch_size=8, rollout_len=5)
    alld = make_agent("alld")
    gen = torch.Generator().manual_seed(1)
    own = agent.init_params(2, gen, game=game, player=1)
    other = alld.init_params(2, gen)
    new, _ = agent.update(own, other, agent.init_state(own),
                          Context(game, GAMMA, 1, gen, other=alld))
    assert torch.isfinite(new["policy"]["logits"]).all()
    assert not torch.equal(new["policy"]["logits"], own["policy"]["logits"])


@pytest.mark.parametrize("kwargs, match", [
    ({"clip_range": 1.5}, "clip_range"),
    ({"gae_lambda": 1.2}, "gae_lambda"),
    ({"epochs": 0}, "epochs"),
    ({"minibatches": 100, "batch_size": 8}, "minibatches"),
    ({"critic_loss": "huber"}, "critic_loss"),
    ({"tau": 0.0}, "tau"),
    ({"kl_threshold": -0.1}, "kl_threshold"),
    ({"clip_grad_norm": 0.0}, "clip_grad_norm"),
    ({"rollout_len": 1}, "rollout_len"),
    ({"lr_actor": -1.0}, "lr_actor"),
])
def test_bad_ppo_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PPO(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"aa_weight": -1.0}, "aa_weight"),
    ({"aa_form": "other"}, "aa_form"),
    ({"opponent_critic": "theirs"}, "opponent_critic"),
])
def test_bad_aa_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdvantageAlignment(**kwargs)
    with pytest.raises(TypeError, match="clip_range"):
        AdvantageAlignment(clip_range=0.2)


# -- learning on the IPD ---------------------------------------------------------------------
IPD_CI = {"batch_size": 32, "rollout_len": 50, "lr_actor": 0.01, "lr_critic": 1.0}
"""A small IPD setting (tabular policies and critics) that runs in seconds."""


def self_play(agent, n_seeds, n_updates, seed):
    """Two copies of ``agent`` trained against each other; both players' final params."""
    game = get_game("ipd")
    gen = torch.Generator().manual_seed(seed)
    params = [agent.init_params(n_seeds, gen, game=game, player=i) for i in range(2)]
    states = [agent.init_state(p) for p in params]
    for _ in range(n_updates):
        out = [agent.update(params[i], params[1 - i], states[i],
                            Context(game, GAMMA, i, gen, other=agent)) for i in range(2)]
        params, states = [o[0] for o in out], [o[1] for o in out]
    return params


def per_round(logits_0, logits_1):
    """Exact normalised discounted values ``(1 - gamma) V`` ``[S]`` of both players."""
    v0, v1 = discounted_values(get_game("ipd"), logits_0, logits_1, GAMMA)
    return (1 - GAMMA) * v0, (1 - GAMMA) * v1


def test_advantage_alignment_reciprocates_in_self_play_and_is_not_exploited():
    """Mutual cooperation is -1 per round, mutual defection -2, being exploited -3: AA in
    self-play ends nearer cooperation than defection and, played against always-defect,
    loses little more than mutual defection, in most of 8 seeds."""
    agent = AdvantageAlignment(**IPD_CI, aa_weight=3.0)
    params = self_play(agent, 8, 400, seed=0)
    logits = [agent.logits(p).double() for p in params]
    together, _ = per_round(logits[0], logits[1])
    against_alld, _ = per_round(logits[0], torch.full_like(logits[0], -30.0))
    assert (together > -1.5).sum() >= 6, together
    assert (against_alld > -2.35).sum() >= 6, against_alld


def test_ppo_self_play_ends_near_mutual_defection():
    agent = PPO(**IPD_CI)
    params = self_play(agent, 8, 300, seed=0)
    together, _ = per_round(agent.logits(params[0]).double(), agent.logits(params[1]).double())
    assert (together < -1.9).sum() >= 7, together
    assert (agent.probs(params[0])[:, 0] < 0.1).sum() >= 7


@pytest.mark.parametrize("name, extra", [
    ("ppo", {}), ("advantage-alignment", {}), ("proximal-advantage-alignment", {}),
    ("ppo", {"kl_threshold": 0.001, "epochs": 3, "lr_actor": 0.3}),
    ("advantage-alignment", {"critic_loss": "td", "tau": 0.1}),
])
def test_runner_resume_gives_the_same_numbers(tmp_path, name, extra):
    """Optimizer states live in the agent state (one per seed with ``kl_threshold``): a
    resumed run equals an uninterrupted one."""
    agent = make_agent(name, batch_size=8, rollout_len=6, minibatches=2, **extra)
    full = train("ipd", (agent, agent), n_seeds=2, n_updates=4, seed=0, out_dir=tmp_path / "a",
                 checkpoint_every=1)
    train("ipd", (agent, agent), n_seeds=2, n_updates=2, seed=0, out_dir=tmp_path / "b",
          checkpoint_every=1)
    resumed = train("ipd", (agent, agent), n_seeds=2, n_updates=4, seed=0,
                    out_dir=tmp_path / "b", resume=True, checkpoint_every=1)
    assert (full.value_0 == resumed.value_0).all()
    for key in ("policy", "value"):
        for a, b in zip(full.final_params[0][key].values(),
                        resumed.final_params[0][key].values(), strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("policy", ["mlp", "gru"])
def test_neural_ipd_policies_and_ppo_against_aa(policy):
    ppo = PPO(policy=policy, hidden_size=8, batch_size=8, rollout_len=6)
    aa = AdvantageAlignment(policy=policy, hidden_size=8, batch_size=8, rollout_len=6)
    run = train("ipd", (aa, ppo), n_seeds=2, n_updates=2, seed=0)
    assert np.isfinite(run.value_0).all() and np.isfinite(run.value_1).all()


def test_coin_game_policies_run_through_the_runner():
    aa = ProximalAdvantageAlignment(policy="coin-gru", hidden_size=8, batch_size=4,
                                    rollout_len=5, clip_grad_norm=1.0)
    run = train("coin_game", (aa, aa), n_seeds=2, n_updates=2, seed=0)
    assert np.isfinite(run.value_0).all()
    with pytest.raises(ValueError, match="rollout_len"):
        train("coin_game", (PPO(policy="coin-gru", rollout_len=1000),) * 2, n_seeds=1,
              n_updates=1)


def test_published_settings_make_agents():
    for setting in (AA_COIN, AA_IPD):
        assert AdvantageAlignment(**setting).settings.aa_weight == setting["aa_weight"]
        PPO(**{k: v for k, v in setting.items() if k != "aa_weight"})
    assert AA_COIN["batch_size"] == 512 and AA_COIN["rollout_len"] == 50

import functools

import numpy as np
import pettingzoo
import pytest
import supersuit as ss
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

from lola_games.envs import (
    ENV_IDS,
    HAS_REGISTRY,
    IteratedMatrixGameEnv,
    chicken_v0,
    imp_v0,
    ipd_v0,
    register_envs,
    stag_hunt_v0,
)
from lola_games.envs import iterated as iterated_mod
from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import get_game

MODULES = {"ipd": ipd_v0, "imp": imp_v0, "stag_hunt": stag_hunt_v0, "chicken": chicken_v0}
AGENTS = ("player_0", "player_1")

# A 3-action game (rock, paper, scissors) to exercise n != 2.
RPS = MatrixGame(
    name="rps",
    action_names=("R", "P", "S"),
    payoffs=np.stack([np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=float)] * 2),
)


# -- PettingZoo's own test suite --------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODULES))
def test_pettingzoo_api_tests(name, no_warnings):
    mod = MODULES[name]
    api_test(mod.env(), num_cycles=200)
    parallel_api_test(mod.parallel_env(), num_cycles=200)
    seed_test(mod.env, num_cycles=200)
    parallel_seed_test(mod.parallel_env, num_cycles=200)
    max_cycles_test(mod)
    render_test(mod.env)
    state_test(mod.env(), mod.parallel_env())


@pytest.mark.parametrize("game", ["ipd", RPS])
def test_pettingzoo_api_tests_with_continuation_and_generic_game(game, no_warnings):
    par = functools.partial(iterated_mod.parallel_env, game, continuation_prob=0.9)
    aec = functools.partial(iterated_mod.env, game, continuation_prob=0.9)
    api_test(aec(), num_cycles=200)
    parallel_api_test(par(), num_cycles=200)
    seed_test(aec, num_cycles=200)
    parallel_seed_test(par, num_cycles=200)
    render_test(aec)
    state_test(aec(), par())


# -- spaces, observations, rewards -------------------------------------------------------------


@pytest.mark.parametrize("game", [*GAMES, RPS])
def test_spaces_are_cached_and_shaped(game):
    env = iterated_mod.parallel_env(game)
    n = get_game(game).n_actions
    assert env.possible_agents == list(AGENTS)
    for agent in AGENTS:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.observation_space(agent).shape == (n * n + 1,)
        assert env.observation_space(agent).dtype == np.float32
        assert env.action_space(agent).n == n
    assert env.observation_space("player_0") is not env.observation_space("player_1")
    assert env.state_space.shape == (2 * (n * n + 1),)
    obs, infos = env.reset(seed=0)
    for agent in AGENTS:
        assert obs[agent].dtype == np.float32 and obs[agent].shape == (n * n + 1,)
        assert obs[agent].tolist() == [0.0] * (n * n) + [1.0]  # START
        assert infos[agent] == {"round": 0}


@pytest.mark.parametrize("game", [*GAMES, RPS])
def test_every_outcome_rewards_observations_and_state(game):
    game = get_game(game)
    n = game.n_actions
    env = iterated_mod.parallel_env(game)
    env.reset(seed=0)
    for a0 in range(n):
        for a1 in range(n):
            obs, rew, term, trunc, infos = env.step({"player_0": a0, "player_1": a1})
            assert rew == {"player_0": game.payoffs[0, a0, a1], "player_1": game.payoffs[1, a1, a0]}
            assert (rew["player_0"], rew["player_1"]) == game.rewards(a0, a1)
            # each player sees (own, other) from its own side
            assert obs["player_0"].argmax() == a0 * n + a1 and obs["player_0"].sum() == 1
            assert obs["player_1"].argmax() == a1 * n + a0 and obs["player_1"].sum() == 1
            assert np.array_equal(env.state(), np.concatenate([obs["player_0"], obs["player_1"]]))
            assert env.state_space.contains(env.state())
            assert not any(term.values()) and not any(trunc.values())
    assert infos["player_0"] == {"round": n * n}


def test_always_cooperate_in_ipd_gives_minus_one_per_step():
    env = ipd_v0.parallel_env(max_cycles=150)
    env.reset(seed=0)
    totals = np.zeros(2)
    steps = 0
    while env.agents:
        _, rew, _, _, _ = env.step({"player_0": 0, "player_1": 0})
        assert rew == {"player_0": -1.0, "player_1": -1.0}
        totals += [rew["player_0"], rew["player_1"]]
        steps += 1
    assert steps == 150 and totals.tolist() == [-150.0, -150.0]


# -- episode ends ------------------------------------------------------------------------------


@pytest.mark.parametrize("max_cycles", [1, 7, 150])
def test_truncation_after_max_cycles(max_cycles):
    env = ipd_v0.parallel_env(max_cycles=max_cycles)
    env.reset(seed=0)
    for t in range(1, max_cycles + 1):
        _, _, term, trunc, infos = env.step({"player_0": 1, "player_1": 0})
        assert trunc == dict.fromkeys(AGENTS, t == max_cycles)
        assert term == dict.fromkeys(AGENTS, False)
        assert infos["player_1"]["round"] == t
    assert env.agents == [] and env.round == max_cycles


def test_continuation_lengths_are_geometric():
    # P(length = k) = delta^(k-1) (1 - delta): mean 1 / (1 - delta), checked within 4 SE
    delta, episodes = 0.75, 3000
    env = stag_hunt_v0.parallel_env(continuation_prob=delta, max_cycles=1000)
    env.reset(seed=123)
    lengths = []
    for _ in range(episodes):
        env.reset()
        while env.agents:
            _, _, term, trunc, _ = env.step({"player_0": 0, "player_1": 1})
        assert all(term.values()) and not any(trunc.values())
        lengths.append(env.round)
    lengths = np.array(lengths)
    mean, std = 1 / (1 - delta), np.sqrt(delta) / (1 - delta)
    assert abs(lengths.mean() - mean) < 4 * std / np.sqrt(episodes)
    assert abs(np.mean(lengths == 1) - (1 - delta)) < 4 * np.sqrt(delta * (1 - delta) / episodes)


def test_truncation_wins_over_termination_on_the_last_round():
    env = ipd_v0.parallel_env(continuation_prob=0.5, max_cycles=2)
    truncated = 0
    env.reset(seed=0)
    for _ in range(200):
        env.reset()
        while env.agents:
            _, _, term, trunc, _ = env.step({"player_0": 0, "player_1": 0})
            assert not (term["player_0"] and trunc["player_0"])
        truncated += trunc["player_0"]
        assert trunc["player_0"] == (env.round == 2)
    assert 0 < truncated < 200


def _trajectory(env, seed, episodes, action_seed):
    """Everything the env returns over several episodes (one seed, then reset())."""
    rng = np.random.default_rng(action_seed)
    out = [env.reset(seed=seed)]
    for _ in range(episodes):
        if out[-1] is not None and not env.agents:
            out.append(env.reset())
        while env.agents:
            actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
            out.append(env.step(actions))
        out.append(env.state())
    return out


def _same(x, y):
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, np.ndarray):
        return x.dtype == y.dtype and np.array_equal(x, y)
    return type(x) is type(y) and x == y


def test_same_seed_same_trajectory_over_many_steps():
    make = functools.partial(chicken_v0.parallel_env, continuation_prob=0.9, max_cycles=40)
    a = _trajectory(make(), seed=7, episodes=30, action_seed=0)
    b = _trajectory(make(), seed=7, episodes=30, action_seed=0)
    assert len(a) > 200  # many steps, several episodes
    assert _same(a, b)
    # reseeding the same env instance replays it too
    env = make()
    _trajectory(env, seed=99, episodes=3, action_seed=5)
    assert _same(_trajectory(env, seed=7, episodes=30, action_seed=0), a)
    # another seed gives other episode lengths
    c = _trajectory(make(), seed=8, episodes=30, action_seed=0)
    assert not _same(a, c)


def test_unseeded_first_reset_still_runs():
    env = imp_v0.parallel_env(continuation_prob=0.5)
    env.reset()
    while env.agents:
        env.step({"player_0": 0, "player_1": 0})
    assert env.round >= 1


# -- registry and third-party users -------------------------------------------------------------


def test_pettingzoo_registry(no_warnings):
    assert HAS_REGISTRY  # pettingzoo >= 1.27 has pettingzoo.make
    for name in GAMES:
        par = pettingzoo.make("parallel", f"lola_games/{name}-v0", max_cycles=5)
        assert isinstance(par, IteratedMatrixGameEnv)
        assert par.game is GAMES[name] and par.max_cycles == 5
        aec = pettingzoo.make("aec", f"lola_games/{name}_v0", continuation_prob=0.5)
        assert isinstance(aec, pettingzoo.AECEnv)
        assert aec.unwrapped.game is GAMES[name] and aec.unwrapped.continuation_prob == 0.5
    generic = pettingzoo.make("parallel", "lola_games/iterated_matrix_game-v0", game=RPS)
    assert generic.game is RPS and generic.action_space("player_0").n == 3
    assert set(ENV_IDS) <= set(pettingzoo.parallel_registry) & set(pettingzoo.aec_registry)
    assert register_envs()  # idempotent: no "Overriding environment" warning


def test_supersuit_vector_env_runs_the_parallel_env():
    env = ss.pettingzoo_env_to_vec_env_v1(ipd_v0.parallel_env(max_cycles=5))
    assert env.num_envs == 2
    obs, infos = env.reset(seed=0)
    assert obs.shape == (2, 5) and obs.dtype == np.float32 and len(infos) == 2
    assert obs[:, 4].tolist() == [1.0, 1.0]
    rng = np.random.default_rng(0)
    ends = 0
    for t in range(1, 13):
        actions = rng.integers(2, size=2)
        obs, rew, term, trunc, infos = env.step(actions)
        assert obs.shape == (2, 5) and rew.shape == (2,) and term.shape == trunc.shape == (2,)
        expected = get_game("ipd").rewards(*actions.tolist())
        assert rew.tolist() == list(expected)
        if t % 5 == 0:  # automatically reset after max_cycles
            ends += 1
            assert trunc.tolist() == [1, 1] and obs[:, 4].tolist() == [1.0, 1.0]
            final = infos[0]["terminal_observation"]
            assert final.argmax() == 2 * actions[0] + actions[1]
        else:
            assert trunc.tolist() == [0, 0]
            assert obs[0].argmax() == 2 * actions[0] + actions[1]
            assert obs[1].argmax() == 2 * actions[1] + actions[0]
    assert ends == 2
    stacked = ss.concat_vec_envs_v1(env, 3, num_cpus=0, base_class="gymnasium")
    obs, _ = stacked.reset(seed=0)
    assert obs.shape == (6, 5)
    obs, rew, *_ = stacked.step(np.zeros(6, dtype=np.int64))
    assert obs.shape == (6, 5) and rew.tolist() == [-1.0] * 6


# -- rendering ---------------------------------------------------------------------------------


def test_render_ansi_and_human(capsys):
    env = chicken_v0.parallel_env(render_mode="ansi", max_cycles=10)
    env.reset(seed=0)
    assert env.render() == "chicken round 0/10: start | totals 0, 0"
    env.step({"player_0": 0, "player_1": 1})
    env.step({"player_0": 1, "player_1": 1})
    assert env.render() == (
        "chicken round 2/10: player_0 T, player_1 T | rewards -10, -10 | totals -11, -9"
    )
    human = chicken_v0.parallel_env(render_mode="human")
    human.reset(seed=0)
    human.step({"player_0": 1, "player_1": 0})  # human mode prints every step
    assert human.render() is None
    printed = capsys.readouterr().out.splitlines()
    line = "chicken round 1/150: player_0 T, player_1 S | rewards 1, -1 | totals 1, -1"
    assert printed == [line] * 2


# -- bad input: clear errors, nothing changed ---------------------------------------------------


def _snapshot(env):
    return (
        list(env.agents),
        env.round,
        env._outcome,
        env._totals,
        env._np_random.bit_generator.state,
        env.state().tolist(),
    )


@pytest.mark.parametrize(
    "actions, error, match",
    [
        ({"player_0": 2, "player_1": 0}, ValueError, "player_0 out of range: 2 not in"),
        ({"player_0": 0, "player_1": -1}, ValueError, "player_1 out of range: -1"),
        ({"player_0": np.int64(5), "player_1": 0}, ValueError, "out of range: 5"),
        ({"player_0": 0.0, "player_1": 0}, TypeError, "must be an integer.*float"),
        ({"player_0": None, "player_1": 0}, TypeError, "action of player_0 must be an integer"),
        ({"player_0": True, "player_1": 0}, TypeError, "must be an integer"),
        ({"player_0": np.array([1]), "player_1": 0}, TypeError, "must be an integer"),
        ({"player_0": 0, "player_1": 0, "player_2": 0}, ValueError, r"unknown agent.*player_2"),
        ({"player_0": 0}, ValueError, r"missing action.*player_1"),
        ({}, ValueError, "missing action"),
        ([0, 1], TypeError, "actions must be a dict"),
    ],
)
def test_bad_step_raises_and_changes_nothing(actions, error, match):
    env = ipd_v0.parallel_env(continuation_prob=0.9)
    env.reset(seed=3)
    env.step({"player_0": 1, "player_1": 0})
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.step(actions)
    assert _snapshot(env) == before
    env.step({"player_0": 0, "player_1": 0})  # still usable
    assert env.round == 2


def test_step_before_reset_and_after_end():
    env = ipd_v0.parallel_env(max_cycles=1)
    with pytest.raises(ValueError, match="before reset"):
        env.step({"player_0": 0, "player_1": 0})
    with pytest.raises(ValueError, match="before reset"):
        env.state()
    env.reset(seed=0)
    env.step({"player_0": 0, "player_1": 1})
    before = _snapshot(env)
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step({"player_0": 0, "player_1": 0})
    assert _snapshot(env) == before


def test_numpy_and_integer_like_actions_are_accepted():
    env = ipd_v0.parallel_env()
    env.reset(seed=0)
    _, rew, *_ = env.step({"player_0": np.int32(1), "player_1": np.array(0)})
    assert rew == {"player_0": 0.0, "player_1": -3.0}


def _aec_snapshot(env):
    return (
        env.agent_selection,
        list(env.agents),
        dict(env.env._actions),
        env.unwrapped.round,
        env.unwrapped.state().tolist(),
    )


@pytest.mark.parametrize("bad_action", [2, -1, 1.0, None])
@pytest.mark.parametrize("bad_agent", AGENTS)
def test_aec_bad_action_raises_and_changes_nothing(bad_action, bad_agent):
    env = ipd_v0.env()
    env.reset(seed=0)
    if bad_agent == "player_1":
        env.step(1)  # player_0 moves first; its action waits for player_1's
    assert env.agent_selection == bad_agent
    before = _aec_snapshot(env)
    with pytest.raises((ValueError, TypeError), match=f"action of {bad_agent}"):
        env.step(bad_action)
    assert _aec_snapshot(env) == before
    if bad_agent == "player_0":
        env.step(1)
    env.step(0)
    _, reward, *_ = env.last()
    assert env.agent_selection == "player_0" and reward == 0.0  # (D, C) was played


def test_aec_step_after_end_and_action_of_a_done_agent():
    env = stag_hunt_v0.env(max_cycles=1)
    with pytest.raises(ValueError, match="before reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(0)
    env.step(1)
    assert env.truncations["player_0"]
    with pytest.raises(ValueError, match="player_0 is done: its action must be None"):
        env.step(0)
    assert env.agents == list(AGENTS)
    env.step(None)
    env.step(None)
    assert env.agents == []
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step(None)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"game": "poker"}, "unknown game 'poker'"),
        ({"game": "ipd", "max_cycles": 0}, "max_cycles must be a positive int"),
        ({"game": "ipd", "max_cycles": 2.5}, "max_cycles must be a positive int"),
        ({"game": "ipd", "max_cycles": True}, "max_cycles must be a positive int"),
        ({"game": "ipd", "continuation_prob": 0.0}, r"continuation_prob must be in \(0, 1\]"),
        ({"game": "ipd", "continuation_prob": 1.5}, r"continuation_prob must be in \(0, 1\]"),
        ({"game": "ipd", "continuation_prob": float("nan")}, "continuation_prob must be in"),
        ({"game": "ipd", "continuation_prob": "0.9"}, "continuation_prob must be a number"),
        ({"game": "ipd", "render_mode": "rgb_array"}, "render_mode must be None or one of"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IteratedMatrixGameEnv(**kwargs)


def test_bad_agent_names_and_settings():
    env = ipd_v0.parallel_env()
    with pytest.raises(ValueError, match="unknown agent 'player_2'"):
        env.observation_space("player_2")
    with pytest.raises(ValueError, match="unknown agent 'agent_0'"):
        env.action_space("agent_0")
    with pytest.raises(ValueError, match="max_cycles must be a positive int"):
        env.max_cycles = -3
    assert env.max_cycles == 150
    with pytest.raises(TypeError):
        ipd_v0.parallel_env(game="imp")  # the module fixes the game


@pytest.mark.parametrize(
    "seed, error, match",
    [(1.7, TypeError, "seed must be an int"), (True, TypeError, "seed must be an int"),
     (-1, ValueError, r"seed must be in \[0, 2\*\*64\)")],
)
def test_reset_rejects_bad_seeds(seed, error, match):
    """A float or bool seed reached gymnasium's seeding (its own error type, or seed 1)."""
    env = ipd_v0.parallel_env(continuation_prob=0.5)
    env.reset(seed=0)
    env.step({"player_0": 0, "player_1": 0})
    round_before = env.round
    with pytest.raises(error, match=match):
        env.reset(seed=seed)
    assert env.round == round_before
    with pytest.raises(TypeError, match="options must be a dict"):
        env.reset(options="fast")


@pytest.mark.parametrize("value", [True, "0.9", "abc", [0.5]])
def test_continuation_prob_type_checked(value):
    with pytest.raises(ValueError, match="continuation_prob must be a number"):
        ipd_v0.parallel_env(continuation_prob=value)

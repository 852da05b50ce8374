"""The Coin Game envs: PettingZoo compliance, the batched env step for step against the
PettingZoo env, bad input, seeding, and Monte Carlo against exact counts."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pettingzoo
import pytest
import torch
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

from lola_games.envs import BatchedCoinGame, batched_coin, coin_game_v0
from lola_games.envs.coin_boards import coin_observations
from lola_games.envs.coin_game_v0 import CoinGameEnv
from lola_games.games.coin import CoinGame, random_play_rates

AGENTS = ("player_0", "player_1")


# -- PettingZoo env ----------------------------------------------------------------------------


def test_pettingzoo_api_tests(no_warnings):
    mod = coin_game_v0
    api_test(mod.env(), num_cycles=200)
    parallel_api_test(mod.parallel_env(), num_cycles=200)
    seed_test(mod.env, num_cycles=200)
    parallel_seed_test(mod.parallel_env, num_cycles=200)
    max_cycles_test(mod)
    render_test(mod.env)
    state_test(mod.env(), mod.parallel_env())


@pytest.mark.parametrize("grid_size", [2, 5])
def test_pettingzoo_api_tests_other_grid_sizes(grid_size, no_warnings):
    api_test(coin_game_v0.env(grid_size=grid_size), num_cycles=100)
    parallel_api_test(coin_game_v0.parallel_env(grid_size=grid_size), num_cycles=100)


def test_registry_spaces_and_start(no_warnings):
    par = pettingzoo.make("parallel", "lola_games/coin_game-v0", grid_size=4, max_cycles=7)
    assert isinstance(par, CoinGameEnv) and par.game == CoinGame(4, 7)
    aec = pettingzoo.make("aec", "lola_games/coin_game-v0")
    assert isinstance(aec, pettingzoo.AECEnv) and aec.unwrapped.game == CoinGame()
    for agent in AGENTS:
        assert par.observation_space(agent) is par.observation_space(agent)
        assert par.observation_space(agent).shape == (4, 4, 4)
        assert par.observation_space(agent).dtype == np.float32
        assert par.action_space(agent).n == 4
    obs, infos = par.reset(seed=0)
    red, blue, coin, owner = par.board
    assert red != blue and coin not in (red, blue)
    for i, agent in enumerate(AGENTS):
        o = obs[agent].reshape(4, -1)
        assert o.sum() == 3 and o.sum(1).tolist() == [1, 1, float(owner == i), float(owner != i)]
        assert o[0].argmax() == par.board[i] and o[1].argmax() == par.board[1 - i]
        assert infos[agent] == {"round": 0, "picked_own_coin": False, "picked_other_coin": False}
    assert np.array_equal(par.state(), obs["player_0"])
    assert np.array_equal(obs["player_1"], obs["player_0"][[1, 0, 3, 2]])


def _pickup_round(env, red, blue, coin, owner, a0, a1):
    env.reset(options={"cells": (red, blue, coin), "coin_owner": owner})
    return env.step({"player_0": a0, "player_1": a1})


@pytest.mark.parametrize("owner", [0, 1])
def test_simultaneous_pickup_both_get_the_coin(owner):
    env = coin_game_v0.parallel_env(grid_size=3)
    env.reset(seed=0)
    # red at 3 moves right, blue at 5 moves left: both land on the coin at 4
    obs, rew, _, _, infos = _pickup_round(env, 3, 5, 4, owner, 0, 1)
    assert env.board[:2] == (4, 4)
    assert rew == ({"player_0": -1.0, "player_1": 1.0} if owner == 0
                   else {"player_0": 1.0, "player_1": -1.0})
    for i, agent in enumerate(AGENTS):
        assert infos[agent]["picked_own_coin"] == (owner == i)
        assert infos[agent]["picked_other_coin"] == (owner != i)
    _, _, coin, new_owner = env.board
    assert coin != 4 and new_owner == 1 - owner  # a coin of the other colour, on a free cell


def test_single_pickups_and_respawn():
    env = coin_game_v0.parallel_env(grid_size=3)
    env.reset(seed=0)
    _, rew, *_ = _pickup_round(env, 3, 0, 4, 1, 0, 0)  # red takes blue's coin
    assert rew == {"player_0": 1.0, "player_1": -2.0} and env.board[3] == 0
    _, rew, *_ = _pickup_round(env, 0, 3, 4, 1, 0, 0)  # blue takes its own coin
    assert rew == {"player_0": 0.0, "player_1": 1.0} and env.board[3] == 0
    _, rew, *_ = _pickup_round(env, 0, 1, 4, 0, 0, 0)  # nobody reaches it
    assert rew == {"player_0": 0.0, "player_1": 0.0} and env.board[2:] == (4, 0)
    # respawn is uniform over the free cells
    cells = []
    for _ in range(2000):
        _pickup_round(env, 3, 0, 4, 1, 0, 0)
        cells.append(env.board[2])
    counts = np.bincount(cells, minlength=9)
    assert counts[[1, 4]].sum() == 0  # the players stand on 1 and 4
    free = counts[[0, 2, 3, 5, 6, 7, 8]]
    assert np.all(np.abs(free - 2000 / 7) < 4.5 * np.sqrt(2000 / 7))


def test_render_ansi_and_human(capsys):
    env = coin_game_v0.parallel_env(render_mode="ansi", max_cycles=5)
    env.reset(seed=0, options={"cells": (2, 2 + 3, 4), "coin_owner": 1})
    assert env.render() == (
        "coin_game round 0/5: start | totals 0, 0\n"
        " .  .  R\n .  b  B\n .  .  ."
    )
    env.step({"player_0": 1, "player_1": 3})  # red left to 1, blue up to 2
    env.step({"player_0": 2, "player_1": 3})  # red down onto the coin, blue up to 8
    lines = env.render().splitlines()
    assert lines[0] == ("coin_game round 2/5: player_0 picked the other's coin | rewards 1, -2 "
                        "| totals 1, -2")
    red, blue, coin, _ = env.board
    assert (red, blue) == (4, 8) and lines[1:] == env.board_text().splitlines()
    assert env.board_text().split().count("r") == 1 and lines[3].split()[2] == "B"
    env.reset(options={"cells": (0, 0, 4), "coin_owner": 0})
    assert env.board_text().splitlines()[0] == "RB  .  ."
    human = coin_game_v0.parallel_env(render_mode="human")
    human.reset(seed=0)
    human.step({"player_0": 0, "player_1": 0})  # human mode prints every step
    assert human.render() is None
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 8 and printed[0] == printed[4] and printed[0].startswith("coin_game")


def test_deepcopy_and_pickle_continue_identically():
    env = coin_game_v0.parallel_env()
    env.reset(seed=5)
    env.step({"player_0": 0, "player_1": 2})
    copies = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]
    rng = np.random.default_rng(1)
    for _ in range(60):
        actions = {a: int(rng.integers(4)) for a in AGENTS}
        out = env.step(actions)
        for c in copies:
            o = c.step(actions)
            assert all(np.array_equal(o[0][a], out[0][a]) for a in AGENTS)
            assert o[1:] == out[1:]
    aec = pickle.loads(pickle.dumps(coin_game_v0.env()))
    aec.reset(seed=0)
    aec.step(0)


def _snapshot(env):
    return (list(env.agents), env.round, env.board, env._totals,
            env._np_random.bit_generator.state, env.state().tolist())


@pytest.mark.parametrize(
    "actions, error, match",
    [
        ({"player_0": 4, "player_1": 0}, ValueError, "player_0 out of range: 4 not in.*right"),
        ({"player_0": 0, "player_1": -1}, ValueError, "player_1 out of range: -1"),
        ({"player_0": 1.0, "player_1": 0}, TypeError, "must be an integer.*float"),
        ({"player_0": True, "player_1": 0}, TypeError, "must be an integer"),
        ({"player_0": 0}, ValueError, r"missing action.*player_1"),
        ({"player_0": 0, "player_1": 0, "x": 0}, ValueError, "unknown agent"),
        ([0, 1], TypeError, "actions must be a dict"),
    ],
)
def test_bad_step_raises_and_changes_nothing(actions, error, match):
    env = coin_game_v0.parallel_env()
    env.reset(seed=3)
    env.step({"player_0": 1, "player_1": 0})
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.step(actions)
    assert _snapshot(env) == before


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"cells": (0, 1, 1), "coin_owner": 0}, ValueError, "coin 1 lies under a player"),
        ({"cells": (0, 1, 9), "coin_owner": 0}, ValueError, r"3 cells in \[0, 9\)"),
        ({"cells": (0, 1), "coin_owner": 0}, ValueError, "3 cells"),
        ({"cells": (0, 1, 2), "coin_owner": 2}, ValueError, "coin_owner' must be 0 or 1"),
        ({"cells": (0, 1, 2.5), "coin_owner": 0}, TypeError, "must be 3 ints"),
        ({"cells": (0, 1, 2)}, ValueError, "need both"),
    ],
)
def test_bad_reset_options_raise_and_change_nothing(options, error, match):
    env = coin_game_v0.parallel_env()
    env.reset(seed=3)
    env.step({"player_0": 1, "player_1": 0})
    before = _snapshot(env)
    with pytest.raises(error, match=match):
        env.reset(seed=9, options=options)
    assert _snapshot(env) == before


def test_bad_constructor_arguments_and_step_order():
    for kwargs, match in [({"grid_size": 1}, "grid_size must be an int >= 2"),
                          ({"max_cycles": 0}, "max_cycles must be an int >= 1"),
                          ({"render_mode": "rgb_array"}, "render_mode must be None or one of")]:
        with pytest.raises(ValueError, match=match):
            coin_game_v0.parallel_env(**kwargs)
    env = coin_game_v0.parallel_env(max_cycles=1)
    with pytest.raises(ValueError, match="before reset"):
        env.step({"player_0": 0, "player_1": 0})
    env.reset(seed=0)
    _, _, term, trunc, _ = env.step({"player_0": 0, "player_1": 0})
    assert trunc == dict.fromkeys(AGENTS, True) and term == dict.fromkeys(AGENTS, False)
    with pytest.raises(ValueError, match="after the episode ended"):
        env.step({"player_0": 0, "player_1": 0})
    aec = coin_game_v0.env()
    aec.reset(seed=0)
    with pytest.raises(ValueError, match="action of player_0 out of range"):
        aec.step(7)


# -- batched env against the PettingZoo env ----------------------------------------------------


def _toward_coin(n, cell, coin):
    """A move that brings a player at ``cell`` one step closer to ``coin`` on the torus."""
    (r, c), (cr, cc) = divmod(cell, n), divmod(coin, n)
    dr, dc = (cr - r) % n, (cc - c) % n
    if dc:
        return 0 if dc <= n - dc else 1
    if dr:
        return 2 if dr <= n - dr else 3
    return 0


def _boards(env):
    return [(*env.cells[b].tolist(), int(env.coin_owner[b])) for b in range(env.batch_size)]


def _chasing_actions(rng, pz, grid_size):
    """Random actions ``[B, 2]``, mostly toward the coin (many simultaneous pickups)."""
    actions = rng.integers(0, 4, size=(len(pz), 2))
    chase = rng.random((len(pz), 2)) < 0.7
    for b, e in enumerate(pz):
        red, blue, coin, _ = e.board
        for i, cell in enumerate((red, blue)):
            if chase[b, i]:
                actions[b, i] = _toward_coin(grid_size, cell, coin)
    return actions


def _same_boards(env, pz, pz_out, obs, reset):
    """After a step: the same boards (or, at an automatic reset, restart the PettingZoo envs
    on the batched env's boards) and the same observations."""
    if reset:
        assert env.round == 0 and all(trunc["player_0"] for *_, trunc, _ in pz_out)
        for b, e in enumerate(pz):
            e.reset(options={"cells": env.cells[b].tolist(),
                             "coin_owner": int(env.coin_owner[b])})
    else:
        assert _boards(env) == [e.board for e in pz]
    for b, e in enumerate(pz):
        pz_obs = e._observations()
        for i, agent in enumerate(AGENTS):
            np.testing.assert_array_equal(obs[b, i].numpy(), pz_obs[agent])


def _same_step(b, pz_out, rewards, terminated, truncated, info):
    """Assert that batch entry ``b`` of a batched step equals a PettingZoo step's output;
    return (own pickups, other pickups, 0/1 for a simultaneous pickup of a red/blue coin or
    None)."""
    o, r, term, trunc, inf = pz_out
    for i, agent in enumerate(AGENTS):
        np.testing.assert_array_equal(info["final_obs"][b, i].numpy(), o[agent])
        assert rewards[b, i].item() == r[agent]
        assert bool(info["picked_own"][b, i]) == inf[agent]["picked_own_coin"]
        assert bool(info["picked_other"][b, i]) == inf[agent]["picked_other_coin"]
    assert bool(truncated[b]) == trunc["player_0"]
    assert not terminated[b] and not term["player_0"]
    own = sum(inf[a]["picked_own_coin"] for a in AGENTS)
    other = sum(inf[a]["picked_other_coin"] for a in AGENTS)
    simultaneous = all(inf[a]["picked_own_coin"] or inf[a]["picked_other_coin"] for a in AGENTS)
    return own, other, (0 if inf["player_0"]["picked_own_coin"] else 1) if simultaneous else None


@pytest.mark.parametrize("grid_size", [2, 3, 5])
def test_batched_env_matches_pettingzoo_step_for_step(grid_size):
    """Same boards, observations, rewards, pickups and ends for the same actions and the same
    coin placements (the batched env replays the PettingZoo envs' new coins; the PettingZoo
    envs start from the batched env's boards), over two episodes and an automatic reset."""
    batch, max_cycles = 24, 25
    game = CoinGame(grid_size, max_cycles)
    pz = [coin_game_v0.parallel_env(grid_size=grid_size, max_cycles=max_cycles)
          for _ in range(batch)]
    replay = {}

    def placement(players, generator):
        return replay["coins"]

    env = BatchedCoinGame(game, batch, placement=placement)
    obs, _ = env.reset(seed=1)
    for b, e in enumerate(pz):
        e.reset(seed=100 + b, options={"cells": env.cells[b].tolist(),
                                       "coin_owner": int(env.coin_owner[b])})
    rng = np.random.default_rng(0)
    both, own, other = [0, 0], 0, 0  # both: simultaneous pickups of a red / a blue coin
    for t in range(2 * max_cycles):
        actions = _chasing_actions(rng, pz, grid_size)
        pz_out = [e.step({a: int(actions[b, i]) for i, a in enumerate(AGENTS)})
                  for b, e in enumerate(pz)]
        replay["coins"] = torch.tensor([e.board[2] for e in pz])
        obs, rewards, terminated, truncated, info = env.step(torch.from_numpy(actions))
        for b, out in enumerate(pz_out):
            picked = _same_step(b, out, rewards, terminated, truncated, info)
            own, other = own + picked[0], other + picked[1]
            if picked[2] is not None:
                both[picked[2]] += 1
        _same_boards(env, pz, pz_out, obs, reset=(t + 1) % max_cycles == 0)
    assert min(both) > 5 and own > 50 and other > 50  # the rules were all exercised


@pytest.mark.parametrize("grid_size", [2, 3])
def test_board_tables_and_rules_play_the_same_games(grid_size, monkeypatch):
    """Small boards step by lookup tables; the rules' arithmetic gives the very same games
    (boards, observations, rewards, pickups, new episodes) from the same seed."""
    game = CoinGame(grid_size, 30)
    tables = BatchedCoinGame(game, 256)
    monkeypatch.setattr(batched_coin, "TABLE_BYTES", 0)
    rules = BatchedCoinGame(game, 256)
    assert tables._tables is not None and rules._tables is None
    outs = []
    for env in (tables, rules):
        out = [env.reset(seed=4)[0], env.cells, env.coin_owner]
        gen = _gen(5)
        for _ in range(70):  # two automatic resets
            obs, rewards, _, trunc, info = env.step(torch.randint(0, 4, (256, 2), generator=gen))
            out += [obs, rewards, trunc, info["final_obs"], info["picked_own"],
                    info["picked_other"], env.cells, env.coin_owner]
        outs.append(out)
    assert all(torch.equal(a, b) for a, b in zip(*outs, strict=True))
    assert sum(int(x.sum()) for x in outs[0][7::8]) > 500  # many pickups


@pytest.mark.parametrize("grid_size", [2, 3])
def test_uniform_placement_is_uniform_on_the_free_cells(grid_size):
    """Every pair of player cells, many draws: only free cells, each about equally often."""
    game = CoinGame(grid_size)
    nc, draws = game.n_cells, 1500
    players = torch.cartesian_prod(torch.arange(nc), torch.arange(nc)).repeat(draws, 1)
    env = BatchedCoinGame(game, players.shape[0])
    cells = env.uniform_placement(players, _gen(0))
    counts = torch.zeros(nc * nc, nc)
    counts.index_put_((players[:, 0] * nc + players[:, 1], cells), torch.ones(len(cells)),
                      accumulate=True)
    for c0 in range(nc):
        for c1 in range(nc):
            row = counts[c0 * nc + c1]
            free = [c for c in range(nc) if c not in (c0, c1)]
            assert row.sum() == draws and row[[c0, c1]].sum() == 0
            p = 1 / len(free)
            assert (torch.abs(row[free] - draws * p) < 4.5 * (draws * p * (1 - p)) ** 0.5).all()


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batched_env_on_cuda_matches_cpu():
    """The same boards, actions and coin placements give the same games on CUDA."""
    game = CoinGame(3, 10)
    cpu = BatchedCoinGame(game, 256)
    obs_cpu, _ = cpu.reset(seed=0)
    coins = {}
    cuda = BatchedCoinGame(game, 256, device="cuda",
                           placement=lambda players, gen: coins["c"].cuda())
    obs_cuda, _ = cuda.reset(options={"cells": cpu.cells.cuda(),
                                      "coin_owner": cpu.coin_owner.cuda()})
    torch.testing.assert_close(obs_cuda.cpu(), obs_cpu)
    gen = _gen(1)
    for _ in range(9):
        actions = torch.randint(0, 4, (256, 2), generator=gen)
        obs_cpu, r_cpu, *_ = cpu.step(actions)
        coins["c"] = cpu.cells[:, 2]
        obs_cuda, r_cuda, *_ = cuda.step(actions.cuda())
        torch.testing.assert_close(obs_cuda.cpu(), obs_cpu)
        torch.testing.assert_close(r_cuda.cpu(), r_cpu)
        assert torch.equal(cuda.cells.cpu(), cpu.cells)


def test_batched_observations_match_the_encoding():
    game = CoinGame(4)
    env = BatchedCoinGame(game, 64)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (64, 2, 4, 4, 4) and obs.dtype == torch.float32
    assert env.observation_space.contains(obs.numpy())
    flat = obs.flatten(-2)  # [B, 2, 4, 16]
    cells, owner = env.cells, env.coin_owner
    for i in range(2):
        assert (flat[:, i, 0].argmax(-1) == cells[:, i]).all()
        assert (flat[:, i, 1].argmax(-1) == cells[:, 1 - i]).all()
        coin_channel = torch.where(owner == i, 2, 3)
        assert (flat[torch.arange(64), i, coin_channel].argmax(-1) == cells[:, 2]).all()
        torch.testing.assert_close(coin_observations(game, cells, owner, i), obs[:, i])
    assert (flat.sum((-1, -2)) == 3).all()
    # start boards: players apart, coin free
    assert (cells[:, 0] != cells[:, 1]).all()
    assert ((cells[:, 2] != cells[:, 0]) & (cells[:, 2] != cells[:, 1])).all()


def test_batched_seeding_and_autoreset_off():
    def run(seed, generator=None):
        env = BatchedCoinGame("coin_game", 32, generator=generator)
        out = [env.reset(seed=seed)[0]]
        g = torch.Generator().manual_seed(5)
        for _ in range(40):
            out += env.step(torch.randint(0, 4, (32, 2), generator=g))[:2]
        return out

    a, b = run(3), run(3, torch.Generator())
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, run(4), strict=True))
    env = BatchedCoinGame(CoinGame(3, 2), 4, autoreset=False)
    env.reset(seed=0)
    env.step(torch.zeros(4, 2, dtype=torch.long))
    _, _, _, trunc, info = env.step(torch.zeros(4, 2, dtype=torch.long))
    assert trunc.all() and "final_obs" not in info and env.round == 2
    with pytest.raises(RuntimeError, match="finished; call reset"):
        env.step(torch.zeros(4, 2, dtype=torch.long))


def test_batched_env_copies_continue_identically():
    env = BatchedCoinGame("coin_game", 64)
    env.reset(seed=2)
    gen = _gen(3)
    env.step(torch.randint(0, 4, (64, 2), generator=gen))
    copies = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]
    for _ in range(160):  # past the end of the episode: new random boards too
        actions = torch.randint(0, 4, (64, 2), generator=gen)
        out = env.step(actions)
        for c in copies:
            o = c.step(actions)
            assert torch.equal(o[0], out[0]) and torch.equal(o[1], out[1])
            assert torch.equal(c.cells, env.cells)


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), (-1, ValueError),
                                         (2**64, ValueError)])
def test_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        BatchedCoinGame("coin_game", 2).reset(seed=seed)
    with pytest.raises(error, match="seed"):
        coin_game_v0.parallel_env().reset(seed=seed)
    with pytest.raises(TypeError, match="options must be a dict"):
        coin_game_v0.parallel_env().reset(options=[1])


def _env_snapshot(env):
    return (env.cells.clone(), env.coin_owner.clone(), env.round, env._rng().get_state())


def _same_snapshot(a, b):
    return (torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] == b[2]
            and torch.equal(a[3], b[3]))


@pytest.mark.parametrize(
    "actions, error, match",
    [
        ([[0, 1]] * 4, TypeError, "actions must be a torch.Tensor of shape \\[4, 2\\]"),
        (torch.zeros(4, 2), TypeError, "integer tensor, got dtype torch.float32"),
        (torch.zeros(4, 2, dtype=torch.bool), TypeError, "integer tensor, got dtype torch.bool"),
        (torch.zeros(4, 3, dtype=torch.long), ValueError, r"shape \[4, 2\], got \[4, 3\]"),
        (torch.zeros(2, 4, 2, dtype=torch.long), ValueError, "shape"),
        (torch.full((4, 2), 4), ValueError, r"actions must be in \[0, 4\), got 4"),
        (torch.full((4, 2), -1, dtype=torch.int8), ValueError, "got -1"),
    ],
)
def test_batched_bad_actions_raise_and_change_nothing(actions, error, match):
    env = BatchedCoinGame("coin_game", 4)
    env.reset(seed=0)
    env.step(torch.ones(4, 2, dtype=torch.long))
    before = _env_snapshot(env)
    with pytest.raises(error, match=match):
        env.step(actions)
    assert _same_snapshot(_env_snapshot(env), before)


def test_batched_integer_dtypes_are_cast_after_checks():
    outs = []
    for dtype in (torch.long, torch.int32, torch.uint8, torch.int16):
        env = BatchedCoinGame("coin_game", 16)
        env.reset(seed=0)
        actions = torch.arange(32).reshape(16, 2) % 4
        outs.append(env.step(actions.to(dtype))[:2])
    assert all(torch.equal(o[0], outs[0][0]) and torch.equal(o[1], outs[0][1]) for o in outs)


def test_batched_bad_constructor_reset_and_placement():
    for kwargs, error, match in [
        ({"game": "ipd"}, TypeError, "game must be a CoinGame"),
        ({"game": "chess"}, ValueError, "unknown game 'chess'"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"dtype": torch.long}, TypeError, "dtype must be a floating"),
        ({"placement": 3}, TypeError, "placement must be callable"),
    ]:
        args = {"game": "coin_game", "batch_size": 2, **kwargs}
        with pytest.raises(error, match=match):
            BatchedCoinGame(args.pop("game"), args.pop("batch_size"), **args)
    with pytest.raises(ValueError, match="grid_size must be an int >= 2"):
        BatchedCoinGame(CoinGame(1), 2)
    env = BatchedCoinGame("coin_game", 2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(2, 2, dtype=torch.long))
    env.reset(seed=0)
    before = _env_snapshot(env)
    for options, match in [
        ({"cells": torch.tensor([[0, 1, 1], [0, 1, 2]]), "coin_owner": torch.tensor([0, 1])},
         "coin lies under a player in game 0"),
        ({"cells": torch.tensor([[0, 1, 9], [0, 1, 2]]), "coin_owner": torch.tensor([0, 1])},
         r"cells must be in \[0, 9\)"),
        ({"cells": torch.tensor([[0, 1, 2]]), "coin_owner": torch.tensor([0, 1])}, "shape"),
        ({"cells": torch.tensor([[0, 1, 2], [0, 1, 2]]), "coin_owner": torch.tensor([0, 2])},
         r"coin_owner must be in \[0, 2\)"),
        ({"cells": torch.tensor([[0, 1, 2], [0, 1, 2]])}, "need both"),
    ]:
        with pytest.raises(ValueError, match=match):
            env.reset(seed=7, options=options)
        assert _same_snapshot(_env_snapshot(env), before)

    bad = BatchedCoinGame("coin_game", 2, placement=lambda players, gen: players[:, 0])
    bad.reset(options={"cells": torch.tensor([[3, 0, 4], [0, 1, 2]]),
                       "coin_owner": torch.tensor([0, 0])})
    before = _env_snapshot(bad)
    with pytest.raises(ValueError, match="placement put the coin under a player in game 0"):
        bad.step(torch.tensor([[0, 0], [0, 0]]))  # red steps on the coin in game 0
    assert _same_snapshot(_env_snapshot(bad), before)


# -- Monte Carlo and brute force ---------------------------------------------------------------


def test_random_play_own_coin_share_and_coins_per_round_against_exact():
    """Random play: own-coin share 0.5 and zero value (colour does not affect the moves) and
    pickups per round equal to the exact Markov-chain expectation (random_play_rates), within
    4 standard errors over independent games."""
    game = CoinGame(3, 40)
    exact = random_play_rates(game)
    batch = 4000
    env = BatchedCoinGame(game, batch)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(1)
    own = torch.zeros(batch, 2)
    other = torch.zeros(batch, 2)
    both = torch.zeros(batch)
    value = torch.zeros(batch, 2)
    for _ in range(game.max_cycles):
        _, rewards, _, _, info = env.step(torch.randint(0, 4, (batch, 2), generator=gen))
        own += info["picked_own"]
        other += info["picked_other"]
        both += (info["picked_own"] | info["picked_other"]).all(-1)
        value += rewards
    coins = own + other

    def check(per_game, expected):
        mean, se = per_game.mean(0), per_game.std(0) / batch**0.5
        assert (torch.abs(mean - expected) < 4 * se).all(), (mean, expected, se)

    rounds = game.max_cycles
    check(coins / rounds, torch.full((2,), exact["coins_per_round"]))
    check(both / rounds, torch.tensor(exact["both_per_round"]))
    check(value / rounds, torch.zeros(2))
    # ratio estimator: share = sum own / sum coins, its standard error by the delta method
    share = own.sum(0) / coins.sum(0)
    se = (own - share * coins).pow(2).sum(0).sqrt() / coins.sum(0)
    assert (se < 0.005).all() and (torch.abs(share - 0.5) < 4 * se).all(), (share, se)
    assert exact["both_per_round"] > 0.01  # simultaneous pickups are not rare on a 3 x 3 board


def test_pettingzoo_rewards_are_the_brute_force_count_of_pickups():
    """Every round's reward of each player from the infos alone: +1 per coin it picked, -2
    when the other picked a coin of its colour; random play also against the exact count."""
    game = CoinGame(3, 40)
    exact = random_play_rates(game)["coins_per_round"]
    env = coin_game_v0.parallel_env(max_cycles=game.max_cycles)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    episodes, pickups = 150, np.zeros((150, 2))
    for ep in range(episodes):
        env.reset()
        while env.agents:
            _, rew, _, _, inf = env.step({a: int(rng.integers(4)) for a in AGENTS})
            for i, agent in enumerate(AGENTS):
                mine = inf[agent]["picked_own_coin"] + inf[agent]["picked_other_coin"]
                lost = inf[AGENTS[1 - i]]["picked_other_coin"]
                assert rew[agent] == mine - 2 * lost
                pickups[ep, i] += mine
    per_round = pickups / game.max_cycles
    se = per_round.std(0) / np.sqrt(episodes)
    assert np.all(np.abs(per_round.mean(0) - exact) < 4 * se)

"""The torch-batched env against the PettingZoo env, its checks, seeding and devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lola_games.envs.batched import BatchedIteratedGame, encode_states, outcome_states
from lola_games.games.matrix import GAMES, MatrixGame

iterated = pytest.importorskip(
    "lola_games.envs.iterated", reason="the PettingZoo env lola_games.envs.iterated is missing"
)
from lola_games.rollouts.memory_one import observation_state  # noqa: E402


@pytest.mark.parametrize("name", list(GAMES))
def test_matches_pettingzoo_env(name):
    """Same observations and rewards for the same actions, across automatic resets."""
    batch, max_cycles, n_rounds = 8, 5, 13
    game = GAMES[name]
    rng = np.random.default_rng(0)
    actions = rng.integers(0, game.n_actions, size=(n_rounds, batch, 2))
    env = BatchedIteratedGame(game, batch, max_cycles)
    obs, _ = env.reset()
    pz = [iterated.parallel_env(name, max_cycles=max_cycles) for _ in range(batch)]
    pz_obs = [e.reset(seed=b)[0] for b, e in enumerate(pz)]
    agents = ("player_0", "player_1")
    for b in range(batch):
        for i, agent in enumerate(agents):
            np.testing.assert_array_equal(obs[b, i].numpy(), pz_obs[b][agent])
    for t in range(n_rounds):
        obs, rewards, terminated, truncated, info = env.step(torch.from_numpy(actions[t]))
        for b, e in enumerate(pz):
            o, r, term, trunc, _ = e.step({a: int(actions[t, b, i]) for i, a in enumerate(agents)})
            for i, agent in enumerate(agents):
                np.testing.assert_array_equal(info["final_obs"][b, i].numpy(), o[agent])
                assert rewards[b, i].item() == r[agent]
            assert bool(truncated[b]) == trunc["player_0"]
            assert bool(terminated[b]) == term["player_0"]
            if trunc["player_0"] or term["player_0"]:
                o, _ = e.reset()
            for i, agent in enumerate(agents):
                np.testing.assert_array_equal(obs[b, i].numpy(), o[agent])


def test_states_follow_memory_one_convention():
    env = BatchedIteratedGame("ipd", 4, 3)
    obs, _ = env.reset()
    assert env.states.tolist() == [[0, 0]] * 4
    acts = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    obs, *_ = env.step(acts)
    # player 0 sees CC, CD, DC, DD; player 1 sees them from its side
    assert env.states.tolist() == [[1, 1], [2, 3], [3, 2], [4, 4]]
    for b in range(4):
        for i in range(2):
            assert observation_state(obs[b, i].numpy()) == env.states[b, i].item()
    torch.testing.assert_close(encode_states(outcome_states(acts, 2), 2), obs)


def test_three_action_game_and_spaces():
    game = MatrixGame("rps", ("R", "P", "S"),
                      np.stack([np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])] * 2))
    env = BatchedIteratedGame(game, 3, 2)
    obs, _ = env.reset()
    assert obs.shape == (3, 2, 10) and env.observation_space.shape == (3, 2, 10)
    assert env.single_action_space.n == 3
    assert obs[:, :, 9].eq(1).all()
    obs, r, *_ = env.step(torch.tensor([[0, 1], [2, 2], [1, 0]]))
    assert obs[0, 0, 1] == 1 and obs[0, 1, 3] == 1  # (R, P) and (P, R)
    assert r.tolist() == [[-1.0, 1.0], [0.0, 0.0], [1.0, -1.0]]
    assert env.observation_space.contains(obs.numpy())


def test_bad_actions_raise_clear_errors():
    env = BatchedIteratedGame("ipd", 2, 3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(2, 2, dtype=torch.long))
    env.reset()
    with pytest.raises(TypeError, match="torch.Tensor"):
        env.step(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="integer"):
        env.step(torch.zeros(2, 2))
    with pytest.raises(TypeError, match="integer"):
        env.step(torch.zeros(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="shape"):
        env.step(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        env.step(torch.tensor([[0, 2], [0, 0]]))
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        env.step(torch.tensor([[0, -1], [0, 0]]))
    with pytest.raises(ValueError, match="meta"):
        env.step(torch.zeros(2, 2, dtype=torch.long, device="meta"))


def test_bad_construction_raises():
    with pytest.raises(ValueError, match="batch_size"):
        BatchedIteratedGame("ipd", 0)
    with pytest.raises(ValueError, match="max_cycles"):
        BatchedIteratedGame("ipd", 2, max_cycles=0)
    with pytest.raises(ValueError, match="continuation_prob"):
        BatchedIteratedGame("ipd", 2, continuation_prob=0.0)
    with pytest.raises(ValueError, match="unknown game"):
        BatchedIteratedGame("nope", 2)
    with pytest.raises(ValueError, match="generator"):
        BatchedIteratedGame("ipd", 2, device="meta", generator=torch.Generator())


def test_no_autoreset_stops_at_the_end():
    env = BatchedIteratedGame("ipd", 2, 2, autoreset=False)
    env.reset()
    a = torch.zeros(2, 2, dtype=torch.long)
    env.step(a)
    obs, _, _, truncated, _ = env.step(a)
    assert truncated.all() and obs[:, :, 0].eq(1).all()  # CC shown, not START
    with pytest.raises(RuntimeError, match="finished"):
        env.step(a)
    env.reset()
    env.step(a)


def test_continuation_is_seeded_and_has_the_right_rate():
    def run(seed):
        env = BatchedIteratedGame("ipd", 4096, 150, continuation_prob=0.9)
        env.reset(seed=seed)
        a = torch.zeros(4096, 2, dtype=torch.long)
        return torch.stack([env.step(a)[2] for _ in range(5)])

    first = run(3)
    assert torch.equal(first, run(3))
    assert not torch.equal(first, run(4))
    rate = first.double().mean().item()
    se = (0.1 * 0.9 / first.numel()) ** 0.5
    assert abs(rate - 0.1) < 5 * se


def test_autoreset_restarts_round_counter():
    env = BatchedIteratedGame("ipd", 1, 2)
    env.reset()
    a = torch.zeros(1, 2, dtype=torch.long)
    flags = [env.step(a)[3].item() for _ in range(6)]
    assert flags == [False, True] * 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_matches_cpu():
    actions = torch.randint(0, 2, (7, 64, 2), generator=torch.Generator().manual_seed(0))
    envs = [BatchedIteratedGame("chicken", 64, 4, device=d) for d in ("cpu", "cuda")]
    for e in envs:
        e.reset()
    for t in range(7):
        out_cpu = envs[0].step(actions[t])
        out_gpu = envs[1].step(actions[t].cuda())
        for x, y in zip(out_cpu[:4], out_gpu[:4], strict=True):
            assert torch.equal(x, y.cpu())


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64])
def test_every_integer_action_dtype_gives_the_same_step(dtype):
    """uint8 actions indexed as a boolean mask (wrong rewards); int8/int16 failed deep inside."""
    acts = torch.tensor([[0, 1], [1, 0], [1, 1], [0, 0]])
    ref, env = BatchedIteratedGame("ipd", 4, 3), BatchedIteratedGame("ipd", 4, 3)
    ref.reset()
    env.reset()
    expected = ref.step(acts)
    got = env.step(acts.to(dtype))
    for x, y in zip(expected[:4], got[:4], strict=True):
        assert torch.equal(x, y)
    assert got[1].tolist() == [[-3.0, 0.0], [0.0, -3.0], [-2.0, -2.0], [-1.0, -1.0]]
    assert env.states.dtype == torch.long
    # the unchecked path casts too
    env.reset()
    assert torch.equal(env.step(acts.to(dtype), check=False)[1], expected[1])
    with pytest.raises(ValueError, match=r"in \[0, 2\)"):
        env.step(torch.tensor([[0, 2], [0, 0], [0, 0], [0, 0]], dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32])
def test_state_converters_take_any_integer_dtype(dtype):
    """outcome_states overflowed in small dtypes; encode_states failed in one_hot."""
    n = 16  # 1 + 15 * 16 + 15 = 256 does not fit in uint8
    acts = torch.tensor([[15, 15], [3, 7]])
    states = outcome_states(acts.to(dtype), n)
    assert states.dtype == torch.long and states.tolist() == [[256, 256], [56, 116]]
    s = torch.tensor([0, 1, 4])
    assert torch.equal(encode_states(s.to(dtype), 2), encode_states(s, 2))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: outcome_states(torch.tensor([[0, 1]], dtype=torch.bool), 2), TypeError,
         "actions must be an integer tensor"),
        (lambda: outcome_states(torch.tensor([[0.0, 1.0]]), 2), TypeError, "integer tensor"),
        (lambda: outcome_states(torch.tensor([[0, 2]]), 2), ValueError, r"actions must be in"),
        (lambda: outcome_states(torch.tensor([0, 1, 1]), 2), ValueError, r"shape \[..., 2\]"),
        (lambda: outcome_states([[0, 1]], 2), TypeError, "torch.Tensor"),
        (lambda: encode_states(torch.tensor([5]), 2), ValueError, r"states must be in \[0, 5\)"),
        (lambda: encode_states(torch.tensor([-1]), 2), ValueError, r"states must be in"),
        (lambda: encode_states(torch.tensor([True]), 2), TypeError, "states must be an integer"),
    ],
)
def test_state_converters_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"dtype": "float32"}, TypeError, "dtype must be a floating torch.dtype"),
        ({"dtype": torch.int64}, TypeError, "dtype must be a floating torch.dtype"),
        ({"continuation_prob": "abc"}, ValueError, "continuation_prob must be a number"),
        ({"continuation_prob": "0.5"}, ValueError, "continuation_prob must be a number"),
        ({"continuation_prob": True}, ValueError, "continuation_prob must be a number"),
        ({"continuation_prob": float("nan")}, ValueError, "continuation_prob must be in"),
        ({"batch_size": True}, ValueError, "batch_size must be a positive int"),
        ({"batch_size": 2.0}, ValueError, "batch_size must be a positive int"),
        ({"max_cycles": "5"}, ValueError, "max_cycles must be a positive int"),
        ({"device": "nowhere"}, ValueError, "device 'nowhere'"),
        ({"generator": 5}, TypeError, "generator must be a torch.Generator"),
        ({"autoreset": "no"}, TypeError, "autoreset must be True or False"),
    ],
)
def test_bad_construction_names_the_argument(kwargs, error, match):
    args = {"game": "ipd", "batch_size": 2, **kwargs}
    with pytest.raises(error, match=match):
        BatchedIteratedGame(**args)


def test_numpy_integers_are_accepted_as_sizes():
    env = BatchedIteratedGame("ipd", np.int64(3), np.int32(4), continuation_prob=np.float32(0.5))
    assert env.batch_size == 3 and env.max_cycles == 4 and env.continuation_prob == 0.5
    assert type(env.batch_size) is int and type(env.max_cycles) is int


@pytest.mark.parametrize(
    "seed, error, match",
    [(1.7, TypeError, "seed must be an int"), (True, TypeError, "seed must be an int"),
     ("3", TypeError, "seed must be an int"), (-1, ValueError, r"seed must be in \[0, 2\*\*64\)"),
     (2**64, ValueError, "seed must be in")],
)
def test_reset_rejects_bad_seeds_and_changes_nothing(seed, error, match):
    """reset(seed=1.7) seeded with int(1.7) = 1 without a word."""
    env = BatchedIteratedGame("ipd", 4, 10, continuation_prob=0.5)
    env.reset(seed=0)
    a = torch.zeros(4, 2, dtype=torch.long)
    env.step(a)
    t_before, gen_state = env.t.clone(), env.generator.get_state()
    with pytest.raises(error, match=match):
        env.reset(seed=seed)
    assert torch.equal(env.t, t_before) and torch.equal(env.generator.get_state(), gen_state)
    env.reset(seed=np.uint64(2**64 - 1))  # the largest seed is fine

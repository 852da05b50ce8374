"""The torch-batched env against the PettingZoo env, its checks, seeding and devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lola_games.envs.batched import BatchedIteratedGame, encode_states, outcome_states
from lola_games.games import GAMES, MatrixGame

iterated = pytest.importorskip(
    "lola_games.envs.iterated", reason="the PettingZoo env lola_games.envs.iterated is missing"
)
from lola_games.rollout import observation_state  # noqa: E402


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

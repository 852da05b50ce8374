"""Grouped table lookups of the batched IPD env: the same bits as a per-game ``table[joint]``.

``GOLDEN`` holds SHA-256 digests of trajectories (every output, state and round counter,
with their shapes, dtypes and contiguity) of `BatchedIteratedGame` as it stepped before the
grouped lookups, by ``table[joint]`` for each game; the env must reproduce them bit for bit.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pytest
import torch

from lola_games.envs.batched import BatchedIteratedGame
from lola_games.envs.joint_tables import MAX_GROUP_ROWS, JointTables, group_size
from lola_games.games.matrix import MatrixGame

RPS = MatrixGame("rps", ("R", "P", "S"),
                 np.stack([np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])] * 2))
CONFIGS = {
    "ipd-B8-lockstep": dict(game="ipd", batch_size=8, max_cycles=5),
    "ipd-B6-float64": dict(game="ipd", batch_size=6, max_cycles=4, dtype=torch.float64),
    "imp-B5-continuation": dict(game="imp", batch_size=5, max_cycles=6, continuation_prob=0.7),
    "stag-B12-continuation": dict(game="stag_hunt", batch_size=12, max_cycles=9,
                                  continuation_prob=0.8),
    "rps-B10": dict(game=RPS, batch_size=10, max_cycles=3),
    "rps-B7-float16": dict(game=RPS, batch_size=7, max_cycles=4, dtype=torch.float16),
    "chicken-B4-bfloat16": dict(game="chicken", batch_size=4, max_cycles=3, dtype=torch.bfloat16),
    "ipd-B8-no-autoreset": dict(game="ipd", batch_size=8, max_cycles=7, autoreset=False),
}
GOLDEN = {  # computed with the env's per-game table[joint] lookups
    "ipd-B8-lockstep": "a84841f8b2d9ac541b939360fe56bcefee411ba84db65cafa6faaf3b791324b3",
    "ipd-B6-float64": "65a0c4b69c723384c6c3e99505d7e8e277f0602031aeafcca32c3e4b4e1a8fa4",
    "imp-B5-continuation": "0f2b4f1531ee45caf07ab1e73518fe284e703f1d2433fd2e40c3e166416b0d19",
    "stag-B12-continuation": "2becce71563aa3283cd1ee72ae844d20866e6a44ee29e6908e47354158cdafce",
    "rps-B10": "33e1d1f2761fd43b1fbc7919e49ace55aa4feaf1ed25bd9ccec876a8de02b617",
    "rps-B7-float16": "91e47d0b9195d27ed1725c075d9b5623f7765267e5cec4cb3d269fb7879667fb",
    "chicken-B4-bfloat16": "ae85666672054f0d7928665016204927b3d58de5a1d6ab61fe35edb9a39e2ed5",
    "ipd-B8-no-autoreset": "3691a0c031326e516db7e45f80a5acf4694bc5d9d40291598db929373cedbb42",
}


def trajectory_hash(config: dict, rounds: int = 7, seed: int = 0) -> str:
    """SHA-256 of every output, ``states``, ``t`` and ``observe()`` over ``rounds`` rounds of
    random actions (long, int32 and uint8 in turn)."""
    env = BatchedIteratedGame(**config)
    digest = hashlib.sha256()

    def add(x: torch.Tensor) -> None:
        digest.update(str((tuple(x.shape), x.dtype, x.is_contiguous())).encode())
        raw = x.numpy() if x.dtype == torch.bool else x.contiguous().view(torch.uint8).numpy()
        digest.update(raw.tobytes())

    obs, _ = env.reset(seed=seed)
    for x in (obs, env.states, env.t):
        add(x)
    gen = torch.Generator().manual_seed(seed)
    for r in range(rounds):
        actions = torch.randint(0, env.n_actions, (env.batch_size, 2), generator=gen)
        actions = actions.to((torch.long, torch.int32, torch.uint8)[r % 3])
        obs, rewards, terminated, truncated, info = env.step(actions)
        final = info.get("final_obs", obs)
        for x in (obs, rewards, terminated, truncated, final, env.states, env.t, env.observe()):
            add(x)
    return digest.hexdigest()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_trajectories_are_bit_identical_to_per_game_lookups(name):
    assert trajectory_hash(CONFIGS[name]) == GOLDEN[name]


def test_the_trajectory_hash_sees_a_changed_bit():
    env_config = dict(CONFIGS["ipd-B8-lockstep"], game="stag_hunt")
    assert trajectory_hash(env_config) != GOLDEN["ipd-B8-lockstep"]
    assert trajectory_hash(CONFIGS["ipd-B8-lockstep"], seed=1) != GOLDEN["ipd-B8-lockstep"]


def random_tables(n: int, dtype: torch.dtype, gen: torch.Generator) -> dict[str, torch.Tensor]:
    nn = n * n
    return {
        "two": torch.randn(nn, 2, generator=gen).to(dtype),  # a word per row for float32
        "wide": torch.randn(nn, 2, 5, generator=gen).to(dtype),
        "long": torch.randint(-99, 99, (nn, 2), generator=gen),
        "one": torch.randn(nn, generator=gen).to(dtype),
    }


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n,batch,group", [(2, 4096, 4), (2, 6, 2), (2, 7, 1), (3, 10, 2),
                                           (3, 9, 1), (5, 4, 1), (2, 8, None)])
def test_rows_equal_table_indexed_by_joint_action(dtype, n, batch, group):
    gen = torch.Generator().manual_seed(n * 1000 + batch)
    tables = random_tables(n, dtype, gen)
    lookup = JointTables(tables, n, batch, group)
    for _ in range(3):
        actions = torch.randint(0, n, (batch, 2), generator=gen)
        joint = actions[:, 0] * n + actions[:, 1]
        codes = lookup.codes(actions)
        assert codes.shape == (batch // lookup.group,)
        rows = lookup.rows(codes, *tables)
        for (name, table), got in zip(tables.items(), rows, strict=True):
            want = table[joint]
            assert got.dtype == want.dtype and got.shape == want.shape and got.is_contiguous()
            assert torch.equal(got.view(torch.uint8) if got.dtype != torch.long else got,
                               want.view(torch.uint8) if want.dtype != torch.long else want), name


def test_group_size_follows_the_table_limit_and_the_batch():
    cpu = torch.device("cpu")
    assert group_size(2, 4096, cpu) == 4 and group_size(2, 6, cpu) == 2
    assert group_size(2, 7, cpu) == 1
    assert group_size(3, 12, cpu) == 2  # 9 ** 4 rows would be too many
    assert group_size(17, 12, cpu) == 1 and 17 ** 4 > MAX_GROUP_ROWS
    assert group_size(2, 4096, torch.device("meta")) == 1


def test_a_group_that_does_not_divide_the_batch_is_refused():
    tables = {"t": torch.zeros(4, 2)}
    with pytest.raises(ValueError, match="does not divide batch_size 6"):
        JointTables(tables, 2, 6, group=4)
    with pytest.raises(ValueError, match="group 0"):
        JointTables(tables, 2, 6, group=0)


def test_returned_tensors_are_not_overwritten_by_later_rounds():
    env = BatchedIteratedGame("ipd", 8, 10)
    env.reset()
    obs, rewards, *_ = env.step(torch.zeros(8, 2, dtype=torch.long))
    states = env.states
    kept = [x.clone() for x in (obs, rewards, states)]
    env.step(torch.ones(8, 2, dtype=torch.long))
    assert all(torch.equal(a, b) for a, b in zip(kept, (obs, rewards, states), strict=True))
    assert not torch.equal(env.states, states)


def test_a_copy_taken_before_the_states_are_read_replays_them():
    env = BatchedIteratedGame("ipd", 8, 10)
    env.reset()
    env.step(torch.tensor([[0, 1]] * 8))
    twin = copy.deepcopy(env)
    assert torch.equal(twin.states, env.states)
    assert env.states.tolist() == [[2, 3]] * 8

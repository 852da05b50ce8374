"""Games and envs survive copy.deepcopy, pickle and a spawned process, replaying the same play.

This is what ``pettingzoo.register(..., kwargs={"game": g})`` + ``pettingzoo.make``, TorchRL's
``SerialEnv(create_env_kwargs=...)`` and spawn-based multiprocessing need.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle

import numpy as np
import pytest
import torch
from deep_equal import same

from lola_games.envs import BatchedIteratedGame, CheckedAECWrapper, iterated
from lola_games.envs.registration import HAS_REGISTRY
from lola_games.games.matrix import GAMES, MatrixGame
from lola_games.games.registry import get_game

# a custom game (not a built-in one, which pickles by name)
CUSTOM = MatrixGame(
    "custom_pd",
    ("C", "D"),
    np.stack([np.array([[-1.0, -4.0], [0.5, -2.0]]), np.array([[-1.5, -3.0], [0.0, -2.5]])]),
    reference_levels={"both C": -1.25},
    description="an asymmetric prisoner's dilemma",
)
ROUNDS = 12


def deep(obj):
    return copy.deepcopy(obj)


def pickled(obj):
    return pickle.loads(pickle.dumps(obj))


COPIES = {"deepcopy": deep, "pickle": pickled}


def joint_actions(n_rounds: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(n_rounds, 2))


# -- games ---------------------------------------------------------------------------------


@pytest.mark.parametrize("copier", list(COPIES))
def test_custom_game_copies_are_equal_and_immutable(copier):
    game = COPIES[copier](CUSTOM)
    assert game is not CUSTOM
    assert (game.name, game.action_names, game.description) == (
        CUSTOM.name, CUSTOM.action_names, CUSTOM.description)
    assert np.array_equal(game.payoffs, CUSTOM.payoffs) and game.payoffs.dtype == np.float64
    assert dict(game.reference_levels) == {"both C": -1.25}
    assert not game.payoffs.flags.writeable
    with pytest.raises(ValueError):
        game.payoffs[0, 0, 0] = 1.0
    with pytest.raises(TypeError):
        game.reference_levels["x"] = 0.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        game.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("copier", list(COPIES))
def test_builtin_games_and_the_registry_copy(copier):
    for name, game in GAMES.items():
        assert COPIES[copier](game) is get_game(name)  # immutable: the same object
    assert dict(COPIES[copier](GAMES)) == dict(GAMES)
    levels = COPIES[copier](get_game("ipd").reference_levels)
    assert dict(levels) == {"mutual cooperation": -1.0, "mutual defection": -2.0}


# -- envs: a copy replays the original's trajectory ------------------------------------------


def play_parallel(env, actions: np.ndarray, reset_seed: int | None) -> list:
    """Observations, rewards and done flags of ``actions`` (resetting when an episode ends)."""
    out = []
    if reset_seed is not None:
        out.append(env.reset(seed=reset_seed)[0])
    for a0, a1 in actions:
        if not env.agents:
            out.append(env.reset()[0])
        obs, rew, term, trunc, info = env.step({"player_0": int(a0), "player_1": int(a1)})
        out.append((obs, rew, term, trunc, info))
    return out


def play_aec(env, actions: np.ndarray, reset_seed: int | None) -> list:
    """``env.last()`` before each move; an agent that is done steps ``None``."""
    out = []
    if reset_seed is not None:
        env.reset(seed=reset_seed)
    for action in actions.reshape(-1):
        if not env.agents:
            env.reset()
        agent = env.agent_selection
        obs, reward, term, trunc, info = env.last()
        env.step(None if term or trunc else int(action))
        out.append((agent, obs, reward, term, trunc, info))
    return out


def play_batched(env, actions: np.ndarray, reset_seed: int | None) -> list:
    out = []
    if reset_seed is not None:
        out.append(env.reset(seed=reset_seed)[0])
    batch = torch.as_tensor(actions).expand(env.batch_size, *actions.shape).transpose(0, 1)
    for a in batch:
        out.append(env.step(a.contiguous()))
    return out


ENVS = {
    "parallel": (lambda: iterated.parallel_env(CUSTOM, max_cycles=7, continuation_prob=0.8),
                 play_parallel),
    "raw_aec": (lambda: iterated.raw_env(CUSTOM, max_cycles=7, continuation_prob=0.8),
                play_aec),
    "checked_aec": (lambda: iterated.env(CUSTOM, max_cycles=7, continuation_prob=0.8),
                    play_aec),
    "batched": (lambda: BatchedIteratedGame(CUSTOM, 64, 7, continuation_prob=0.8),
                play_batched),
}


@pytest.mark.parametrize("kind", list(ENVS))
@pytest.mark.parametrize("copier", list(COPIES))
def test_env_copies_replay_the_same_trajectory(kind, copier):
    make, play = ENVS[kind]
    actions = joint_actions(ROUNDS)
    # copied before the first reset, then reset with the same seed
    original, clone = make(), COPIES[copier](make())
    assert same(play(original, actions, 3), play(clone, actions, 3))
    # copied mid-episode: the copy carries the RNG and the history
    env = make()
    play(env, actions[:5], 11)
    clone = COPIES[copier](env)
    assert same(play(env, actions[5:], None), play(clone, actions[5:], None))


@pytest.mark.parametrize("kind", list(ENVS))
def test_the_trajectories_depend_on_the_seed(kind):
    """The comparisons above are sensitive: the continuation coin differs between seeds."""
    make, play = ENVS[kind]
    actions = joint_actions(ROUNDS)
    assert not same(play(make(), actions, 3), play(make(), actions, 4))


def test_checked_aec_copy_keeps_its_checks():
    env = pickled(iterated.env(CUSTOM))
    assert isinstance(env, CheckedAECWrapper)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        env.step(2)


def _play_in_worker(payload: bytes) -> list:
    """Runs in a spawned process: unpickle an env and play the fixed actions."""
    kind, env = pickle.loads(payload)
    _, play = ENVS[kind]
    return play(env, joint_actions(ROUNDS), 5)


def test_spawned_worker_replays_the_same_trajectory():
    ctx = multiprocessing.get_context("spawn")
    kinds = list(ENVS)
    payloads = [pickle.dumps((kind, ENVS[kind][0]())) for kind in kinds]
    with ctx.Pool(1) as pool:
        remote = pool.map(_play_in_worker, payloads)
    for kind, got in zip(kinds, remote, strict=True):
        make, play = ENVS[kind]
        assert same(got, play(make(), joint_actions(ROUNDS), 5)), kind


# -- registries and wrappers ----------------------------------------------------------------


@pytest.mark.skipif(not HAS_REGISTRY, reason="PettingZoo < 1.27 has no registry")
@pytest.mark.parametrize("env_type", ["parallel", "aec"])
def test_pettingzoo_register_with_a_game_kwarg_then_make(env_type):
    import pettingzoo

    env_id = f"lola_games_test/custom_pd_{env_type}-v0"
    entry = "lola_games.envs.iterated:" + ("parallel_env" if env_type == "parallel" else "env")
    pettingzoo.register(env_type, env_id, entry_point=entry,
                        kwargs={"game": CUSTOM, "continuation_prob": 0.8})
    try:
        env = pettingzoo.make(env_type, env_id, max_cycles=7)
        assert np.array_equal(env.unwrapped.game.payoffs, CUSTOM.payoffs)
        play = play_parallel if env_type == "parallel" else play_aec
        direct = ENVS["parallel" if env_type == "parallel" else "checked_aec"][0]()
        actions = joint_actions(ROUNDS)
        assert same(play(env, actions, 2), play(direct, actions, 2))
    finally:
        registry = pettingzoo.parallel_registry if env_type == "parallel" else (
            pettingzoo.aec_registry)
        registry.pop(env_id, None)


@pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested")
def test_torchrl_serial_env_with_create_env_kwargs():
    torchrl_envs = pytest.importorskip("torchrl.envs", reason="torchrl is not installed")

    def make(game, continuation_prob):
        return torchrl_envs.PettingZooWrapper(
            iterated.parallel_env(game, max_cycles=6, continuation_prob=continuation_prob),
            categorical_actions=True, use_mask=True)

    def rollout():
        env = torchrl_envs.SerialEnv(2, make, create_env_kwargs={"game": CUSTOM,
                                                                 "continuation_prob": 0.8})
        env.set_seed(0)
        torch.manual_seed(0)  # the random actions of rollout()
        try:
            return env.rollout(8, break_when_any_done=False)
        finally:
            env.close()

    first, second = rollout(), rollout()
    actions = first["player", "action"]  # [workers, steps, 2 players]
    rewards = first["next", "player", "reward"].squeeze(-1)
    assert torch.equal(actions, second["player", "action"])
    assert torch.equal(rewards, second["next", "player", "reward"].squeeze(-1))
    for (a0, a1), (r0, r1) in zip(actions.reshape(-1, 2).tolist(),
                                  rewards.reshape(-1, 2).tolist(), strict=True):
        assert (r0, r1) == CUSTOM.rewards(a0, a1)  # the workers play the custom game

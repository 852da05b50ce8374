"""Rows of the envs: lola-games's batched envs against JaxMARL's and pax's JAX envs.

Both sides step ``B`` games with uniformly random actions drawn before the timed loop; one
repetition is one episode. The differences below were read from the peers' code
(``jaxmarl/environments/coin_game/coin_game.py`` of JaxMARL 0.2.0,
``pax/envs/iterated_matrix_game.py`` of ucl-dark/pax).
"""

from __future__ import annotations

import json
import sys

from benchmarks.peers.harness import Row
from lola_games.envs.batched import reward_table
from lola_games.games.registry import get_game

__all__ = ["ENV_ROWS"]


def worker(name: str, *args: object) -> tuple[str, ...]:
    """argv of ``benchmarks.peers.workers.<name>`` run by this Python."""
    return (sys.executable, "-m", f"benchmarks.peers.workers.{name}", *map(str, args))


COIN_ROUNDS = 150
COIN_SETTINGS = (
    "lola-games: `BatchedCoinGame(CoinGame(3, 150), B)`, `step(actions, check=False)` 150 "
    "times per repetition (dtype, shape and device still checked), float32. JaxMARL: "
    "`make('coin_game', num_inner_steps=150, num_outer_steps=1)`, one jitted `lax.scan` of "
    "`vmap(env.step)` over 150 rounds, a key per game and round, each round's obs, rewards "
    "and dones carried out of the scan. Both: moves uniform over the four moves."
)
COIN_DIFFERENCES = (
    "JaxMARL's board always holds two coins, one of each colour, and a picked coin reappears "
    "on any of the 9 cells (also under a player or the other coin); ours holds one coin, "
    "which changes colour when picked and reappears on a cell no player stands on, and the "
    "players start on different cells. JaxMARL has a fifth action (stay, unused here), "
    "observes int8 `[36]` per player (ours float32 `[2, 4, 3, 3]`), sets the rewards of an "
    "episode's last round to 0, draws a reset board in every `step`, and keeps "
    "cooperation counters in its state; ours returns who picked which coin in `info`."
)
IPD_ROUNDS = 100
IPD_SETTINGS = (
    "lola-games: `BatchedIteratedGame('ipd', B, 100)`, `step(actions, check=False)` 100 "
    "times per repetition (dtype, shape and device still checked), float32. pax: "
    "`IteratedMatrixGame(num_inner_steps=100, num_outer_steps=1)` with the same payoffs, one "
    "jitted `lax.scan` of `vmap(env.step)` over 100 rounds, each round's obs, rewards and "
    "done carried out of the scan."
)
IPD_DIFFERENCES = (
    "pax's state is only its round counters and it checks no input; it observes int8 "
    "one-hot `[5]` per player (ours float32 `[2, 5]`, the same encoding) and shows START "
    "after an episode's last round without that round's observation (ours returns it in "
    "`info['final_obs']`); ours also keeps each game's memory-one states (`env.states`)."
)
IPD_PAYOFFS = json.dumps(reward_table(get_game("ipd")).tolist())  # rows CC, CD, DC, DD

COIN_EPISODES = {512: 32, 4096: 4, 32768: 1}
"""Episodes per repetition (both sides): about 2.5 M game-rounds, so that a repetition
takes tenths of a second."""
IPD_EPISODES = 20
"""Episodes per repetition (both sides): 8.2 M game-rounds."""


def coin_row(batch: int) -> Row:
    episodes = COIN_EPISODES[batch]
    args = ("--batch", batch, "--rounds", COIN_ROUNDS, "--episodes", episodes)
    return Row(
        work=f"Coin Game env, B = {batch}, {COIN_ROUNDS} rounds",
        peer="JaxMARL coin_game",
        peer_cmd=worker("jaxmarl_coin", *args),
        ours_cmd=worker("ours_env", "--game", "coin", *args),
        settings=COIN_SETTINGS,
        differences=COIN_DIFFERENCES,
    )


def ipd_row(batch: int) -> Row:
    args = ("--batch", batch, "--rounds", IPD_ROUNDS, "--episodes", IPD_EPISODES)
    return Row(
        work=f"IPD env, B = {batch}, {IPD_ROUNDS} rounds",
        peer="pax IteratedMatrixGame",
        peer_cmd=worker("pax_ipd", *args, "--payoffs", IPD_PAYOFFS),
        ours_cmd=worker("ours_env", "--game", "ipd", *args),
        settings=IPD_SETTINGS,
        differences=IPD_DIFFERENCES,
    )


ENV_ROWS: list[Row] = [coin_row(b) for b in COIN_EPISODES] + [ipd_row(4096)]

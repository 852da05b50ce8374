"""The fixed Coin Game policies (always cooperate / always defect): their moves on hand-made
boards, on every board against a reference written from the LOQA authors' definition, and in
play through the sampler."""

from __future__ import annotations

import itertools

import pytest
import torch

from lola_games.envs.coin_boards import coin_observations
from lola_games.games.coin import MOVES, CoinGame
from lola_games.rollouts.coin import coin_metrics, sample_coin_rollout
from lola_games.rollouts.coin_fixed import (
    GAP,
    CoinAlwaysCooperatePolicy,
    CoinAlwaysDefectPolicy,
    move_distances,
)

RIGHT, LEFT, DOWN, UP = range(4)
ALLC, ALLD = CoinAlwaysCooperatePolicy(), CoinAlwaysDefectPolicy()


def board(n, me, other, coin, coin_is_mine, player=0):
    """Observation ``[4, n, n]`` of ``player`` with cells given as (row, col)."""
    cell = [r * n + c for r, c in (me, other, coin)]
    cells = [cell[0], cell[1], cell[2]] if player == 0 else [cell[1], cell[0], cell[2]]
    owner = player if coin_is_mine else 1 - player
    return coin_observations(CoinGame(n), torch.tensor([cells]), torch.tensor([owner]),
                             player=player)[0]


def chosen(policy, obs):
    """The set of moves with the top logit (and check the others are ``-GAP``)."""
    logits, hidden = policy(obs[None, None])
    assert hidden is None and logits.shape == (1, 1, 4)
    top = logits[0, 0] == 0
    assert torch.all(logits[0, 0][~top] == -GAP)
    return {int(a) for a in top.nonzero()}


def test_defect_walks_to_the_coin_and_wraps_around_the_torus():
    # 3 x 3, me (0, 0), coin (0, 2): one step left wraps onto the coin
    assert chosen(ALLD, board(3, (0, 0), (1, 1), (0, 2), coin_is_mine=False)) == {LEFT}
    assert chosen(ALLD, board(3, (0, 0), (1, 1), (2, 0), coin_is_mine=True)) == {UP}
    # 5 x 5, me (0, 0), coin (0, 3): two steps left (wrapping) beat three right
    assert chosen(ALLD, board(5, (0, 0), (4, 4), (0, 3), coin_is_mine=False)) == {LEFT}
    # a tie: the coin diagonal, right and down both lead next to it
    assert chosen(ALLD, board(3, (0, 0), (2, 2), (1, 1), coin_is_mine=False)) == {RIGHT, DOWN}


def test_cooperate_takes_its_own_coin_and_flees_the_others():
    mine = board(3, (0, 0), (1, 1), (0, 2), coin_is_mine=True)
    assert chosen(ALLC, mine) == chosen(ALLD, mine) == {LEFT}
    # the other's coin next to it (wrapping): up and down lead 2 away, right and left 1 or 0
    theirs = board(3, (0, 0), (1, 1), (0, 2), coin_is_mine=False)
    assert chosen(ALLC, theirs) == {DOWN, UP}
    # 5 x 5: the other's coin two steps right; left (wrapping to column 4) leads 2 away,
    # up and down 1 + 2 = 3 away
    theirs = board(5, (2, 0), (0, 0), (2, 2), coin_is_mine=False)
    assert chosen(ALLC, theirs) == {DOWN, UP}


def test_the_colour_is_read_from_the_observers_side():
    # the same board seen by player 1: its own coin is channel 2 as well
    obs = board(3, (0, 0), (1, 1), (0, 2), coin_is_mine=True, player=1)
    assert chosen(ALLC, obs) == {LEFT}
    obs = board(3, (0, 0), (1, 1), (0, 2), coin_is_mine=False, player=1)
    assert chosen(ALLC, obs) == {DOWN, UP}


def reference_moves(n, me, coin, coin_is_mine, cooperate):
    """Written from the definition (LOQA, coin_game.py): torus distance after each move, the
    least (the greatest for a cooperator facing the other's coin)."""
    dist = []
    for dr, dc in MOVES:
        r, c = (me[0] + dr) % n, (me[1] + dc) % n
        dx, dy = abs(r - coin[0]), abs(c - coin[1])
        dist.append(min(dx, n - dx) + min(dy, n - dy))
    target = max(dist) if cooperate and not coin_is_mine else min(dist)
    return {a for a in range(4) if dist[a] == target}


def as_sets(mask):
    return [{int(a) for a in row.nonzero()} for row in mask]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_every_board_against_the_reference(n):
    game = CoinGame(n)
    boards = [(a, b, c, owner) for a, b, c in itertools.product(range(n * n), repeat=3)
              if c not in (a, b) for owner in (0, 1)]
    cells = torch.tensor([bd[:3] for bd in boards])
    owner = torch.tensor([bd[3] for bd in boards])
    for player in (0, 1):
        obs = coin_observations(game, cells, owner, player=player)
        for policy, cooperate in ((ALLD, False), (ALLC, True)):
            want = [reference_moves(n, divmod(bd[player], n), divmod(bd[2], n),
                                    bd[3] == player, cooperate) for bd in boards]
            assert as_sets(policy.chosen(obs)) == want


def test_distances_batch_over_leading_dimensions():
    obs = torch.stack([board(3, (0, 0), (1, 1), (0, 2), True), board(3, (2, 2), (1, 1), (0, 0),
                                                                     False)])
    d = move_distances(obs.view(2, 1, 1, 4, 3, 3))
    assert d.shape == (2, 1, 1, 4)
    assert d[0, 0, 0].tolist() == [1, 0, 2, 2]
    assert d[1, 0, 0].tolist() == [1, 2, 1, 2]


def params(policy, n_seeds):
    return {"gap": torch.full((n_seeds,), GAP)}


def test_in_play_cooperate_never_takes_the_others_coins_and_ties_are_uniform():
    game = CoinGame(3, 40)
    gen = torch.Generator().manual_seed(0)
    roll = sample_coin_rollout(game, (ALLC, ALLD), (params(ALLC, 2), params(ALLD, 2)), 64,
                               generator=gen)
    assert not roll.picked_other[..., 0].any()  # allc: only its own coins
    metrics = coin_metrics(roll)
    assert torch.all(metrics["own_coin_share"][0] == 1.0)
    assert torch.all(metrics["coins_per_round"][1] > metrics["coins_per_round"][0])
    # every move taken is one the policy chooses; ties are split about evenly
    obs = roll.obs(1)
    allowed = ALLD.chosen(obs)
    taken = roll.actions[..., 1]
    assert allowed.gather(-1, taken[..., None]).all()
    tie = allowed.sum(-1) == 2
    first = allowed.int().argmax(-1)
    share = (taken[tie] == first[tie]).double().mean()
    n = int(tie.sum())
    assert n > 500 and abs(share - 0.5) < 4 * 0.5 / n**0.5

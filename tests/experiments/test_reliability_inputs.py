"""Refused tournaments, sweeps and meta-trainings leave their directories as they were;
damaged saved files give one error naming the file and the field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lola_games.agents.mfos.config import MFOSConfig
from lola_games.agents.mfos.saved import load_meta_training
from lola_games.agents.mfos.training import meta_train
from lola_games.cli.app import main as cli_main
from lola_games.experiments.sweep import sweep
from lola_games.experiments.tournament import tournament


def _listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


BAD = [dict(n_seeds=0), dict(gamma=math.nan), dict(seed=-1), dict(log_every=-1),
       dict(n_seeds=1.5), dict(log_every=0), dict(formats="png"), dict(backend="ray"),
       dict(hparams=["lr"])]


@pytest.mark.parametrize("bad", BAD, ids=[next(iter(b)) + "=" + repr(next(iter(b.values())))
                                          for b in BAD])
def test_refused_tournament_writes_nothing(tmp_path: Path, bad: dict) -> None:
    out = tmp_path / "t"
    kw = dict(n_seeds=2, n_updates=2, out=out, formats=())
    kw.update(bad)
    with pytest.raises((ValueError, TypeError)):
        tournament("ipd", ["naive", "tft"], **kw)
    assert _listing(out) == []


def test_empty_out_is_refused_everywhere(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        tournament("ipd", ["naive"], n_seeds=2, n_updates=2, out="", formats=())
    with pytest.raises(ValueError, match="empty"):
        sweep("ipd", ["naive", "naive"], {"lr": [1]}, n_seeds=2, n_updates=2, out="")
    with pytest.raises(ValueError, match="empty"):
        meta_train("ipd", "naive", 1, MFOSConfig(meta_episodes=1, batch_size=2,
                                                 inner_steps=2, hidden_size=4), out_dir="")
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("grid", [{"lr": [1, 1.0]}, {}, {"lr": 1}])
def test_bad_sweep_grid_is_refused(tmp_path: Path, grid: dict) -> None:
    with pytest.raises(ValueError, match="grid"):
        sweep("ipd", ["naive", "naive"], grid, n_seeds=2, n_updates=2, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("seed", [-1, 2 ** 70])
def test_meta_train_seed_is_checked(tmp_path: Path, seed: int) -> None:
    with pytest.raises(ValueError, match="seed"):
        meta_train("ipd", "naive", 1, MFOSConfig(meta_episodes=1), seed=seed,
                   out_dir=tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("content", ["null", "[]", "[" * 100_000])
def test_damaged_tournament_json(tmp_path: Path, content: str) -> None:
    out = tmp_path / "t"
    out.mkdir()
    (out / "tournament.json").write_text(content)
    with pytest.raises(ValueError, match="tournament.json"):
        tournament("ipd", ["naive"], n_seeds=2, n_updates=2, out=out, formats=())


def test_tournament_refuses_links_and_finishes(tmp_path: Path) -> None:
    out = tmp_path / "t"
    kw = dict(n_seeds=2, n_updates=2, out=out, formats=())
    tournament("ipd", ["naive", "tft"], **kw)
    victim = tmp_path / "victim.csv"
    victim.write_text("keep")
    (out / "results.csv").unlink()
    (out / "results.csv").symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        tournament("ipd", ["naive", "tft"], **kw)
    assert victim.read_text() == "keep"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mfos") / "m"
    meta_train("ipd", "naive", 2, MFOSConfig(meta_episodes=2, batch_size=2, inner_steps=2,
                                             hidden_size=4), out_dir=out)
    return out


def _copy(saved: Path, tmp_path: Path) -> Path:
    out = tmp_path / "m"
    out.mkdir()
    for p in saved.iterdir():
        if not p.name.startswith("."):
            (out / p.name).write_bytes(p.read_bytes())
    return out


@pytest.mark.parametrize("edit,match", [
    (lambda c: c.pop("policy_dim"), "policy_dim"),
    (lambda c: c.__setitem__("gamma", "x"), "gamma"),
    (lambda c: c["mfos"].pop("hidden_size"), "hidden_size"),
])
def test_mfos_config_fields(saved: Path, tmp_path: Path, edit, match: str) -> None:
    out = _copy(saved, tmp_path)
    config = json.loads((out / "config.json").read_text())
    edit(config)
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"config.json.*{match}"):
        load_meta_training(out)


def test_mfos_config_deep_nesting(saved: Path, tmp_path: Path) -> None:
    out = _copy(saved, tmp_path)
    (out / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="config.json.*nested"):
        load_meta_training(out)


@pytest.mark.parametrize("row,match", [("1,7,0.0,0.0", "seed 7"),
                                       ("99999999999,0,0.0,0.0", "meta_episode")])
def test_mfos_metrics_ranges(saved: Path, tmp_path: Path, row: str, match: str) -> None:
    out = _copy(saved, tmp_path)
    with open(out / "meta_metrics.csv", "a") as f:
        f.write(row + "\n")
    with pytest.raises(ValueError, match=f"meta_metrics.csv.*{match}"):
        load_meta_training(out)


def test_mfos_writer_refuses_links(saved: Path, tmp_path: Path) -> None:
    out = _copy(saved, tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (out / "meta_metrics.csv").unlink()
    (out / "meta_metrics.csv").symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        meta_train("ipd", "naive", 1, MFOSConfig(meta_episodes=1, batch_size=2,
                                                 inner_steps=2, hidden_size=4),
                   out_dir=out, overwrite=True)
    assert victim.read_text() == "keep"


# -- reliability-2: inputs that were accepted silently or refused unclearly ---------------------


@pytest.mark.parametrize("shapes", [(1.5,), [(1.5,), ()], [(), (0,)], [(), (True,)], "ab"])
def test_differentiable_game_shapes_are_checked(shapes) -> None:
    from lola_games.games.differentiable import DifferentiableGame
    with pytest.raises(ValueError, match="'g': shapes"):
        DifferentiableGame("g", lambda x, y: (x, y), shapes=shapes)


def test_losses_cut_off_from_the_parameters_are_named() -> None:
    import torch

    from lola_games.games.differentiable import DifferentiableGame
    from lola_games.runner.training import train
    flat = DifferentiableGame("flat", lambda x, y: (torch.zeros_like(x.detach()),
                                                    torch.zeros_like(y.detach())))
    with pytest.raises(ValueError, match="game 'flat'.*do not depend on the players' param"):
        train(flat, ["naive", "naive"], n_seeds=2, n_updates=2)
    # an uncoupled game is fine: each loss depends on its own player's parameters
    sep = DifferentiableGame("sep", lambda x, y: (x ** 2, y ** 2))
    train(sep, ["naive", "naive"], n_seeds=2, n_updates=2)


def _my_tandem():
    from lola_games.games.differentiable import DifferentiableGame
    return DifferentiableGame("my_tandem", lambda x, y: ((x + y) ** 2 - 2 * x,
                                                         (x + y) ** 2 - 2 * y))


def test_tournament_and_sweep_take_a_custom_game_object(tmp_path: Path) -> None:
    game = _my_tandem()
    t = tournament(game, ["naive", "lola"], n_seeds=2, n_updates=3, out=tmp_path / "t",
                   formats=())
    assert t.matrix.shape == (2, 2) and (tmp_path / "t" / "results.csv").exists()
    s = sweep(game, ["naive", "naive"], {"lr": [0.1, 0.2]}, n_seeds=2, n_updates=3,
              out=tmp_path / "s", formats=())
    assert s is not None and (tmp_path / "s" / "results.csv").exists()
    # resumed with the same object: nothing to redo, same tables
    before = (tmp_path / "t" / "results.csv").read_bytes()
    tournament(game, ["naive", "lola"], n_seeds=2, n_updates=3, out=tmp_path / "t",
               formats=())
    assert (tmp_path / "t" / "results.csv").read_bytes() == before


@pytest.mark.parametrize("options", [{"cells": (0, 1, 2), "coin_owner": True},
                                     {"cells": (0, True, 2), "coin_owner": 0},
                                     {"cells": (0, 1, 2), "coin_owner": np.bool_(0)}])
def test_coin_game_reset_refuses_bools(options) -> None:
    from lola_games.envs import coin_game_v0
    env = coin_game_v0.parallel_env(grid_size=3)
    env.reset(seed=0)
    board = env.board
    with pytest.raises(TypeError, match="'cells' must be 3 ints and 'coin_owner' an int"):
        env.reset(options=options)
    assert env.board == board


@pytest.mark.parametrize("bad", ["cells", "coin_owner"])
def test_batched_coin_reset_refuses_bools(bad: str) -> None:
    import torch

    from lola_games.envs.batched_coin import BatchedCoinGame
    env = BatchedCoinGame("coin_game", 2)
    options = {"cells": torch.tensor([[0, 1, 2], [3, 4, 5]]), "coin_owner": torch.tensor([0, 1])}
    env.reset(options=options)
    options[bad] = options[bad].bool()
    with pytest.raises(TypeError, match=f"{bad} must be an integer tensor"):
        env.reset(options=options)


@pytest.mark.parametrize("players", [("TitForTat", "Defector"), "TitForTat", ("TitForTat",)])
def test_axelrod_players_as_strings_are_refused(players) -> None:
    axl = pytest.importorskip("axelrod")
    from lola_games.interop.axelrod import play_in_env
    with pytest.raises(TypeError, match="players.*Axelrod player object"):
        play_in_env(players, 3)
    with pytest.raises(TypeError, match=r"players\[1\].*axelrod.Defector\(\)"):
        play_in_env((axl.TitForTat(), "Defector"), 3)


def test_ray_address_of_a_plain_tcp_server_fails_fast() -> None:
    """Something that is not Ray listens at the address: a clear error naming it, in seconds
    (ray.init used to wait on it)."""
    pytest.importorskip("ray")
    import socket
    import threading
    import time

    from lola_games.runner.backends import make_backend
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def serve() -> None:  # accept and stay silent, as a non-Ray TCP service may
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    start = time.monotonic()
    try:
        with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}.*not a Ray cluster"):
            make_backend(ray=f"127.0.0.1:{port}")
    finally:
        server.close()
        for conn in accepted:
            conn.close()
    assert time.monotonic() - start < 15


def test_mfos_entrant_without_a_path_is_named(tmp_path: Path, capsys) -> None:
    """``--agents mfos`` in a tournament: one error naming what mfos needs, nothing written
    (it was "MFOS.__init__() missing 1 required positional argument")."""
    out = tmp_path / "t"
    assert cli_main(["tournament", "--agents", "mfos", "naive", "--seeds", "2", "--updates",
                     "2", "--out", str(out), "--no-progress", "--formats", ""]) == 2
    err = capsys.readouterr().err
    assert "mfos needs path" in err and "mfos:path=DIR" in err
    assert not out.exists()

"""The one grammar of every subcommand, fast --help, and the torch-free name lists."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from lola_games.cli import names
from lola_games.cli.app import main
from lola_games.cli.options import Formatter, parse_agent_spec, parse_value
from lola_games.cli.parsers import build_parser

PER_COMMAND = {"--out", "--seeds", "--updates", "--metric", "--agents"}
"""Options whose default (or meaning) is the subcommand's own."""


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_speaks_one_grammar():
    seen: dict[str, argparse.Action] = {}
    subs = _subparsers()
    assert set(subs) == {"train", "tournament", "sweep", "reproduce", "meta-train", "plot"}
    for name, p in subs.items():
        formatted = p.format_help()
        assert "%%" not in formatted, name
        options = {o for a in p._actions for o in a.option_strings}
        assert {"--import", "--config"} <= options, name
        assert "--quiet" not in options, name
        if name != "plot":
            assert {"--out", "--device", "--seeds", "--seed", "--overwrite"} <= options, name
        for action in p._actions:
            if not action.option_strings or action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings}"
            shown = Formatter(name)._get_help_string(action)
            if action.default not in (None, False):
                assert "%(default)s" in shown or str(action.default) in shown, (name, action)
            flag = action.option_strings[-1]
            if flag in seen and flag not in PER_COMMAND:
                assert seen[flag].dest == action.dest, (name, flag)
                assert seen[flag].default == action.default, (name, flag)
            seen.setdefault(flag, action)
    assert seen["--device"].default == "cpu"


def test_training_subcommands_share_progress_and_resume():
    for name in ("train", "tournament", "sweep", "reproduce"):
        options = {o for a in _subparsers()[name]._actions for o in a.option_strings}
        assert {"--no-progress", "--resume", "--overwrite"} <= options, name
    for name in ("train", "tournament", "sweep"):
        options = {o for a in _subparsers()[name]._actions for o in a.option_strings}
        assert {"--dtype", "--log-every", "--game", "--gamma"} <= options, name


def test_every_game_is_listed_in_every_game_help():
    from lola_games.games.registry import all_game_names

    for name in ("train", "tournament", "sweep", "meta-train"):
        text = " ".join(_subparsers()[name].format_help().split())
        for game in all_game_names():
            assert game in text, (name, game)


def test_bad_int_names_the_flag(capsys):
    assert _exit(["train", "--seeds", "-4"]) == 2
    assert "--seeds: must be a positive int, got -4" in capsys.readouterr().err


def _exit(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code


def test_name_lists_match_the_library():
    from lola_games.agents.mfos.config import OPPONENTS
    from lola_games.agents.registry import agent_names
    from lola_games.core.builtins import builtin_agent_names, builtin_game_names
    from lola_games.experiments.base import EXPERIMENTS, OWN_LOOP
    from lola_games.experiments.tournament_presets import PRESETS
    from lola_games.games.matrix import GAMES
    from lola_games.rollouts.games import COIN_POLICIES, MATRIX_POLICIES

    assert names.MATRIX_POLICIES == MATRIX_POLICIES and names.COIN_POLICIES == COIN_POLICIES
    assert names.EXPERIMENT_NAMES == (*EXPERIMENTS, *OWN_LOOP)
    assert names.PRESET_NAMES == tuple(PRESETS) and names.MFOS_OPPONENTS == tuple(OPPONENTS)
    assert set(builtin_agent_names()) <= set(agent_names())
    assert builtin_game_names()[:len(GAMES)] == tuple(GAMES)


def test_help_and_parsing_do_not_import_torch():
    code = ("import sys; from lola_games.cli.app import build_parser; "
            "build_parser().parse_args(['train', '--agents', 'lola:lr=1', 'naive']); "
            "build_parser().format_help(); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_agent_specs_and_values():
    assert parse_agent_spec("lola:lr=0.5,eta=1,taylor=true,policy=mlp") == (
        "lola", {"lr": 0.5, "eta": 1, "taylor": True, "policy": "mlp"})
    assert parse_agent_spec("axl:TitForTat") == ("axl:TitForTat", {})
    assert parse_value("3") == 3 and isinstance(parse_value("3.0"), float)
    with pytest.raises(ValueError, match="lola:lr=1,eta"):
        parse_agent_spec("lola:lr=1,eta")

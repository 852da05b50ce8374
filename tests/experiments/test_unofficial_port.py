"""The reference written as the unofficial LOLA-DiCE port is agrees with lola_games' pieces."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lola_games.values.dice import dice_objective, discounted_returns

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "unofficial_port_lola_dice.py"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("unofficial_port_lola_dice", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _memory(ref, target, lp_own, lp_other, values, rewards):
    memory = ref.Memory(target)
    for t in range(rewards.shape[1]):
        memory.add(lp_own[:, t], lp_other[:, t], values[:, t], rewards[:, t])
    return memory


@pytest.mark.parametrize("target", ["rewards", "returns"])
def test_objective_gradients_and_value_loss_match(ref, target):
    gen = torch.Generator().manual_seed(0)
    batch, length = 6, 9
    theta = torch.randn(batch, length, generator=gen, requires_grad=True)
    lp_own, lp_other = torch.nn.functional.logsigmoid(theta), -torch.rand(batch, length)
    values = torch.randn(batch, length, generator=gen)
    rewards = torch.randn(batch, length, generator=gen)
    memory = _memory(ref, target, lp_own, lp_other, values, rewards)
    theirs = memory.dice_objective()
    ours = -dice_objective(rewards, lp_own, lp_other, ref.GAMMA, values).mean()
    torch.testing.assert_close(theirs, ours)
    g_theirs = torch.autograd.grad(theirs, theta, create_graph=True)[0]
    g_ours = torch.autograd.grad(ours, theta, create_graph=True)[0]
    torch.testing.assert_close(g_theirs, g_ours)
    torch.testing.assert_close(torch.autograd.grad(g_theirs.sum(), theta, retain_graph=True)[0],
                               torch.autograd.grad(g_ours.sum(), theta)[0])
    goal = rewards if target == "rewards" else discounted_returns(rewards, ref.GAMMA)
    torch.testing.assert_close(memory.value_loss(), ((goal - values) ** 2).mean())


def test_script_runs(tmp_path):
    out = tmp_path / "curves.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--seeds", "1", "--updates", "1", "--lookaheads", "1",
         "--json", str(out)], check=True, capture_output=True, text=True)
    assert "1 seeds, 1 lookahead(s), value target rewards: final joint score" in done.stdout
    assert out.stat().st_size > 0
    bad = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "0"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "--seeds" in bad.stderr

"""Benchmark worker: one update of the POLA paper's JAX code (Silent-Zebra/POLA,
``jax_files/POLA_dice_jax.py``) on the Coin Game, both agents, as its ``play`` loop does.

    LOLA_GAMES_POLA=/path/to/POLA python -m benchmarks.peers.workers.pola_jax --work lola-dice

The checkout is imported from its path (``--pola`` or the environment variable
``LOLA_GAMES_POLA``); nothing of it is copied here. The module reads its settings from a
global ``args`` that its command line sets, so the worker sets that global (and the
environment globals its ``__main__`` block makes) before calling the code's own update
functions: ``one_outer_step_update_selfagent1`` / ``...2`` scanned over the outer steps,
each agent from fresh copies of both agents' train states, as one iteration of ``play``.
Evaluation (``eval_progress``) is not timed. Works (settings of the README's Coin Game
commands, batch scaled):

* ``lola-dice``: 1 inner step (SGD 0.003), 1 outer step (Adam 0.003), betas 0;
* ``nl-pg``: the same with inner learning rate 0 (the code has no naive learner; its
  README's advice for one is ``lr_in 0``: the inner step is still computed);
* ``pola-dice``: 4 inner steps (SGD 0.01, ``inner_beta`` 5), outer steps (Adam 0.003,
  ``outer_beta`` 150).

Compatibility with current JAX/Flax (the code was written for jax 0.3.25, flax 0.6.3): the
code builds ``nn.GRUCell()`` without a size, which the current Flax requires, so the worker
gives Flax's ``GRUCell`` the run's hidden size as its default; and it samples actions with
TensorFlow Probability's JAX ``Categorical``, whose releases no longer import with current
JAX, so the worker provides that one class: ``sample`` is ``jax.random.categorical`` (what
TFP's JAX substrate calls) and ``log_prob`` the log-softmax at the action.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.peers.workers.protocol import missing, serve

WORKS: dict[str, dict[str, Any]] = {
    "lola-dice": {"inner_steps": 1, "outer_steps": 1, "lr_in": 0.003, "inner_beta": 0.0,
                  "outer_beta": 0.0, "batch_size": 500},
    "nl-pg": {"inner_steps": 1, "outer_steps": 1, "lr_in": 0.0, "inner_beta": 0.0,
              "outer_beta": 0.0, "batch_size": 500},
    "pola-dice": {"inner_steps": 4, "outer_steps": 1, "lr_in": 0.01, "inner_beta": 5.0,
                  "outer_beta": 150.0, "batch_size": 200},
}
COMMON: dict[str, Any] = {
    "env": "coin", "grid_size": 3, "rollout_len": 50, "hidden_size": 64,
    "layers_before_gru": 1, "gamma": 0.96, "gae_lambda": 1.0, "lr_out": 0.003,
    "lr_v": 0.0005, "optim": "adam", "no_baseline": False, "opp_model": False,
    "rev_kl": False, "zero_vals": False, "seed": 1, "split_coins": False,
    "diff_coin_reward": 1.0, "diff_coin_cost": -2.0, "same_coin_reward": 1.0,
    "print_info_each_outer_step": False, "val_update_after_loop": False, "std": 0.1,
    "init_state_coop": False, "contrib_factor": 1.33, "inspect_ipd": False,
}


class Categorical:
    """TFP's ``tfd.Categorical(logits=...)`` as the POLA code uses it (see the docstring)."""

    def __init__(self, logits: Any) -> None:
        self.logits = logits

    def sample(self, seed: Any) -> Any:
        import jax  # noqa: PLC0415

        return jax.random.categorical(seed, self.logits)

    def log_prob(self, actions: Any) -> Any:
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415

        logp = jax.nn.log_softmax(self.logits)
        return jnp.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]


def provide_tfp() -> None:
    """Install the ``Categorical`` above as ``tensorflow_probability.substrates.jax``."""
    names = ("tensorflow_probability", "tensorflow_probability.substrates",
             "tensorflow_probability.substrates.jax")
    modules = [types.ModuleType(n) for n in names]
    modules[2].distributions = types.SimpleNamespace(Categorical=Categorical)
    modules[1].jax = modules[2]
    modules[0].substrates = modules[1]
    sys.modules.update(zip(names, modules, strict=True))


def load(pola: Path, settings: dict[str, Any]) -> Any:
    """The POLA module, imported from the checkout, with its globals set for ``settings``."""
    import flax.linen as nn  # noqa: PLC0415 (optional peer dependency)

    class SizedGRUCell(nn.GRUCell):
        features: int = settings["hidden_size"]

    nn.GRUCell = SizedGRUCell
    provide_tfp()
    sys.path.insert(0, str(pola / "jax_files"))
    import coin_game_jax  # noqa: PLC0415
    import jax  # noqa: PLC0415
    import POLA_dice_jax as code  # noqa: PLC0415

    code.args = argparse.Namespace(**settings)
    code.use_baseline = True
    code.env = coin_game_jax.CoinGame(grid_size=3)
    code.vec_env_reset = jax.vmap(code.env.reset)
    code.vec_env_step = jax.vmap(code.env.step)
    code.input_size, code.action_size = 4 * 3 * 3, 4
    return code


def build(pola: Path, work: str) -> Callable[[], None]:
    """One update of both agents, as one iteration of the code's ``play`` loop."""
    import jax  # noqa: PLC0415
    from flax.training.train_state import TrainState  # noqa: PLC0415

    code = load(pola, {**COMMON, **WORKS[work]})
    key = jax.random.PRNGKey(1)
    states = list(code.get_init_trainstates(key, code.action_size, code.input_size))

    def copy(ts: Any) -> Any:
        return TrainState.create(apply_fn=ts.apply_fn, params=ts.params, tx=ts.tx)

    def update() -> None:
        nonlocal key
        th1, val1, th2, val2 = states
        key, k1, k2 = jax.random.split(key, 3)
        stuff = (k1, copy(th1), copy(val1), copy(th2), copy(val2), copy(th1), copy(val1))
        stuff, _ = jax.lax.scan(code.one_outer_step_update_selfagent1, stuff, None,
                                code.args.outer_steps)
        new_th1, new_val1 = stuff[1], stuff[2]
        stuff = (k2, copy(th1), copy(val1), copy(th2), copy(val2), copy(th2), copy(val2))
        stuff, _ = jax.lax.scan(code.one_outer_step_update_selfagent2, stuff, None,
                                code.args.outer_steps)
        states[:] = [new_th1, new_val1, stuff[3], stuff[4]]
        jax.block_until_ready([s.params for s in states])

    return update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", choices=sorted(WORKS), required=True)
    parser.add_argument("--pola", default=os.environ.get("LOLA_GAMES_POLA"),
                        help="path of a Silent-Zebra/POLA checkout (or LOLA_GAMES_POLA)")
    args = parser.parse_args()
    if not args.pola or not (Path(args.pola) / "jax_files" / "POLA_dice_jax.py").is_file():
        missing(f"--pola / LOLA_GAMES_POLA names no POLA checkout (got {args.pola!r})")
    try:
        import jax  # noqa: F401, PLC0415  (optional: the peers extra)
    except ImportError:
        missing("JAX is not installed (pip install 'lola-games[peers]')")
    serve(lambda: build(Path(args.pola), args.work))


if __name__ == "__main__":
    main()

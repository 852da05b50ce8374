"""pax's worker: ``IteratedMatrixGame`` of ucl-dark/pax, ``jit(lax.scan(vmap(step)))``.

    LOLA_GAMES_PAX=/path/to/pax python -m benchmarks.peers.workers.pax_ipd --batch 4096

pax is not a package: only its env module, ``pax/envs/iterated_matrix_game.py`` of the
checkout named by ``LOLA_GAMES_PAX``, is loaded (it needs ``jax``, ``chex`` and ``gymnax``,
which the ``peers`` extra installs). One repetition is ``--episodes`` calls of a jitted
``lax.scan`` over ``--rounds`` rounds of the env's ``step`` vmapped over ``--batch`` games,
with actions drawn uniformly before; each round's observations, rewards and done flags are
carried out of the scan (so they are computed every round, as lola-games's env returns
them), not stacked.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

from benchmarks.peers.workers.protocol import Repetition, missing, quiet_stdout, serve

ENV_FILE = Path("pax", "envs", "iterated_matrix_game.py")


def load_pax_env() -> ModuleType:
    """pax's env module from the checkout in ``LOLA_GAMES_PAX`` (else report it missing)."""
    root = os.environ.get("LOLA_GAMES_PAX")
    if not root:
        missing("no pax checkout: pass --pax PATH or set LOLA_GAMES_PAX")
    path = Path(root) / ENV_FILE
    if not path.is_file():
        missing(f"no {ENV_FILE} in the pax checkout {root}")
    try:
        with quiet_stdout():
            spec = importlib.util.spec_from_file_location("pax_iterated_matrix_game", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    except ImportError as err:
        missing(f"pax's env needs {err.name} (pip install -e '.[peers]')")
    return module


def build(batch: int, rounds: int, episodes: int, payoffs: list[list[float]]) -> Repetition:
    pax = load_pax_env()
    import jax  # optional extra, loaded with pax
    import jax.numpy as jnp

    env = pax.IteratedMatrixGame(num_inner_steps=rounds, num_outer_steps=1)
    params = pax.EnvParams(payoff_matrix=jnp.array(payoffs, dtype=jnp.float32))
    keys = jax.random.split(jax.random.PRNGKey(0), batch)  # pax's step draws nothing
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    _, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    actions = jax.random.randint(jax.random.PRNGKey(1), (rounds, batch, 2), 0, 2)

    def body(carry, a):
        obs, state, rewards, done, _ = step(keys, carry[0], (a[:, 0], a[:, 1]), params)
        return (state, (obs, rewards, done)), None

    @jax.jit
    def episode(carry, actions):
        return jax.lax.scan(body, carry, actions)[0]

    shapes = jax.eval_shape(lambda s: body((s, None), actions[0])[0][1], state)
    carry = [(state, jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), shapes))]

    def repetition() -> None:
        for _ in range(episodes):
            carry[0] = episode(carry[0], actions)
        jax.block_until_ready(carry[0])

    return repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--payoffs", required=True,
                        help="JSON [[r0, r1] for CC, CD, DC, DD] (pax's payoff_matrix)")
    parser.add_argument("--episodes", type=int, default=1, help="episodes per repetition")
    args = parser.parse_args()
    try:
        with quiet_stdout():
            import jax  # optional extra
    except ImportError:
        missing("JAX is not installed (pip install -e '.[peers]')")
    serve(lambda: build(args.batch, args.rounds, args.episodes, json.loads(args.payoffs)),
          f"jax {jax.__version__}")


if __name__ == "__main__":
    main()

"""JaxMARL's worker: its ``coin_game``, ``jit(lax.scan(vmap(step)))``, random moves.

    python -m benchmarks.peers.workers.jaxmarl_coin --batch 4096 --rounds 150

The env is ``jaxmarl.make("coin_game", num_inner_steps=rounds, num_outer_steps=1)``, so that
an episode lasts ``--rounds`` rounds and the env resets itself after it. One repetition is
``--episodes`` calls of a jitted ``lax.scan`` over ``--rounds`` rounds of its ``step``
vmapped over ``--batch`` games, with a fresh key per game and round (split inside the scan)
and moves drawn uniformly among the four moves before; each round's observations, rewards
and done flags are carried out of the scan (computed every round, as lola-games's env
returns them), not stacked.
"""

from __future__ import annotations

import argparse

from benchmarks.peers.workers.protocol import Repetition, missing, quiet_stdout, serve


def build(batch: int, rounds: int, episodes: int) -> Repetition:
    import jax  # optional extra
    import jax.numpy as jnp
    import jaxmarl

    env = jaxmarl.make("coin_game", num_inner_steps=rounds, num_outer_steps=1)
    agents = env.agents
    step = jax.vmap(env.step)
    _, state = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
    actions = jax.random.randint(jax.random.PRNGKey(1), (rounds, batch, 2), 0, 4)

    def body(carry, a):
        key, state, _ = carry
        key, sub = jax.random.split(key)
        moves = {agent: a[:, i] for i, agent in enumerate(agents)}
        obs, state, rewards, dones, _ = step(jax.random.split(sub, batch), state, moves)
        return (key, state, (obs, rewards, dones)), None

    @jax.jit
    def episode(carry, actions):
        return jax.lax.scan(body, carry, actions)[0]

    key = jax.random.PRNGKey(2)
    shapes = jax.eval_shape(lambda s: body((key, s, None), actions[0])[0][2], state)
    carry = [(key, state, jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), shapes))]

    def repetition() -> None:
        for _ in range(episodes):
            carry[0] = episode(carry[0], actions)
        jax.block_until_ready(carry[0])

    return repetition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--episodes", type=int, default=1, help="episodes per repetition")
    args = parser.parse_args()
    try:
        with quiet_stdout():
            import jax  # optional extra
            import jaxmarl
    except ImportError as err:
        missing(f"{err.name} is not installed (pip install -e '.[peers]')")
    serve(lambda: build(args.batch, args.rounds, args.episodes),
          f"jax {jax.__version__}, jaxmarl {jaxmarl.__version__}")


if __name__ == "__main__":
    main()

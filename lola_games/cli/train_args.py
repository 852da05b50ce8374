"""The agents' options of ``lola-games train`` (torch-free): shared flags that every agent
taking them gets; per-agent values (``--agents lola:lr=0.5``) win over them."""

from __future__ import annotations

import argparse

from lola_games.cli.names import COIN_POLICIES, MATRIX_POLICIES

__all__ = ["add_hparams", "add_sampled_hparams"]


def add_hparams(p: argparse.ArgumentParser) -> None:
    """The agents' options: common, and of the learners of differentiable games."""
    h = p.add_argument_group("agent hyper-parameters (each agent takes those it knows)")
    h.add_argument("--lr", type=float, default=None, help="own learning rate (delta)")
    h.add_argument("--eta", type=float, default=None,
                   help="opponent's assumed learning rate (LOLA's eta, lookahead inner lr)")
    h.add_argument("--alpha", type=float, default=None, help="LA/SOS lookahead rate")
    h.add_argument("--lookahead-steps", type=int, default=None, help="lookahead-lola's k")
    h.add_argument("--optimizer", choices=["sgd", "adam", "adam-reset"], default=None,
                   help="outer step (adam-reset: Adam restarted at every update, as the POLA "
                   "code; sampled agents)")
    h.add_argument("--full-taylor", action="store_true",
                   help="LOLA without the stop-gradient (full first-order Taylor form)")
    h.add_argument("--p", type=float, default=None, help="random agent's P(action 0)")
    d = p.add_argument_group("learners of differentiable games (hola, cola, cgd, sga, co, eg): "
                             "--eta is the look-ahead rate (hola, cola, cgd, eg)")
    d.add_argument("--order", type=int, default=None, help="HOLA's order n")
    d.add_argument("--taylor", action="store_true",
                   help="HOLA in the LOLA paper's Taylor form (default: exact lookahead)")
    d.add_argument("--cola-steps", type=int, default=None,
                   help="COLA: training steps of the update functions")
    d.add_argument("--consensus", type=float, default=None, help="CO's consensus weight")


def add_sampled_hparams(p: argparse.ArgumentParser) -> None:
    """The options of sampled agents, POLA and M-FOS."""
    s = p.add_argument_group(
        "sampled agents (naive-pg, lola-dice, lola-pg; lola-om samples too): --lr is the outer "
        "rate, --eta the inner lookahead rate (lola-pg: the correction's weight), "
        "--lookahead-steps the number of lookaheads, --optimizer the outer step"
    )
    s.add_argument("--policy", choices=[*MATRIX_POLICIES, *COIN_POLICIES], default=None,
                   help=f"policy network: {', '.join(MATRIX_POLICIES)} on matrix games, "
                   f"{', '.join(COIN_POLICIES)} on the Coin Game")
    s.add_argument("--hidden-size", type=int, default=None, help="MLP/GRU hidden units")
    s.add_argument("--batch-size", type=int, default=None, help="rollouts per update and seed")
    s.add_argument("--rollout-len", type=int, default=None, help="rounds per rollout")
    s.add_argument("--lr-v", type=float, default=None, help="value-baseline learning rate")
    s.add_argument("--no-baseline", action="store_true", help="DiCE without a value baseline")
    s.add_argument("--baseline", choices=["none", "batch-mean", "value"], default=None,
                   help="DiCE baseline: rewards centred by their batch mean, a learned value")
    s.add_argument("--init", choices=["zeros", "normal", "truncated-normal", "uniform"],
                   default=None, help="initial distribution of tabular logits")
    s.add_argument("--init-scale", type=float, default=None, help="scale of --init")
    s.add_argument("--no-magic-box", action="store_true",
                   help="LOLA-DiCE without the magic box (first-order surrogate)")
    s.add_argument("--metric", choices=["reward", "discounted"], default=None,
                   help="logged value: mean reward per round or normalised discounted return")
    s.add_argument("--opponent-model", action="store_true",
                   help="lola-dice: fit and shape a model of the opponent instead of reading it")
    s.add_argument("--lr-om", type=float, default=None, help="opponent model's step size")
    s.add_argument("--om-batch-size", type=int, default=None,
                   help="rounds per minibatch of the opponent model's fit")
    s.add_argument("--om-epochs", type=int, default=None,
                   help="rollouts the opponent model is fitted on per update (pola-om too)")
    s.add_argument("--no-corrections", action="store_true",
                   help="lola-pg without the LOLA correction (the LOLA paper's NL-PG)")
    g = p.add_argument_group("pola (--lr is lr_out, --eta is lr_in, --policy tabular or mlp)")
    g.add_argument("--beta-out", type=float, default=None, help="outer proximity weight")
    g.add_argument("--beta-in", type=float, default=None, help="inner proximity weight")
    g.add_argument("--outer-steps", type=int, default=None, help="outer steps per update")
    g.add_argument("--inner-steps", type=int, default=None, help="inner (opponent) steps")
    g.add_argument("--divergence", choices=["kl", "l2"], default=None, help="proximity term")
    m = p.add_argument_group("mfos")
    m.add_argument("--path", default=None, help="the meta-training directory to load")



"""POLA with exact values (Zhao et al. 2022, "Proximal Learning With Opponent-Learning Awareness").

Notation as in `lola_games.agents.lola`: ``theta1`` is this learner's params, ``theta2``
the opponent's, ``pi(theta)`` their memory-one policies, ``V1``/``V2`` the unnormalised
discounted values, ``D`` a divergence (the policy KL, or the params' squared L2 distance).
One POLA update from ``(theta1_t, theta2_t)``::

    inner problem (the opponent's anticipated update, a function of theta1):
        theta2'(theta1) ~ argmin_theta2  -V2(theta1, theta2) + beta_in * D(theta2, theta2_t)
                          (inner_steps gradient steps of lr_in from theta2_t, differentiated)
    outer problem (this learner's update):
        theta1_{t+1}    ~ argmin_theta1  -V1(theta1, theta2'(theta1))
                                         + beta_out * D(theta1, theta1_t)
                          (outer_steps steps of lr_out from theta1_t; with tol, each seed stops
                          once its policy moves by less than tol in KL, both ways)

With the KL divergence the proximal problems are defined on policies, so their solutions do
not depend on how the policies are parameterised (``policy="tabular"`` or ``"mlp"``, see
`lola_games.functional.parameterisations`); LOLA's gradient steps do. With ``inner_steps=1`` the
inner problem is one naive step (``beta_in`` then has no effect: the divergence's gradient is
zero at the anchor), the "outer POLA" of the authors' exact-value experiments
(``LOLA_exact.py --outer_exact_prox --actual_update``). With ``beta_out = beta_in = 0`` and one
step each it is their exact LOLA (``--actual_update``): ``theta1 + lr_out * grad_1
V1(theta1, theta2 + lr_in grad_2 V2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context, player_values
from lola_games.agents.naive import OPTIMIZERS, check_rate
from lola_games.core.checks import check_positive_int
from lola_games.core.tensors import Params
from lola_games.functional.optim import SGD, Adam, Optimizer
from lola_games.functional.parameterisations import Parameterisation, make_parameterisation
from lola_games.functional.proximal import DIVERGENCES, proximal_loss, solve

__all__ = ["POLASettings", "POLA"]


def _steps(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class POLASettings(AgentSettings):
    """Settings of `POLA`.

    Attributes:
        lr_out: outer step size (on the unnormalised value, as in the POLA code).
        lr_in: the opponent's inner step size.
        beta_out: weight of the outer divergence.
        beta_in: weight of the inner divergence.
        outer_steps: outer steps per update (the maximum when ``tol`` is given).
        inner_steps: inner (opponent) steps, differentiated through.
        tol: stop a seed's outer loop once its policy moves by less than ``tol`` in KL both
            ways (the POLA code's ``--prox_threshold``, 1e-8 there); ``None``: always take
            ``outer_steps``.
        divergence: ``"kl"`` (policy space, POLA) or ``"l2"`` (parameter space).
        policy: ``"tabular"`` logits or an ``"mlp"`` over the one-hot states.
        hidden_size: MLP hidden units.
        mlp_init: MLP initialisation, ``"match"`` (the tabular draw's policy) or
            ``"default"`` (PyTorch's).
        init_std: std of the initial tabular logits (0.1 in the POLA code).
        optimizer: outer optimizer, ``"sgd"`` (the POLA code's) or ``"adam"``.
        inputs: the MLP's input, ``"states"`` (one-hot of the 5 states) or ``"actions"``
            (both players' previous actions, as in the POLA code).
    """

    lr_out: float = 0.3
    lr_in: float = 5.0
    beta_out: float = 0.1
    beta_in: float = 0.0
    outer_steps: int = 5000
    inner_steps: int = 1
    tol: float | None = 1e-8
    divergence: str = "kl"
    policy: str = "tabular"
    hidden_size: int = 16
    mlp_init: str = "match"
    init_std: float = 0.1
    optimizer: str = "sgd"
    inputs: str = "states"

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lr_out", "lr_in", "beta_out", "beta_in"):
            value = check_rate(name, getattr(self, name), allow_zero=name != "lr_out")
            object.__setattr__(self, name, value)
        _steps("outer_steps", self.outer_steps)
        _steps("inner_steps", self.inner_steps)
        if self.tol is not None:
            object.__setattr__(self, "tol", check_rate("tol", self.tol, allow_zero=False))
        if self.divergence not in DIVERGENCES:
            raise ValueError(f"divergence must be one of {', '.join(DIVERGENCES)}, "
                             f"got {self.divergence!r}")
        self.parameterisation()  # checks policy, hidden_size, mlp_init and inputs
        object.__setattr__(self, "init_std", check_rate("init_std", self.init_std))
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")

    def parameterisation(self) -> Parameterisation:
        """The policy's parameterisation (`lola_games.functional.parameterisations`)."""
        return make_parameterisation(self.policy, self.hidden_size, self.mlp_init, self.inputs)


class POLA(Agent):
    """POLA on exact values; also the authors' exact LOLA (both betas 0, one step each).

    Settings: `POLASettings`.
    """

    name = "pola"
    reads_opponent_logits = True
    Settings = POLASettings
    settings: POLASettings
    param: Parameterisation
    """The policy's parameterisation, made from the settings."""

    def setup(self) -> None:
        """Make the policy's parameterisation."""
        self.param = self.settings.parameterisation()

    # -- params --------------------------------------------------------------------------

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> Any:
        """Tabular logits ``[S, 5]`` ~ N(0, init_std^2), or MLP weights (see
        `lola_games.functional.parameterisations`)."""
        check_positive_int("n_seeds", n_seeds)
        return self.param.init(n_seeds, generator, device, dtype, self.init_std)

    def logits(self, params: Any) -> Tensor:
        """Memory-one logits ``[S, 5]`` of the params."""
        return self.param.logits(params)

    # -- the update ----------------------------------------------------------------------

    def _outer_optimizer(self) -> Optimizer:
        return SGD(self.lr_out) if self.optimizer == "sgd" else Adam(self.lr_out)

    def update(self, own: Params, other: Any, state: Any, ctx: Context) -> tuple[Params, Any]:
        self.param.check(own, "own params")
        to_own = self.param.logits
        theta2, to_other = _opponent(other, ctx)

        def inner(theta1: Any) -> Any:
            """The opponent's proximal response to theta1 (differentiable in theta1)."""
            logits1 = to_own(theta1)
            loss = proximal_loss(lambda t2: -player_values(ctx, logits1, to_other(t2))[1],
                                 self.beta_in, self.divergence, theta2, to_other)
            return solve(loss, theta2, self.inner_steps, SGD(self.lr_in), differentiable=True)[0]

        def outer_loss(theta1: Any) -> Tensor:
            return -player_values(ctx, to_own(theta1), to_other(inner(theta1)))[0]

        loss = proximal_loss(outer_loss, self.beta_out, self.divergence, own, to_own)
        new, _ = solve(loss, own, self.outer_steps, self._outer_optimizer(), policy_of=to_own,
                       tol=self.tol)
        return new, state


def _opponent(other: Any, ctx: Context) -> tuple[Any, Callable[[Any], Tensor]]:
    """The opponent's params and their map to logits, for the inner problem.

    An exact opponent is differentiated in its own parameterisation (``ctx.other.logits``);
    a sampled one is seen through its memory-one policy, as tabular logits.
    """
    agent = ctx.other
    if isinstance(agent, tuple):
        raise ValueError("pola plays two-player games; ctx.other holds several agents")
    if agent is None:
        return other, lambda p: p
    if agent.mode == "exact":
        return other, agent.logits
    return agent.logits(other).detach(), lambda p: p


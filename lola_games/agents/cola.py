"""Consistent LOLA (COLA, Willi et al. 2022): learned update functions that are consistent
under mutual opponent shaping.

A pair (or tuple) of update functions ``h_j(theta)``, one small MLP per player taking all
players' params, is *consistent* when, with look-ahead rate ``eta`` and values ``V_j``,

    h_j(theta) = grad_j [ V_j(theta_j, theta_-j + eta h_-j(theta)) ]     for every player j

(the total derivative: ``h_-j`` depends on ``theta_j``). COLA minimises the consistency loss

    C(theta) = sum_j || h_j(theta) - grad_j V_j(theta_j, theta_-j + eta h_-j(theta)) ||^2

over ``theta`` drawn uniformly from a region ``[-r, r]^D``, with Adam, before learning starts,
and then plays ``theta_i <- theta_i + lr * h_i(theta)``. ``h`` is an ascent direction: the
COLA paper's update is ``lr * h`` (the official notebook's scaling, in which its consistency
tables are stated).

The official notebook's settings, chosen from the game's ``family``:

==================  ===================================  =====================================
                    polynomial games (Tandem, ...)        probability games (log-odds, IPD)
==================  ===================================  =====================================
network             Linear(D, 8), ReLU, Linear(8, 8),     Linear(D, 16), Tanh, (Linear(16, 16),
                    Linear(8, d_j)                        Tanh) x 2, Linear(16, d_j)
init                weights N(0, 0.1^2), biases 0         the same
region r            1                                     7 (inputs clamped to it in the IPD)
batch, steps        8, 120,000 (COLA-long)                64, 80,000 (COLA-long)
Adam                lr 0.1, x0.8 every 750 steps          lr 0.001, constant
==================  ===================================  =====================================

COLA-short (``cola-short``) trains the same networks for 1% of those steps (1,200 and 800):
the official notebook distinguishes the two only by their numbers of training steps
(``NUM_INNERLOOP_SHORT``/``LONG``, equal in its defaults), so the short count is ours.

Every seed has its own networks (weights ``[S, ...]``), trained at the agent's first update
from the run's generator: seeds are independent runs, training included. Each COLA agent
trains all players' update functions itself and plays its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor

from lola_games.agents.base import Context, joint_values
from lola_games.agents.cola_networks import (
    NETS,
    init_update_networks,
    load_update_functions,
    update_functions,
)
from lola_games.agents.joint import add_all, others_of
from lola_games.agents.naive import (
    GradientAgent,
    GradientSettings,
    check_rate,
    opponent_logits,
    rate_or_lr,
)
from lola_games.core.tensors import Params
from lola_games.games.differentiable import matrix_game_of, param_shapes

__all__ = ["COLASettings", "COLA", "COLAShort", "consistency_targets", "consistency_loss",
           "train_update_functions"]

ValuesFn = Callable[[Sequence[Tensor]], list[Tensor]]

_DEFAULTS = {
    "polynomial": {"steps": 120_000, "batch_size": 8, "train_lr": 0.1, "lr_decay": 0.8,
                   "region": 1.0},
    "probability": {"steps": 80_000, "batch_size": 64, "train_lr": 1e-3, "lr_decay": 1.0,
                    "region": 7.0},
}
DECAY_EVERY = 750
"""Steps between learning-rate decays (the notebook's ``StepLR(750, gamma)``)."""

def _times(eta: float | Tensor, x: Tensor) -> Tensor:
    """``eta * x`` for a number, or per sample for a tensor ``eta`` ``[N]``."""
    if isinstance(eta, Tensor):
        return eta.reshape(-1, *([1] * (x.ndim - 1))) * x
    return eta * x


def consistency_targets(values: ValuesFn, theta: Sequence[Tensor], h: Sequence[Tensor],
                        eta: float | Tensor) -> list[Tensor]:
    """``grad_j V_j(theta_j, theta_-j + eta h_-j(theta))`` for every player ``j`` (total
    derivatives, kept differentiable), from leaves ``theta`` and directions ``h(theta)``;
    ``eta`` is a number or one look-ahead rate per sample ``[N]``."""
    targets = []
    for j, t in enumerate(theta):
        shifted = [p if k == j else p + _times(eta, h[k]) for k, p in enumerate(theta)]
        v = values(shifted)[j]
        targets.append(torch.autograd.grad(v.sum(), t, create_graph=True, retain_graph=True)[0])
    return targets


def consistency_loss(values: ValuesFn, theta: Sequence[Tensor], h: Sequence[Tensor],
                     eta: float | Tensor) -> Tensor:
    """The consistency loss per sample ``[N]``: ``sum_j |h_j - target_j|^2`` (the COLA paper's
    ``C_1 + C_2``), differentiable in ``h`` and ``theta``."""
    targets = consistency_targets(values, theta, h, eta)
    return add_all([((a - b) ** 2).reshape(a.shape[0], -1).sum(-1)
                    for a, b in zip(h, targets, strict=True)])


def train_update_functions(
    values: ValuesFn,
    shapes: Sequence[Sequence[int]],
    nets: dict[str, Tensor],
    family: str,
    eta: float | Tensor,
    steps: int,
    batch_size: int,
    train_lr: float,
    lr_decay: float,
    region: float,
    generator: torch.Generator | None,
    log_every: int = 100,
) -> tuple[dict[str, Tensor], Tensor]:
    """Minimise the consistency loss of ``nets`` over ``U[-region, region]^D`` with Adam.

    Every step draws ``batch_size`` points per seed; the loss of a seed is the mean over its
    points of `consistency_loss`; the seeds' losses are summed (each seed's networks get
    their own gradient, and Adam acts elementwise, so seeds stay independent). ``eta`` is a
    number or one look-ahead rate per seed ``[S]`` (several rates trained at once).

    Returns:
        the trained networks (detached) and the training curve ``[steps // log_every, S]``
        (each seed's mean loss over the last ``log_every`` steps).
    """
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in nets.items()}
    n_seeds = next(iter(nets.values())).shape[0]
    any_net = next(iter(leaves.values()))
    opt = _adam(list(leaves.values()), train_lr)
    if isinstance(eta, Tensor):
        eta = eta.to(any_net).repeat_interleave(batch_size)
    curve: list[Tensor] = []
    running = torch.zeros(n_seeds, dtype=any_net.dtype, device=any_net.device)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = train_lr * lr_decay ** (step // DECAY_EVERY)
        theta = [((2 * torch.rand(n_seeds * batch_size, *s, generator=generator,
                                  device=any_net.device, dtype=any_net.dtype) - 1) * region
                  ).requires_grad_(True) for s in shapes]
        h = update_functions(leaves, family, theta, n_seeds)
        per_seed = consistency_loss(values, theta, h, eta).reshape(n_seeds, batch_size).mean(1)
        opt.zero_grad(set_to_none=True)
        per_seed.sum().backward()
        opt.step()
        running += per_seed.detach()
        if (step + 1) % log_every == 0:
            curve.append(running / log_every)
            running = torch.zeros_like(running)
    stacked = torch.stack(curve) if curve else torch.zeros(0, n_seeds, dtype=any_net.dtype,
                                                           device=any_net.device)
    return {k: v.detach() for k, v in leaves.items()}, stacked


def _adam(params: list[Tensor], lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch has it (the same update, fewer kernels)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, foreach=True)


def _optional_rate(settings: COLASettings, name: str) -> None:
    value = getattr(settings, name)
    if value is not None:
        object.__setattr__(settings, name, check_rate(name, value, allow_zero=False))


@dataclass(frozen=True)
class COLASettings(GradientSettings):
    """Settings of `COLA` and `COLAShort` (and ``lr``, the step ``lr * h_i``, and
    ``optimizer``, ``"sgd"`` (the paper's) or ``"adam"``, of `GradientSettings`). ``None``
    takes the official notebook's value for the game's family (``"polynomial"`` or
    ``"probability"``, see `COLA.training_settings`).

    Attributes:
        eta: look-ahead rate of the consistency equations; ``None`` (the default) stores
            ``lr``'s value.
        steps: training steps of the update functions.
        batch_size: points per training step and seed.
        width: hidden units.
        train_lr: Adam's learning rate for the networks.
        lr_decay: factor applied to it every 750 steps.
        region: ``r``: training points ``~ U[-r, r]`` in every parameter.
        net: ``"polynomial"`` or ``"probability"`` network (see `NETS`).
        clamp: clamp the networks' inputs to the region while playing (the notebook does in
            the IPD); default: in iterated games.
        networks: a file of trained update functions (`save_update_functions`) to play
            instead of training them (one network for every seed, or one per seed); a path
            is stored as a string.
    """

    eta: float | None = None
    steps: int | None = None
    batch_size: int | None = None
    width: int | None = None
    train_lr: float | None = None
    lr_decay: float | None = None
    region: float | None = None
    net: str | None = None
    clamp: bool | None = None
    networks: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rate_or_lr(self, "eta")
        for name in ("steps", "batch_size", "width"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("train_lr", "lr_decay", "region"):
            _optional_rate(self, name)
        if self.net is not None and self.net not in NETS:
            raise ValueError(f"net must be one of {', '.join(NETS)}, got {self.net!r}")
        if self.clamp is not None and not isinstance(self.clamp, bool):
            raise ValueError(f"clamp must be True, False or None, got {self.clamp!r}")
        networks = self.networks
        if networks is not None and not isinstance(networks, (str, os.PathLike)):
            raise ValueError(f"networks must be a file path or None, got {networks!r}")
        object.__setattr__(self, "networks", None if networks is None else str(networks))


class COLA(GradientAgent):
    """COLA (COLA-long): play ``h_i(theta)`` of consistent update functions trained before the
    first step (module docstring).

    Settings: `COLASettings`.
    """

    name = "cola"
    Settings = COLASettings
    settings: COLASettings
    default_fraction = 1.0

    def training_settings(self, game: Any) -> dict[str, Any]:
        """The training settings for ``game``: the given ones, else its family's defaults."""
        family = getattr(game, "family", "probability")
        defaults = _DEFAULTS[family]
        given = self.settings
        steps = given.steps
        if steps is None:
            steps = max(1, round(defaults["steps"] * self.default_fraction))
        net = given.net or family
        return {
            "net": net,
            "width": given.width or NETS[net][0],
            "steps": steps,
            "batch_size": given.batch_size or defaults["batch_size"],
            "train_lr": _given_or(given.train_lr, defaults["train_lr"]),
            "lr_decay": _given_or(given.lr_decay, defaults["lr_decay"]),
            "region": _given_or(given.region, defaults["region"]),
            "clamp": _given_or(given.clamp, matrix_game_of(game) is not None),
        }

    def init_state(self, params: Params) -> Any:
        """The outer optimizer's state and the (not yet trained) update functions."""
        return {"opt": self._opt().init(params), "nets": None, "curve": None}

    def train(self, ctx: Context, n_seeds: int, device: Any, dtype: torch.dtype
              ) -> tuple[dict[str, Tensor], Tensor]:
        """All players' update functions for ``n_seeds`` seeds: initialised and trained, or
        read from ``networks``."""
        cfg = self.training_settings(ctx.game)
        shapes = param_shapes(ctx.game)
        if self.networks is not None:
            nets = load_update_functions(self.networks, cfg["net"], shapes, n_seeds, device,
                                         dtype)
            return nets, torch.zeros(0, n_seeds, device=device, dtype=dtype)
        nets = init_update_networks(shapes, n_seeds, cfg["net"], cfg["width"], ctx.generator,
                                    device, dtype)
        return train_update_functions(
            lambda th: joint_values(ctx, th), shapes, nets, cfg["net"], self.eta, cfg["steps"],
            cfg["batch_size"], cfg["train_lr"], cfg["lr_decay"], cfg["region"], ctx.generator)

    def directions(self, state: Any, theta: Sequence[Tensor], game: Any) -> list[Tensor]:
        """Every player's ``h_j(theta)`` ``[S, ...]`` from the trained networks in ``state``."""
        cfg = self.training_settings(game)
        x = [t.clamp(-cfg["region"], cfg["region"]) if cfg["clamp"] else t for t in theta]
        return update_functions(state["nets"], cfg["net"], x, theta[0].shape[0])

    def update(self, own: Params, other: Any, state: Any, ctx: Context) -> tuple[Params, Any]:
        own = cast(Tensor, own)  # memory-one logits or a differentiable game's params
        if state["nets"] is None:  # the first update trains the update functions
            with torch.enable_grad():
                nets, curve = self.train(ctx, own.shape[0], own.device, own.dtype)
            state = {**state, "nets": nets, "curve": curve}
        rest = others_of(opponent_logits(other, ctx))
        theta = rest[:ctx.player] + [own] + rest[ctx.player:]
        with torch.no_grad():
            h = self.directions(state, theta, ctx.game)[ctx.player]
        new, opt_state = self._opt().step(own.detach(), -h, state["opt"])
        return new, {**state, "opt": opt_state}


def _given_or(value: Any, default: Any) -> Any:
    return default if value is None else value


class COLAShort(COLA):
    """COLA-short: `COLA` with 1% of the training steps by default (module docstring)."""

    name = "cola-short"
    default_fraction = 0.01

"""Parameterisations of memory-one policies for exact learners: tabular logits or a small MLP.

An exact learner optimises the exact value of a memory-one policy (5 logits: start, CC, CD,
DC, DD from the player's own side, see `lola_games.values.exact`). The policy can be
parameterised in different ways, and opponent-shaping updates that act in parameter space
(LOLA) depend on which, while updates defined in policy space (POLA) do not. Each
parameterisation maps per-seed params to logits ``[S, 5]``:

* `Tabular` -- the params are the logits ``[S, 5]`` themselves.
* `MLP` -- a tanh MLP ``in -> hidden -> 1`` applied to an encoding of each of the 5
  memory-one states: their one-hot (``inputs="states"``, ``in = 5``), or, as the POLA code
  has it, each player's previous action as a one-hot over (defect, cooperate, start)
  (``inputs="actions"``, ``in = 6``, own action first); params are a dict of batched weights
  (``"0.weight"`` ``[S, hidden, in]``, ``"0.bias"`` ``[S, hidden]``, ``"2.weight"``
  ``[S, 1, hidden]``, ``"2.bias"`` ``[S, 1]``).

Initial params: tabular logits are drawn ``N(0, init_std^2)``. An MLP either matches that
draw exactly (``init="match"``: same generator draws, so a tabular and an MLP learner with the
same seed start from the same policy; one hidden unit is solved for so that the network
outputs those logits, the others keep PyTorch's default initialisation) or uses PyTorch's
default ``nn.Linear`` initialisation throughout (``init="default"``).
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from torch import Tensor, nn

from lola_games.core.tensors import ParamDict, Params
from lola_games.games.matrix import N_STATES

__all__ = ["Parameterisation", "Tabular", "MLP", "make_parameterisation", "PARAMETERISATIONS"]


class Parameterisation:
    """Maps per-seed params to memory-one logits ``[S, 5]``; draws initial params."""

    name = "parameterisation"

    def init(self, n_seeds: int, generator: torch.Generator | None, device: Any,
             dtype: torch.dtype, init_std: float) -> Params:
        raise NotImplementedError

    def logits(self, params: Params) -> Tensor:
        raise NotImplementedError

    def check(self, params: Any, name: str = "params") -> None:
        """Raise ``TypeError``/``ValueError`` unless ``params`` fit this parameterisation."""
        raise NotImplementedError


class Tabular(Parameterisation):
    """The params are the logits ``[S, 5]``."""

    name = "tabular"

    def init(self, n_seeds, generator, device, dtype, init_std):
        return init_std * torch.randn(n_seeds, N_STATES, generator=generator, device=device,
                                      dtype=dtype)

    def logits(self, params: Params) -> Tensor:
        self.check(params)
        return cast(Tensor, params)

    def check(self, params: Any, name: str = "params") -> None:
        if not isinstance(params, Tensor):
            raise TypeError(f"tabular {name} must be a logits tensor [S, 5], got "
                            f"{type(params).__name__}")
        if params.ndim != 2 or params.shape[-1] != N_STATES:
            raise ValueError(f"tabular {name} must have shape [S, 5], got {list(params.shape)}")


class MLP(Parameterisation):
    """A tanh MLP ``5 -> hidden_size -> 1`` on the one-hot memory-one states.

    Args:
        hidden_size: hidden units (>= 1).
        init: ``"match"`` (same initial policy as tabular logits drawn with the same
            generator) or ``"default"`` (PyTorch's ``nn.Linear`` initialisation).
    """

    name = "mlp"
    INITS = ("match", "default")

    INPUTS = ("states", "actions")

    def __init__(self, hidden_size: int = 16, init: str = "match", inputs: str = "states"
                 ) -> None:
        if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
            raise ValueError(f"hidden_size must be an int >= 1, got {hidden_size!r}")
        if init not in self.INITS:
            raise ValueError(f"init must be one of {', '.join(self.INITS)}, got {init!r}")
        if inputs not in self.INPUTS:
            raise ValueError(f"inputs must be one of {', '.join(self.INPUTS)}, got {inputs!r}")
        if init == "match" and inputs != "states":
            raise ValueError("init='match' needs inputs='states' (with the action encoding one "
                             "hidden unit cannot fit 5 arbitrary logits); use init='default'")
        self.hidden_size = hidden_size
        self.init_mode = init
        self.inputs = inputs
        self.n_in = N_STATES if inputs == "states" else 6
        self.module = nn.Sequential(nn.Linear(self.n_in, hidden_size), nn.Tanh(),
                                    nn.Linear(hidden_size, 1)).to("meta")
        self.shapes = {k: tuple(p.shape) for k, p in self.module.named_parameters()}

    def init(self, n_seeds, generator, device, dtype, init_std):
        h = self.hidden_size
        target = None
        if self.init_mode == "match":  # the tabular draw first: the same initial policy
            target = Tabular().init(n_seeds, generator, device, dtype, init_std)

        def uniform(shape: tuple[int, ...], fan_in: int) -> Tensor:
            bound = 1.0 / math.sqrt(fan_in)
            u = torch.rand(n_seeds, *shape, generator=generator, device=device, dtype=dtype)
            return (2 * u - 1) * bound

        n = self.n_in
        params = {"0.weight": uniform((h, n), n), "0.bias": uniform((h,), n),
                  "2.weight": uniform((1, h), h), "2.bias": uniform((1,), h)}
        if target is not None:
            params = _match(params, target)
        return params

    def logits(self, params: Params) -> Tensor:
        self.check(params)
        params = cast(ParamDict, params)
        w1 = params["0.weight"]
        if self.inputs == "actions":  # layer 1 on each state's encoding: [S, h, 5]
            w1 = w1 @ self.encoding(w1.dtype, w1.device).T
        hidden = torch.tanh(w1 + params["0.bias"].unsqueeze(-1))  # [S, h, 5]
        return params["2.bias"] + torch.einsum("sh,shk->sk", params["2.weight"][:, 0], hidden)

    def encoding(self, dtype: torch.dtype = torch.float32, device: Any = None) -> Tensor:
        """The network's input for each memory-one state ``[5, in]`` (start, CC, CD, DC, DD)."""
        if self.inputs == "states":
            return torch.eye(N_STATES, dtype=dtype, device=device)
        d, c, start = 0, 1, 2  # the POLA code's classes: defect, cooperate, start
        rows = [(start, start), (c, c), (c, d), (d, c), (d, d)]  # (own, other)
        x = torch.zeros(N_STATES, 6, dtype=dtype, device=device)
        for k, (own, other) in enumerate(rows):
            x[k, own], x[k, 3 + other] = 1, 1
        return x

    def module_logits(self, params: dict[str, Tensor]) -> Tensor:
        """The same logits by running the ``nn.Module`` on the one-hot states
        (``torch.func.functional_call`` under ``vmap``; slower, kept as the reference)."""
        self.check(params)
        states = self.encoding(params["0.weight"].dtype, params["0.weight"].device)

        def one(p: dict[str, Tensor]) -> Tensor:
            return torch.func.functional_call(self.module, p, (states,)).squeeze(-1)

        return torch.func.vmap(one)(params)

    def check(self, params: Any, name: str = "params") -> None:
        if not isinstance(params, dict) or set(params) != set(self.shapes):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise TypeError(f"MLP {name} must be a dict with keys {sorted(self.shapes)}, "
                            f"got {got}")
        n = None
        for key, shape in self.shapes.items():
            value = params[key]
            if not isinstance(value, Tensor) or tuple(value.shape[1:]) != shape:
                got = list(value.shape) if isinstance(value, Tensor) else type(value).__name__
                want = ", ".join(map(str, shape))
                raise ValueError(f"MLP {name}[{key!r}] must have shape [S, {want}], got {got}")
            if n is not None and value.shape[0] != n:
                raise ValueError(f"MLP {name} leaves have different seed counts")
            n = value.shape[0]


def _match(params: dict[str, Tensor], target: Tensor) -> dict[str, Tensor]:
    """Solve hidden unit 0 so that the MLP's logits equal ``target`` ``[S, 5]`` exactly.

    With the other units' contribution ``R_s`` (output bias included), unit 0 must give
    ``v0 tanh(W0s + b0) = target_s - R_s``; ``v0 = 1 + max_s |target_s - R_s|`` keeps the
    tanh argument inside (-1, 1).
    """
    w1, b1, w2, b2 = (params[k] for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    hidden = torch.tanh(w1 + b1.unsqueeze(-1))  # [S, h, 5]: unit k in state s
    rest = b2 + (w2[:, 0, 1:].unsqueeze(-1) * hidden[:, 1:]).sum(1)  # [S, 5]
    need = target - rest
    v0 = 1.0 + need.abs().amax(-1)  # [S]
    w1 = w1.clone()
    w1[:, 0] = torch.atanh(need / v0.unsqueeze(-1)) - b1[:, :1]
    w2 = w2.clone()
    w2[:, 0, 0] = v0
    return {"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2}


PARAMETERISATIONS = ("tabular", "mlp")


def make_parameterisation(name: str, hidden_size: int = 16, init: str = "match",
                          inputs: str = "states") -> Parameterisation:
    """``"tabular"`` or ``"mlp"`` (with ``hidden_size``, ``init`` and ``inputs``)."""
    if name == "tabular":
        return Tabular()
    if name == "mlp":
        return MLP(hidden_size, init, inputs)
    raise ValueError(f"policy must be one of {', '.join(PARAMETERISATIONS)}, got {name!r}")

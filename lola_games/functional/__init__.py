"""The lookahead engine: differentiable, out-of-place optimizer steps on functional
parameters, unrolls, proximal solves and policy parameterisations."""

from lola_games.core.tensors import Params
from lola_games.functional.lookahead import unroll
from lola_games.functional.optim import SGD, Adam, AdamState, SGDState
from lola_games.functional.parameterisations import (
    MLP,
    PARAMETERISATIONS,
    Parameterisation,
    Tabular,
    make_parameterisation,
)
from lola_games.functional.params import (
    buffers_of,
    detach,
    functional_call,
    load_params,
    params_of,
)
from lola_games.functional.proximal import (
    DIVERGENCES,
    memory_one_kl,
    params_l2,
    proximal_loss,
    solve,
)

__all__ = [
    "Params",
    "params_of",
    "buffers_of",
    "functional_call",
    "load_params",
    "detach",
    "SGD",
    "SGDState",
    "Adam",
    "AdamState",
    "unroll",
    "memory_one_kl",
    "params_l2",
    "solve",
    "proximal_loss",
    "DIVERGENCES",
    "Parameterisation",
    "Tabular",
    "MLP",
    "make_parameterisation",
    "PARAMETERISATIONS",
]

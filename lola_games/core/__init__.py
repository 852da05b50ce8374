"""The bottom layer: types, validation, devices, trees of tensors and the one registry mechanism."""

from lola_games.core.checks import (
    check_continuation_prob,
    check_flag,
    check_positive_int,
    check_seed,
    check_torch_setup,
)
from lola_games.core.device import (
    resolve_device,
)
from lola_games.core.registry import (
    Registry,
    import_modules,
    load_entry,
)
from lola_games.core.tensors import (
    Params,
    transform_active,
    tree_map,
)
from lola_games.core.version import (
    __version__,
)

__all__ = [
    "check_positive_int",
    "check_continuation_prob",
    "check_seed",
    "check_flag",
    "check_torch_setup",
    "resolve_device",
    "Params",
    "transform_active",
    "tree_map",
    "Registry",
    "load_entry",
    "import_modules",
    "__version__",
]

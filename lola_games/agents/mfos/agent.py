"""A meta-trained M-FOS agent (`lola_games.agents.mfos`) playing through the runner.

Its params are its current memory-one logits ``[S, 5]`` (as for any exact agent). Each update
it observes ``sigmoid([own logits, opponent's logits])`` and outputs its next policy with the
trained actor, exactly as in a meta-training episode: the runner's simultaneous updates are
the meta-game's inner steps. Runner seed ``s`` uses the actor of meta-training seed
``s mod n`` (of ``n`` trained).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from lola_games.agents.base import Agent, AgentSettings, Context
from lola_games.agents.mfos.game import to_memory_one
from lola_games.agents.mfos.ppo import act
from lola_games.agents.mfos.saved import load_meta_training
from lola_games.agents.naive import opponent_logits
from lola_games.core.checks import check_positive_int

__all__ = ["MFOSSettings", "MFOS"]


@dataclass(frozen=True)
class MFOSSettings(AgentSettings):
    """Settings of `MFOS`.

    Attributes:
        path: the meta-training directory (``config.json``, ``mfos.pt``; read as JSON and
            with ``weights_only=True``).
        sample: sample the next policy from the trained Gaussian (as in meta-training) or take
            its mean.
        which: with meta-self-play, which of the two meta-agents plays (0 or 1; checked
            against the meta-training when the agent loads it).
    """

    path: str = ""
    sample: bool = True
    which: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.path, (str, os.PathLike)) or not str(self.path):
            raise ValueError(
                f"mfos needs path, the meta-training directory that `lola-games meta-train "
                f"--out DIR` writes (on the command line: --path DIR with train, or --agents "
                f"mfos:path=DIR), got {self.path!r}")
        object.__setattr__(self, "path", str(self.path))
        object.__setattr__(self, "sample", bool(self.sample))


class MFOS(Agent):
    """M-FOS loaded from a meta-training directory (see `meta_train`).

    ``MFOS(path, sample=True, which=0)``, or ``MFOS(MFOSSettings(...))``: see `MFOSSettings`.
    """

    name = "mfos"
    reads_opponent_logits = True
    Settings = MFOSSettings
    settings: MFOSSettings

    def __init__(self, settings: MFOSSettings | str | os.PathLike[str] | None = None, /,
                 **hparams: Any) -> None:
        if isinstance(settings, (str, os.PathLike)):
            settings, hparams = None, {"path": settings, **hparams}
        super().__init__(settings, **hparams)

    def setup(self) -> None:
        """Load the meta-training; check ``which``."""
        trained = load_meta_training(self.path)
        if self.which not in range(len(trained.params)):
            raise ValueError(f"which must be in 0..{len(trained.params) - 1} for {self.path}, "
                             f"got {self.which!r}")
        self.trained_game = trained.game
        self.gamma = float(trained.config["gamma"])
        self.d = int(trained.config["policy_dim"])
        self.init_std = float(trained.config["mfos"]["init_std"])
        self.net = trained.params[self.which]

    def check_game(self, game: Any) -> None:
        super().check_game(game)
        if not np.array_equal(np.asarray(game.payoffs), np.asarray(self.trained_game.payoffs)):
            raise ValueError(f"this M-FOS agent was meta-trained on {self.trained_game.name!r} "
                             f"({self.path}), not on {game.name!r}: the payoffs differ")

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> Tensor:
        """Random first policy, logits ~ N(0, init_std^2) as in meta-training: ``[S, 5]``."""
        check_positive_int("n_seeds", n_seeds)
        first = self.init_std * torch.randn(n_seeds, self.d, generator=generator, device=device,
                                            dtype=dtype)
        return to_memory_one(first).clone()

    def update(self, own: Any, other: Any, state: Any, ctx: Context) -> tuple[Any, Any]:
        if abs(ctx.gamma - self.gamma) > 1e-12:
            raise ValueError(f"this M-FOS agent was meta-trained with gamma {self.gamma}, the "
                             f"run has gamma {ctx.gamma}")
        opp = opponent_logits(other, ctx).detach()
        S = own.shape[0]
        obs = torch.sigmoid(torch.cat([own[:, :self.d], opp[:, :self.d]], -1)).unsqueeze(1)
        index = torch.arange(S, device=own.device) % next(iter(self.net.values())).shape[0]
        net = {k: v.to(own.device, own.dtype)[index] for k, v in self.net.items()}
        with torch.no_grad():
            action, _ = act(net, obs.to(own.dtype), ctx.generator, self.sample)
        return to_memory_one(action[:, 0]).clone(), state

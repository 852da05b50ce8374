"""M-FOS: model-free opponent shaping (Lu et al. 2022), meta-trained with PPO on exact games.

The meta-game: an inner episode is ``inner_steps`` learning steps of an opponent (a naive
learner, LOLA, or another M-FOS). At each step the meta-agent observes
``sigmoid([own logits, opponent's logits])`` (both memory-one policies of the previous step),
outputs its next memory-one policy (5 logits, sampled from a diagonal Gaussian), and receives
its exact value (reward per step) against the opponent's current policy; the opponent then
takes its learning step against the meta-agent's policy. PPO learns across meta-episodes,
``batch_size`` games at once, each with freshly drawn policies (logits ~ N(0, 1)). This is the
structure and the settings of the official code (``src/main_mfos_ppo.py``,
``src/main_mfos_self.py``, ``src/ppo.py``, ``src/environments.py``):

* actor and critic: ``Linear(2d, 256) - tanh - Linear(256, 2d | 1)``; the actor's outputs are
  the mean and (through softplus) the variance of each logit;
* PPO: Monte-Carlo returns-to-go with meta-discount 0.99, normalised over the whole batch,
  4 full-batch epochs, clip 0.2, value loss weight 0.5, entropy bonus 0.01, Adam (lr 0.002,
  betas 0.9/0.999); meta-self-play uses lr 0.0002 and anneals from training against naive
  learners (probability 1, falling by 0.0015 per meta-episode) to self-play;
* opponents: a naive learner and LOLA (the full Taylor form, as in the official code), both
  with learning rate 1 on the unnormalised value, gamma 0.96;
* games: the IPD (-1, -3, 0, -2) and matching pennies (the meta-agent matches) as iterated
  games with memory-one policies, chicken as the official code has it, a one-shot game (one
  logit per player, played with gamma 0) with a crash of -100 (see `mfos_chicken`).

Everything is batched over ``S`` independent meta-training seeds (params ``[S, ...]``) and
``B`` games per seed (tensors ``[S, B, ...]``). A meta-training directory holds
``config.json`` (the settings, the game's spec), ``mfos.pt`` (the actor-critic params of
every seed, plain tensors, read with ``weights_only=True``) and ``meta_metrics.csv`` (per
meta-episode and seed: the mean reward per step of both players); the registered agent
`lola_games.agents.mfos.agent.MFOS` loads it and plays through the runner.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn.functional import softplus

from lola_games.agents.base import Agent, Context
from lola_games.agents.lola import LOLA
from lola_games.agents.naive import NaiveLearner
from lola_games.core.device import resolve_device
from lola_games.functional import Adam
from lola_games.games.matrix import MatrixGame
from lola_games.games.registry import game_from_spec, get_game
from lola_games.values.exact import check_gamma, exact_values

__all__ = [
    "MFOSConfig",
    "MetaGame",
    "init_actor_critic",
    "act",
    "ppo_update",
    "meta_train",
    "MetaTraining",
    "load_meta_training",
    "mfos_chicken",
    "policy_dim",
    "to_memory_one",
    "OPPONENTS",
    "FORMAT",
]

FORMAT = 1
OPPONENTS = ("naive", "lola", "self")


def mfos_chicken() -> MatrixGame:
    """Chicken as the official M-FOS code plays it: a one-shot game (play it with gamma 0),
    swerve/straight, SS 0, ST -1, TS +1, TT -100 (our built-in iterated chicken has -10)."""
    return MatrixGame("chicken_mfos", ("S", "T"), [[[0.0, -1.0], [1.0, -100.0]]] * 2,
                      {"both swerve": 0.0}, "one-shot chicken of the M-FOS code (crash -100)")


def policy_dim(gamma: float) -> int:
    """Logits the meta-agent outputs: 5 (memory-one) in an iterated game, 1 in a one-shot game
    (``gamma == 0``: only the first move counts; the logit is used in every state)."""
    return 1 if gamma == 0 else 5


def to_memory_one(logits: Tensor) -> Tensor:
    """``[..., d]`` policy logits as memory-one logits ``[..., 5]`` (a one-shot logit repeated)."""
    return logits.expand(*logits.shape[:-1], 5) if logits.shape[-1] == 1 else logits


@dataclass(frozen=True)
class MFOSConfig:
    """Meta-training settings (defaults: the official code's)."""

    batch_size: int = 4096
    meta_episodes: int = 1024
    inner_steps: int = 100
    lr: float = 0.002
    betas: tuple[float, float] = (0.9, 0.999)
    ppo_epochs: int = 4
    clip: float = 0.2
    meta_gamma: float = 0.99
    entropy: float = 0.01
    value_coef: float = 0.5
    hidden_size: int = 256
    opponent_lr: float = 1.0
    init_std: float = 1.0
    anneal: float = 0.0015
    """Meta-self-play only: the probability of a meta-episode against naive learners starts
    at 1 and falls by this much per meta-episode."""

    def __post_init__(self) -> None:
        for name in ("batch_size", "meta_episodes", "inner_steps", "ppo_epochs", "hidden_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        for name in ("lr", "clip", "opponent_lr", "init_std"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        for name in ("entropy", "value_coef", "anneal"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0 <= self.meta_gamma <= 1:
            raise ValueError(f"meta_gamma must be in [0, 1], got {self.meta_gamma!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))


# -- the actor-critic, batched over seeds ---------------------------------------------------


def init_actor_critic(n_seeds: int, d: int, hidden: int, generator: torch.Generator | None,
                      device: Any = None, dtype: torch.dtype = torch.float32
                      ) -> dict[str, Tensor]:
    """Actor and critic params ``[S, ...]`` with ``nn.Linear``'s default initialisation."""

    def linear(name: str, n_in: int, n_out: int) -> dict[str, Tensor]:
        bound = 1.0 / math.sqrt(n_in)

        def u(*shape: int) -> Tensor:
            x = torch.rand(n_seeds, *shape, generator=generator, device=device, dtype=dtype)
            return (2 * x - 1) * bound

        return {f"{name}.weight": u(n_out, n_in), f"{name}.bias": u(n_out)}

    return {**linear("actor.0", 2 * d, hidden), **linear("actor.1", hidden, 2 * d),
            **linear("critic.0", 2 * d, hidden), **linear("critic.1", hidden, 1)}


def _mlp(params: dict[str, Tensor], name: str, x: Tensor) -> Tensor:
    """``Linear - tanh - Linear`` with per-seed weights: ``x [S, N, in] -> [S, N, out]``."""
    h = torch.tanh(torch.baddbmm(params[f"{name}.0.bias"].unsqueeze(1), x,
                                 params[f"{name}.0.weight"].transpose(1, 2)))
    return torch.baddbmm(params[f"{name}.1.bias"].unsqueeze(1), h,
                         params[f"{name}.1.weight"].transpose(1, 2))


def _dist(params: dict[str, Tensor], obs: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std of the diagonal Gaussian policy ``[S, N, d]`` (variance via softplus)."""
    mean, var = _mlp(params, "actor", obs).chunk(2, dim=-1)
    return mean, softplus(var).sqrt()


def _log_prob(mean: Tensor, std: Tensor, action: Tensor) -> Tensor:
    z = (action - mean) / std
    return (-0.5 * z * z - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)


def act(params: dict[str, Tensor], obs: Tensor, generator: torch.Generator | None,
        sample: bool = True) -> tuple[Tensor, Tensor]:
    """Sample (or take the mean of) the policy at ``obs [S, N, 2d]``: action ``[S, N, d]`` and
    its log-probability ``[S, N]``."""
    mean, std = _dist(params, obs)
    if not sample:
        return mean, _log_prob(mean, std, mean)
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    action = mean + std * noise
    return action, _log_prob(mean, std, action)


def ppo_update(params: dict[str, Tensor], opt_state: Any, optimizer: Adam, obs: Tensor,
               actions: Tensor, logps: Tensor, rewards: Tensor, cfg: MFOSConfig
               ) -> tuple[dict[str, Tensor], Any]:
    """The official code's PPO update on one meta-batch, for every seed at once.

    ``obs [S, T, B, 2d]``, ``actions [S, T, B, d]``, ``logps``/``rewards [S, T, B]``.
    """
    S, T = rewards.shape[:2]
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(T)):
        running = rewards[:, t] + cfg.meta_gamma * running
        returns[:, t] = running
    flat = returns.reshape(S, -1)
    returns = (flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + 1e-5)
    obs, actions, logps = obs.reshape(S, -1, obs.shape[-1]), actions.reshape(
        S, -1, actions.shape[-1]), logps.reshape(S, -1)
    for _ in range(cfg.ppo_epochs):
        with torch.enable_grad():
            p = {k: v.detach().requires_grad_() for k, v in params.items()}
            mean, std = _dist(p, obs)
            logp = _log_prob(mean, std, actions)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + std.log()).sum(-1)
            value = _mlp(p, "critic", obs).squeeze(-1)
            ratio = torch.exp(logp - logps)
            adv = returns - value.detach()
            surrogate = torch.minimum(ratio * adv,
                                      ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv)
            value_loss = (value - returns).pow(2).mean(1, keepdim=True)
            loss = -surrogate + cfg.value_coef * value_loss - cfg.entropy * entropy
            grads = torch.autograd.grad(loss.mean(1).sum(), list(p.values()))
        params, opt_state = optimizer.step(params, dict(zip(p, grads, strict=True)), opt_state)
    return params, opt_state


# -- the meta-game --------------------------------------------------------------------------


class MetaGame:
    """``S x B`` games of the meta-agent (player 0) against a learning opponent (player 1).

    Args:
        game: a two-action `MatrixGame`.
        gamma: the inner discount (0.96; 0 for a one-shot game).
        opponent: an exact learner (`Agent`) whose ``update``
            is the opponent's learning step; its params are memory-one logits.
    """

    def __init__(self, game: MatrixGame, gamma: float, opponent: Agent) -> None:
        self.game, self.gamma, self.opponent = game, gamma, opponent
        self.d = policy_dim(gamma)
        self.ctx = Context(game, gamma, 1)

    def values(self, own: Tensor, opp: Tensor) -> tuple[Tensor, Tensor]:
        """Per-step values of both players ``[S, B]`` (from ``[S, B, d]`` logits)."""
        v0, v1 = exact_values(self.game, to_memory_one(own), to_memory_one(opp), self.gamma)
        return v0, v1

    def observe(self, own: Tensor, opp: Tensor) -> Tensor:
        """The meta-agent's observation ``sigmoid([own, opp])`` ``[S, B, 2d]``."""
        return torch.sigmoid(torch.cat([own, opp[..., :self.d]], -1)).detach()

    def learn(self, opp: Tensor, own: Tensor) -> Tensor:
        """The opponent's learning step against ``own`` (batched over ``S x B``)."""
        shape = opp.shape
        flat = to_memory_one(opp.reshape(-1, opp.shape[-1]))
        new, _ = self.opponent.update(flat, to_memory_one(own.reshape(-1, own.shape[-1])).detach(),
                                      self.opponent.init_state(flat), self.ctx)
        return new[..., :opp.shape[-1]].reshape(shape).detach()

    def reset(self, S: int, B: int, generator, device, dtype, std: float
              ) -> tuple[Tensor, Tensor]:
        """Fresh opponents; the meta-agent's first (random) policy is played once, as in the
        official code. Returns ``(observation, opponent logits)``."""
        opp = std * torch.randn(S, B, 5, generator=generator, device=device, dtype=dtype)
        own = std * torch.randn(S, B, self.d, generator=generator, device=device, dtype=dtype)
        obs = self.observe(own, opp)
        return obs, self.learn(opp, own)


def _opponent_agent(name: str, lr: float) -> Agent:
    if name == "naive":
        return NaiveLearner(lr=lr)
    if name == "lola":
        return LOLA(lr=lr, eta=lr, stop_gradient=False)
    raise ValueError(f"opponent must be one of {', '.join(OPPONENTS)}, got {name!r}")


def _episode(meta: MetaGame, params: dict[str, Tensor], cfg: MFOSConfig, S: int, generator,
             device, dtype) -> tuple[Tensor, ...]:
    """One inner episode against learning opponents: ``(obs, actions, logps, rewards,
    opponent rewards)``, each ``[S, T, B, ...]``."""
    obs, opp = meta.reset(S, cfg.batch_size, generator, device, dtype, cfg.init_std)
    out: list[list[Tensor]] = [[], [], [], [], []]
    for _ in range(cfg.inner_steps):
        action, logp = act(params, obs, generator)
        r0, r1 = meta.values(action, opp)
        for buf, x in zip(out, (obs, action, logp, r0, r1), strict=True):
            buf.append(x)
        obs = meta.observe(action, opp)
        opp = meta.learn(opp, action)
    return tuple(torch.stack(buf, 1) for buf in out)


def _self_play_episode(meta: MetaGame, params: tuple[dict[str, Tensor], dict[str, Tensor]],
                       cfg: MFOSConfig, S: int, generator, device, dtype
                       ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """One episode of two meta-agents against each other (the official symmetric meta-game)."""
    d, B = meta.d, cfg.batch_size
    th = [cfg.init_std * torch.randn(S, B, d, generator=generator, device=device, dtype=dtype)
          for _ in range(2)]
    obs = [meta.observe(th[0], th[1]), meta.observe(th[1], th[0])]
    out = [[[] for _ in range(4)] for _ in range(2)]
    for _ in range(cfg.inner_steps):
        acts = [act(params[i], obs[i], generator) for i in range(2)]
        v0, v1 = meta.values(acts[0][0], acts[1][0])
        for i, v in enumerate((v0, v1)):
            for buf, x in zip(out[i], (obs[i], acts[i][0], acts[i][1], v), strict=True):
                buf.append(x)
        obs = [meta.observe(acts[0][0], acts[1][0]), meta.observe(acts[1][0], acts[0][0])]
    return tuple(tuple(torch.stack(b, 1) for b in out[i]) for i in range(2))  # type: ignore


# -- meta-training --------------------------------------------------------------------------


@dataclass
class MetaTraining:
    """A meta-training run: its settings, the trained params ``[S, ...]`` (one actor-critic
    per seed; two with meta-self-play), and the reward log ``[E, 2, S]`` (per meta-episode:
    the meta-agent's and the opponent's mean reward per step; with meta-self-play both
    meta-agents', NaN in episodes played against naive learners)."""

    config: dict[str, Any]
    game: MatrixGame
    params: list[dict[str, Tensor]]
    rewards: Tensor
    path: Path | None = None

    def final_rewards(self, last: int = 50) -> Tensor:
        """Mean reward per step over the last ``last`` meta-episodes (NaN-aware): ``[2, S]``."""
        return self.rewards[-last:].nanmean(0)


def meta_train(
    game: str | MatrixGame,
    opponent: str,
    n_seeds: int = 1,
    config: MFOSConfig | None = None,
    *,
    gamma: float | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    callback: Callable[[int, Tensor], None] | None = None,
) -> MetaTraining:
    """Meta-train ``n_seeds`` M-FOS agents against ``opponent`` on ``game``.

    Args:
        game: a two-action matrix game or its name.
        opponent: ``"naive"``, ``"lola"`` or ``"self"`` (meta-self-play).
        n_seeds: independent meta-training runs, batched.
        config: the settings (default `MFOSConfig`, the official ones).
        gamma: inner discount (default 0.96; 0 makes a one-shot game).
        seed: seeds everything (initial params, games, sampling).
        device: where to train.
        out_dir: write a meta-training directory here (see the module docstring).
        overwrite: replace the files of an existing one.
        callback: called after each meta-episode with its index and rewards ``[2, S]``.

    Raises:
        ValueError: unknown opponent, a game that is not a two-action matrix game, bad
            settings; FileExistsError: ``out_dir`` already holds a meta-training run.
    """
    cfg = config or MFOSConfig()
    if not isinstance(cfg, MFOSConfig):
        raise TypeError(f"config must be an MFOSConfig, got {type(cfg).__name__}")
    game = get_game(game)
    if not isinstance(game, MatrixGame) or game.n_actions != 2:
        raise ValueError(f"M-FOS plays two-action matrix games, not {game!r}")
    gamma = 0.96 if gamma is None else gamma
    check_gamma(gamma)
    gamma = float(gamma)
    if opponent not in OPPONENTS:
        raise ValueError(f"opponent must be one of {', '.join(OPPONENTS)}, got {opponent!r}")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
    device = resolve_device(device)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        if (out / "mfos.pt").exists() and not overwrite:
            raise FileExistsError(f"{out} already holds a meta-training run; pass overwrite")
        out.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    dtype = torch.float32
    opp_agent = _opponent_agent("naive" if opponent == "self" else opponent, cfg.opponent_lr)
    meta = MetaGame(game, gamma, opp_agent)
    S, d = n_seeds, meta.d
    n_agents = 2 if opponent == "self" else 1
    lr = cfg.lr / 10 if opponent == "self" else cfg.lr  # the official self-play rate
    optimizer = Adam(lr, betas=cfg.betas)
    params = [init_actor_critic(S, d, cfg.hidden_size, generator, device, dtype)
              for _ in range(n_agents)]
    states = [optimizer.init(p) for p in params]
    log = torch.full((cfg.meta_episodes, 2, S), float("nan"), dtype=torch.float64)
    lamb = 1.0
    for episode in range(cfg.meta_episodes):
        if opponent == "self":
            lamb = lamb - cfg.anneal if lamb > 0 else lamb
            coin = float(torch.rand((), generator=generator, device=device))
            if coin > lamb:
                both = _self_play_episode(meta, (params[0], params[1]), cfg, S, generator,
                                          device, dtype)
                for i in range(2):
                    params[i], states[i] = ppo_update(params[i], states[i], optimizer,
                                                      *both[i], cfg)
                    log[episode, i] = both[i][3].mean((1, 2)).double().cpu()
            else:  # each meta-agent learns against naive learners
                for i in range(2):
                    ep = _episode(meta, params[i], cfg, S, generator, device, dtype)
                    params[i], states[i] = ppo_update(params[i], states[i], optimizer,
                                                      *ep[:4], cfg)
        else:
            ep = _episode(meta, params[0], cfg, S, generator, device, dtype)
            params[0], states[0] = ppo_update(params[0], states[0], optimizer, *ep[:4], cfg)
            log[episode, 0] = ep[3].mean((1, 2)).double().cpu()
            log[episode, 1] = ep[4].mean((1, 2)).double().cpu()
        if callback is not None:
            callback(episode, log[episode])
    config = {"format": FORMAT, "kind": "mfos", "game": game.name, "game_spec": game.spec(),
              "gamma": gamma, "opponent": opponent, "n_seeds": S, "seed": seed,
              "policy_dim": d, "mfos": {**asdict(cfg), "betas": list(cfg.betas)},
              "meta_lr": lr}
    result = MetaTraining(config, game, [{k: v.detach() for k, v in p.items()} for p in params],
                          log, out)
    if out is not None:
        _save(out, result)
    return result


def _save(out: Path, run: MetaTraining) -> None:
    (out / "config.json").write_text(json.dumps(run.config, indent=2) + "\n")
    torch.save({"params": [{k: v.cpu() for k, v in p.items()} for p in run.params]},
               out / "mfos.pt")
    with open(out / "meta_metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["meta_episode", "seed", "reward_0", "reward_1"])
        for e in range(run.rewards.shape[0]):
            for s in range(run.rewards.shape[2]):
                w.writerow([e + 1, s, repr(float(run.rewards[e, 0, s])),
                            repr(float(run.rewards[e, 1, s]))])


def load_meta_training(path: str | os.PathLike, map_location: Any = "cpu") -> MetaTraining:
    """Read a meta-training directory (JSON and tensors only; nothing in it is run).

    Raises:
        FileNotFoundError: missing files; ValueError: damaged or foreign files.
    """
    path = Path(path)
    for name in ("config.json", "mfos.pt"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path} is not an M-FOS meta-training directory: no {name}")
    try:
        config = json.loads((path / "config.json").read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path / 'config.json'} is damaged: {e}") from None
    if not isinstance(config, dict) or config.get("kind") != "mfos":
        raise ValueError(f"{path / 'config.json'} is not an M-FOS meta-training config")
    if config.get("format") != FORMAT:
        raise ValueError(f"{path / 'config.json'}: unknown format {config.get('format')!r}")
    try:
        blob = torch.load(path / "mfos.pt", map_location=map_location, weights_only=True)
    except Exception as e:
        raise ValueError(f"{path / 'mfos.pt'} is damaged or not an M-FOS file: "
                         f"{str(e).splitlines()[0][:200] if str(e) else type(e).__name__}"
                         ) from None
    params = blob.get("params") if isinstance(blob, dict) else None
    d, hidden = config.get("policy_dim"), config.get("mfos", {}).get("hidden_size")
    expected = {"actor.0.weight": (hidden, 2 * d), "actor.0.bias": (hidden,),
                "actor.1.weight": (2 * d, hidden), "actor.1.bias": (2 * d,),
                "critic.0.weight": (hidden, 2 * d), "critic.0.bias": (hidden,),
                "critic.1.weight": (1, hidden), "critic.1.bias": (1,)}
    if not isinstance(params, list) or not params:
        raise ValueError(f"{path / 'mfos.pt'} holds no actor-critic params")
    for p in params:
        if not isinstance(p, dict) or set(p) != set(expected) or any(
                not isinstance(p[k], Tensor) or tuple(p[k].shape[1:]) != s
                or not p[k].is_floating_point() for k, s in expected.items()):
            raise ValueError(f"{path / 'mfos.pt'}: params do not match config.json "
                             f"(policy_dim {d}, hidden_size {hidden})")
    game = game_from_spec(config["game_spec"])
    rewards = torch.empty(0, 2, params[0]["actor.0.bias"].shape[0], dtype=torch.float64)
    csv_path = path / "meta_metrics.csv"
    if csv_path.is_file():
        rows = list(csv.DictReader(csv_path.open()))
        if rows:
            E = max(int(r["meta_episode"]) for r in rows)
            rewards = torch.full((E, 2, rewards.shape[2]), float("nan"), dtype=torch.float64)
            for r in rows:
                e, s = int(r["meta_episode"]) - 1, int(r["seed"])
                rewards[e, 0, s], rewards[e, 1, s] = float(r["reward_0"]), float(r["reward_1"])
    return MetaTraining(config, game, params, rewards, path)

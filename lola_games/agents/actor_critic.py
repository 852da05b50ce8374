"""What the sampled actor-critic learners share (`lola_games.agents.ppo.PPO`, Advantage
Alignment in `lola_games.agents.advantage_alignment`): settings, and one update on a batch.

One update of player ``i`` against its opponent, per seed (everything batched over seeds):

1. sample ``batch_size`` episodes of ``rollout_len`` rounds with both current policies;
2. advantages: GAE (`lola_games.values.advantages.gae`) of the agent's rewards with its
   critic ``V`` (``[S, B, T - 1]``; the last round gives the bootstrap value only), then
   the learner's own shaping of them (`ActorCritic.advantages`: normalisation for PPO, the
   alignment term for Advantage Alignment);
3. ``epochs`` passes over the batch (each in ``minibatches`` slices of the episodes): one
   Adam step (``lr_actor``) per slice on ``-mean(surrogate) - entropy_beta * mean(entropy)``,
   the surrogate being ``A log pi`` or PPO's clipped ratio against the log-probabilities the
   batch was sampled with (`lola_games.values.advantages.policy_surrogate`), the gradient's
   norm clipped per seed to ``clip_grad_norm``; with ``kl_threshold``, a seed stops its
   passes once its policy's KL estimate from the sampling policy exceeds the threshold;
4. ``critic_epochs`` Adam steps (``lr_critic``) of the critic on the Huber loss to its
   targets: ``A_t + V(s_t)`` (the unnormalised GAE; ``critic_loss="gae"``), the discounted
   returns-to-go (``"mc"``) or ``r_t + gamma V'(s_{t+1})`` with a target critic ``V'`` that
   follows the critic by ``V' <- tau V + (1 - tau) V'`` after each batch (``"td"``, the
   code's ``'td-1'``; ``V'`` starts as a copy of ``V`` and is kept in the agent state).

This is the structure of the Advantage Alignment code (jduquevan/advantage-alignment,
``train.py``, ``TrainingAlgorithm.train_step``: ``updates_per_batch`` actor passes over the
whole batch, then one critic step, separate Adam optimizers, ``clip_grad_norm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lola_games.agents.base import Context
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import (
    AgentParams,
    SampledLearner,
    SampledSettings,
    as_player,
    check_choice,
    check_count,
    check_flag,
    param_dict,
)
from lola_games.core.tensors import ParamDict as Params
from lola_games.core.tensors import ParamTree
from lola_games.functional import Adam, detach
from lola_games.functional.optim import AdamState
from lola_games.rollouts import CoinRollout, Rollout, init_params, rollout_values, seed_forward
from lola_games.rollouts.games import check_policy_fits, is_coin_game, sample_game_rollout
from lola_games.rollouts.nets import MemoryOne
from lola_games.values.advantages import (
    discounted_returns_to_go,
    gae,
    normalise,
    policy_surrogate,
)

__all__ = ["ActorCriticSettings", "ActorCritic", "CRITIC_LOSSES", "action_log_probs",
           "clip_by_norm"]

CRITIC_LOSSES = ("gae", "mc", "td")
"""Critic targets: the GAE returns ``A_t + V(s_t)``, the discounted returns-to-go, or one-step
TD targets of a target critic."""
Batch = Rollout | CoinRollout


@dataclass(frozen=True)
class ActorCriticSettings(SampledSettings):
    """Settings of the actor-critic learners (and the `SampledSettings`).

    Attributes:
        lr_actor, lr_critic: Adam learning rates of the policy and of the critic.
        epochs: passes over each batch of episodes (the code's ``updates_per_batch``).
        minibatches: slices of the episodes per pass (1: the whole batch, as the code).
        gae_lambda: the GAE parameter (the code's ``lmbda``).
        entropy_beta: weight of the policy's mean entropy (a bonus).
        normalize_advantages: centre and scale the advantages per seed.
        critic_loss: ``"gae"``, ``"mc"`` or ``"td"`` (`CRITIC_LOSSES`).
        tau: the target critic's rate (``"td"``; the code's ``tau``).
        critic_epochs: critic steps per batch.
        clip_grad_norm: per-seed bound on the norm of each policy and critic gradient
            (``None``: no clipping).
        kl_threshold: after the first pass, a seed stops its passes over the batch once
            ``mean(log pi_old - log pi)`` exceeds it (the code's ``kl_threshold``; ``None``:
            all ``epochs`` passes).
    """

    lr_actor: float = 0.01
    lr_critic: float = 0.01
    epochs: int = 2
    minibatches: int = 1
    gae_lambda: float = 0.95
    entropy_beta: float = 0.0
    normalize_advantages: bool = True
    critic_loss: str = "gae"
    tau: float = 0.005
    critic_epochs: int = 1
    clip_grad_norm: float | None = None
    kl_threshold: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lr_actor", "lr_critic", "entropy_beta"):
            object.__setattr__(self, name, check_rate(name, getattr(self, name)))
        check_count("epochs", self.epochs)
        check_count("minibatches", self.minibatches)
        check_count("critic_epochs", self.critic_epochs)
        lam = check_rate("gae_lambda", self.gae_lambda)
        if lam > 1:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda!r}")
        object.__setattr__(self, "gae_lambda", lam)
        check_flag("normalize_advantages", self.normalize_advantages)
        check_choice("critic_loss", self.critic_loss, CRITIC_LOSSES)
        tau = check_rate("tau", self.tau)
        if not 0 < tau <= 1:
            raise ValueError(f"tau must be in (0, 1], got {self.tau!r}")
        object.__setattr__(self, "tau", tau)
        if self.clip_grad_norm is not None:
            norm = check_rate("clip_grad_norm", self.clip_grad_norm)
            if norm <= 0:
                raise ValueError(f"clip_grad_norm must be > 0 or None, got {norm!r}")
            object.__setattr__(self, "clip_grad_norm", norm)
        if self.kl_threshold is not None:
            object.__setattr__(self, "kl_threshold",
                               check_rate("kl_threshold", self.kl_threshold))
        if self.rollout_len < 2:
            raise ValueError(f"rollout_len must be >= 2 (GAE bootstraps from the last "
                             f"round), got {self.rollout_len}")
        if self.minibatches > self.batch_size:
            raise ValueError(f"minibatches={self.minibatches} exceeds batch_size="
                             f"{self.batch_size} (each slice needs an episode)")
        if self.normalize_advantages and self.batch_size * (self.rollout_len - 1) < 2:
            raise ValueError("normalize_advantages needs at least 2 advantages per seed")


def action_log_probs(module: nn.Module, params: Params, roll: Batch, player: int) -> Tensor:
    """Log-probabilities ``[S, B, T, n]`` of every action of ``player`` at each round of
    ``roll`` (differentiable in ``params``)."""
    if getattr(module, "memory_one", False) and isinstance(roll, Rollout):
        table = cast(MemoryOne, module).state_log_probs(params)  # [S, 5, n]
        states = roll.states[..., player]  # [S, B, T]
        index = states.flatten(1)[..., None].expand(-1, -1, table.shape[-1])
        return torch.gather(table, 1, index).view(*states.shape, table.shape[-1])
    obs = roll.obs(player, next(iter(params.values())).dtype)
    logits, _ = seed_forward(module, params, obs, None)
    return torch.log_softmax(logits, dim=-1)


def clip_by_norm(grads: Params, max_norm: float | None) -> Params:
    """``grads`` ``[S, ...]`` scaled per seed so that each seed's global norm is at most
    ``max_norm`` (``torch.nn.utils.clip_grad_norm_``'s rule: factor
    ``min(1, max_norm / (norm + 1e-6))``); unchanged for ``None``."""
    if max_norm is None:
        return grads
    sq = sum(g.flatten(1).pow(2).sum(1) for g in grads.values())
    factor = torch.clamp(max_norm / (torch.as_tensor(sq).sqrt() + 1e-6), max=1.0)
    return {k: g * factor.view((-1,) + (1,) * (g.ndim - 1)) for k, g in grads.items()}


class ActorCritic(SampledLearner):
    """Base of the actor-critic learners: the update of the module docstring.

    Subclasses set ``clip_range`` (``None``: the plain policy-gradient surrogate) through
    `surrogate_clip` and shape the advantages in `advantages`.
    """

    name = "actor-critic"
    Settings: ClassVar[type[SampledSettings]] = ActorCriticSettings
    settings: ActorCriticSettings

    def check_game(self, game: Any) -> None:
        """Two-action matrix games and the Coin Game, with a policy for it; on the Coin
        Game, episodes no longer than the game's."""
        if not is_coin_game(game):
            super().check_game(game)
            return
        check_policy_fits(self.policy_option, game, self.name)
        if self.rollout_len > game.max_cycles:
            raise ValueError(f"{self.name}: rollout_len={self.rollout_len} is longer than the "
                             f"episodes of {game!r} (max_cycles={game.max_cycles})")

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> AgentParams:
        """``{"policy": [S, ...], "value": [S, ...]}`` of the modules for ``game``."""
        policy, value = self.modules(game)
        draws = {"policy": self.draw(policy, n_seeds, generator, device),
                 "value": init_params(value, n_seeds, generator, device)}
        return {k: {n: t.to(device=device, dtype=dtype) for n, t in p.items()}
                for k, p in draws.items()}

    def init_state(self, params: AgentParams) -> Any:
        """The Adam states of the policy (with ``kl_threshold`` one per seed, since seeds stop
        their passes at different times) and of the critic."""
        adam, policy = Adam(self.lr_actor), params["policy"]
        actor: Any = adam.init(policy)
        if self.kl_threshold is not None:
            n_seeds = next(iter(policy.values())).shape[0]
            actor = tuple(adam.init({k: v[s:s + 1] for k, v in policy.items()})
                          for s in range(n_seeds))
        state = {"actor": actor, "critic": Adam(self.lr_critic).init(params["value"])}
        if self.critic_loss == "td":
            state["target"] = {k: v.clone() for k, v in params["value"].items()}
        return state

    def surrogate_clip(self) -> float | None:
        """PPO's clip range, or ``None`` for the plain policy-gradient surrogate."""
        return None

    def advantages(self, ctx: Context, own: AgentParams, opponent: AgentParams,
                   opponent_value: nn.Module | None, roll: Batch, own_adv: Tensor) -> Tensor:
        """The advantages ``[S, B, T - 1]`` the policy learns from, given the agent's GAE
        ``own_adv``: normalised per seed with ``normalize_advantages`` (subclasses add to
        this)."""
        return normalise(own_adv)[0] if self.normalize_advantages else own_adv

    # -- the update ------------------------------------------------------------------------
    def update(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context
               ) -> tuple[AgentParams, Any]:
        """Sample a batch with both players' current policies, then `learn` from it."""
        me = ctx.player
        policy, _ = self.modules(ctx.game)
        other_policy, opponent, _ = as_player(ctx.other, other, ctx.game)
        pols = [policy, other_policy] if me == 0 else [other_policy, policy]
        pars = [own["policy"], opponent["policy"]]
        roll = sample_game_rollout(ctx.game, pols, pars if me == 0 else pars[::-1],
                                   self.batch_size, self.rollout_len, ctx.generator)
        return self.learn(own, other, state, ctx, roll)

    def learn(self, own: AgentParams, other: ParamTree, state: Any, ctx: Context, roll: Batch
              ) -> tuple[AgentParams, Any]:
        """One update of the agent (player ``ctx.player``) from the sampled batch ``roll``
        (``[S, B, T, ...]``): the advantages, the actor passes, the critic steps."""
        me = ctx.player
        policy, value = self.modules(ctx.game)
        _, opponent, opponent_value = as_player(ctx.other, other, ctx.game)
        with torch.no_grad():
            values = rollout_values(value, own["value"], roll, me)  # [S, B, T]
            own_adv = gae(roll.rewards[..., me].to(values.dtype), values, ctx.gamma,
                          self.gae_lambda)
            adv = self.advantages(ctx, own, opponent, opponent_value, roll, own_adv)
            old = torch.gather(action_log_probs(policy, own["policy"], roll, me), -1,
                               roll.actions[..., me, None]).squeeze(-1)
        with torch.enable_grad():
            new_policy, actor_state = self.train_actor(ctx, policy, own["policy"],
                                                       state["actor"], roll, adv, old)
            targets = self.critic_targets(ctx, value, roll, values, own_adv, state)
            new_value, critic_state = self.train_critic(ctx, value, own["value"],
                                                        state["critic"], roll, targets)
        new_state = {"actor": actor_state, "critic": critic_state}
        if "target" in state:
            new_state["target"] = {k: self.tau * new_value[k] + (1 - self.tau) * v
                                   for k, v in state["target"].items()}
        return {**own, "policy": new_policy, "value": new_value}, new_state

    def slices(self, ctx: Context) -> list[Tensor]:
        """Episode indices of each minibatch of one pass (one slice of all episodes when
        ``minibatches == 1``; otherwise a permutation drawn with the run's generator)."""
        device = ctx.generator.device if ctx.generator is not None else ctx.device
        if self.minibatches == 1:
            return [torch.arange(self.batch_size, device=device)]
        order = torch.randperm(self.batch_size, generator=ctx.generator, device=device)
        return list(torch.tensor_split(order, self.minibatches))

    def actor_loss(self, ctx: Context, policy: nn.Module, params: Params, roll: Batch,
                   adv: Tensor, old: Tensor, index: Tensor) -> Tensor:
        """``-mean surrogate - entropy_beta * mean entropy`` of the episodes ``index``, per
        seed, summed over seeds (so each seed's gradient is its own)."""
        me = ctx.player
        logp_all = action_log_probs(policy, params, roll, me)[:, index]  # [S, b, T, n]
        logp = torch.gather(logp_all, -1, roll.actions[:, index, :, me, None]).squeeze(-1)
        surrogate = policy_surrogate(adv[:, index], logp[..., :-1], old[:, index, :-1],
                                     self.surrogate_clip())
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        loss = -surrogate.flatten(1).mean(1) - self.entropy_beta * entropy.flatten(1).mean(1)
        return loss.sum()

    def still_close(self, ctx: Context, policy: nn.Module, params: Params, roll: Batch,
                    old: Tensor, active: Tensor) -> Tensor:
        """Seeds ``[S]`` (bool) that go on with another pass: active so far and with the
        KL estimate ``mean(log pi_old - log pi)`` over the batch at most ``kl_threshold``
        (the code's early stop of ``updates_per_batch``)."""
        with torch.no_grad():
            logp = torch.gather(action_log_probs(policy, params, roll, ctx.player), -1,
                                roll.actions[..., ctx.player, None]).squeeze(-1)
            kl = (old - logp).flatten(1).mean(1)
        return active & (kl <= cast(float, self.kl_threshold))

    def actor_step(self, params: Params, grads: Params, state: Any, active: Tensor | None
                   ) -> tuple[Params, Any]:
        """One Adam step of the policy: of all seeds at once, or with ``kl_threshold`` of each
        ``active`` seed with its own Adam state (``state`` a tuple of per-seed states; the
        other seeds keep their params and states)."""
        adam = Adam(self.lr_actor)
        if active is None:
            new, state = adam.step(params, grads, state)
            return param_dict(new), state
        parts, states = [], list(state)
        for s, keep_going in enumerate(active.tolist()):
            seed_params = {k: v[s:s + 1] for k, v in params.items()}
            if keep_going:
                seed_grads = {k: v[s:s + 1] for k, v in grads.items()}
                new, states[s] = adam.step(seed_params, seed_grads, states[s])
                seed_params = param_dict(new)
            parts.append(seed_params)
        return {k: torch.cat([p[k] for p in parts]) for k in params}, tuple(states)

    def train_actor(self, ctx: Context, policy: nn.Module, params: Params, state: Any,
                    roll: Batch, adv: Tensor, old: Tensor) -> tuple[Params, Any]:
        """``epochs`` passes of Adam steps on `actor_loss` over the batch's minibatches (with
        ``kl_threshold``, a seed stops once its policy moved too far from ``old``)."""
        active = None
        if self.kl_threshold is not None:
            active = torch.ones(old.shape[0], dtype=torch.bool, device=old.device)
        for epoch in range(self.epochs):
            if active is not None and epoch >= 1:
                active = self.still_close(ctx, policy, params, roll, old, active)
                if not bool(active.any()):
                    break
            for index in self.slices(ctx):
                theta = detach(params, requires_grad=True)
                loss = self.actor_loss(ctx, policy, theta, roll, adv, old, index)
                grads = dict(zip(theta, torch.autograd.grad(loss, list(theta.values())),
                                 strict=True))
                params, state = self.actor_step(detach(theta),
                                                clip_by_norm(grads, self.clip_grad_norm),
                                                state, active)
        return params, state

    @torch.no_grad()
    def critic_targets(self, ctx: Context, value: nn.Module, roll: Batch, values: Tensor,
                       own_adv: Tensor, state: Any) -> Tensor:
        """The critic's targets ``[S, B, T']`` for the first ``T'`` rounds (``T - 1``, or
        ``T`` for ``"mc"``), from the batch's values ``[S, B, T]`` and GAE ``own_adv``."""
        rewards = roll.rewards[..., ctx.player].to(values.dtype)
        if self.critic_loss == "gae":
            return own_adv + values[..., :-1]
        if self.critic_loss == "mc":
            return discounted_returns_to_go(rewards, ctx.gamma)
        target_values = rollout_values(value, state["target"], roll, ctx.player)
        return rewards[..., :-1] + ctx.gamma * target_values[..., 1:]

    def critic_loss_of(self, ctx: Context, value: nn.Module, params: Params, roll: Batch,
                       targets: Tensor) -> Tensor:
        """Huber loss of the critic to ``targets``, mean per seed, summed over seeds."""
        current = rollout_values(value, params, roll, ctx.player)[..., :targets.shape[-1]]
        loss = F.huber_loss(current, targets, reduction="none")
        return loss.flatten(1).mean(1).sum()

    def train_critic(self, ctx: Context, value: nn.Module, params: Params, state: AdamState,
                     roll: Batch, targets: Tensor) -> tuple[Params, AdamState]:
        """``critic_epochs`` Adam steps on `critic_loss_of`."""
        adam = Adam(self.lr_critic)
        for _ in range(self.critic_epochs):
            phi = detach(params, requires_grad=True)
            loss = self.critic_loss_of(ctx, value, phi, roll, targets)
            grads = dict(zip(phi, torch.autograd.grad(loss, list(phi.values())), strict=True))
            new, state = adam.step(detach(phi), clip_by_norm(grads, self.clip_grad_norm), state)
            params = param_dict(new)
        return params, state

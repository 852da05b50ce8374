"""LOQA: Learning with Opponent Q-Learning Awareness (Aghajohari et al., ICLR 2024).

LOQA assumes that the opponent plays a softmax over its Q-values and shapes it by making
the opponent's Q-value of the action it took differentiable in the agent's own policy.
This module follows the authors' code, MiladInk/loqa (``coin_train.py``: ``train``,
``agent_policy_loss``, ``differentiable_loaded_dice_returns``, ``update_agent_actor``,
``agent_qvalue_loss``, ``train_agent_qvalue``, ``sample_agent_params``; ``ipd.py`` for the
IPD), with its ``loaded-dice`` estimator and ``TD0`` advantage. One update of a learner with
policy ``pi`` and critic ``Q`` (both in its params; ``V(s) = sum_a pi(a|s) Q(s, a)``):

1. **Opponents.** Every ``buffer_every`` updates the current params are pushed into a
   replay buffer of past selves (at most ``buffer_capacity``, oldest dropped); each of the
   ``B`` episodes then gets its own opponent drawn uniformly from the buffer, the
   opponent's policy and critic together (``buffer_capacity = 0``: the current self, held
   constant; ``self_play=False``: the other player's params, a `LOQA` with our networks).
2. **Episodes** of ``T`` rounds (``epsilon``: both act uniformly at random that often).
3. **Actor step** on the own terms plus the shaping term, per episode (mean over rounds,
   then over episodes)::

       A_t   = r_t + gamma V(s_{t+1}) - V(s_t)        (TD(0), V at the final board included)
       L_pg  = -mean_t log pi(a_t|s_t) A_t
       L_ent = -mean_t H(pi(.|s_t))
       R'_t  = sum_{k>=t} gamma^{k-t} r'_k           (the opponent's return, rewards r')
       D_t   = R'_t + sum_{k>=t} (gamma lam)^{k-t} (R'_k - V'(s'_k)) (box(c_{k+1}) - box(c_k))
               with c_k = 1 + sum_{j<k} log pi(a_j|s_j), box(z) = exp(z - stop(z))
       Q~'_t = r'_t + gamma D_{t+1} (t < T-1),  Q~'_{T-1} = r'_{T-1}
       L_op  = -mean_t log softmax(Q'(s'_t, .) with entry a'_t set to Q~'_t / temp)[a'_t] A_t

   ``Q'`` and ``V'`` are the opponent's critic and its value (constants); ``D_t`` equals
   ``R'_t`` in value and carries the DiCE gradient. The gradient of ``L_pg + entropy_beta
   L_ent + shaping_weight L_op`` with respect to **all** of the learner's params is taken
   (as in the original, ``A_t`` is not detached, so the actor step also moves the critic),
   clipped to global norm ``clip_grad_norm`` per seed (``None``: no clipping), and one Adam step of
   ``lr_actor`` is taken (of ``lr_actor_value`` on the critic's params).
4. **Critic step** (after the actor step, on the same episodes): one Adam step of
   ``lr_critic`` on ``mean_t huber(Q(s_t, a_t) - y_t)`` with ``y_t = r_t + gamma
   Qbar(s_{t+1}, a_{t+1})`` and ``y_{T-1} = r_{T-1} + gamma Vbar(s_T)``, where ``Qbar`` and
   ``Vbar`` come from the target params, an exponential moving average (``target_ema``) of
   all params updated after each critic step.

Networks: `lola_games.rollouts.loqa_nets`; settings of the paper: `LOQA_IPD`, `LOQA_COIN`
(`lola_games.agents.published`). The buffer, Adam states, target params and step count live
in the agent's ``state``, so a resumed run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lola_games.agents.base import Context
from lola_games.agents.loqa_metrics import evaluate_loqa
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled import (
    AgentParams,
    SampledLearner,
    SampledSettings,
    check_count,
    check_flag,
    param_dict,
)
from lola_games.core.tensors import ParamDict
from lola_games.functional import Adam
from lola_games.rollouts import init_params
from lola_games.rollouts.games import check_policy_fits, is_coin_game
from lola_games.rollouts.loqa_nets import LOQACoinCritic, LOQAMatrixCritic
from lola_games.rollouts.loqa_play import Episodes, episode_critic, episode_forward, play_episodes

__all__ = ["LOQASettings", "LOQA", "loqa_losses", "critic_loss", "discount_matrix"]


@dataclass(frozen=True)
class LOQASettings(SampledSettings):
    """Settings of `LOQA`; defaults are the authors' IPD run (`LOQA_IPD`).

    Attributes:
        critic_hidden_size: width of the critic (``None``: 64 on the Coin Game, 16 on a
            matrix game, as in the original).
        lr_actor, lr_critic: Adam step sizes of the actor and critic steps.
        lr_actor_value: the actor step's size on the critic's params (``None``:
            ``lr_actor``); 0.001 as the original's IPD run (`LOQA_IPD`).
        entropy_beta: weight of the entropy term.
        shaping_weight: weight of the shaping term (``opponent_differentiation_weight``).
        clip_grad_norm: global-norm clip of the actor gradient per seed (``None``: none;
            the name and meaning of the actor-critic learners' setting).
        softmax_temp: temperature of the opponent's softmax over Q-values.
        dice_discount: ``lam`` of the loaded-DiCE returns.
        target_ema: decay of the target params' moving average.
        epsilon: probability of a uniformly random action of both players.
        buffer_capacity: size of the replay buffer of past params (0: play the current one).
        buffer_every: updates between pushes into the buffer.
        self_play: draw opponents from this learner's past selves (``False``: the other
            player's past params).
    """

    policy: str | nn.Module = "tabular"
    hidden_size: int = 128
    batch_size: int = 2048
    rollout_len: int = 50
    init: str = "zeros"
    metric: str = "reward"
    critic_hidden_size: int | None = None
    lr_actor: float = 0.002
    lr_critic: float = 0.01
    lr_actor_value: float | None = 0.001
    entropy_beta: float = 0.0
    shaping_weight: float = 1.0
    clip_grad_norm: float | None = None
    softmax_temp: float = 1.0
    dice_discount: float = 0.9
    target_ema: float = 0.99
    epsilon: float = 0.2
    buffer_capacity: int = 0
    buffer_every: int = 10
    self_play: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.critic_hidden_size is not None:
            check_count("critic_hidden_size", self.critic_hidden_size)
        for name in ("lr_actor", "lr_actor_value", "lr_critic", "entropy_beta",
                     "shaping_weight", "clip_grad_norm"):
            if name not in ("lr_actor_value", "clip_grad_norm") or getattr(self, name) is not None:
                object.__setattr__(self, name, check_rate(name, getattr(self, name)))
        if self.clip_grad_norm is not None and self.clip_grad_norm <= 0:
            raise ValueError(f"clip_grad_norm must be > 0 or None, got {self.clip_grad_norm!r}")
        temp = check_rate("softmax_temp", self.softmax_temp)
        if temp <= 0:
            raise ValueError(f"softmax_temp must be > 0, got {self.softmax_temp!r}")
        object.__setattr__(self, "softmax_temp", temp)
        for name in ("dice_discount", "target_ema", "epsilon"):
            value = check_rate(name, getattr(self, name))
            if value > 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
            object.__setattr__(self, name, value)
        check_count("buffer_capacity", self.buffer_capacity, 0)
        check_count("buffer_every", self.buffer_every)
        check_flag("self_play", self.self_play)


def discount_matrix(factor: float, length: int, like: Tensor) -> Tensor:
    """``M [T, T]`` with ``M[t, k] = factor^(k - t)`` for ``k >= t`` (else 0): ``x @ M.T``
    sums ``factor^(k-t) x_k`` over ``k >= t``."""
    k = torch.arange(length, device=like.device)
    power = (k[None, :] - k[:, None]).to(like.dtype)
    return torch.where(power >= 0, factor ** power.clamp(min=0), torch.zeros_like(power))


def magic_box(z: Tensor) -> Tensor:
    """DiCE's ``exp(z - stop(z))``: 1 in value, gradient ``dz``."""
    return torch.exp(z - z.detach())


def loqa_losses(logp: Tensor, q: Tensor, ep: Episodes, op_logp: Tensor, op_q: Tensor,
                gamma: float, lam: float, temp: float) -> tuple[Tensor, Tensor, Tensor]:
    """``(L_pg, L_ent, L_op)`` ``[S]`` (means over rounds and episodes; module docstring).

    Args:
        logp, q: the learner's log-probabilities and Q-values ``[S, B, T + 1, n]`` at its
            observations of rounds ``0 .. T`` (differentiable).
        ep: the episodes (actions and rewards ``[S, B, T]``).
        op_logp, op_q: the opponent's ``[S, B, T, n]`` (constants).
        gamma, lam, temp: discount, loaded-DiCE discount, softmax temperature.
    """
    n_rounds = ep.rewards.shape[-1]
    v = (logp.exp() * q).sum(-1)  # [S, B, T+1]
    lp_all = logp[..., :-1, :]
    lp = lp_all.gather(-1, ep.actions.unsqueeze(-1)).squeeze(-1)  # [S, B, T]
    advantage = ep.rewards + gamma * v[..., 1:] - v[..., :-1]  # not detached (as the original)
    pg = -(lp * advantage).mean(-1)
    entropy = -torch.nan_to_num(lp_all * lp_all.exp()).sum(-1)
    ent = -entropy.mean(-1)

    op_v = (op_logp.exp() * op_q).sum(-1).detach()
    op_return = ep.op_rewards @ discount_matrix(gamma, n_rounds, v).T  # R'_t
    cum = torch.cumsum(torch.cat([torch.ones_like(lp[..., :1]), lp], -1), -1)
    box = magic_box(cum)
    dice = box[..., 1:] - box[..., :-1]
    loaded = ((op_return - op_v) * dice) @ discount_matrix(gamma * lam, n_rounds, v).T
    diff_return = op_return + loaded
    q_taken = torch.cat([ep.op_rewards[..., :-1] + gamma * diff_return[..., 1:],
                         ep.op_rewards[..., -1:]], -1)
    op_q_new = op_q.detach().scatter(-1, ep.op_actions.unsqueeze(-1), q_taken.unsqueeze(-1))
    op_lp = torch.log_softmax(op_q_new / temp, -1).gather(-1, ep.op_actions.unsqueeze(-1))
    shaping = -(op_lp.squeeze(-1) * advantage).mean(-1)
    return pg.mean(-1), ent.mean(-1), shaping.mean(-1)


def critic_loss(q: Tensor, target_logp: Tensor, target_q: Tensor, ep: Episodes,
                gamma: float) -> Tensor:
    """Mean Huber TD loss ``[S]`` of Q-values ``q [S, B, T, n]`` (rounds ``0 .. T-1``)
    towards the targets' ``target_logp, target_q [S, B, T + 1, n]`` (module docstring)."""
    taken = q.gather(-1, ep.actions.unsqueeze(-1)).squeeze(-1)
    bar = target_q[..., :-1, :].gather(-1, ep.actions.unsqueeze(-1)).squeeze(-1)
    v_last = (target_logp[..., -1, :].exp() * target_q[..., -1, :]).sum(-1, keepdim=True)
    target = (ep.rewards + gamma * torch.cat([bar[..., 1:], v_last], -1)).detach()
    huber = nn.functional.huber_loss(taken, target, reduction="none", delta=1.0)
    return huber.mean(-1).mean(-1)


def _flat(params: AgentParams) -> ParamDict:
    return {f"{part}/{k}": v for part in ("policy", "value") for k, v in params[part].items()}


def _nested(flat: ParamDict) -> AgentParams:
    return {part: {k.split("/", 1)[1]: v for k, v in flat.items() if k.startswith(part + "/")}
            for part in ("policy", "value")}


def clip_per_seed(grads: ParamDict, max_norm: float | None) -> ParamDict:
    """Gradients ``[S, ...]`` scaled so that each seed's global norm is at most
    ``max_norm`` (as ``clip_grads_by_norm`` of the original; ``None``: unchanged)."""
    if max_norm is None:
        return grads
    norm = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    scale = torch.where(norm < max_norm, torch.ones_like(norm), max_norm / norm)
    return {k: g * scale.view(-1, *[1] * (g.dim() - 1)) for k, g in grads.items()}


class LOQA(SampledLearner):
    """LOQA (module docstring) over a policy module and a Q-value critic.

    On the IPD the policy is a memory-one table (``"tabular"``, see `LOQA_IPD`), on the
    Coin Game ``"loqa-gru"`` (`lola_games.rollouts.loqa_nets.LOQACoinActor`).

    Raises:
        ValueError: an option out of range or of the wrong type.
    """

    name = "loqa"
    Settings = LOQASettings
    settings: LOQASettings
    evaluator = staticmethod(evaluate_loqa)

    def setup(self) -> None:
        super().setup()
        self._critics: dict[int, nn.Module] = {}

    def critic(self, game: Any = None) -> nn.Module:
        """The Q-value critic for ``game`` (module docstring of `lola_games.rollouts.loqa_nets`)."""
        size = game.grid_size if is_coin_game(game) else 0
        if size == 0 and game is None and self.policy_option in ("loqa-gru", "coin-gru"):
            size = 3
        if size not in self._critics:
            hidden = self.settings.critic_hidden_size or (64 if size else 16)
            self._critics[size] = (LOQACoinCritic(size, hidden_size=hidden) if size
                                   else LOQAMatrixCritic(hidden_size=hidden))
        return self._critics[size]

    def modules(self, game: Any = None) -> tuple[nn.Module, nn.Module]:
        """``(policy, critic)`` on ``game``."""
        return super().modules(game)[0], self.critic(game)

    def hparams(self) -> dict[str, Any]:
        """The settings, with the policy and the critic as their class names."""
        return {**super().hparams(), "value": type(self.critic()).__name__}

    def check_game(self, game: Any) -> None:
        """Two-action matrix games and the Coin Game, each with a policy for it (episodes
        no longer than the game's); ``epsilon > 0`` on a matrix game needs a table."""
        if not is_coin_game(game):
            super().check_game(game)
        check_policy_fits(self.policy_option, game, self.name)
        if is_coin_game(game) and self.settings.rollout_len > game.max_cycles:
            raise ValueError(f"{self.name}: rollout_len={self.settings.rollout_len} is longer "
                             f"than the episodes of {game!r} (max_cycles={game.max_cycles})")
        if self.settings.epsilon and not is_coin_game(game) and \
                not getattr(self.modules(game)[0], "memory_one", False):
            raise ValueError(f"{self.name}: epsilon > 0 on a matrix game needs the tabular "
                             f"policy, got {self.policy_option!r}")

    def init_params(self, n_seeds: int, generator: torch.Generator | None = None,
                    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
                    *, game: Any = None, player: int = 0) -> AgentParams:
        """``{"policy": [S, ...], "value": [S, ...]}``: the actor and the critic."""
        policy, critic = self.modules(game)
        return {"policy": {k: v.to(device=device, dtype=dtype)
                           for k, v in self.draw(policy, n_seeds, generator, device).items()},
                "value": {k: v.to(device=device, dtype=dtype)
                          for k, v in init_params(critic, n_seeds, generator, device).items()}}

    def init_state(self, params: AgentParams) -> dict[str, Any]:
        """Adam states, target params (a copy), an empty buffer ``[S, 0, ...]``, step 0."""
        flat = {k: v.detach() for k, v in _flat(params).items()}
        value = {k: v for k, v in flat.items() if k.startswith("value/")}
        return {"actor_adam": Adam(self.settings.lr_actor).init(flat),
                "critic_adam": Adam(self.settings.lr_critic).init(value),
                "target": {k: v.clone() for k, v in flat.items()},
                "buffer": {k: v.unsqueeze(1)[:, :0].clone() for k, v in flat.items()},
                "step": 0}

    # -- the update ------------------------------------------------------------------------
    def opponents(self, own: AgentParams, other: Any, state: dict[str, Any], ctx: Context
                  ) -> tuple[ParamDict, dict[str, Tensor]]:
        """Step 1: the opponents' flat params (per seed, or per episode ``[S * B, ...]``)
        and the buffer after this update's push."""
        source = _flat(own) if self.settings.self_play else self.other_params(other, ctx)
        source = {k: v.detach() for k, v in source.items()}
        capacity, buffer = self.settings.buffer_capacity, state["buffer"]
        if not capacity:
            return source, buffer
        if state["step"] % self.settings.buffer_every == 0:
            buffer = {k: torch.cat([b, source[k].unsqueeze(1)], 1)[:, -capacity:]
                      for k, b in buffer.items()}
        first = next(iter(buffer.values()))
        n_seeds, size, batch = first.shape[0], first.shape[1], self.settings.batch_size
        index = torch.randint(0, size, (n_seeds, batch), generator=ctx.generator,
                              device=first.device)
        rows = torch.arange(n_seeds, device=first.device).unsqueeze(1)
        return {k: b[rows, index].flatten(0, 1) for k, b in buffer.items()}, buffer

    def other_params(self, other: Any, ctx: Context) -> ParamDict:
        """The other player's flat params (``self_play=False``).

        Raises:
            ValueError: the other player is not a LOQA learner with the same networks.
        """
        mine = _flat(self.init_params(1, game=ctx.game))
        if not isinstance(ctx.other, LOQA) or {k: v.shape[1:] for k, v in mine.items()} != \
                {k: v.shape[1:] for k, v in _flat(other).items()}:
            raise ValueError(f"{self.name}: self_play=False needs a loqa opponent with the "
                             f"same networks (its critic gives its Q-values), got {ctx.other!r}")
        return _flat(other)

    def forward(self, params: ParamDict, obs: Tensor, game: Any) -> tuple[Tensor, Tensor]:
        """Log-probabilities and Q-values ``[S, B, T, n]`` of flat params (per seed or per
        episode) on observations ``[S, B, T, ...]``."""
        policy, critic = self.modules(game)
        p = _nested(params)
        logits = episode_forward(policy, p["policy"], obs)
        return torch.log_softmax(logits, -1), episode_critic(critic, p["value"], obs)

    def actor_step(self, flat: ParamDict, adam_state: Any, ep: Episodes, opponent: ParamDict,
                   ctx: Context) -> tuple[ParamDict, Any]:
        """Step 3 (module docstring)."""
        s = self.settings
        with torch.no_grad():
            if ep.op_logits is None:
                op_logp, op_q = self.forward(opponent, ep.op_obs, ctx.game)
            else:  # recorded as the opponent played: only its critic is left to run
                op_logp = torch.log_softmax(ep.op_logits, -1)
                critic = self.modules(ctx.game)[1]
                op_q = episode_critic(critic, _nested(opponent)["value"], ep.op_obs)
        with torch.enable_grad():
            leaf = {k: v.detach().requires_grad_(True) for k, v in flat.items()}
            logp, q = self.forward(leaf, ep.obs, ctx.game)
            pg, ent, shaping = loqa_losses(logp, q, ep, op_logp, op_q, ctx.gamma,
                                           s.dice_discount, s.softmax_temp)
            loss = (pg + s.entropy_beta * ent + s.shaping_weight * shaping).sum()
            grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values()),
                                                       allow_unused=True), strict=True))
        grads = clip_per_seed({k: torch.zeros_like(flat[k]) if g is None else g
                               for k, g in grads.items()}, s.clip_grad_norm)
        new, new_state = Adam(s.lr_actor).step(flat, grads, adam_state)
        if s.lr_actor_value not in (None, s.lr_actor):  # Adam is elementwise: the critic's
            value = param_dict(Adam(s.lr_actor_value).step(flat, grads, adam_state)[0])
            new = {**param_dict(new), **{k: value[k] for k in value if k.startswith("value/")}}
        return param_dict(new), new_state

    def critic_step(self, flat: ParamDict, target: ParamDict, adam_state: Any, ep: Episodes,
                    ctx: Context) -> tuple[ParamDict, Any]:
        """Step 4 (module docstring): the new critic params and Adam state."""
        critic = self.modules(ctx.game)[1]
        with torch.no_grad():
            target_logp, target_q = self.forward(target, ep.obs, ctx.game)
        value = {k: v for k, v in flat.items() if k.startswith("value/")}
        with torch.enable_grad():
            leaf = {k: v.detach().requires_grad_(True) for k, v in value.items()}
            q = episode_critic(critic, _nested(leaf)["value"], ep.obs[:, :, :-1])
            loss = critic_loss(q, target_logp, target_q, ep, ctx.gamma).sum()
            grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values())), strict=True))
        new, adam_state = Adam(self.settings.lr_critic).step(value, grads, adam_state)
        return param_dict(new), adam_state

    def learn(self, own: AgentParams, state: dict[str, Any], ep: Episodes,
              opponent: ParamDict, ctx: Context) -> tuple[AgentParams, dict[str, Any]]:
        """Steps 3 and 4 on given episodes against ``opponent`` (flat params, per seed or
        per episode), and the target update; ``state["buffer"]`` is kept as it is."""
        s = self.settings
        flat = {k: v.detach() for k, v in _flat(own).items()}
        flat, actor_adam = self.actor_step(flat, state["actor_adam"], ep, opponent, ctx)
        value, critic_adam = self.critic_step(flat, state["target"], state["critic_adam"], ep,
                                              ctx)
        flat = {**flat, **value}
        decay = s.target_ema
        target = {k: decay * v + (1 - decay) * flat[k] for k, v in state["target"].items()}
        new_state = {**state, "actor_adam": actor_adam, "critic_adam": critic_adam,
                     "target": target, "step": state["step"] + 1}
        return _nested({k: v.detach() for k, v in flat.items()}), new_state

    def update(self, own: AgentParams, other: Any, state: dict[str, Any], ctx: Context
               ) -> tuple[AgentParams, dict[str, Any]]:
        """One LOQA update (module docstring) of params ``[S, ...]``."""
        s = self.settings
        opponent, buffer = self.opponents(own, other, state, ctx)
        ep = play_episodes(ctx.game, self.modules(ctx.game)[0],
                           (own["policy"], _nested(opponent)["policy"]), s.batch_size,
                           s.rollout_len, ctx.player, s.epsilon, ctx.generator)
        return self.learn(own, {**state, "buffer": buffer}, ep, opponent, ctx)

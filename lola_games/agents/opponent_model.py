"""Opponent modelling: learners that do not read the opponent's parameters.

An agent with an opponent model only *watches* the opponent play: it samples episodes of
real play (its own policy against the opponent, whose policy the environment runs), fits a
model of the opponent's policy to the opponent's observed actions by maximum likelihood, and
shapes the model's learning instead of the opponent's (the LOLA paper's Sec. 3.4; the DiCE
paper's LOLA-DiCE-OM).

* :func:`fit_policy_model` -- the DiCE paper code's fit, used by
  :class:`~lola_games.agents.pg.LOLADiCE` with ``opponent_model=True``: the model (a policy
  module of the agent's own kind) starts where the last update left it and, for each of
  ``om_epochs`` fresh rollouts, takes plain gradient steps of ``lr_om`` on the negative mean
  log-likelihood of the opponent's actions, one per minibatch of ``om_batch_size`` rounds (a
  random permutation of the rounds, all episodes) and one more on the whole rollout.
* :func:`memory_one_mle` -- the maximum-likelihood memory-one policy of observed play,
  in closed form: ``logit_s = log((C_s + prior) / (D_s + prior))`` from the counts of the
  opponent's actions in each state (``prior`` pseudo-counts keep the logits finite).
* :class:`ModelledOpponent` (registered as ``lola-om``: LOLA-Ex on the model, the LOLA
  paper's LOLA-OM with exact gradients) -- wraps an exact learner: before each update it
  plays ``batch_size`` episodes of ``rollout_len`` rounds against the opponent, fits the
  memory-one model with :func:`memory_one_mle` and gives the learner the model's logits in
  place of the opponent's. It is evaluated exactly, like the learner it wraps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from lola_games.agents.base import Agent, Context, register_agent
from lola_games.agents.lola import LOLA
from lola_games.agents.naive import check_rate
from lola_games.agents.sampled_games import sample_game_rollout
from lola_games.lookahead import SGD, detach
from lola_games.policies import Params, Rollout, TabularPolicy, log_probs, sample_rollout

if TYPE_CHECKING:
    from lola_games.agents.pg import LOLADiCE

__all__ = ["fit_policy_model", "memory_one_mle", "ModelledOpponent", "LOLAOM"]


def _gen_device(generator: torch.Generator | None, device: torch.device) -> torch.device:
    return generator.device if generator is not None else device


def fit_policy_model(
    agent: LOLADiCE, own: dict[str, Params], other_policy: nn.Module, other: dict[str, Params],
    ctx: Context,
) -> Params:
    """``agent``'s model of the opponent after fitting it to ``agent.om_epochs`` rollouts.

    Args:
        agent: the modelling learner (its policy module on ``ctx.game`` is the model's
            architecture; ``lr_om``, ``om_batch_size``, ``om_epochs``, ``batch_size``,
            ``rollout_len``).
        own: the agent's params ``{"policy", "model", ...}`` ``[S, ...]``; ``own["model"]``
            is the model to refine.
        other_policy, other: the opponent's policy module and ``{"policy": params}``; they
            only generate the opponent's actions in the rollouts.
        ctx: the update's context (game, player index, generator).

    Returns:
        the refitted model params ``[S, ...]`` (detached).
    """
    me, you = ctx.player, 1 - ctx.player
    policy = agent.modules(ctx.game)[0]
    pols: list[Any] = [None, None]
    params: list[Any] = [None, None]
    pols[me], params[me] = policy, own["policy"]
    pols[you], params[you] = other_policy, other["policy"]
    model = detach(own["model"])
    sgd = SGD(agent.lr_om)
    for _ in range(agent.om_epochs):
        roll = sample_game_rollout(ctx.game, pols, params, agent.batch_size,
                                   agent.rollout_len, ctx.generator)
        device = roll.actions.device
        order = torch.randperm(roll.actions.shape[-2], generator=ctx.generator,
                               device=_gen_device(ctx.generator, device)).to(device)
        nll = _round_nll(policy, roll, you)
        for rounds in [*order.split(agent.om_batch_size), None]:  # None: the whole rollout
            with torch.enable_grad():
                leaf = detach(model, requires_grad=True)
                loss = nll(leaf, rounds).sum()
                grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values())),
                                 strict=True))
            model = sgd.step(detach(leaf), grads, sgd.init(leaf))[0]
    return model


def _round_nll(module: nn.Module, roll: Rollout, player: int):
    """``nll(params, rounds) -> [S]``: the negative mean log-likelihood of ``player``'s actions
    in ``rounds`` (a tensor of round indices, or ``None`` for all), per seed.

    A memory-one policy needs only how often each (state, action) pair occurs in each round,
    counted once per rollout; other modules run on the whole episodes.
    """
    n_episodes = roll.actions.shape[-3]
    if getattr(module, "memory_one", False) and getattr(roll, "n_actions", 0) == 2:
        pair = (roll.states[..., player] * 2 + roll.actions[..., player]).transpose(-1, -2)
        ones = torch.ones(pair.shape, dtype=roll.rewards.dtype, device=pair.device)
        per_round = ones.new_zeros(*pair.shape[:-1], 10).scatter_add_(-1, pair, ones)  # [S,T,10]

        def nll(params: Params, rounds: Tensor | None) -> Tensor:
            counts = per_round if rounds is None else per_round.index_select(-2, rounds)
            n = n_episodes * counts.shape[-2]
            logp = module.state_log_probs(params).flatten(1)  # [S, 10]
            return -(logp * counts.sum(-2)).sum(-1) / n

        return nll

    def nll(params: Params, rounds: Tensor | None) -> Tensor:
        logp = log_probs(module, params, roll, player)  # [S, B, T]
        if rounds is not None:
            logp = logp.index_select(-1, rounds)
        return -logp.mean(dim=(-1, -2))

    return nll


def memory_one_mle(roll: Rollout, player: int, prior: float = 1.0) -> Tensor:
    """Memory-one logits ``[S, 5]`` fitted to ``player``'s actions in ``roll`` (2 actions).

    Per state ``s`` (start, CC, CD, DC, DD from the player's own side) with ``C_s`` actions 0
    and ``D_s`` actions 1 observed: ``log((C_s + prior) / (D_s + prior))``, the
    maximum-likelihood logit of P(action 0) with ``prior`` pseudo-counts of each action
    (0 at a state never visited).
    """
    if roll.n_actions != 2:
        raise ValueError(f"memory_one_mle needs a 2-action game, got {roll.n_actions} actions")
    states = roll.states[..., player].flatten(1)  # [S, B * T]
    actions = roll.actions[..., player].flatten(1)
    dtype = roll.rewards.dtype
    counts = torch.zeros(states.shape[0], 5 * 2, dtype=dtype, device=states.device)
    counts.scatter_add_(1, states * 2 + actions, torch.ones_like(states, dtype=dtype))
    counts = counts.view(-1, 5, 2) + prior
    return torch.log(counts[..., 0]) - torch.log(counts[..., 1])


class ModelledOpponent(Agent):
    """An exact learner that updates against a memory-one model of its opponent.

    Args:
        learner: an exact learner on memory-one logits (``mode == "exact"``).
        batch_size: episodes of real play per update (per seed).
        rollout_len: rounds per episode.
        prior: pseudo-counts of :func:`memory_one_mle`.

    Raises:
        ValueError: ``learner`` is not an exact learner, or a count/prior out of range.
    """

    name = "modelled-opponent"
    mode = "exact"
    reads_opponent_logits = True  # it plays the opponent's memory-one policy to watch it

    def __init__(self, learner: Agent, *, batch_size: int = 64, rollout_len: int = 150,
                 prior: float = 1.0) -> None:
        if not isinstance(learner, Agent) or learner.mode != "exact":
            raise ValueError(
                f"opponent modelling wraps an exact learner on memory-one logits, got "
                f"{learner!r}; sampled learners take opponent_model=True instead"
            )
        for key, value in (("batch_size", batch_size), ("rollout_len", rollout_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be an int >= 1, got {value!r}")
        self.learner = learner
        self.batch_size = batch_size
        self.rollout_len = rollout_len
        self.prior = check_rate("prior", prior, allow_zero=False)

    def hparams(self) -> dict[str, Any]:
        return {"learner": self.learner.name, **self.learner.hparams(),
                "batch_size": self.batch_size, "rollout_len": self.rollout_len,
                "prior": self.prior}

    def init_params(self, n_seeds, generator=None, device=None, dtype=torch.float32, **kwargs):
        """The learner's params (memory-one logits ``[S, 5]``)."""
        return self.learner.init_params(n_seeds, generator, device, dtype)

    def init_state(self, params: Tensor) -> Any:
        return self.learner.init_state(params)

    def logits(self, params: Tensor) -> Tensor:
        return self.learner.logits(params)

    def model(self, own: Tensor, other_logits: Tensor, ctx: Context) -> Tensor:
        """The opponent's fitted memory-one logits ``[S, 5]`` from fresh episodes of play."""
        pair: list[Any] = [None, None]
        pair[ctx.player], pair[1 - ctx.player] = {"logits": own}, {"logits": other_logits}
        policy = TabularPolicy()
        roll = sample_rollout(ctx.game, (policy, policy), pair, self.batch_size,
                              self.rollout_len, ctx.generator)
        return memory_one_mle(roll, 1 - ctx.player, self.prior).to(own.dtype)

    def update(self, own: Tensor, other: Any, state: Any, ctx: Context) -> tuple[Tensor, Any]:
        """The learner's step against the model fitted to the opponent's play."""
        other_logits = ctx.other.logits(other) if ctx.other is not None else other
        return self.learner.update(own, self.model(own, other_logits, ctx), state, ctx)


@register_agent("lola-om")
class LOLAOM(ModelledOpponent):
    """LOLA-Ex (:class:`~lola_games.agents.lola.LOLA`) on a fitted model of the opponent.

    Args:
        lr, eta, stop_gradient, optimizer: those of :class:`~lola_games.agents.lola.LOLA`.
        batch_size, rollout_len, prior: those of :class:`ModelledOpponent`.
    """

    name = "lola-om"

    def __init__(self, lr: float = 1.0, eta: float = 1.0, stop_gradient: bool = True,
                 optimizer: str = "sgd", *, batch_size: int = 64, rollout_len: int = 150,
                 prior: float = 1.0) -> None:
        super().__init__(LOLA(lr, eta, stop_gradient, optimizer), batch_size=batch_size,
                         rollout_len=rollout_len, prior=prior)

    def hparams(self) -> dict[str, Any]:
        out = super().hparams()
        del out["learner"]
        return out

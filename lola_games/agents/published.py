"""Published settings of the sampled learners, each as the keyword arguments of its agent.

Each constant is a dict of hyper-parameters, passed as ``make_agent(name, **SETTING)`` or
``LOLADiCE(**SETTING)``; its docstring names the source (paper, code, command) and what was
matched and what was not:

* `DICE_PAPER`, `UNOFFICIAL_PORT` -- LOLA-DiCE on matrix games (``lola-dice``, ``naive-pg``);
* `POLA_COIN`, `LOLA_PAPER_COIN` -- LOLA-DiCE and NL-PG on the Coin Game;
* `LOLA_PAPER_PG` -- the LOLA paper's own estimator (``lola-pg``);
* `POLA_IPD`, `POLA_LOLA_DICE_IPD`, `POLA_DICE_COIN`, `POLA_OM_COIN` -- POLA-DiCE and
  POLA-OM (``pola-dice``, ``pola-om``) on the IPD and the Coin Game;
* `AA_COIN`, `AA_IPD` -- Advantage Alignment (``advantage-alignment``; PAA and the PPO
  baseline take the same keys, PPO without ``aa_weight``) on the Coin Game and the IPD;
* `LOQA_IPD`, `LOQA_COIN` -- LOQA (``loqa``) on the IPD and the Coin Game.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DICE_PAPER", "UNOFFICIAL_PORT", "POLA_COIN", "LOLA_PAPER_COIN", "LOLA_PAPER_PG",
           "POLA_IPD", "POLA_LOLA_DICE_IPD", "POLA_DICE_COIN", "POLA_OM_COIN", "AA_COIN",
           "AA_IPD", "LOQA_IPD", "LOQA_COIN"]

DICE_PAPER: dict[str, Any] = {
    "batch_size": 64, "rollout_len": 150, "lr_out": 0.2, "lr_in": 0.1, "optimizer": "sgd",
    "baseline": "batch-mean", "init": "truncated-normal", "metric": "discounted",
    "lr_om": 0.1, "om_batch_size": 16, "om_epochs": 5,
}
"""The DiCE paper's code (alshedivat/lola ``lola_dice/rpg.py`` run by
``scripts/run_lola_dice.py``): 64 episodes of 150 rounds, plain outer steps of 0.2, inner
steps of 0.1 on fresh rollouts, no learned baseline (``use_baseline=False``: rewards centred
by their batch mean), the linear policy's default initialiser (truncated normal, std
``1/sqrt(5)``), the normalised discounted return as the logged score; opponent models fitted
with steps of 0.1 on minibatches of 16 rounds for 5 rollouts per update (the script as
published sets ``om_epochs=0``, which never fits the models; its stored opponent-modelling
runs were made with 5, which is what their saved model parameters follow)."""


UNOFFICIAL_PORT: dict[str, Any] = {
    "batch_size": 128, "rollout_len": 150, "lr_out": 0.2, "lr_in": 0.3, "lr_v": 0.1,
    "optimizer": "adam", "baseline": "value", "init": "zeros", "metric": "reward",
}
"""An unofficial PyTorch port of LOLA-DiCE: Adam outer steps, a learned value baseline,
logits starting at 0, batch 128, inner steps of 0.3, mean reward per round logged."""


POLA_COIN: dict[str, Any] = {
    "policy": "coin-gru", "hidden_size": 64, "n_lookaheads": 1, "batch_size": 2000,
    "rollout_len": 50, "lr_out": 0.003, "lr_in": 0.003, "lr_v": 0.0005,
    "optimizer": "adam-reset", "baseline": "value", "baseline_form": "mao", "metric": "reward",
}
"""The LOLA-DiCE baseline of the POLA paper on the Coin Game (Silent-Zebra/POLA, README
command for Fig. 5 run by ``jax_files/POLA_dice_jax.py``; gamma 0.96, 50,001 updates): 2000
episodes of 50 rounds; one lookahead step of plain SGD 0.003 on fresh rollouts; outer steps
of Adam 0.003 whose state the code creates afresh at every update (``TrainState.create``),
so every step is Adam's first (``"adam-reset"``), as are the value function's (Adam 0.0005);
a dense layer of 64 units (ReLU) then a GRU of 64 units (``"coin-gru"``); a learned value
baseline in the Loaded-DiCE form with GAE lambda 1, which is the ``"mao"`` form here, except
that the code also bootstraps the value of the state after the last round; mean reward per
round logged. The code's value function is a GRU over the history, here a memoryless MLP of
the board (`CoinMLPValue`); its two players see red's view of the
board, here each its own (`lola_games.games.coin`)."""


LOLA_PAPER_COIN: dict[str, Any] = {
    "policy": "conv-gru", "hidden_size": 32, "batch_size": 4000, "rollout_len": 150,
    "lr_out": 0.005, "optimizer": "sgd", "baseline": "value", "metric": "reward",
}
"""The LOLA paper's Coin Game setting (alshedivat/lola, ``scripts/run_lola.py`` defaults for
``CoinGame`` run by ``lola/train_cg.py``; gamma 0.96, 100,000 updates): 4000 episodes of 150
rounds per update, plain steps of 0.005, two 3 x 3 convolutions of 20 channels and a
recurrent layer of 32 units (``"conv-gru"``, see `CoinConvGRUPolicy`), a learned value
baseline. As NL-PG through DiCE; the paper's LOLA-PG
used its own estimator, and its value head is trained with plain steps of 1 on TD targets
(here Adam on returns-to-go)."""


LOLA_PAPER_PG: dict[str, Any] = {"batch_size": 4000, "rollout_len": 150, "lr": 1.0,
                                 "lr_v": 1.0, "eta": 1.0}
"""The LOLA paper's policy-gradient settings (``scripts/run_lola.py`` defaults for the IPD and
matching pennies: 600,000 episodes in batches of 4000, i.e. 150 updates, of 150 rounds; plain
steps of 1 for the policy and the value table)."""


POLA_IPD: dict[str, Any] = {
    "batch_size": 2000, "rollout_len": 50, "lr_out": 0.003, "lr_in": 0.005, "lr_v": 0.0005,
    "inner_steps": 2, "outer_steps": 200, "beta_in": 10.0, "beta_out": 100.0,
    "optimizer": "adam", "baseline": "value", "baseline_form": "mao", "metric": "reward",
    "om_batches": 200, "lr_om": 0.003,
}
"""POLA-DiCE and POLA-OM on the IPD as in the POLA code (README commands for Fig. 4, run by
``jax_files/POLA_dice_jax.py``; gamma 0.96 and the contribution-game IPD with factor 1.33,
`lola_games.games.paper.contribution_ipd`): 2000 episodes of 50 rounds per rollout;
2 inner steps of plain SGD 0.005 with ``inner_beta`` 10; 200 outer steps of Adam 0.003
(restarted at every update) with ``outer_beta`` 100; a learned value baseline trained with
Adam 0.0005 and used in the Loaded-DiCE form with GAE lambda 1 (``"mao"`` here); the mean
reward per round logged. POLA-OM: 200 rollouts per update for the opponent model, one step
each; the code's ``--om_lr_p`` is unused there, and the model's optimizer is the policy's
own (Adam with ``lr_out`` 0.003), so ``lr_om`` is 0.003. Left out: the code's value target
also bootstraps the value of the state after the last round, and each inner step also
takes an SGD step of ``lr_v`` on the opponent's value function (0.0005, twice per update)."""


POLA_LOLA_DICE_IPD: dict[str, Any] = {
    **POLA_IPD, "inner_steps": 1, "outer_steps": 1, "beta_in": 0.0, "beta_out": 0.0,
    "lr_in": 0.05,
}
"""The POLA paper's LOLA-DiCE baseline on the IPD (README command for Fig. 4: one inner and
one outer step, both betas 0, inner SGD 0.05, 20,001 updates)."""


POLA_DICE_COIN: dict[str, Any] = {
    **POLA_IPD, "policy": "coin-gru", "hidden_size": 64, "batch_size": 1000, "lr_in": 0.01,
    "inner_steps": 4, "beta_in": 5.0, "beta_out": 150.0,
}
"""POLA-DiCE on the Coin Game as in the POLA code (README command for Fig. 5, "Edited: July
3, 2023", 251 updates, i.e. 50,200 outer steps; gamma 0.96, the 3 x 3 board): 1000 episodes
of 50 rounds per rollout; 4 inner steps of plain SGD 0.01 with ``inner_beta`` 5; 200 outer
steps of Adam 0.003 (restarted at every update) with ``outer_beta`` 150; the value baseline
as on the IPD; the POLA paper's network, a dense layer of 64 units (ReLU), a GRU of 64
units and a linear head (``"coin-gru"``). As for the LOLA-DiCE baseline there
(`POLA_COIN`), the code's value function is a GRU over the
history (here an MLP of the board) and its two players see red's view of the board (here
each its own)."""


POLA_OM_COIN: dict[str, Any] = {**POLA_DICE_COIN, "inner_steps": 6, "beta_in": 15.0}
"""POLA-OM on the Coin Game as in the POLA code (README command for Fig. 5): the POLA-DiCE
setting with 6 inner steps and ``inner_beta`` 15; the opponent model is fitted on 200
rollouts per update, one step each, as on the IPD."""


AA_COIN: dict[str, Any] = {
    "policy": "coin-gru", "hidden_size": 64, "batch_size": 512, "rollout_len": 50,
    "lr_actor": 0.003, "lr_critic": 0.01, "epochs": 1, "gae_lambda": 0.0,
    "entropy_beta": 0.1, "clip_grad_norm": 10.0, "aa_weight": 0.5, "metric": "reward",
}
"""Advantage Alignment on the Coin Game as its paper's runs were made: the hyper-parameters
stored in the Advantage Alignment checkpoints of LOQA's code (MiladInk/loqa,
``league/checkpoints/advantage_alignment_seeds/minimal_state_25400_*``, key ``hp``): gamma
0.96 on the 3 x 3 board; 512 episodes of 50 rounds per update; a dense layer of 64 units and
a GRU of 64 units (``layers_before_gru: 1``, ``"coin-gru"``); Adam 0.003 for the actor and
0.01 for the critic; entropy bonus 0.1; gradient norms clipped to 10; ``proximal: False``
(AA, not PAA; the stored ``clip_range`` 0.3 is then unused); TD(0) advantages
(``advantage: 'TD0'``, GAE lambda 0); one policy step per batch. ``aa_weight`` 0.5 is the
stored ``inf_weight``, read as beta. Not matched: that code's critic is a GRU Q-network
(2 dense layers before the GRU) with an EMA target (0.99), here a state-value MLP of the
board (`CoinMLPValue`); their runs trained one agent in self-play (``just_self_play``)
against a replay buffer of its past selves (``agent_replay_buffer``: pushed every 10 updates,
capacity 10,000, all opponents drawn from it), here two learners learn against each other;
the code that trained the checkpoints is not in the published
repository (whose ``coin_train.py`` has no ``proximal`` option), so the alignment term is
the one of the authors' later code (`lola_games.agents.advantage_alignment`)."""


AA_IPD: dict[str, Any] = {
    "policy": "gru", "hidden_size": 32, "batch_size": 2048, "rollout_len": 50,
    "lr_actor": 0.001, "lr_critic": 0.01, "epochs": 1, "gae_lambda": 0.0,
    "entropy_beta": 0.0, "aa_weight": 0.5, "metric": "reward",
}
"""Advantage Alignment on the IPD in the sizes of LOQA's code, in which the paper's IPD
runs were made (MiladInk/loqa ``sweep/loqa_ipd_10_seeds_v4.py``: gamma 0.96, 2048 episodes
of 50 rounds, Adam 0.001 for the actor and 0.01 for the critic, no entropy bonus, TD(0)
advantages) with the GRU policy over the whole history that the paper describes. The
authors' IPD configuration itself is published in neither repository: the GRU width, the
weight beta (as on the Coin Game) and one step per batch are choices here, and the
epsilon-greedy exploration (0.2) of that command is not done."""


LOQA_IPD: dict[str, Any] = {
    "policy": "tabular", "init": "zeros", "batch_size": 2048, "rollout_len": 50,
    "metric": "reward", "lr_actor": 0.002, "lr_actor_value": 0.001, "lr_critic": 0.01,
    "entropy_beta": 0.0, "shaping_weight": 1.0, "clip_grad_norm": None, "softmax_temp": 1.0,
    "dice_discount": 0.9, "target_ema": 0.99, "epsilon": 0.2, "buffer_capacity": 0,
    "self_play": True,
}
"""LOQA on the IPD as in the authors' code (MiladInk/loqa ``ipd.py`` with
``conf/ipd_conf/ipd_config.yaml``, ``hp/logits.yaml`` and the README's IPD command): 2048
episodes of 50 rounds, gamma 0.96, epsilon-greedy 0.2 for both players, self-play against
the current self (``agent_replay_buffer.mode=disabled``), actor Adam 1e-3 without clipping
and no entropy bonus, critic Adam 1e-2 (an MLP of 2 x 16 ReLU units over the last outcome and
the round index; ``qvalue.mode=mean``, target EMA 0.99), loaded-DiCE with discount 0.9,
softmax temperature 1, logits starting at 0. The original's table has two logits per state
(a softmax); Adam on that table moves the log-odds exactly as Adam of twice the step on one
logit per state, hence ``lr_actor`` 0.002 here; the same Adam step also moves the critic
(the advantage is not detached), at the original's 0.001 (``lr_actor_value``)."""


LOQA_COIN: dict[str, Any] = {
    "policy": "loqa-gru", "hidden_size": 128, "critic_hidden_size": 64, "batch_size": 512,
    "rollout_len": 50, "metric": "reward", "lr_actor": 0.001, "lr_actor_value": None,
    "lr_critic": 0.01, "entropy_beta": 0.1, "shaping_weight": 1.0, "clip_grad_norm": 1.0,
    "softmax_temp": 1.0,
    "dice_discount": 0.9, "target_ema": 0.99, "epsilon": 0.0, "buffer_capacity": 10000,
    "buffer_every": 10, "self_play": True,
}
"""LOQA on the 3 x 3 Coin Game as in the authors' code (MiladInk/loqa ``coin_train.py``
with ``conf/coin_conf/coin_config.yaml``, ``hp/loqa_iclr.yaml`` and the README's Coin Game
command): 512 episodes of 50 rounds, gamma 0.96; actor: two dense layers of 128 units
(ReLU after the first), a GRU of 128 and a linear head, Adam 1e-3, gradient clipped to
global norm 1, entropy bonus 0.1; critic: the same stack with 64 units over the board and
the round index, Adam 1e-2, target EMA 0.99 (``qvalue.mode=mean``); loaded-DiCE with
discount 0.9, softmax temperature 1; self-play against past selves drawn per episode from a
buffer of capacity 10,000 that takes the current params every 10 updates
(``cur_agent_frac`` 0). The paper's runs are 6,000 updates (`lola_games.experiments.loqa`)."""

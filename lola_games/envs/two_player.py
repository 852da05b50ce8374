"""The two-player PettingZoo base shared by the iterated matrix games and the Coin Game:
agent names, spaces, argument checks, rendering, and the checked AEC wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
from gymnasium.spaces import Discrete
from pettingzoo import ParallelEnv
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from lola_games.core.checks import check_seed

__all__ = ["AGENTS", "TwoPlayerEnv", "CheckedAECWrapper"]

AGENTS = ("player_0", "player_1")


class TwoPlayerEnv(ParallelEnv):
    """What the two-player parallel envs of this package share: agents, cached spaces,
    render-mode handling, the checks of reset arguments and of discrete actions, step
    results and text rendering.

    A subclass sets ``self.game`` (with ``name`` and ``check_action``), ``self.n_actions``,
    ``self.observation_spaces``, ``self.action_spaces``, ``self._round`` and
    ``self._has_reset``, calls `_init_agents` and `_set_render_mode`, and
    defines ``_render_text()``.
    """

    metadata: dict[str, Any] = {"render_modes": ["human", "ansi"], "is_parallelizable": True}

    def _init_agents(self) -> None:
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []

    def _set_render_mode(self, render_mode: str | None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode

    @property
    def round(self) -> int:
        """Rounds played since the last reset."""
        return self._round

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.observation_spaces[self._check_agent(agent)]

    def action_space(self, agent: str) -> Discrete:
        return self.action_spaces[self._check_agent(agent)]

    def _check_agent(self, agent: Any) -> str:
        if agent not in self.possible_agents:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}")
        return agent

    @staticmethod
    def _check_reset_args(seed: Any, options: Any) -> int | None:
        """``seed`` checked (see `check_seed`); ``TypeError`` unless ``options`` is a
        dict or None."""
        seed = check_seed(seed)
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        return seed

    def check_action(self, agent: str, action: Any) -> int:
        """Validate one agent's action and return it as an int; changes nothing."""
        return self.game.check_action(action, f"action of {agent}")

    def check_actions(self, actions: Any) -> tuple[int, int]:
        """Validate a step's ``actions`` dict and return ``(a0, a1)``; changes nothing.

        Raises:
            ValueError: step before reset or after the episode ended, unknown or missing
                agents, an action out of range.
            TypeError: ``actions`` not a dict, an action that is not an integer.
        """
        if not self._has_reset:
            raise ValueError("step() called before reset()")
        if not self.agents:
            raise ValueError("step() called after the episode ended; call reset() first")
        if not isinstance(actions, Mapping):
            raise TypeError(
                f"actions must be a dict {{agent: action}}, got {type(actions).__name__}"
            )
        unknown = [a for a in actions if a not in self.possible_agents]
        if unknown:
            raise ValueError(f"unknown agent(s) {unknown}; agents are {self.possible_agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"missing action(s) for {missing}")
        a0, a1 = (self.check_action(a, actions[a]) for a in self.agents)
        return a0, a1

    def _round_result(
        self, obs: dict[str, Any], rewards: tuple[float, float], terminated: bool,
        truncated: bool, infos: dict[str, dict[str, Any]],
    ) -> tuple[dict, dict, dict, dict, dict]:
        """A step's return value; ends the episode and renders (``"human"``) as needed."""
        agents = self.agents
        out = (
            obs,
            dict(zip(agents, rewards, strict=True)),
            dict.fromkeys(agents, terminated),
            dict.fromkeys(agents, truncated),
            infos,
        )
        if terminated or truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return out

    def _render_text(self) -> str:
        raise NotImplementedError

    def render(self) -> str | None:
        """``"ansi"``: the current round as text; ``"human"``: print it and return None."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() called without a render_mode; pass render_mode='ansi' or 'human'"
            )
            return None
        if not self._has_reset:
            raise ValueError("render() called before reset()")
        text = self._render_text()
        if self.render_mode == "ansi":
            return text
        print(text)
        return None

    def close(self) -> None:
        pass


class CheckedAECWrapper(OrderEnforcingWrapper):
    """PettingZoo's ``OrderEnforcingWrapper`` that also rejects bad steps with ``ValueError``.

    Before anything changes it checks the action of the agent to move (``TypeError`` /
    ``ValueError`` as the parallel env; ``None`` required for an agent already done) and
    rejects a step after all agents are done. PettingZoo's ``AssertOutOfBoundsWrapper``
    would raise ``AssertionError`` (skipped under ``python -O``) and ``OrderEnforcingWrapper``
    only logs a warning for a step after the end.
    """

    def step(self, action: Any) -> None:
        if not self._has_reset:
            raise ValueError("step() called before reset()")
        if not self.agents:
            raise ValueError("step() called after the episode ended; call reset() first")
        agent = self.agent_selection
        done = self.terminations[agent] or self.truncations[agent]
        if done and action is not None:
            raise ValueError(f"{agent} is done: its action must be None, got {action!r}")
        if not done:
            self.env.unwrapped.check_action(agent, action)
        super().step(action)

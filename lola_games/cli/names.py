"""Names the ``--help`` lists, torch-free (tests/cli/test_grammar.py checks that they equal
the library's: `lola_games.rollouts.games`, the experiments, presets and M-FOS opponents)."""

from __future__ import annotations

__all__ = ["MATRIX_POLICIES", "COIN_POLICIES", "EXPERIMENT_NAMES", "PRESET_NAMES",
           "MFOS_OPPONENTS"]

MATRIX_POLICIES = ("tabular", "mlp", "gru")
COIN_POLICIES = ("conv-gru", "coin-mlp", "coin-gru", "loqa-gru")
EXPERIMENT_NAMES = ("lola-exact", "lookahead", "dice-paper", "lola-dice", "lola-pg", "coin-game",
                    "pola-exact", "sos", "cola", "lola-higher-order", "pola-dice", "loqa",
                    "advantage-alignment", "mfos")
PRESET_NAMES = ("lola-paper-ipd", "lola-paper-imp")
MFOS_OPPONENTS = ("naive", "lola", "self")

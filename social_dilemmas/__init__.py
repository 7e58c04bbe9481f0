"""social-dilemmas: batched social dilemmas for multi-agent RL behind Gymnasium and PettingZoo.

Importing the package registers every environment id (``social_dilemmas/IPD-v0`` ...) with
Gymnasium and, where available, PettingZoo's registry.
"""

from social_dilemmas.core.batched_env import BatchedEnv
from social_dilemmas.core.game import BatchedGame, GameSpec, StepOutput
from social_dilemmas.registration import get_entry, make_batched, make_game, register_all, registered_ids

__version__ = "0.1.0"

__all__ = [
    "BatchedEnv",
    "BatchedGame",
    "GameSpec",
    "StepOutput",
    "get_entry",
    "make_batched",
    "make_game",
    "registered_ids",
    "__version__",
]

register_all()

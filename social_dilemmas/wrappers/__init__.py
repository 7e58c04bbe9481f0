"""Wrappers that turn a game into something else: the co-player shaping meta-environment and its history channels.

* :class:`~social_dilemmas.wrappers.shaping.ShapingMetaEnv` — the batched co-player shaping
  POMDP (paper §2.3): ``meta_batch`` co-players (naive learners, fixed strategies, frozen agents,
  or a mixed pool), each facing ``B`` parallel games for ``M`` inner episodes.
* :mod:`~social_dilemmas.wrappers.history` — optional learning-history observation channels.

Gymnasium and PettingZoo faces of the meta-environment live in
``social_dilemmas.adapters.meta_gymnasium`` and ``social_dilemmas.adapters.meta_pettingzoo``.
"""

from social_dilemmas.wrappers.history import CHANNELS as HISTORY_CHANNELS
from social_dilemmas.wrappers.history import HistoryChannels, parse_history
from social_dilemmas.wrappers.shaping import COPLAYER_KINDS, MetaStepOutput, ShapingMetaEnv, make_coplayer

__all__ = [
    "COPLAYER_KINDS",
    "HISTORY_CHANNELS",
    "HistoryChannels",
    "MetaStepOutput",
    "ShapingMetaEnv",
    "make_coplayer",
    "parse_history",
]

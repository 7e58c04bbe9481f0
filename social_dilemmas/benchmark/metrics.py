"""From a scenario's raw per-inner-episode records to the reported figures, per replicate.

The runner records, for every replicate (one co-player) and inner episode, per-step means over
the ``B`` games: ``reward`` / ``coplayer_reward``, ``focal_a0`` / ``coplayer_a0`` (fraction of
action 0) and the game's own per-step metrics (``metric/<name>/<k>``, ``k`` = 0 focal,
1 co-player, or ``k`` = 0 for per-game ones). This module turns them into figures, each an array
with one value per replicate:

==========================  ===============================================================
``reward``                  focal reward per step
``coplayer_reward``         co-player reward per step
``welfare``                 their sum (social welfare per step)
``cooperation``             the focal player's cooperation: IPD P(cooperate); coin game
                            own-coin rate ``own / (own + other)``; CleanUp-lite dirt cleaned
                            per step
``coplayer_cooperation``    the same for the co-player
``cleaning_share``          CleanUp-lite: the focal player's share of all cleaning
``shaping``                 co-player cooperation in the last inner episode minus the first
                            (how far the focal policy moved a learning co-player)
``score``                   normalised focal reward: 0 = mutual defection, 1 = mutual
                            cooperation (:data:`~social_dilemmas.benchmark.scenarios.GAME_BOUNDS`)
==========================  ===============================================================
"""

from __future__ import annotations

import numpy as np

__all__ = ["METRIC_LABELS", "compute_metrics", "game_family"]

METRIC_LABELS: dict[str, str] = {
    "reward": "reward/step",
    "coplayer_reward": "co-player reward/step",
    "welfare": "welfare/step",
    "cooperation": "cooperation",
    "coplayer_cooperation": "co-player cooperation",
    "cleaning_share": "cleaning share",
    "shaping": "shaping (last - first)",
    "score": "normalised score",
}


def game_family(game_id: str) -> str:
    """``"matrix"``, ``"coin"`` or ``"cleanup"`` from a registered game id."""
    low = game_id.lower()
    if "coin" in low:
        return "coin"
    if "cleanup" in low:
        return "cleanup"
    return "matrix"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _cooperation(raw: dict[str, np.ndarray], family: str, seat: int) -> np.ndarray:
    """``[R, M]`` cooperation per replicate and inner episode for seat 0 (focal) or 1."""
    if family == "coin":
        return _ratio(raw[f"metric/own_coin/{seat}"], raw[f"metric/own_coin/{seat}"] + raw[f"metric/other_coin/{seat}"])
    if family == "cleanup":
        return raw[f"metric/cleaned/{seat}"]
    return raw["focal_a0" if seat == 0 else "coplayer_a0"]


def compute_metrics(raw: dict[str, np.ndarray], game_id: str, bounds: tuple[float, float],
                    names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``{figure: [R]}`` for the figures in ``names`` (see the module docstring)."""
    family = game_family(game_id)
    out: dict[str, np.ndarray] = {}
    reward, co = raw["reward"], raw["coplayer_reward"]
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        for name in names:
            if name == "reward":
                out[name] = reward.mean(1)
            elif name == "coplayer_reward":
                out[name] = co.mean(1)
            elif name == "welfare":
                out[name] = (reward + co).mean(1)
            elif name in ("cooperation", "coplayer_cooperation"):
                seat = 0 if name == "cooperation" else 1
                if family == "coin":  # a rate over all coins taken, not a mean of per-episode rates
                    own, other = raw[f"metric/own_coin/{seat}"].sum(1), raw[f"metric/other_coin/{seat}"].sum(1)
                    out[name] = _ratio(own, own + other)
                else:
                    out[name] = _cooperation(raw, family, seat).mean(1)
            elif name == "cleaning_share":
                if family == "cleanup":
                    mine, theirs = raw["metric/cleaned/0"].sum(1), raw["metric/cleaned/1"].sum(1)
                    out[name] = _ratio(mine, mine + theirs)
            elif name == "shaping":
                c = _cooperation(raw, family, 1)
                out[name] = c[:, -1] - c[:, 0] if c.shape[1] > 1 else np.full(c.shape[0], np.nan)
            elif name == "score":
                out[name] = (reward.mean(1) - lo) / (hi - lo)
            else:
                raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRIC_LABELS)}")
    return out

"""Fig. 4C under the second return-scale reading, and the table of readings for Fig. 3C/4C.

The exact model has two scale choices the paper leaves open (:mod:`.learners`):
``return_scale`` (naive learning rates on the per-round return ``(1 - gamma) J``, the default,
or on ``J`` as printed) and ``episode_reduction`` (Eq. 17 averaged, the default, or summed).
Exact LOLA (Fig. 4) uses only the final return after the look-ahead, so only the first choice
matters there; :func:`fig4_total` reruns Fig. 4A/C with ``return_scale="total"``. The Fig. 3C
readings are cells of the regime map (:mod:`.regime`: ``w = 1`` averaged, ``w = M + 1``
summed, at both return scales). :func:`reading_rows` joins the recorded JSONs into one table.
"""

from __future__ import annotations

import pathlib
import time
from dataclasses import asdict

from social_dilemmas.analytic.figures import (
    GAMMA,
    LOLA_P_NAIVE,
    SETTINGS,
    _one_thread,
    _quartiles,
    _random_logits,
    _write_json,
)
from social_dilemmas.analytic.regime import cell_key
from social_dilemmas.analytic.training import train_lola


def fig4_total(out_dir: pathlib.Path, quick: bool = False) -> list[pathlib.Path]:
    """Fig. 4A/C with naive (imagined) steps on the unnormalized return ``J``: ``analytic_fig4_total.json``."""
    s = SETTINGS["fig4"][quick]
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    init = _random_logits((s.seeds, 2), 4)  # the same initial pairs as fig4
    lola, mixed = {}, {}
    t0 = time.perf_counter()
    with _one_thread():
        for k, p in LOLA_P_NAIVE.items():
            lr_naive = 10.0 if k == 1 else s.lr_naive
            kw = dict(lr_naive=lr_naive, gamma=GAMMA, lr=s.lr, log_every=s.log_every, return_scale="total")
            lola[k] = train_lola(init, k, s.steps, **kw)
            mixed[k] = lola[k] if p == 1.0 else train_lola(init, k, s.steps, p_naive=p, **kw)
    summary = {
        "settings": asdict(s), "gamma": GAMMA, "quick": quick, "return_scale": "total",
        "p_naive": {str(k): v for k, v in LOLA_P_NAIVE.items()},
        "lola_final_mutual_return": {str(k): _quartiles(h.metrics["returns"][-1].mean(-1)) for k, h in lola.items()},
        "lola_partial_final_mutual_return": {str(k): _quartiles(h.metrics["returns"][-1].mean(-1))
                                             for k, h in mixed.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return [_write_json(out_dir, "analytic_fig4_total.json", summary)]


#: The four readings of the exact model: (return_scale, Eq. 17 reduction) -> regime-map weight.
READINGS = (("per_round", "mean"), ("per_round", "sum"), ("total", "mean"), ("total", "sum"))


def fig3c_reading(regime: dict, return_scale: str, reduction: str, p_naive: float) -> dict | None:
    """The regime-map cell of Fig. 3C at ``p_naive`` under one reading (``None`` if not run)."""
    weight = 1.0 if reduction == "mean" else float(regime["settings"]["naive_steps"] + 1)
    return regime["cells"].get(cell_key(return_scale, p_naive, weight))


def fig3c_reproduced(regime: dict, return_scale: str, reduction: str, cooperate: float = 0.9) -> bool | None:
    """The paper's Fig. 3C claim under one reading: mixed groups cooperate at every ``p_naive``
    of the map (median mutual reward above ``cooperate``), including the paper's RL value 0.75.
    (Pure learning-aware groups, ``p_naive = 0``, defect under every reading: no naive term.)"""
    cells = [fig3c_reading(regime, return_scale, reduction, p) for p in regime["p_naive"]]
    if any(c is None for c in cells):
        return None
    return all(c["mutual_return"]["median"] > cooperate for c in cells)


def fig4c_reproduced(fig4: dict, cooperate: float = 0.7) -> bool:
    """The paper's Fig. 4C claim: with the partial gradient mixed in, every look-ahead count
    (3, 10 and 20 included) ends with a median mutual reward above ``cooperate`` (0.7: the
    level of few-look-ahead LOLA, "performance restored")."""
    return all(q["median"] > cooperate for q in fig4["lola_partial_final_mutual_return"].values())


__all__ = ["READINGS", "fig3c_reading", "fig3c_reproduced", "fig4_total", "fig4c_reproduced"]

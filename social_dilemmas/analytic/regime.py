"""Where mixed groups both cooperate and extort: a regime map of the exact mixed-group model.

A group of 2 exact learning-aware (tabular, memory-1) agents meets naive learners with
probability ``p_naive`` and the other agent otherwise (paper §4, Fig. 3C). Each agent ascends

    p_naive * w * (Eq. 17 shaping objective)  +  (1 - p_naive) * J(phi_i, stopgrad(phi_j)),

where the weight ``w`` of the naive-opponent term stands for the scale choices the paper
leaves open: ``w = 1`` is Eq. 17 averaged over its ``M + 1`` episodes, ``w = M + 1`` summed as
printed; in the RL trainer, ``batch_scaling="sum"`` weighs every naive-opponent trajectory
``B`` times (``w = B``) and ``"mean"`` once (``w = 1``). With Adam only the ratio of the two
terms matters, i.e. the *effective naive weight* ``p w / (p w + 1 - p)``.

For every cell of a ``p_naive x w`` grid (and for both ``return_scale`` readings) the map
records, per seed at the end of training: the agents' mutual reward per round, their reward
per round against naive learners (averaged over the naive learning trajectory, as the RL
metric ``reward/vs_naive`` averages over the meta-episode), and the naive learners' reward.
The question it answers: is there a weighting under which the agents cooperate with each
other (mutual reward > 0.9) *and* earn more than the mutual-cooperation payoff 1 from naive
learners?

Runs are resumable: every finished cell is written to the JSON at once and skipped when the
same settings are run again.
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from dataclasses import asdict

from social_dilemmas.analytic.figures import GAMMA, Settings, _one_thread, _pyplot, _quartiles, _random_logits, _save
from social_dilemmas.analytic.training import train_mixed

#: Grid of the map, and the reduced settings it uses (a cell is one ``train_mixed`` run).
P_NAIVE = (0.1, 0.25, 0.5, 0.75, 0.9)
WEIGHTS = (0.1, 0.3, 1.0, 3.0, 21.0)
#: The second return-scale reading is run only at the two Eq. 17 readings (w = 1 and w = M + 1).
TOTAL_SCALE_WEIGHTS = (1.0, 21.0)
SETTINGS = {
    True: Settings(seeds=4, steps=150, lr=0.03, naive_steps=5, naive_batch=2, log_every=50),
    False: Settings(seeds=16, steps=1200, lr=0.02, naive_steps=20, naive_batch=8, log_every=100),
}
COOPERATE = 0.9  # mutual reward per round above which a group counts as cooperating
MUTUAL_COOPERATION = 1.0  # the IPD's mutual-cooperation payoff R


def effective_naive_weight(p_naive: float, weight: float) -> float:
    """Share of the naive-opponent term in the gradient: ``p w / (p w + 1 - p)``."""
    num = p_naive * weight
    return num / (num + 1.0 - p_naive) if num + 1.0 - p_naive > 0 else 1.0


def cell_key(return_scale: str, p_naive: float, weight: float) -> str:
    return f"{return_scale}/p={p_naive:g}/w={weight:g}"


def run_cell(s: Settings, p_naive: float, weight: float, return_scale: str, seed: int = 50) -> dict:
    """One mixed-group training run; per-seed final metrics and their quartiles."""
    init = _random_logits((s.seeds, 2), seed)
    t0 = time.perf_counter()
    with _one_thread():
        h = train_mixed(init, p_naive, s.steps, naive_steps=s.naive_steps, naive_batch=s.naive_batch,
                        lr_naive=s.lr_naive, gamma=GAMMA, seed=seed + 1, lr=s.lr, log_every=s.log_every,
                        return_scale=return_scale, shaping_weight=weight)
    pair = h.metrics["pair_returns"][-1]  # [S, 2, 2]
    mutual = 0.5 * (pair[:, 0, 1] + pair[:, 1, 0])
    vs_naive, naive = h.metrics["vs_naive"][-1], h.metrics["naive_return"][-1]
    coop, extort = mutual > COOPERATE, vs_naive > MUTUAL_COOPERATION
    return {
        "return_scale": return_scale, "p_naive": p_naive, "shaping_weight": weight,
        "effective_naive_weight": round(effective_naive_weight(p_naive, weight), 4),
        "mutual_return": _quartiles(mutual), "vs_naive_return": _quartiles(vs_naive),
        "naive_return": _quartiles(naive),
        "fraction_cooperating": round(float(coop.double().mean()), 4),
        "fraction_above_mutual_cooperation_vs_naive": round(float(extort.double().mean()), 4),
        "fraction_both": round(float((coop & extort).double().mean()), 4),
        "per_seed": {"mutual_return": [round(float(v), 4) for v in mutual],
                     "vs_naive_return": [round(float(v), 4) for v in vs_naive]},
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _load(path: pathlib.Path, header: dict) -> dict:
    if path.exists():
        old = json.loads(path.read_text())
        if {k: old.get(k) for k in header} == header:
            return old
        raise SystemExit(f"{path} holds a map made with other settings; move it away or pass another --out")
    return {**header, "cells": {}}


def regime(out_dir: pathlib.Path, quick: bool = False) -> list[pathlib.Path]:
    """Run (or resume) the regime map; writes ``analytic_regime.json`` and ``regime_map.png``."""
    s = SETTINGS[quick]
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "analytic_regime.json"
    header = {"settings": asdict(s), "gamma": GAMMA, "quick": quick, "p_naive": list(P_NAIVE),
              "shaping_weights": list(WEIGHTS), "total_scale_weights": list(TOTAL_SCALE_WEIGHTS),
              "cooperate_threshold": COOPERATE}
    data = _load(path, header)
    todo = [("per_round", p, w) for w in WEIGHTS for p in P_NAIVE]
    todo += [("total", p, w) for w in TOTAL_SCALE_WEIGHTS for p in P_NAIVE]
    for scale, p, w in todo:
        key = cell_key(scale, p, w)
        if key in data["cells"]:
            continue
        data["cells"][key] = run_cell(s, p, w, scale)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(path)  # atomic: an interrupted map keeps every finished cell
    return [path, plot_regime(data, out_dir)]


def plot_regime(data: dict, out_dir: pathlib.Path) -> pathlib.Path:
    """Heatmaps (median mutual reward, median reward vs naive, share of seeds doing both) and
    the same against the effective naive weight."""
    plt = _pyplot()
    ps, ws = data["p_naive"], data["shaping_weights"]
    cells = data["cells"]

    def grid(metric, sub=None):
        return [[(cells[cell_key("per_round", p, w)][metric] if sub is None
                  else cells[cell_key("per_round", p, w)][metric][sub]) for p in ps] for w in ws]

    fig, axes = plt.subplots(1, 4, figsize=(22, 4.4), layout="constrained")
    panels = [("mutual_return", "median", "agents vs each other", (0, 1)),
              ("vs_naive_return", "median", "agents vs naive learners", (0, 1.3)),
              ("fraction_both", None, f"share of seeds: mutual > {data['cooperate_threshold']:g} and vs naive > 1",
               (0, 1))]
    for ax, (metric, sub, title, lim) in zip(axes, panels):
        z = grid(metric, sub)
        im = ax.imshow(z, origin="lower", aspect="auto", vmin=lim[0], vmax=lim[1], cmap="viridis")
        for i, row in enumerate(z):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < 0.6 * lim[1] else "black")
        ax.set(xticks=range(len(ps)), xticklabels=[f"{p:g}" for p in ps], yticks=range(len(ws)),
               yticklabels=[f"{w:g}" for w in ws], xlabel="p_naive", ylabel="weight w of the naive term",
               title=title)
        fig.colorbar(im, ax=ax, fraction=0.046)
    ax = axes[3]
    pts = [c for c in cells.values() if c["return_scale"] == "per_round"]
    pts.sort(key=lambda c: c["effective_naive_weight"])
    x = [c["effective_naive_weight"] for c in pts]
    ax.plot(x, [c["mutual_return"]["median"] for c in pts], "o", label="mutual (median)")
    ax.plot(x, [c["vs_naive_return"]["median"] for c in pts], "s", label="vs naive (median)")
    ax.axhline(MUTUAL_COOPERATION, ls=":", c="k", lw=0.8)
    ax.set(xlabel="effective naive weight p w / (p w + 1 - p)", ylabel="reward per round",
           title="all cells against the effective weight")
    ax.legend(fontsize=8)
    fig.suptitle(f"Exact mixed groups (gamma {data['gamma']}, {data['settings']['seeds']} seeds, "
                 f"{data['settings']['steps']} AdamW steps at lr {data['settings']['lr']}, "
                 f"per-round return scale)", fontsize=10)
    return _save(fig, out_dir, "regime_map.png", bool(data["quick"]))


def best_cells(data: dict, limit: int = 5) -> list[dict]:
    """The cells with the largest share of seeds that both cooperate and out-earn R vs naive."""
    cells = sorted(data["cells"].values(), key=lambda c: (-c["fraction_both"], -c["vs_naive_return"]["median"]))
    return [c for c in cells[:limit] if not math.isnan(c["fraction_both"])]


__all__ = ["P_NAIVE", "SETTINGS", "WEIGHTS", "best_cells", "effective_naive_weight", "plot_regime", "regime",
           "run_cell"]

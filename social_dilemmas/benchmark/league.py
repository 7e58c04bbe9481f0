"""A league: round-robin cross-play of a set of policies, its payoff matrix and an alpha-Rank ranking.

Every policy plays every other (and itself) with the scenario protocol of
:mod:`social_dilemmas.benchmark.runner` (the column policy seated as a frozen co-player), giving
a payoff matrix ``payoff[i, j]`` = the mean reward per step of ``i`` against ``j`` with a 95 %
bootstrap interval. The mean of a row is a poor ranking when dominance is cyclic (rock beats
scissors beats paper beats rock: a strategy that crushes one weak member looks best on average
while every strong member beats it), so the league ranks by **alpha-Rank** (Omidshafiei et al.,
Scientific Reports 2019): the stationary distribution of a single-population Moran process in
which a mutant strategy takes over a monomorphic population with its fixation probability under
selection intensity ``alpha``. Mass concentrates on the strategies that the evolutionary
dynamics keep returning to (the sink strongly connected component); members of a cycle share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from social_dilemmas.benchmark.stats import Estimate

__all__ = ["LeagueResult", "alpha_rank", "play_league"]


def alpha_rank(payoff: np.ndarray, *, alpha: float = 50.0, population_size: int = 50) -> np.ndarray:
    """alpha-Rank stationary distribution ``[n]`` of a symmetric game ``payoff[i, j]`` (row's reward vs column).

    Payoffs are rescaled to ``[0, 1]`` first, so ``alpha`` does not depend on the game's units.
    Single-population Moran process with ``population_size`` individuals: with ``k`` mutants
    ``r`` among residents ``s``, fitnesses are ``f_r = ((k-1) M[r,r] + (m-k) M[r,s]) / (m-1)`` and
    ``f_s = (k M[s,r] + (m-k-1) M[s,s]) / (m-1)``; the fixation probability is
    ``1 / (1 + sum_l prod_{k<=l} exp(-alpha (f_r - f_s)))``, computed in the log domain.
    """
    m_pay = np.asarray(payoff, dtype=np.float64)
    if m_pay.ndim != 2 or m_pay.shape[0] != m_pay.shape[1] or m_pay.shape[0] < 1:
        raise ValueError(f"payoff must be a square [n, n] matrix, got shape {m_pay.shape}")
    if not np.isfinite(m_pay).all():
        raise ValueError("payoff holds non-finite entries")
    if not (alpha > 0 and population_size >= 2):
        raise ValueError(f"alpha must be > 0 and population_size >= 2, got {alpha}, {population_size}")
    n, m = m_pay.shape[0], int(population_size)
    if n == 1:
        return np.ones(1)
    span = m_pay.max() - m_pay.min()
    p = (m_pay - m_pay.min()) / span if span > 0 else np.zeros_like(m_pay)
    k = np.arange(1, m)
    trans = np.zeros((n, n))
    for s in range(n):
        for r in range(n):
            if r == s:
                continue
            f_r = ((k - 1) * p[r, r] + (m - k) * p[r, s]) / (m - 1)
            f_s = (k * p[s, r] + (m - k - 1) * p[s, s]) / (m - 1)
            cum = np.cumsum(-alpha * (f_r - f_s))
            log_sum = np.logaddexp.reduce(cum)
            trans[s, r] = math.exp(-np.logaddexp(0.0, log_sum)) / (n - 1)
        trans[s, s] = 1.0 - trans[s].sum()
    # stationary distribution: pi (T - I) = 0, sum(pi) = 1
    a = np.vstack([(trans - np.eye(n)).T, np.ones((1, n))])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


@dataclass
class LeagueResult:
    """A round robin's outcome.

    Attributes:
        names: the policies, in matrix order.
        payoff: ``[n, n]`` :class:`~social_dilemmas.benchmark.stats.Estimate` of row's reward per step vs column.
        mass: ``[n]`` alpha-Rank stationary mass.
        meta: how it was played.
    """

    names: list[str]
    payoff: list[list[Estimate]]
    mass: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_payoff(self) -> np.ndarray:
        return np.array([[e.mean for e in row] for row in self.payoff])

    def ranking(self) -> list[tuple[str, float, float]]:
        """``(name, alpha-Rank mass, mean payoff over opponents)``, best first (ties by mean payoff)."""
        mean = self.mean_payoff.mean(1)
        order = sorted(range(len(self.names)), key=lambda i: (-round(float(self.mass[i]), 6), -mean[i]))
        return [(self.names[i], float(self.mass[i]), float(mean[i])) for i in order]

    def table(self) -> str:
        w = max(len(n) for n in self.names)
        lines = [f"{'rank':<5}{'policy':<{w + 2}}{'alpha-Rank mass':>16}{'mean payoff':>13}"]
        for i, (name, mass, mean) in enumerate(self.ranking()):
            lines.append(f"{i + 1:<5}{name:<{w + 2}}{mass:>16.3f}{mean:>13.3f}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"names": self.names, "payoff": [[e.as_dict() for e in row] for row in self.payoff],
                "alpha_rank": self.mass.tolist(), "ranking": [list(r) for r in self.ranking()], "meta": self.meta}

    def plot(self, path: str | Path) -> Path:
        """The cross-play heat-map (row's reward per step against column) as a PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        mat = self.mean_payoff
        n = len(self.names)
        fig, ax = plt.subplots(figsize=(1.0 + 0.6 * n, 0.8 + 0.5 * n))
        im = ax.imshow(mat, cmap="viridis")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(self.names, rotation=45, ha="right", fontsize=8)
        ax.set_yticklabels(self.names, fontsize=8)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if mat[i, j] < mat.mean() else "black")
        ax.set_xlabel("co-player")
        ax.set_ylabel("focal policy")
        ax.set_title("cross-play: focal reward per step")
        fig.colorbar(im, ax=ax, fraction=0.046)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path


def play_league(policies: dict[str, Any], *, game: str = "IPD-v0", num_inner_episodes: int = 10,
                batch_size: int = 8, seeds: int = 8, seed: int = 0, alpha: float = 50.0,
                device: str = "cpu", threads: int | None = 1) -> LeagueResult:
    """Round-robin cross-play of ``policies`` (``{name: anything as_policy accepts}``), ranked by alpha-Rank."""
    from social_dilemmas.benchmark.resolve import as_policy
    from social_dilemmas.benchmark.runner import play_scenario, seeded
    from social_dilemmas.benchmark.scenarios import OpponentSpec, Scenario
    from social_dilemmas.benchmark.stats import bootstrap_ci

    if len(policies) < 2:
        raise ValueError(f"a league needs at least 2 policies, got {len(policies)}")
    resolved = {name: as_policy(p) for name, p in policies.items()}
    opponents = tuple(OpponentSpec(name, "policy", {"policy": p}) for name, p in resolved.items())
    scenario = Scenario(f"league/{game}", game, "round robin", opponents, num_inner_episodes=num_inner_episodes,
                        batch_size=batch_size, seeds=seeds)
    names = list(resolved)
    payoff = []
    with seeded(seed, threads):
        for i, (_name, pol) in enumerate(resolved.items()):
            raw = play_scenario(pol, scenario, seeds=seeds, seed=seed * 1009 + i, device=device)
            payoff.append([bootstrap_ci(raw[o]["reward"].mean(1)) for o in names])
    mass = alpha_rank(np.array([[e.mean for e in row] for row in payoff]), alpha=alpha)
    meta = {"game": game, "num_inner_episodes": num_inner_episodes, "batch_size": batch_size, "seeds": seeds,
            "seed": seed, "alpha": alpha}
    return LeagueResult(names, payoff, mass, meta)

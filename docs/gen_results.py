"""Generate the results pages from the recorded JSONs in ``benchmarks/results/``.

``docs/gen_pages.py`` calls :func:`write_pages` at docs-build time (``make docs``). Every
number on a results page is read from a JSON field through :meth:`Page.q` (or counted from
the JSON's list of runs through :meth:`Page.count`), and each page keeps a ledger of what it
quoted and from where; ``tests/test_results_pages.py`` fails if a page shows a number that is
not in its ledger, or a ledger entry that the JSON does not hold. The prose around the
numbers holds no digits of its own (only references such as figure, equation and appendix
numbers). Each figure gets a verdict computed from the JSON by a stated criterion:
"reproduced", "partly reproduced (what differs)", "not reproduced at this scale", or "not run
yet" (with the command that would run it).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPRODUCED = "reproduced"
NOT_AT_SCALE = "not reproduced at this scale"
NOT_RUN = "not run yet"
#: Numeric tokens of a page (after references and code spans are removed).
NUMBER = re.compile(r"(?<![\w.])[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
#: References to the paper's numbered items, which are not results.
REFERENCE = re.compile(r"\b(?:Figs?|Eqs?|App|Tables?|Algorithm)\.? ?(?:[A-H]\.)?\d+[A-Z]?(?:[-–/]\d+[A-Z]?)*"
                       r"(?:, (?:App\. [A-H]\.)?\d+[A-Z]?(?![.\d]))*")
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\([^)]*\)")


def partly(what: str) -> str:
    return f"partly reproduced ({what})"


def numbers_in(text: str) -> list[str]:
    """The numeric tokens of ``text`` that count as quoted results (see :data:`NUMBER`)."""
    text = CODE.sub(" ", LINK.sub("]", text))
    text = REFERENCE.sub(" ", text)
    return NUMBER.findall(text)


@dataclass
class Page:
    """A Markdown page whose numbers all come from named JSON sources (``criteria``: the
    thresholds of the verdicts, ``verdict_criteria.json``)."""

    name: str
    title: str
    sources: dict[str, dict]
    lines: list[str] = field(default_factory=list)
    #: (source, path, shown text) of every quoted number
    ledger: list[tuple[str, tuple, str]] = field(default_factory=list)

    def get(self, src: str, *path: Any) -> Any:
        node: Any = self.sources[src]
        for key in path:
            node = node[key]
        return node

    def has(self, src: str, *path: Any) -> bool:
        try:
            self.get(src, *path)
        except (KeyError, IndexError, TypeError):
            return False
        return True

    def q(self, src: str, *path: Any, fmt: str = "{:.2f}") -> str:
        """A JSON field shown on the page (and written to the ledger)."""
        text = fmt.format(self.get(src, *path))
        self.ledger.append((src, tuple(path), text))
        return text

    def key(self, src: str, *path: Any) -> str:
        """A JSON *key* shown on the page (e.g. a ``p_naive`` value that names a run)."""
        *parent, name = path
        if name not in self.get(src, *parent):
            raise KeyError(f"{src}: no key {name!r} under {parent}")
        self.ledger.append((src, tuple(path), str(name)))
        return str(name)

    def pm(self, src: str, label: str, metric: str, fmt: str = "{:.2f}") -> str:
        """``mean ± std`` over seeds of an RL summary (last 10 iterations); the mean alone for one seed."""
        base = ("summary_last_10_iterations", label, metric)
        if not self.has(src, *base):
            return "not recorded"
        if self.has(src, *base, "per_seed") and len(self.get(src, *base, "per_seed")) == 1:
            return self.q(src, *base, "mean", fmt=fmt)  # a spread over one seed would read as a measured zero
        return f"{self.q(src, *base, 'mean', fmt=fmt)} ± {self.q(src, *base, 'std', fmt=fmt)}"

    def count(self, src: str, label: str) -> tuple[str, str]:
        """Seeds and iterations of one algorithm's runs, counted from the JSON's ``runs``."""
        runs = [r for r in self.get(src, "runs") if r["label"] == label]
        iters = sorted({r["iterations_done"] for r in runs})
        seeds, its = str(len(runs)), "/".join(str(i) for i in iters)
        self.ledger.append((src, ("runs", label, "label"), label))  # labels may hold settings (p_naive 0.25)
        self.ledger.append((src, ("runs", label, "count"), seeds))
        self.ledger.append((src, ("runs", label, "iterations_done"), its))
        return seeds, its

    def c(self, name: str) -> float:
        """A verdict threshold (from ``verdict_criteria.json``)."""
        return float(self.get("criteria", name))

    def cq(self, name: str) -> str:
        """A verdict threshold shown on the page."""
        return self.q("criteria", name, fmt="{:g}")

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join([f"# {self.title}", "", *self.lines, ""])


def _verdict_line(verdict: str, criterion: str) -> str:
    return f"**Verdict: {verdict}.** Criterion: {criterion}."


# ============================================================================ analytic
def analytic_page(res: Path) -> Page:
    names = ["fig3a", "fig3b", "fig3c", "fig3c_long", "fig4", "fig4_total", "regime"]
    src = {n: json.loads((res / f"analytic_{n}.json").read_text()) for n in names
           if (res / f"analytic_{n}.json").exists()}
    src["criteria"] = json.loads((res / "verdict_criteria.json").read_text())
    p = Page("analytic", "Results: the exact IPD (paper Fig. 3, 4, 8, 9)", src)
    p.add("Every number on this page is read from the JSON named in its section when the docs are built "
          "(`docs/gen_results.py`). Settings and choices: [the exact IPD toolkit](../analytic.md).", "")
    verdicts: dict[str, str] = {}

    if "fig3a" in src:
        r = ("random_init",)
        meta, naive = p.get("fig3a", *r, "meta_return", "median"), p.get("fig3a", *r, "naive_return", "median")
        loss, base = p.get("fig3a", *r, "zd_loss", "median"), p.get("fig3a", "random_policies_zd_loss", "median")
        ok = meta > p.c("mutual_cooperation_payoff") and naive < meta and loss < base
        verdicts["Fig. 3A, 8, 9"] = v = REPRODUCED if ok else partly("see the numbers")
        p.add("## Fig. 3A, 8, 9: extortion of naive learners", "",
              f"Source `analytic_fig3a.json` (gamma {p.q('fig3a', 'gamma', fmt='{}')}, "
              f"{p.q('fig3a', 'settings', 'seeds', fmt='{}')} seeds, {p.q('fig3a', 'settings', 'steps', fmt='{}')} "
              "AdamW steps).", "",
              "| | learning-aware agent, reward per round | naive learners | ZD fit chi | ZD fit loss |",
              "|---|---|---|---|---|")
        for key, label in (("random_init", "random initial logits"), ("defect_init", "near-defection start (Fig. 9)")):
            p.add(f"| {label} | {p.q('fig3a', key, 'meta_return', 'median')} | "
                  f"{p.q('fig3a', key, 'naive_return', 'median')} | {p.q('fig3a', key, 'zd_chi', 'median')} | "
                  f"{p.q('fig3a', key, 'zd_loss', 'median', fmt='{:.3f}')} |")
        p.add(f"| uniformly random policies (Fig. 8) | | | | "
              f"{p.q('fig3a', 'random_policies_zd_loss', 'median', fmt='{:.3f}')} |", "",
              "Medians over seeds. " + _verdict_line(v, f"median reward per round above the mutual-cooperation payoff "
                                                     f"{p.cq('mutual_cooperation_payoff')} against naive learners, "
                                                     "who earn less, and a lower ZD fit loss than random policies"), "")

    if "fig3b" in src:
        best, start = p.get("fig3b", "mutual_return_best_median"), p.get("fig3b", "mutual_return_start", "median")
        end = p.get("fig3b", "mutual_return_end", "median")
        ok = best > p.c("cooperate") and start < p.c("defect")
        drift = partly("cooperation is reached, then some pairs drift away under continued partial-gradient play")
        v = REPRODUCED if ok and end > p.c("cooperate") else drift if ok else NOT_AT_SCALE
        verdicts["Fig. 3B"] = v
        p.add("## Fig. 3B: mutual extortion turns into cooperation", "",
              f"Source `analytic_fig3b.json`. Extortion policies (ZD fit chi "
              f"{p.q('fig3b', 'extortion_zd_chi', 'median')}) paired across seeds: mutual reward per round "
              f"{p.q('fig3b', 'mutual_return_start', 'median', fmt='{:.3f}')} at the start, best median "
              f"{p.q('fig3b', 'mutual_return_best_median')}, median at the end "
              f"{p.q('fig3b', 'mutual_return_end', 'median')} (quartiles "
              f"{p.q('fig3b', 'mutual_return_end', 'q25')}-{p.q('fig3b', 'mutual_return_end', 'q75')}).", "",
              _verdict_line(v, f"the median mutual reward rises from below {p.cq('defect')} to above "
                               f"{p.cq('cooperate')} (and stays there)"), "")

    if "fig3c" in src:
        fm = p.get("fig3c", "final_mutual_return")
        coop = {k: fm[k]["median"] > p.c("cooperate") for k in fm}
        mixed_keys = [k for k in fm if k not in ("0", "1")]
        pure_defects = fm["0"]["median"] < p.c("defect")
        v = (REPRODUCED if pure_defects and all(coop[k] for k in mixed_keys)
             else partly("mixed groups do not cooperate at p_naive " + ", ".join(k for k in mixed_keys if not coop[k])
                         + "; see the readings below") if pure_defects and any(coop.values())
             else NOT_AT_SCALE)
        verdicts["Fig. 3C"] = v
        p.add("## Fig. 3C: mixed groups cooperate, pure learning-aware groups do not", "",
              f"Source `analytic_fig3c.json` ({p.q('fig3c', 'settings', 'seeds', fmt='{}')} seeds, "
              f"{p.q('fig3c', 'settings', 'steps', fmt='{}')} steps; the default reading: naive steps on the "
              "per-round return, Eq. 17 averaged).", "",
              "| p_naive | final mutual reward per round, median (quartiles) |", "|---|---|")
        for k in fm:
            p.add(f"| {p.key('fig3c', 'final_mutual_return', k)} | "
                  f"{p.q('fig3c', 'final_mutual_return', k, 'median', fmt='{:.3f}')} "
                  f"({p.q('fig3c', 'final_mutual_return', k, 'q25', fmt='{:.3f}')}-"
                  f"{p.q('fig3c', 'final_mutual_return', k, 'q75', fmt='{:.3f}')}) |")
        p.add("")
        if "fig3c_long" in src:
            curve = p.get("fig3c_long", "runs", "0.75", "curve")
            last = len(curve) - 1
            p.add(f"Continued to {p.q('fig3c_long', 'settings', 'steps', fmt='{}')} steps "
                  "(`analytic_fig3c_long.json`), the groups at p_naive "
                  f"{p.q('fig3c_long', 'runs', '0.75', 'curve', 0, 'step', fmt='{}') and '0.75'} end at a median "
                  f"mutual reward of {p.q('fig3c_long', 'runs', '0.75', 'curve', last, 'median', fmt='{:.4f}')}.",
                  "")
        p.add(_verdict_line(v, f"median final mutual reward above {p.cq('cooperate')} for every mixed "
                               f"p_naive and below {p.cq('defect')} without naive learners"), "")

    if "regime" in src:
        verdicts.update(_readings_and_regime(p))

    if "fig4" in src:
        verdicts.update(_fig4(p))
    if "fig4" in src and "fig4_total" in src and "regime" in src:
        _reading_table(p)
    p.verdicts = verdicts  # type: ignore[attr-defined]
    return p


def _readings_and_regime(p: Page) -> dict[str, str]:
    from social_dilemmas.analytic.readings import READINGS, fig3c_reading

    reg = p.sources["regime"]
    p.add("## The two scale readings of the exact model (Fig. 3C)", "",
          "The paper leaves open what the naive learning rate acts on (the per-round return, or the discounted "
          "sum J as printed) and whether Eq. 17 averages or sums its inner episodes. Source "
          f"`analytic_regime.json` (a reduced setting: {p.q('regime', 'settings', 'seeds', fmt='{}')} seeds, "
          f"{p.q('regime', 'settings', 'steps', fmt='{}')} AdamW steps at learning rate "
          f"{p.q('regime', 'settings', 'lr', fmt='{}')}, {p.q('regime', 'settings', 'naive_batch', fmt='{}')} "
          f"naive learners of {p.q('regime', 'settings', 'naive_steps', fmt='{}')} steps per agent and step). "
          "Median final mutual reward per round:", "")
    ps = [x for x in reg["p_naive"]]
    head = " | ".join(p.q("regime", "p_naive", i, fmt="{:g}") for i in range(len(ps)))
    p.add(f"| naive step on | Eq. 17 | {head} | cooperates at every p_naive |", "|---|---|" + "---|" * len(ps) + "---|")
    verdict_rows = {}
    for scale, red in READINGS:
        cells = [fig3c_reading(reg, scale, red, x) for x in ps]
        if any(c is None for c in cells):
            continue
        vals = []
        for c in cells:
            key = f"{scale}/p={c['p_naive']:g}/w={c['shaping_weight']:g}"
            vals.append(p.q("regime", "cells", key, "mutual_return", "median"))
        ok = all(c["mutual_return"]["median"] > reg["cooperate_threshold"] for c in cells)
        verdict_rows[(scale, red)] = ok
        label = "per-round return" if scale == "per_round" else "J (as printed)"
        p.add(f"| {label} | {'averaged' if red == 'mean' else 'summed'} | {' | '.join(vals)} | "
              f"{'yes' if ok else 'no'} |")
    p.add("", f"Cooperation threshold {p.q('regime', 'cooperate_threshold', fmt='{:g}')} (recorded in the JSON).",
          "")

    p.add("## Regime map: cooperating with each other and extorting naive learners", "",
          "Groups of two exact learning-aware agents; each agent's gradient is p_naive times w times the shaping "
          "gradient against naive learners plus one minus p_naive times the partial gradient against the other "
          "agent. The weight w stands for the scale choices: Eq. 17 averaged is w equal to one, summed is w "
          "equal to the number of inner episodes; in RL, `batch_scaling=\"sum\"` weighs each naive-opponent "
          "trajectory by the batch size B and `\"mean\"` by one. With Adam only the effective naive weight "
          "p w / (p w + 1 - p) matters, as the last panel shows.", "",
          "![regime map](../figures/regime_map.png)", "")
    best = sorted((c for c in reg["cells"].values()), key=lambda c: (-c["fraction_both"],
                                                                      -c["vs_naive_return"]["median"]))
    top = best[0]
    key = f"{top['return_scale']}/p={top['p_naive']:g}/w={top['shaping_weight']:g}"
    both_any = top["fraction_both"] > 0
    coop_cells = [c for c in reg["cells"].values() if c["return_scale"] == "per_round"
                  and c["mutual_return"]["median"] > reg["cooperate_threshold"]]
    p.add("| cell (return scale / p_naive / w) | effective naive weight | mutual reward | reward vs naive | "
          "naive learners' reward | share of seeds doing both |", "|---|---|---|---|---|---|")
    shown = best[:3] + sorted(coop_cells, key=lambda c: -c["vs_naive_return"]["median"])[:3]
    seen = set()
    for c in shown:
        k = f"{c['return_scale']}/p={c['p_naive']:g}/w={c['shaping_weight']:g}"
        if (c["return_scale"], c["effective_naive_weight"]) in seen:  # same effective weight: same run
            continue
        seen.add((c["return_scale"], c["effective_naive_weight"]))
        p.add(f"| {c['return_scale']} / {p.q('regime', 'cells', k, 'p_naive', fmt='{:g}')} / "
              f"{p.q('regime', 'cells', k, 'shaping_weight', fmt='{:g}')} | "
              f"{p.q('regime', 'cells', k, 'effective_naive_weight')} | "
              f"{p.q('regime', 'cells', k, 'mutual_return', 'median')} | "
              f"{p.q('regime', 'cells', k, 'vs_naive_return', 'median')} | "
              f"{p.q('regime', 'cells', k, 'naive_return', 'median')} | "
              f"{p.q('regime', 'cells', k, 'fraction_both')} |")
    p.add("")
    if both_any:
        p.add(f"**Answer.** Yes, in part of the map: in the cell `{key}` a share of "
              f"{p.q('regime', 'cells', key, 'fraction_both')} of the seeds both cooperate with each other and "
              "earn more than the mutual-cooperation payoff from naive learners.", "")
    else:
        p.add("**Answer.** In no cell of the map do the agents both cooperate with each other (median mutual "
              "reward above the threshold) and earn more than the mutual-cooperation payoff from naive learners.")
        if coop_cells:
            richest = max(coop_cells, key=lambda c: c["vs_naive_return"]["median"])
            k = f"{richest['return_scale']}/p={richest['p_naive']:g}/w={richest['shaping_weight']:g}"
            p.add(f"Among the cooperating cells the most any earns from naive learners is a median of "
                  f"{p.q('regime', 'cells', k, 'vs_naive_return', 'median')} per round (`{k}`).")
        payoff = p.c("mutual_cooperation_payoff")
        extorting = [c for c in reg["cells"].values() if c["vs_naive_return"]["median"] > payoff]
        if extorting:
            top_mutual = max(extorting, key=lambda c: c["mutual_return"]["median"])
            k = f"{top_mutual['return_scale']}/p={top_mutual['p_naive']:g}/w={top_mutual['shaping_weight']:g}"
            p.add(f"Among the cells that earn more than that payoff from naive learners, the best mutual reward is "
                  f"a median of {p.q('regime', 'cells', k, 'mutual_return', 'median')} (`{k}`).")
        else:
            p.add("No cell earns more than the mutual-cooperation payoff from naive learners at this discount: "
                  "the reward against naive learners is averaged over their whole learning trajectory, which "
                  "starts from random policies.")
        p.add("")
    ok_default = verdict_rows.get(("per_round", "mean"))
    readings_ok = [k for k, v in verdict_rows.items() if v]
    v = (REPRODUCED if readings_ok else partly("no reading cooperates at every p_naive of the map"))
    return {"Fig. 3C readings": v, "Regime map (not a paper figure)": "answered" if ok_default is not None else NOT_RUN}


def _reading_table(p: Page) -> None:
    """Which of the four scale readings reproduces Fig. 3C, 4A and 4C."""
    from social_dilemmas.analytic.readings import READINGS, fig3c_reading, fig4c_reproduced

    reg = p.sources["regime"]
    p.add("## Which reading reproduces the paper", "",
          "Fig. 3C from `analytic_regime.json`, Fig. 4 from `analytic_fig4.json` (naive steps on the per-round "
          "return) and `analytic_fig4_total.json` (on J); exact LOLA uses only the return after its look-ahead, so "
          "the Eq. 17 reduction does not apply to Fig. 4.", "",
          "| naive step on | Eq. 17 | Fig. 3C: p_naive where mixed groups cooperate | Fig. 4A | Fig. 4C |",
          "|---|---|---|---|---|")
    for scale, red in READINGS:
        coop = []
        for x in reg["p_naive"]:
            c = fig3c_reading(reg, scale, red, x)
            if c is not None and c["mutual_return"]["median"] > reg["cooperate_threshold"]:
                key = f"{scale}/p={c['p_naive']:g}/w={c['shaping_weight']:g}"
                coop.append(p.q("regime", "cells", key, "p_naive", fmt="{:g}"))
        f4 = p.sources["fig4" if scale == "per_round" else "fig4_total"]
        ks = list(f4["lola_final_mutual_return"])
        a_ok = (f4["lola_final_mutual_return"][ks[0]]["median"] > p.c("lola_cooperate")
                and f4["lola_final_mutual_return"][ks[-1]]["median"] < p.c("lola_low"))
        c_ok = fig4c_reproduced(f4, p.c("lola_cooperate"))
        lola_ok = [k for k in ks if f4["lola_partial_final_mutual_return"][k]["median"] > p.c("lola_cooperate")]
        label = "per-round return" if scale == "per_round" else "J (as printed)"
        src = "fig4" if scale == "per_round" else "fig4_total"
        c_text = ("reproduced" if c_ok else "cooperates for look-aheads " + ", ".join(
            p.key(src, "lola_partial_final_mutual_return", k) for k in lola_ok) if lola_ok else "no look-ahead count")
        p.add(f"| {label} | {'averaged' if red == 'mean' else 'summed'} | {', '.join(coop) or 'none'} | "
              f"{'reproduced' if a_ok else 'not reproduced'} | {c_text} |")
    p.add("", "The default of the toolkit is the first row (see the exact IPD toolkit page for why).", "")


def _fig4(p: Page) -> dict[str, str]:
    from social_dilemmas.analytic.readings import fig4c_reproduced

    f4 = p.sources["fig4"]
    ks = list(f4["lola_final_mutual_return"])
    a_ok = (f4["lola_final_mutual_return"][ks[0]]["median"] > p.c("lola_cooperate")
            and f4["lola_final_mutual_return"][ks[-1]]["median"] < p.c("lola_low"))
    chi = f4["lola20_zd_chi"]["median"]
    b_ok = f4["lola20_vs_fresh_naive_end"]["lola20"]["median"] > f4["lola20_vs_fresh_naive_end"]["naive"]["median"]
    c_ok = fig4c_reproduced(f4, p.c("lola_cooperate"))
    p.add("## Fig. 4: exact LOLA", "",
          f"Source `analytic_fig4.json` ({p.q('fig4', 'settings', 'seeds', fmt='{}')} seeds, "
          f"{p.q('fig4', 'settings', 'steps', fmt='{}')} steps; naive steps on the per-round return)"
          + (" and `analytic_fig4_total.json` (the same runs with the naive steps on J)" if "fig4_total" in p.sources
             else "") + ". Final mutual reward per round, median (quartiles):", "",
          "| look-ahead steps | p_naive in C | A: LOLA | C: LOLA + partial gradient |"
          + (" A, steps on J | C, steps on J |" if "fig4_total" in p.sources else ""),
          "|---|---|---|---|" + ("---|---|" if "fig4_total" in p.sources else ""))
    for k in ks:
        row = (f"| {p.key('fig4', 'lola_final_mutual_return', k)} | {p.q('fig4', 'p_naive', k, fmt='{:g}')} | "
               f"{p.q('fig4', 'lola_final_mutual_return', k, 'median')} "
               f"({p.q('fig4', 'lola_final_mutual_return', k, 'q25')}-"
               f"{p.q('fig4', 'lola_final_mutual_return', k, 'q75')}) | "
               f"{p.q('fig4', 'lola_partial_final_mutual_return', k, 'median')} "
               f"({p.q('fig4', 'lola_partial_final_mutual_return', k, 'q25')}-"
               f"{p.q('fig4', 'lola_partial_final_mutual_return', k, 'q75')}) |")
        if "fig4_total" in p.sources:
            row += (f" {p.q('fig4_total', 'lola_final_mutual_return', k, 'median')} | "
                    f"{p.q('fig4_total', 'lola_partial_final_mutual_return', k, 'median')} "
                    f"({p.q('fig4_total', 'lola_partial_final_mutual_return', k, 'q25')}-"
                    f"{p.q('fig4_total', 'lola_partial_final_mutual_return', k, 'q75')}) |")
        p.add(row)
    p.add("",
          f"Panel B: a fresh naive learner facing a fixed policy of the longest look-ahead ends at "
          f"{p.q('fig4', 'lola20_vs_fresh_naive_end', 'naive', 'median')} per round against the policy's "
          f"{p.q('fig4', 'lola20_vs_fresh_naive_end', 'lola20', 'median')}. Those policies fit ZD strategies "
          f"closely (loss {p.q('fig4', 'lola20_zd_loss', 'median', fmt='{:.4f}')}) but with chi "
          f"{p.q('fig4', 'lola20_zd_chi', 'median')} (quartiles {p.q('fig4', 'lola20_zd_chi', 'q25')}-"
          f"{p.q('fig4', 'lola20_zd_chi', 'q75')}): close to the fair chi of tit-for-tat, so the naive learner "
          "is only " + ("mildly" if chi < p.c("weak_extortion_chi") else "clearly") + " extorted.", "")
    v_a = REPRODUCED if a_ok else NOT_AT_SCALE
    v_b = (partly("the policies are ZD but nearly fair, a weak extortion") if b_ok and chi < p.c("weak_extortion_chi")
           else REPRODUCED if b_ok else NOT_AT_SCALE)
    total_ok = fig4c_reproduced(p.sources["fig4_total"], p.c("lola_cooperate")) if "fig4_total" in p.sources else None
    if c_ok:
        v_c = REPRODUCED
    elif total_ok:
        v_c = partly("only with the naive steps on J, not under the default per-round reading")
    else:
        v_c = partly("the partial gradient restores cooperation for some look-ahead counts but not, in the "
                     "median, for the longest")
    p.add(_verdict_line(v_a, f"A: one look-ahead ends above {p.cq('lola_cooperate')}, the longest below "
                             f"{p.cq('lola_low')}"), "",
          _verdict_line(v_b, f"B: the fixed long-look-ahead policy out-earns a fresh naive learner (chi below "
                             f"{p.cq('weak_extortion_chi')} counts as nearly fair)"), "",
          _verdict_line(v_c, f"C: with the partial gradient every look-ahead count ends with a median mutual "
                             f"reward above {p.cq('lola_cooperate')}"), "")
    return {"Fig. 4A": v_a, "Fig. 4B": v_b, "Fig. 4C": v_c}


# ============================================================================ RL
def _load(res: Path, name: str) -> dict | None:
    path = res / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def rl_page(res: Path, out: Path) -> Page:
    names = ["training_fig5a_quick", "training_fig5c_quick", "training_fig5c_quick_sum", "training_fig6_quick",
             "training_fig5c_equal_quick", "training_regime_confirm_quick", "training_h3_quick",
             "training_fig7_quick", "training_fig5a_paper"]
    src = {n: d for n in names if (d := _load(res, n)) is not None}
    for d in src.values():  # algorithms an experiment defines but has not run yet have empty summaries
        d["summary_last_10_iterations"] = {k: v for k, v in d["summary_last_10_iterations"].items() if v}
    if (paper := _load(res, "paper_reported")) is not None:
        src["paper"] = paper
    src["criteria"] = json.loads((res / "verdict_criteria.json").read_text())
    if (regime := _load(res, "analytic_regime")) is not None:
        src["regime"] = regime
    p = Page("rl", "Results: RL with the paper's network (paper Fig. 5, 6, 7, App. H.3)", src)
    p.add("Every number on this page is read from the JSON named in its section when the docs are built "
          "(`docs/gen_results.py`). The runs use the scaled-down `-quick` presets on a shared two-core CPU, "
          "not the paper's scale, except the one section that says *paper's scale*; each JSON records the "
          "commands. Values: mean ± standard deviation over seeds "
          "of the last ten iterations. Trainer and presets: [COALA-PG](../coala.md).", "")
    verdicts: dict[str, str] = {}
    for name in names:
        png = res / f"{name}.png"
        if name in src and png.exists():
            shutil.copy(png, out / png.name)

    if (a := "training_fig5a_quick") in src:
        verdicts.update(_fig5a(p, a, "Fig. 5A/B", "## Fig. 5A/B: IPD, pure shaping"))
    if (a := "training_fig5a_paper") in src:
        verdicts.update(_fig5a(p, a, "Fig. 5A/B (paper scale)", "## Fig. 5A/B at the paper's scale"))

    if (c := "training_fig5c_equal_quick") in src:
        verdicts.update(_fig5c(p, c, "Fig. 5C (equal budgets)"))
    if (c := "training_fig5c_quick") in src:
        verdicts.update(_fig5c(p, c, "Fig. 5C"))
    if (c := "training_regime_confirm_quick") in src:
        verdicts.update(_regime_confirm(p, c))
    if (c := "training_h3_quick") in src:
        verdicts.update(_h3(p, c))
    if (c := "training_fig7_quick") in src:
        means = {k: row.get("reward/vs_agents", {}).get("mean", float("-inf"))
                 for k, row in p.get(c, "summary_last_10_iterations").items()}
        best = max(means, key=means.get)
        lead = means[best] - max((m for k, m in means.items() if k != best), default=float("-inf"))
        v = REPRODUCED if best.startswith("COALA") and lead >= p.c("cleanup_min_lead") else NOT_AT_SCALE
        p.add("## Fig. 7: CleanUp-lite mixed pool", "", f"Source `{c}.json` (preset `{p.get(c, 'preset')}`), "
              "CleanUpLite-v1.", "")
        if (png := res / f"{c}.png").exists():
            p.add(f"![fig7]({png.name})", "")
        _table(p, c, fmt="{:.3f}")
        p.add(_verdict_line(v, "COALA earns the most per step against the other agents, by at least "
                               f"{p.cq('cleanup_min_lead')} per step"), "")
        verdicts["Fig. 7"] = v
    if "training_fig6_quick" in src:
        verdicts.update(_fig6(p, "training_fig6_quick"))
    verdicts.update(_not_run(p))
    p.verdicts = verdicts  # type: ignore[attr-defined]
    return p


def _fig5a(p: Page, a: str, key: str, heading: str) -> dict[str, str]:
    """Fig. 5A/B (pure shaping: COALA-PPO against M-FOS and batch-unaware) from record ``a``.

    A record without an M-FOS row (a paper-scale pair whose second run has not finished) gets
    no reproduction verdict.
    """
    s = p.get(a, "summary_last_10_iterations")
    coala = s["COALA-PPO"]["reward/ego"]["mean"]
    baselines = [k for k in ("M-FOS", "batch-unaware") if k in s]  # the paper-scale pair has no batch-unaware run
    names = " and ".join(baselines)
    others = [s[k]["reward/ego"]["mean"] for k in baselines]
    v = REPRODUCED if coala > p.c("mutual_cooperation_payoff") and all(coala > o for o in others) else NOT_AT_SCALE
    if "M-FOS" not in s:
        v = f"{NOT_RUN} (M-FOS: the COALA-PPO run alone is recorded)"
    p.add(heading, "", f"Source `{a}.json` (preset `{p.get(a, 'preset')}`). ![fig5a]({a}.png)", "")
    if p.has(a, "launched_with"):  # runs launched with torchrun and resumed in pieces
        p.add("Launched as:", "", *(f"- `{cmd}`" for cmd in p.get(a, "launched_with")), "",
              p.get(a, "launched_note") if p.has(a, "launched_note") else "", "")
    p.add("| algorithm (seeds, iterations) | agent reward / step | naive learners' reward / step | agent "
          "defection, first inner episode | agent defection, last inner episode | naive learners' "
          "defection, last inner episode |", "|---|---|---|---|---|---|")
    for label in s:
        n, its = p.count(a, label)
        p.add(f"| {label} ({n}, {its}) | {p.pm(a, label, 'reward/ego')} | {p.pm(a, label, 'reward/coplayer')} | "
              f"{p.pm(a, label, 'ipd/ego_defect_rate_first_episode')} | "
              f"{p.pm(a, label, 'ipd/ego_defect_rate_last_episode')} | "
              f"{p.pm(a, label, 'ipd/coplayer_defect_rate_last_episode')} |")
    first = p.has(a, "summary_last_10_iterations", "COALA-PPO", "ipd/coplayer_defect_rate_first_episode")
    early = (s["COALA-PPO"]["ipd/ego_defect_rate_first_episode"]["mean"]
             < s["COALA-PPO"]["ipd/ego_defect_rate_last_episode"]["mean"])
    summary = {REPRODUCED: "COALA-PPO earns more than the mutual-cooperation payoff against naive learners and "
                           f"more than {names}. ",
               NOT_AT_SCALE: "COALA-PPO does not out-earn the baselines. "}.get(
        v, "The M-FOS run of this pair is not recorded yet, so nothing is compared. ")
    p.add("", summary
          + ("COALA-PPO defects less early in the meta-episode than late (shape first, exploit later). " if early
             else "") + "The naive learners' defection in the *first* inner episode "
          + ("is in the JSON (`ipd/coplayer_defect_rate_first_episode`)." if first else
             "is not recorded in this JSON (the experiment records it from now on, "
             "`ipd/coplayer_defect_rate_first_episode`): a fresh naive learner starts from the uniform "
             "policy, so the recorded last-episode defection is to be compared with an even split, not with "
             "the first training iteration."), "",
          _verdict_line(v, f"COALA-PPO's reward per step above the mutual-cooperation payoff "
                           f"{p.cq('mutual_cooperation_payoff')} and above M-FOS and batch-unaware"
                           + ("" if "batch-unaware" in s else " (batch-unaware was not run at this scale)")), "")
    return {key: v}


def _table(p: Page, src: str, fmt: str = "{:.2f}") -> None:
    """Every recorded metric of every algorithm of an experiment JSON, as one table."""
    s = p.get(src, "summary_last_10_iterations")
    metrics = sorted({m for row in s.values() for m in row})
    p.add("| algorithm (seeds, iterations) | " + " | ".join(f"`{m}`" for m in metrics) + " |",
          "|---|" + "---|" * len(metrics))
    for label in s:
        n, its = p.count(src, label)
        p.add(f"| {label} ({n}, {its}) | " + " | ".join(p.pm(src, label, m, fmt=fmt) for m in metrics) + " |")
    p.add("")


#: Mixed-pool COALA-PPO rows of other experiments that also test the regime map, with their
#: settings: (source JSON, label, p_naive, batch_scaling).
_REGIME_EXTRA_ROWS = (
    ("training_fig5c_equal_quick", "COALA-PPO", 0.75, "mean"),
    ("training_fig5c_quick", "COALA-PPO", 0.75, "mean"),
    ("training_fig5c_quick_sum", "COALA-PPO", 0.75, "sum"),
    ("training_fig5c_equal_quick", "COALA-PPO, no naive agents", 0.0, "mean"),
)


def _regime_confirm(p: Page, c: str) -> dict[str, str]:
    """RL runs against the exact model's regime map at the same effective naive weight."""
    import re as _re

    from social_dilemmas.analytic.regime import effective_naive_weight
    from social_dilemmas.baselines.presets import preset_values

    p.add("## RL check of the regime map's prediction", "",
          f"Sources `{c}.json` (preset `{p.get(c, 'preset')}`) and the COALA-PPO rows of the Fig. 5C records. Each "
          "RL setting is set against the cell of the exact model's regime map (`analytic_regime.json`, per-round "
          "reading) with the nearest effective naive weight: in RL `batch_scaling=\"sum\"` weighs naive-opponent "
          "trajectories by the batch size, `\"mean\"` by one. \"Both\": cooperating with the other agents "
          f"(above {p.cq('cooperate')}) and earning more than the mutual-cooperation payoff "
          f"{p.cq('mutual_cooperation_payoff')} from naive learners.",
          "", "| RL setting (seeds, iterations) | source | reward / step vs the other agents | vs naive learners | "
          "naive learners' reward | nearest exact-model cell | its mutual reward | its reward vs naive | same "
          "outcome | both (seed mean) | per seed: vs agents / vs naive |",
          "|---|---|---|---|---|---|---|---|---|---|---|")
    b_size = preset_values(p.get(c, "preset"), "coala")["batch_size"]
    rows = []
    for label in p.get(c, "summary_last_10_iterations"):
        cmd = next(r.get("command", "") for r in p.get(c, "runs") if r["label"] == label)
        pn = float(_re.search(r"--p-naive (\S+)", cmd).group(1)) if "--p-naive" in cmd else 0.75
        scaling = _re.search(r"--batch-scaling (\S+)", cmd).group(1) if "--batch-scaling" in cmd else "mean"
        rows.append((c, label, pn, scaling, label))
    for src, label, pn, scaling in _REGIME_EXTRA_ROWS:
        if p.has(src, "summary_last_10_iterations", label, "reward/vs_agents"):
            rows.append((src, label, pn, scaling, f"{label}, `--p-naive {pn:g} --batch-scaling {scaling}`"))
    cells = [x for x in p.get("regime", "cells").values() if x["return_scale"] == "per_round"]
    agree_all, differ, both_any, seed_both = True, [], False, []
    for src, label, pn, scaling, shown in rows:
        omega = effective_naive_weight(pn, b_size if scaling == "sum" else 1.0)
        cell = min(cells, key=lambda x: abs(x["effective_naive_weight"] - omega))
        key = f"per_round/p={cell['p_naive']:g}/w={cell['shaping_weight']:g}"
        row = p.get(src, "summary_last_10_iterations", label)
        rl_coop = row["reward/vs_agents"]["mean"] > p.c("cooperate")
        both = rl_coop and row.get("reward/vs_naive", {}).get("mean", float("-inf")) > p.c("mutual_cooperation_payoff")
        both_any |= both
        seeds_vs_agents = row["reward/vs_agents"]["per_seed"]
        seeds_vs_naive = row.get("reward/vs_naive", {}).get("per_seed", [])
        per_seed = []
        for i in range(min(len(seeds_vs_agents), len(seeds_vs_naive))):
            base = ("summary_last_10_iterations", label)
            mark = ""
            if seeds_vs_agents[i] > p.c("cooperate") and seeds_vs_naive[i] > p.c("mutual_cooperation_payoff"):
                mark = " (both)"
                seed_both.append(f"`{src}` {label}")
            per_seed.append(f"{p.q(src, *base, 'reward/vs_agents', 'per_seed', i)} / "
                            f"{p.q(src, *base, 'reward/vs_naive', 'per_seed', i)}{mark}")
        ex_coop = cell["mutual_return"]["median"] > p.c("cooperate")
        agree = rl_coop == ex_coop
        agree_all &= agree
        if not agree:
            differ.append(f"the RL agents {'cooperate' if rl_coop else 'do not cooperate'} at `--p-naive {pn:g} "
                          f"--batch-scaling {scaling}`, the exact model {'does' if ex_coop else 'does not'}")
        n, its = p.count(src, label)
        p.key("regime", "cells", key)
        p.add(f"| {shown} ({n}, {its}) | `{src}` | {p.pm(src, label, 'reward/vs_agents')} | "
              f"{p.pm(src, label, 'reward/vs_naive')} | {p.pm(src, label, 'reward/naive_coplayer')} | `{key}` | "
              f"{p.q('regime', 'cells', key, 'mutual_return', 'median')} | "
              f"{p.q('regime', 'cells', key, 'vs_naive_return', 'median')} | {'yes' if agree else 'no'} | "
              f"{'yes' if both else 'no'} | {'; '.join(per_seed) or 'not recorded'} |")
    verdict = ("confirmed" if agree_all else "not confirmed" if len(differ) == len(rows)
               else f"partly confirmed ({'; '.join(dict.fromkeys(differ))})")
    p.add("", ("No RL setting does both on average over its seeds" if not both_any
               else "At least one RL setting does both on average over its seeds")
          + (f"; single seeds that do: {', '.join(dict.fromkeys(seed_both))}" if seed_both else "; no single seed does")
          + " — the open question of Fig. 5C, answered for these settings at this scale.", "",
          _verdict_line(verdict, f"the RL agents cooperate with each other (above {p.cq('cooperate')}) exactly where "
                                 "the nearest exact-model cell does"), "")
    return {"RL check of the regime map": verdict}


def _h3(p: Page, c: str) -> dict[str, str]:
    label = next(iter(p.get(c, "summary_last_10_iterations")))
    row = p.get(c, "summary_last_10_iterations", label)
    both = all(row.get(f"agent{i}/reward_vs_agents", {}).get("mean", float("-inf")) > p.c("h3_cooperate")
               for i in (0, 1))
    v = REPRODUCED if both else NOT_AT_SCALE
    n, its = p.count(c, label)
    h3 = ("app_h3_coala_vs_mfos",)

    def paper(who: str) -> str:
        return f"{p.q('paper', *h3, who, 'mean', fmt='{:.3f}')} ± {p.q('paper', *h3, who, 'std', fmt='{:.3f}')}"

    p.add("## App. H.3: COALA-PPO and M-FOS trained against each other", "",
          f"Source `{c}.json` (preset `{p.get(c, 'preset')}`, {n} seeds x {its} iterations; one COALA-PPO and one "
          "M-FOS agent, each the other's only meta opponent, both meeting naive learners).", "",
          "| | reward / step vs the other agent | the paper |", "|---|---|---|",
          f"| COALA-PPO (`agent0`) | {p.pm(c, label, 'agent0/reward_vs_agents')} | {paper('COALA-PG')} |",
          f"| M-FOS (`agent1`) | {p.pm(c, label, 'agent1/reward_vs_agents')} | {paper('M-FOS')} |",
          "", f"Both agents against naive learners: {p.pm(c, label, 'reward/vs_naive')} per step; the naive "
          f"learners' own reward {p.pm(c, label, 'reward/naive_coplayer')}.",
          "", _verdict_line(v, f"both agents earn more than {p.cq('h3_cooperate')} per step against each other"), "")
    return {"App. H.3": v}


def _fig5c(p: Page, c: str, fig: str) -> dict[str, str]:
    s = p.get(c, "summary_last_10_iterations")
    coop = s["COALA-PPO"]["reward/vs_agents"]["mean"]
    base_defect = all(s[k]["reward/vs_agents"]["mean"] < p.c("defect") for k in s if k != "COALA-PPO")
    vs_naive = s["COALA-PPO"].get("reward/vs_naive", {}).get("mean", float("nan"))
    budgets = {label: p.count(c, label) for label in s}
    equal = len(set(budgets.values())) == 1
    differs = []
    if not vs_naive > p.c("mutual_cooperation_payoff"):
        differs.append("COALA's reward against naive learners stays below the mutual-cooperation payoff")
    if not equal:
        differs.append("budgets differ between methods")
    if "LOLA-DiCE" not in s:
        differs.append("no LOLA-DiCE row")
    ok = coop > p.c("cooperate") and base_defect
    v = REPRODUCED if ok and not differs else partly("; ".join(differs)) if ok else NOT_AT_SCALE
    p.add(f"## {fig}: IPD, mixed pool", "",
          f"Source `{c}.json` (preset `{p.get(c, 'preset')}`). ![fig5c]({c}.png)", "",
          "| algorithm (seeds, iterations) | reward / step vs the other agents | reward / step vs naive learners | "
          "naive learners' reward / step | naive learners' defection, first inner episode | ... last inner episode |",
          "|---|---|---|---|---|---|")
    for label in s:
        n, its = budgets[label]
        p.add(f"| {label} ({n}, {its}) | {p.pm(c, label, 'reward/vs_agents')} | {p.pm(c, label, 'reward/vs_naive')} "
              f"| {p.pm(c, label, 'reward/naive_coplayer')} | "
              f"{p.pm(c, label, 'ipd/naive_defect_rate_first_episode')} | "
              f"{p.pm(c, label, 'ipd/naive_defect_rate_last_episode')} |")
    p.add("", ("COALA-PPO agents cooperate with each other" if coop > p.c("cooperate") else
               "COALA-PPO agents do not cooperate with each other") + "; "
          + ("M-FOS, batch-unaware and the pool without naive agents fall into mutual defection. " if base_defect
             else "not every other row falls into mutual defection. ")
          + "Against naive learners COALA-PPO earns "
          + ("more" if vs_naive > p.c("mutual_cooperation_payoff") else "less")
          + " than the mutual-cooperation payoff. Where the naive learners' reward reads \"not recorded\", the "
          "pool without naive agents has none to record, and older runs did not log `reward/naive_coplayer` to "
          "the JSON (the experiments record it from now on).", "")
    if (sm := "training_fig5c_quick_sum") in p.sources:
        ss = p.get(sm, "summary_last_10_iterations")
        n, its = p.count(sm, "COALA-PPO")
        p.add(f"With `batch_scaling=\"sum\"` (`{sm}.json`, COALA-PPO {n} seeds x {its} iterations): reward vs the "
              f"other agents {p.pm(sm, 'COALA-PPO', 'reward/vs_agents')} (per seed: "
              + ", ".join(p.q(sm, "summary_last_10_iterations", "COALA-PPO", "reward/vs_agents", "per_seed", i)
                          for i in range(len(ss["COALA-PPO"]["reward/vs_agents"]["per_seed"])))
              + f"), vs naive learners {p.pm(sm, 'COALA-PPO', 'reward/vs_naive')}.", "")
    p.add(_verdict_line(v, f"COALA-PPO agents cooperate with each other (above {p.cq('cooperate')}) while "
                           f"the baselines and the pool without naive agents defect (below {p.cq('defect')}); "
                           f"COALA-PPO earns more than the mutual-cooperation payoff "
                           f"{p.cq('mutual_cooperation_payoff')} from naive learners; equal budgets; a LOLA-DiCE "
                           "row"), "")
    return {fig: v}


def _fig6(p: Page, f: str) -> dict[str, str]:
    s = p.get(f, "summary_last_10_iterations")
    best = max(s, key=lambda k: s[k]["reward/ego"]["mean"])
    v = REPRODUCED if best == "COALA-PPO" else NOT_AT_SCALE
    p.add("## Fig. 6: CleanUp-lite, pure shaping", "", f"Source `{f}.json` (preset `{p.get(f, 'preset')}`, "
          "CleanUpLite-v0). ![fig6](training_fig6_quick.png)", "",
          "| algorithm (seeds, iterations) | agent reward / step | naive co-player reward / step | cleaning "
          "discrepancy / step | agent cleans / step | co-player cleans / step | agent zapped / step | pollution | "
          "apples |", "|---|---|---|---|---|---|---|---|---|")
    for label in s:
        n, its = p.count(f, label)
        cells = [p.pm(f, label, m, fmt="{:.3f}") for m in
                 ("reward/ego", "reward/coplayer", "game/cleaning_discrepancy", "game/cleaned/ego",
                  "game/cleaned/coplayer", "game/zaps_received/ego", "game/pollution", "game/apples")]
        p.add(f"| {label} ({n}, {its}) | " + " | ".join(cells) + " |")
    p.add("", f"The highest reward per step goes to {best}. ",
          _verdict_line(v, "COALA-PPO earns the highest reward per step (the paper's Fig. 6 result)"), "")
    return {"Fig. 6": v}


#: Experiments without a recorded JSON yet: (key, title, what it needs, command).
PENDING = [
    ("training_fig5a_paper", "Fig. 5A/B at the paper's scale",
     "COALA-PPO and M-FOS with preset `ipd-shaping` for its full `--iterations 3000`, `--seed 0`, two compiled "
     "ranks on two cores ([scaling out](../distributed.md))",
     "torchrun --nproc-per-node 2 -m social_dilemmas.cli train coala --preset ipd-shaping --torch-compile "
     "--run-dir runs/fig5a-paper/coala-ppo/seed0, then the same for mfos"),
    ("training_fig5c_equal_quick", "Fig. 5C with equal budgets and a LOLA-DiCE row",
     "COALA-PPO, M-FOS, batch-unaware, the pool without naive agents and LOLA-DiCE with the same seeds and "
     "iterations (preset `ipd-mixed-quick`)",
     "python -m social_dilemmas.baselines.figures fig5c_equal runs/fig5c_equal 2 200 1"),
    ("training_regime_confirm_quick", "RL check of the regime map's prediction",
     "COALA-PPO in the mixed pool at naive-opponent weights on both sides of the exact model's cooperation edge "
     "(`p_naive` and `batch_scaling`, experiment `regime_confirm`)",
     "python -m social_dilemmas.baselines.figures regime_confirm runs/regime_confirm 1 200 1"),
    ("training_h3_quick", "App. H.3: COALA-PPO and M-FOS trained against each other",
     "a mixed pool of one COALA-PPO and one M-FOS agent (`agent_estimators`), each the other's only meta opponent, "
     "both meeting naive learners",
     "python -m social_dilemmas.baselines.figures h3 runs/h3 2 200 1"),
    ("training_fig7_quick", "Fig. 7: CleanUp-lite mixed pool",
     "preset `cleanup-mixed-quick` (dynamic naive agents, A2C + SGD as in Table 7) on CleanUpLite-v1",
     "python -m social_dilemmas.baselines.figures fig7 runs/fig7 1 300 1"),
]


def _not_run(p: Page) -> dict[str, str]:
    out = {}
    for key, title, what, command in PENDING:
        if key in p.sources:
            continue
        how = f"Command: `{command}`." if not command.startswith("none") else f"Command: {command}."
        p.add(f"## {title}", "", f"**Verdict: {NOT_RUN}.** What it needs: {what}. {how}")
        if key == "training_h3_quick" and "paper" in p.sources:
            h3 = ("app_h3_coala_vs_mfos",)
            p.add(f"The paper reports {p.q('paper', *h3, 'COALA-PG', 'mean', fmt='{:.3f}')} ± "
                  f"{p.q('paper', *h3, 'COALA-PG', 'std', fmt='{:.3f}')} (COALA-PG) and "
                  f"{p.q('paper', *h3, 'M-FOS', 'mean', fmt='{:.3f}')} ± "
                  f"{p.q('paper', *h3, 'M-FOS', 'std', fmt='{:.3f}')} "
                  "(M-FOS) per step (`paper_reported.json`).")
        p.add("")
        out[title] = NOT_RUN
    return out


# ============================================================================ index
def index_page(pages: list[Page]) -> str:
    lines = ["# Results", "", "Generated from the recorded JSONs in `benchmarks/results/` when the docs are built: "
             "no number on these pages is typed by hand.", "", "| figure | verdict | page |", "|---|---|---|"]
    for page in pages:
        for fig, verdict in page.verdicts.items():  # type: ignore[attr-defined]
            lines.append(f"| {fig} | {verdict} | [{page.title.split(':')[0]}: {page.name}]({page.name}.md) |")
    return "\n".join(lines) + "\n"


def build(results_dir: Path, out_dir: Path) -> list[Page]:
    """Build the pages from ``results_dir`` into ``out_dir`` (figures copied next to them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [analytic_page(results_dir), rl_page(results_dir, out_dir)]
    for page in pages:
        (out_dir / f"{page.name}.md").write_text(page.text())
    (out_dir / "index.md").write_text(index_page(pages))
    return pages


def write_pages(out_dir: str | Path = "docs/results", results_dir: str | Path = "benchmarks/results") -> int:
    """Entry point for ``docs/gen_pages.py``; paths relative to the repository root (the cwd)."""
    pages = build(Path(results_dir), Path(out_dir))
    print(f"wrote {len(pages) + 1} results pages to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(write_pages(*sys.argv[1:]))

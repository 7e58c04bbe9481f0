"""Fig. 3C for longer: when does a mixed group with a large ``p_naive`` reach cooperation?

``social-dilemmas reproduce fig3c`` trains 4000 meta steps; there, groups with ``p_naive``
0.75 and above are still in mutual defection while smaller ``p_naive`` reach cooperation as a
late phase transition (later the larger ``p_naive``). This script continues the same runs
(same initial logits and naive-learner stream as the ``fig3c`` point with that ``p_naive``,
so its first 4000 steps are that run) for ``--steps`` meta steps and records the median and
quartiles of the agents' mutual reward per round over the 32 seeds.

    python benchmarks/analytic_fig3c_long.py --p 0.75 --steps 16000 --out benchmarks/results/analytic_fig3c_long.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from social_dilemmas.analytic.figures import GAMMA, SETTINGS, _quartiles, _random_logits
from social_dilemmas.analytic.training import train_mixed

FULL_P_VALUES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)  # fig3c's order: run i uses naive stream 30 + i


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--p", type=float, nargs="+", default=[0.75], help=f"p_naive values, among {FULL_P_VALUES}")
    ap.add_argument("--steps", type=int, default=16000)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    bad = [p for p in args.p if p not in FULL_P_VALUES]
    if bad:
        raise SystemExit(f"--p must be among {FULL_P_VALUES}; got {bad}")
    torch.set_num_threads(1)
    s = SETTINGS["fig3c"][False]
    init = _random_logits((s.seeds, 2), 3)
    command = "python benchmarks/analytic_fig3c_long.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result: dict = {"command": command,
                    "settings": {**s.__dict__, "steps": args.steps}, "gamma": GAMMA, "runs": {}}
    for p in args.p:
        t0 = time.perf_counter()
        h = train_mixed(init, p, args.steps, naive_steps=s.naive_steps, naive_batch=s.naive_batch,
                        lr_naive=s.lr_naive, gamma=GAMMA, seed=30 + FULL_P_VALUES.index(p), lr=s.lr,
                        log_every=s.log_every)
        mutual = 0.5 * (h.metrics["pair_returns"][..., 0, 1] + h.metrics["pair_returns"][..., 1, 0])  # [L, S]
        every = max(1, len(h.steps) // 40)
        result["runs"][f"{p:g}"] = {
            "seconds": time.perf_counter() - t0,
            "curve": [{"step": int(h.steps[i]), **_quartiles(mutual[i])} for i in range(0, len(h.steps), every)],
            "final": _quartiles(mutual[-1]),
            "cooperating_seeds_final": int((mutual[-1] > 0.9).sum()),
        }
        print(f"p_naive={p:g}: final {result['runs'][f'{p:g}']['final']}", flush=True)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return result


if __name__ == "__main__":
    main()

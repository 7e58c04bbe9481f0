"""The reference learning-aware learner (COALA-PG) and the baselines it is compared with.

First public implementation of COALA-PG (Meulemans et al., ICLR 2025, arXiv 2410.18636); the
recipe and every decision on points the paper leaves open are in ``docs/coala.md``.

Entry points (what ``social-dilemmas train`` / ``eval`` call)::

    from social_dilemmas.baselines import Args, train, evaluate, preset_args

    # social-dilemmas train ALGO --preset NAME [--key value ...]
    args = preset_args(name: str, algo: str = "coala", **overrides) -> Args
        # name: "ipd-shaping", "ipd-mixed", "cleanup-shaping", "cleanup-mixed" (paper Tables 2, 4,
        #       5, 7, 8) or their "-quick" variants (scaled down for a 2-core CPU)
        # algo: "coala" (preset's PPO/A2C), "coala-ppo", "coala-a2c", "batch-unaware", "mfos",
        #       "lola-dice", "naive"
        # overrides: any Args field, e.g. seed=1, iterations=50, run_dir="runs/x", device="cuda"
    overrides = coerce_overrides(algo: str, {"learning-rate": "1e-3", ...}) -> dict[str, Any]
        # command-line strings -> typed Args values (bools, None, tuples, JSON dicts); unknown
        # keys raise ValueError listing the valid ones
    result = train(args: Args) -> TrainResult        # (for "coala*", "batch-unaware", "mfos")
        # result.history: list of per-iteration metric dicts; result.model; result.checkpoint
        # (Path | None); result.interrupted; result.iterations_done
    result = run(args: Args) -> TrainResult          # dispatches on args.algo, incl. "lola-dice"
                                                     # and "naive"; use this from the CLI

    # social-dilemmas eval CHECKPOINT --against POOL
    metrics = evaluate(checkpoint: str | Path, against: str = "naive", *, seed: int = 12345,
                       episodes: int = 1, meta_batch: int | None = None, device: str = "cpu",
                       greedy: bool = False) -> dict[str, float]
        # checkpoint: a checkpoint.pt or a run directory; against: "naive", "pool", "agents",
        # or a fixed co-player name ("always_defect", "tit_for_tat", ...)

    ALGORITHMS: dict (algo name -> estimator/algorithm flags); PRESETS: dict (name -> tables)
    Args fields: see social_dilemmas.baselines.args.Args (dataclass; Args.replace(**kw)
    rejects unknown names with a TypeError listing the valid ones).

Modules: :mod:`.estimators` (paper Algorithm 1, vectorised), :mod:`.losses` (PPO/A2C, centering,
sum-over-b scaling), :mod:`.rollout` (meta-episode collection), :mod:`.args` (typed settings), :mod:`.runtime` (the
plumbing every trainer shares), :mod:`.metrics`, :mod:`.coala_ppo` (the trainer),
:mod:`.presets`, :mod:`.checkpoint`, :mod:`.runlog`, :mod:`.lola_dice`, :mod:`.naive_baseline`.
Importing this package is cheap; the trainer modules import on first use.
"""

from __future__ import annotations

from social_dilemmas.core.lazy import lazy_getattr

__all__ = [
    "ALGORITHMS", "PRESETS", "Args", "TrainResult", "coerce_overrides", "evaluate", "evaluate_episodes",
    "preset_args", "run", "train",
]

_LAZY = {
    "Args": "args",
    "TrainResult": "args",
    "train": "coala_ppo",
    "evaluate": "coala_ppo",
    "evaluate_episodes": "coala_ppo",
    "preset_args": "presets",
    "coerce_overrides": "presets",
    "ALGORITHMS": "presets",
    "PRESETS": "presets",
    "run": "dispatch",
}


__getattr__ = lazy_getattr(__name__, _LAZY)

"""One entry point for every algorithm: :func:`run` picks the trainer from ``args.algo``."""

from __future__ import annotations

from social_dilemmas.baselines.args import Args, LolaArgs, TrainResult
from social_dilemmas.baselines.presets import ALGORITHMS


def run(args: Args) -> TrainResult:
    """Train (or, for ``"naive"``, play) the algorithm named by ``args.algo``.

    ``"coala"``, ``"coala-ppo"``, ``"coala-a2c"``, ``"batch-unaware"``, ``"mfos"``: the COALA
    trainer (the estimator flags are already in ``args``); ``"lola-dice"``: LOLA-DiCE;
    ``"naive"``: naive A2C egos against naive co-players.
    """
    if args.algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {args.algo!r}; known algorithms: {', '.join(ALGORITHMS)}")
    if args.algo == "lola-dice":
        from social_dilemmas.baselines.lola_dice import lola_args_from, train_lola  # noqa: PLC0415

        return train_lola(args if isinstance(args, LolaArgs) else lola_args_from(args))
    if args.algo == "naive":
        from social_dilemmas.baselines.naive_baseline import run_naive  # noqa: PLC0415

        return run_naive(args)
    from social_dilemmas.baselines.coala_ppo import train  # noqa: PLC0415

    return train(args)

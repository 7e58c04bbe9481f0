"""Trainer plumbing shared by every trainer (COALA/M-FOS/batch-unaware, LOLA-DiCE, naive).

Seeds, the agents' model and optimiser, the co-player pools (one shaping meta-environment per
agent, or one rank's share of its slots), checkpoint state and its loading, resumption, the CPU
thread policy and :class:`RunBook`, the iteration loop with its log, progress bar and atomic
checkpoints (rank 0's job in a data-parallel run, :mod:`.distributed`). The algorithms
themselves live in :mod:`.coala_ppo` and :mod:`.lola_dice`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines.args import Args, LolaArgs, TrainResult
from social_dilemmas.baselines.distributed import World
from social_dilemmas.baselines.rollout import Timer
from social_dilemmas.baselines.runlog import Progress, RunLogger
from social_dilemmas.models import PolicyValueModel, make_model

CHECKPOINT_NAME = ckpt.CHECKPOINT_NAME
CHECKPOINT_FORMAT = ckpt.FORMAT
#: What a run writes into its run directory (all of it is replaced by ``overwrite``).
RUN_FILES = (CHECKPOINT_NAME, CHECKPOINT_NAME + ".tmp", "metrics.csv", "args.json", "run_info.json")
RUN_DIRS = ("tb",)


class RunSetupError(ValueError):
    """A run cannot start as asked (e.g. resuming to fewer iterations than its checkpoint holds)."""


class ResumeWarning(UserWarning):
    """A resumed run will not be bit-for-bit the run it continues (e.g. another CPU thread count)."""
#: The keys a checkpoint needs to rebuild the trained model (no optimiser or random state).
MODEL_KEYS = ("format", "args", "model", "obs_dim", "num_actions")


# ============================================================================ building blocks


def env_seed(seed: int, iteration: int, agent: int) -> int:
    """A reset seed per (run seed, iteration, agent); distinct for all practical runs."""
    return (int(seed) * 1_000_003 + int(iteration) * 131 + int(agent)) % (2**62)


def slot_seed(seed: int, first_slot: int, batch_size: int) -> int:
    """The ``reset`` seed of an env whose first slot is global slot ``first_slot``.

    ``ShapingMetaEnv.reset(seed=s)`` gives game ``i`` the seed ``s + i`` and slot ``j`` the
    stream ``s + j * B``, so offsetting by ``first_slot * B`` gives every game and slot of a
    rank's share the seeds it has in the full meta-batch.
    """
    return int(seed) + int(first_slot) * int(batch_size)


def build_model(args: Args, obs_dim: int, num_actions: int) -> PolicyValueModel:
    model = make_model(args.model, obs_dim, num_actions, population=args.population_size, hidden=args.hidden,
                       seed=args.seed * 7919 + 17, device=args.device)
    model.compile_step = args.torch_compile  # the acting step through torch.compile (--torch-compile)
    return model


def build_envs(args: Args, agents: PolicyValueModel | None, slots: tuple[int, int] | None = None) -> list[Any]:
    """One ShapingMetaEnv per learning agent, each with its own opponent pool.

    ``slots = (lo, hi)`` builds only the global meta-batch slots ``lo .. hi-1`` (one rank's share,
    :meth:`~social_dilemmas.baselines.distributed.World.slot_range`); reset them with
    :func:`slot_seed` so every slot gets its global seeds.
    """
    lo, hi = (0, args.meta_batch) if slots is None else slots
    meta_batch = hi - lo
    from social_dilemmas.coplayers.naive import NaiveConfig, NaiveLearner  # noqa: PLC0415
    from social_dilemmas.coplayers.pool import OpponentPool  # noqa: PLC0415
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    envs = []
    probe = probe_dims(args)
    for p in range(args.population_size):
        naive = None
        if args.p_naive > 0:
            cfg = NaiveConfig(
                model=args.naive_model or args.model, hidden=args.hidden,
                population_size=args.naive_population_size, init_seed=args.seed * 7919 + 100_003,
                optimizer=args.naive_optimizer, learning_rate=args.naive_learning_rate,
                discount=args.naive_gamma, reward_rescaling=args.naive_reward_rescaling,
                torch_compile=args.torch_compile,
            )
            naive = NaiveLearner(probe["coplayer_obs_dim"], probe["num_actions"], meta_batch, cfg,
                                 device=args.device)
        pool = OpponentPool(meta_batch, args.p_naive, naive=naive,
                            agents=agents if args.p_naive < 1 else None,
                            ego_index=p if args.p_naive < 1 else None)
        env = ShapingMetaEnv(game=args.game, coplayer=pool, meta_batch=meta_batch, batch_size=args.batch_size,
                             num_inner_episodes=args.num_inner_episodes, history=args.history, device=args.device,
                             game_kwargs=dict(args.game_kwargs) or None, validate=False)
        envs.append(env)
    return envs


def probe_dims(args: Args) -> dict[str, int]:
    """Observation sizes of the co-player (the game's) and of the ego (plus history channels)."""
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    probe = ShapingMetaEnv(game=args.game, coplayer="random", meta_batch=1, batch_size=1,
                           num_inner_episodes=args.num_inner_episodes, history=args.history, device="cpu",
                           game_kwargs=dict(args.game_kwargs) or None)
    return {"coplayer_obs_dim": int(np.prod(probe.spec.obs_shape)), "ego_obs_dim": int(probe.observation_dim),
            "num_actions": int(probe.num_actions), "inner_episode_length": int(probe.inner_episode_length)}


def make_optimizer(args: Args, model: PolicyValueModel) -> torch.optim.Optimizer:
    """Adam (eps from the tables) or SGD on the stacked parameters.

    Both are elementwise, so on ``[P, ...]`` parameters they equal ``P`` independent optimisers
    (all agents step together, so Adam's shared step count is each agent's own count).
    """
    if args.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=args.adam_eps)
    return torch.optim.SGD(model.parameters(), lr=args.learning_rate)


@torch.no_grad()
def clip_grad_norm_per_member(model: PolicyValueModel, max_norm: float | None) -> torch.Tensor:
    """Clip each member's gradient to global norm ``max_norm`` (like ``clip_grad_norm_`` per agent).

    Returns the pre-clip norms ``[P]``.
    """
    params = [p for p in model.parameters() if p.grad is not None]
    if not params:
        return torch.zeros(model.population)
    sq = sum(p.grad.reshape(p.shape[0], -1).double().pow(2).sum(1) for p in params)
    norms = sq.sqrt()  # type: ignore[union-attr]
    if max_norm is not None:
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for p in params:
            p.grad.mul_(coef.to(p.dtype).view(-1, *([1] * (p.dim() - 1))))
    return norms.float()



# ============================================================================ checkpoints


def runtime_info(args: Args) -> dict[str, Any]:
    """What besides ``args`` decides the exact floating-point results of a run."""
    from social_dilemmas import __version__  # noqa: PLC0415

    return {"torch_threads": torch.get_num_threads(), "torch": torch.__version__, "device": str(args.device),
            "social_dilemmas": __version__}


def checkpoint_state(args: Args, model, optimizer, generator, iteration: int) -> dict[str, Any]:
    return {
        "runtime": runtime_info(args),
        "format": CHECKPOINT_FORMAT,
        "args": args.to_dict(),
        "iteration": iteration,
        "model": model.state_dict(),
        "model_kind": args.model,
        "obs_dim": model.obs_dim,
        "num_actions": model.num_actions,
        "optimizer": optimizer.state_dict(),
        "rng": ckpt.rng_state(generator),
    }


def args_from_checkpoint(state: dict[str, Any], path: Any = None, **overrides: Any) -> Args:
    """The run's :class:`Args` (a ``LolaArgs`` for LOLA-DiCE checkpoints) with ``overrides``.

    Settings this package does not know (a checkpoint from a newer version) raise
    :class:`~social_dilemmas.baselines.checkpoint.CheckpointError` naming them and ``path``.
    """
    d = dict(state["args"])
    d["history"] = tuple(d.get("history", ()))
    d.update(overrides)
    cls = LolaArgs if d.get("algo") == "lola-dice" else Args
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        version = state.get("package_version")
        raise ckpt.CheckpointError(
            f"checkpoint {path if path is not None else '(given state)'} has settings this social-dilemmas does not "
            f"know: {', '.join(unknown)}; it was written by "
            f"{f'social-dilemmas {version}' if version else 'another version'}: upgrade the package to load it"
        )
    try:
        return cls(**d)
    except (TypeError, ValueError) as e:
        raise ckpt.CheckpointError(
            f"checkpoint {path if path is not None else '(given state)'} holds settings this version rejects: {e}"
        ) from e


def load_model(checkpoint: str | Path, device: str = "cpu", *, required: tuple[str, ...] = ckpt.REQUIRED_KEYS,
               ) -> tuple[PolicyValueModel, Args, dict[str, Any]]:
    """``(model, args, state)`` from a checkpoint file or a run directory.

    ``required``: the keys the file must hold (default: everything a resume needs; a trimmed
    policy-only checkpoint, e.g. the benchmark's reference agents, needs only ``MODEL_KEYS``).
    """
    path = ckpt.resolve_path(checkpoint)
    state = ckpt.load(path, map_location=device, required=required)
    args = args_from_checkpoint(state, path, device=device)
    model = build_model(args, state["obs_dim"], state["num_actions"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise ckpt.CheckpointError(f"checkpoint {path}: its weights do not fit the {args.model} model of its "
                                   f"settings ({str(e).splitlines()[0]})") from e
    return model, args, state


# ============================================================================ training loop


def make_generator(args: Args) -> torch.Generator:
    g = torch.Generator(device=args.device)
    g.manual_seed(args.seed * 1_000_033 + 5)
    return g


#: Args fields that may differ between a run and its resumption.
RESUMABLE_CHANGES = frozenset({"iterations", "run_dir", "resume", "progress", "tensorboard", "checkpoint_every",
                               "torch_threads", "torch_compile"})


@contextlib.contextmanager
def torch_threads(args: Args) -> Iterator[None]:
    """Set torch's CPU thread count for a run (see :attr:`Args.torch_threads`), restore it after."""
    before = torch.get_num_threads()
    n = args.torch_threads
    if n is None:
        n = 1 if torch.device(args.device).type == "cpu" else 0
    if n > 0:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_resumable(args: Args, state: dict[str, Any]) -> None:
    """Raise ``ValueError`` if ``args`` differ from the checkpoint's beyond :data:`RESUMABLE_CHANGES`."""
    saved = state["args"]
    now = args.to_dict()
    diff = sorted(k for k in now if k not in RESUMABLE_CHANGES and k in saved and saved[k] != now[k])
    if diff:
        raise RunSetupError("cannot resume with different settings: " + ", ".join(
            f"{k}: checkpoint {saved[k]!r} vs now {now[k]!r}" for k in diff))


def init_learner(args: Args) -> tuple[dict[str, int], Path | None, Path | None, torch.Generator,
                                      PolicyValueModel, torch.optim.Optimizer, int]:
    """Seed everything, build the agents' model and optimiser, and restore them on ``resume``.

    Returns ``(dims, run_dir, checkpoint_path, generator, model, optimizer, start_iteration)``;
    shared by every trainer that checkpoints an agent model (COALA, LOLA-DiCE).
    """
    check_compile_toolchain(args)
    run_dir = prepare_run_dir(args)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed % (2**32))
    dims = probe_dims(args)
    ckpt_path = run_dir / CHECKPOINT_NAME if run_dir else None
    generator = make_generator(args)
    model = build_model(args, dims["ego_obs_dim"], dims["num_actions"])
    optimizer = make_optimizer(args, model)
    start = 0
    if args.resume:
        if ckpt_path is None or not ckpt_path.exists():
            raise FileNotFoundError(f"resume needs a checkpoint at {ckpt_path} (run_dir={args.run_dir!r})")
        state = ckpt.load(ckpt_path, map_location=args.device)
        start = int(state["iteration"])
        if args.iterations < start:
            raise RunSetupError(
                f"iterations (--iterations) = {args.iterations} is below the iteration of the checkpoint in "
                f"{run_dir} ({start}): resuming cannot go back; pass --iterations >= {start}, or start a new run "
                "(another --run-dir, or --overwrite without --resume)"
            )
        check_resumable(args, state)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        ckpt.set_rng_state(state["rng"], generator)
        note_resume(args, run_dir, state)  # type: ignore[arg-type]
    return dims, run_dir, ckpt_path, generator, model, optimizer, start


def check_compile_toolchain(args: Args) -> None:
    """Refuse ``--torch-compile`` on the CPU without a C++ compiler before anything is written.

    torch's inductor builds C++ kernels on the CPU with ``$CXX`` (default ``g++``); without one
    the run would fail deep inside torch at its first compiled call.
    """
    if not args.torch_compile or torch.device(args.device).type != "cpu":
        return
    wanted = [c for c in (os.environ.get("CXX"), "g++", "c++", "clang++") if c]
    if not any(shutil.which(c) for c in wanted):
        raise RunSetupError(
            f"torch_compile (--torch-compile) on the CPU needs a C++ compiler on PATH ({', '.join(wanted)}); "
            "none was found. Install one (e.g. g++) or run without --torch-compile"
        )


def prepare_run_dir(args: Args) -> Path | None:
    """Check ``args.run_dir`` before a run writes anything; with ``overwrite`` clear the old run.

    Refuses (``FileExistsError``) a directory that already holds a run unless ``resume`` or
    ``overwrite`` is set, and a path that is a file (``NotADirectoryError``). ``overwrite``
    removes only what a run writes (:data:`RUN_FILES`, the ``tb/`` folder).
    """
    if not args.run_dir:
        return None
    run_dir = Path(args.run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"run_dir (--run-dir) {run_dir} is a file, not a directory: give a directory "
                                 "path (it is created when missing)")
    if args.resume or not run_dir.exists():
        return run_dir
    present = [n for n in (*RUN_FILES, *RUN_DIRS) if (run_dir / n).exists()]
    if not present:
        return run_dir
    if not args.overwrite:
        what = ", ".join(present)
        it = ""
        if (run_dir / CHECKPOINT_NAME).exists():
            with contextlib.suppress(Exception):
                it = f" (checkpoint at iteration {int(ckpt.load(run_dir, required=('iteration',))['iteration'])})"
        raise FileExistsError(
            f"run_dir (--run-dir) {run_dir} already holds a run{it}: {what}. Pass --resume to continue it, "
            "--overwrite to replace it, or choose another run directory"
        )
    if _main_process():  # (with several ranks, rank 0 clears the old run)
        for n in present:
            target = run_dir / n
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
    return run_dir


def _main_process() -> bool:
    """Rank 0 of a torch.distributed job, or a plain single process."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def note_resume(args: Args, run_dir: Path, state: dict[str, Any]) -> None:
    """Warn when a resumed run cannot be bit-exact, and record every resume in ``run_info.json``.

    Compares :func:`runtime_info` now with the checkpoint's (torch threads, torch version);
    checkpoints written before this record existed are compared on nothing.
    """
    if not _main_process():
        return
    now = runtime_info(args)
    before = state.get("runtime") or {}
    changed = {k: [before[k], now[k]] for k in ("torch_threads", "torch") if k in before and before[k] != now[k]}
    if changed:
        what = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
        warnings.warn(
            f"resuming {run_dir} at iteration {state['iteration']} with {what}: the run continues, but not "
            "bit-for-bit as it would have without the interruption (floating-point sums depend on these). "
            "Recorded in run_info.json; pass the previous --torch-threads to stay exact.",
            ResumeWarning,
            stacklevel=3,
        )
    info_path = run_dir / "run_info.json"
    info: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        info = json.loads(info_path.read_text())
    info.setdefault("runtime", before or None)
    info.setdefault("resumes", []).append(
        {"iteration": int(state["iteration"]), "runtime": now, "changed": changed, "bit_exact": not changed})
    info_path.write_text(json.dumps(info, indent=2))


class RunBook:
    """The iteration loop the trainers share, with its bookkeeping: history, CSV/TensorBoard
    log, progress bar, atomic checkpoints (every ``checkpoint_every`` iterations, at the last
    one and when a Ctrl-C was deferred) and Ctrl-C handling (:meth:`run`)."""

    def __init__(self, args: Args, run_dir: Path | None, ckpt_path: Path | None, start: int,
                 model: PolicyValueModel, optimizer: torch.optim.Optimizer, generator: torch.Generator,
                 world: World | None = None) -> None:
        self.args, self.ckpt_path, self.start = args, ckpt_path, start
        self.model, self.optimizer, self.generator = model, optimizer, generator
        self.world = world or World()
        main = self.world.main  # with several ranks only rank 0 writes files and shows progress
        self.logger = None
        self.last_saved: int | None = start if args.resume else None
        if run_dir and main:
            self.logger = RunLogger(run_dir, tensorboard=args.tensorboard, resume_from=start if args.resume else None,
                                    hparams=args.to_dict())
            (run_dir / "args.json").write_text(json.dumps(args.to_dict(), indent=2, default=str))
            if not args.resume:
                info = {"runtime": runtime_info(args), "resumes": []}
                (run_dir / "run_info.json").write_text(json.dumps(info, indent=2))
        self.bar = Progress(args.iterations, initial=start, enabled=args.progress and main, desc=args.algo)
        self.history: list[dict[str, float]] = []
        self.saved_any = bool(args.resume)

    def run(self, iteration: Callable[[int], dict[str, float]]) -> TrainResult:
        """Run ``iteration(it)`` for ``it = start, ..., iterations - 1`` and return the result.

        ``iteration(it)`` trains iteration ``it + 1`` (1-based) and returns its metrics. A first
        Ctrl-C stops after the current iteration and checkpoints it; a second one (or one
        outside the main thread) aborts at once without saving, since the model may be half
        updated, so the last checkpoint on disk stays the good one.
        """
        it, interrupted = self.start, False
        try:
            with ckpt.DeferredInterrupt() as stop:
                while it < self.args.iterations:
                    metrics = iteration(it)
                    it += 1
                    # every rank stops after the same iteration when any of them got a Ctrl-C
                    stop_now = self.world.any(stop.requested, self.model.device)
                    self.record(it, metrics, stop_now)
                    if stop_now:
                        interrupted = True
                        break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            self.close()
        return TrainResult(args=self.args, iterations_done=it, history=self.history, model=self.model,
                           checkpoint=self.ckpt_path if self.saved_any else None, interrupted=interrupted)

    def record(self, it: int, metrics: dict[str, float], stop_requested: bool) -> None:
        """Log iteration ``it``'s metrics and checkpoint the state after it when due."""
        self.history.append(metrics)
        if self.logger:
            self.logger.log(it, metrics)
        self.bar.update(metrics)
        a = self.args
        if self.ckpt_path and (it % a.checkpoint_every == 0 or it == a.iterations or stop_requested):
            bad = [n for n, p in self.model.named_parameters() if not bool(torch.isfinite(p).all())]
            if bad:
                kept = (f"the last good checkpoint (iteration {self.last_saved}) is intact"
                        if self.last_saved is not None else "no checkpoint was written")
                raise ckpt.NonFiniteLossError(
                    f"the weights after iteration {it} are not finite ({', '.join(bad[:4])}); the checkpoint was not "
                    f"written and {kept}. Lower the learning rate or reward_rescaling, then resume from it."
                )
            if self.world.main:  # (all ranks hold the same model, optimiser and generator state)
                state = checkpoint_state(a, self.model, self.optimizer, self.generator, it)
                ckpt.save_atomic(state, self.ckpt_path)
            self.saved_any = True
            self.last_saved = it

    def close(self) -> None:
        self.bar.close()
        if self.logger:
            self.logger.close()


def time_coplayer_updates(envs: list[Any], timer: Timer) -> None:
    """Wrap every learning co-player's ``update`` so ``timer`` books it as ``coplayer_update``."""
    for env in envs:
        if hasattr(env.coplayer, "update"):
            env.coplayer.update = timer.wrap("coplayer_update", env.coplayer.update)


"""Trainer plumbing shared by every trainer (COALA/M-FOS/batch-unaware, LOLA-DiCE, naive).

Seeds, the agents' model and optimiser, the co-player pools (one shaping meta-environment per
agent, or one rank's share of its slots), checkpoint state and its loading, resumption, the CPU
thread policy and :class:`RunBook`, the iteration loop with its log, progress bar and atomic
checkpoints (rank 0's job in a data-parallel run, :mod:`.distributed`). The algorithms
themselves live in :mod:`.coala_ppo` and :mod:`.lola_dice`.
"""

from __future__ import annotations

import contextlib
import json
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

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


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
    return make_model(args.model, obs_dim, num_actions, population=args.population_size, hidden=args.hidden,
                      seed=args.seed * 7919 + 17, device=args.device)


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


def checkpoint_state(args: Args, model, optimizer, generator, iteration: int) -> dict[str, Any]:
    return {
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


def args_from_checkpoint(state: dict[str, Any], **overrides: Any) -> Args:
    """The run's :class:`Args` (a ``LolaArgs`` for LOLA-DiCE checkpoints) with ``overrides``."""
    d = dict(state["args"])
    d["history"] = tuple(d.get("history", ()))
    d.update(overrides)
    return (LolaArgs if d.get("algo") == "lola-dice" else Args)(**d)


def load_model(checkpoint: str | Path, device: str = "cpu") -> tuple[PolicyValueModel, Args, dict[str, Any]]:
    """``(model, args, state)`` from a checkpoint file or a run directory."""
    path = Path(checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    state = ckpt.load(path, map_location=device)
    args = args_from_checkpoint(state, device=device)
    model = build_model(args, state["obs_dim"], state["num_actions"])
    model.load_state_dict(state["model"])
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
        raise ValueError("cannot resume with different settings: " + ", ".join(
            f"{k}: checkpoint {saved[k]!r} vs now {now[k]!r}" for k in diff))


def init_learner(args: Args) -> tuple[dict[str, int], Path | None, Path | None, torch.Generator,
                                      PolicyValueModel, torch.optim.Optimizer, int]:
    """Seed everything, build the agents' model and optimiser, and restore them on ``resume``.

    Returns ``(dims, run_dir, checkpoint_path, generator, model, optimizer, start_iteration)``;
    shared by every trainer that checkpoints an agent model (COALA, LOLA-DiCE).
    """
    torch.manual_seed(args.seed)
    np.random.seed(args.seed % (2**32))
    dims = probe_dims(args)
    run_dir = Path(args.run_dir) if args.run_dir else None
    ckpt_path = run_dir / CHECKPOINT_NAME if run_dir else None
    generator = make_generator(args)
    model = build_model(args, dims["ego_obs_dim"], dims["num_actions"])
    optimizer = make_optimizer(args, model)
    start = 0
    if args.resume:
        if ckpt_path is None or not ckpt_path.exists():
            raise FileNotFoundError(f"resume needs a checkpoint at {ckpt_path} (run_dir={args.run_dir!r})")
        state = ckpt.load(ckpt_path, map_location=args.device)
        check_resumable(args, state)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        ckpt.set_rng_state(state["rng"], generator)
        start = int(state["iteration"])
    return dims, run_dir, ckpt_path, generator, model, optimizer, start


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
        if run_dir and main:
            self.logger = RunLogger(run_dir, tensorboard=args.tensorboard, resume_from=start if args.resume else None,
                                    hparams=args.to_dict())
            (run_dir / "args.json").write_text(json.dumps(args.to_dict(), indent=2, default=str))
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
            if self.world.main:  # (all ranks hold the same model, optimiser and generator state)
                state = checkpoint_state(a, self.model, self.optimizer, self.generator, it)
                ckpt.save_atomic(state, self.ckpt_path)
            self.saved_any = True

    def close(self) -> None:
        self.bar.close()
        if self.logger:
            self.logger.close()


def time_coplayer_updates(envs: list[Any], timer: Timer) -> None:
    """Wrap every learning co-player's ``update`` so ``timer`` books it as ``coplayer_update``."""
    for env in envs:
        if hasattr(env.coplayer, "update"):
            env.coplayer.update = timer.wrap("coplayer_update", env.coplayer.update)


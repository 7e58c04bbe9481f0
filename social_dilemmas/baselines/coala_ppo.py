"""COALA-PPO / COALA-A2C and the batch-unaware and M-FOS baselines, in one readable file.

Reference: Meulemans et al., "Multi-agent cooperation through learning-aware policy gradients",
ICLR 2025 (arXiv 2410.18636); the whole recipe is summarised in ``docs/coala.md``. The algorithm
is CleanRL-shaped: a typed :class:`Args`, a :func:`train` loop, metrics under stable names.

One training iteration (paper App. B.2.1):

1. **Rollout.** Each of the ``P`` learning agents plays one meta-episode against its own
   meta-batch of co-players (naive learners with probability ``p_naive``, otherwise frozen
   copies of the *other* agents), ``B`` games per co-player, ``M`` inner episodes of ``T``
   steps. Naive co-players take one A2C step at every inner boundary inside the environment.
   The agents' long-context memory is never reset within the meta-episode.
2. **Advantages.** Rewards are rescaled; the critic's targets are batch-unaware TD(lambda)
   returns for every trajectory; the advantage against naive co-players uses the chosen
   estimator (COALA-PG, batch-unaware or M-FOS: paper Algorithm 1 with its two flags), against
   other agents always the batch-unaware one (paper App. A.1). Optional centering is done per
   agent and separately per opponent kind.
3. **Learner update.** PPO (clipped surrogate, value clipping, ``ppo_nepochs`` epochs of
   ``ppo_nminibatches`` minibatches of whole ``M*T``-step sequences re-run from a fresh carry,
   minibatches split along meta-batch slots) or A2C (one step). Each agent's loss is the mean
   over its own rollouts; gradient norms are clipped per agent; Adam/SGD are elementwise, so the
   ``P`` agents train exactly as independent learners.

Algorithms are selected by flags: ``estimator`` (``coala`` / ``batch_unaware`` / ``mfos``) and
``algorithm`` (``ppo`` / ``a2c``); see :mod:`social_dilemmas.baselines.presets` for the paper's
tables. Everything is seeded; ``resume`` continues bit-for-bit on the same device.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines.estimators import ESTIMATOR_FLAGS, advantages, value_targets
from social_dilemmas.baselines.losses import (
    a2c_policy_loss,
    batch_scaling_weights,
    center_advantages,
    entropy_mean,
    ppo_policy_loss,
    rescale_rewards,
    value_loss,
)
from social_dilemmas.baselines.rollout import Rollout, Timer, collect
from social_dilemmas.baselines.runlog import Progress, RunLogger
from social_dilemmas.models import PolicyValueModel, make_model
from social_dilemmas.models.functional import log_probs_entropy

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


@dataclass
class Args:
    """Every knob of a run. Defaults: the paper's IPD pure-shaping setting (Tables 2, 4, 8)."""

    # --- identity
    algo: str = "coala-ppo"
    """algorithm name as given on the command line (informational)"""
    preset: str | None = None
    """preset the run was built from (informational)"""
    seed: int = 0
    """seeds model init, co-player inits, games and action sampling"""
    device: str = "cpu"

    # --- environment and pool (Tables 2, 5)
    game: str = "IPD-v0"
    game_kwargs: dict[str, Any] = field(default_factory=dict)
    iterations: int = 3000
    meta_batch: int = 128
    batch_size: int = 16
    """B: parallel games per co-player"""
    num_inner_episodes: int = 20
    """M: inner episodes per meta-episode (T is the game's episode length)"""
    p_naive: float = 1.0
    population_size: int = 1
    """number of learning (meta) agents trained together"""
    naive_population_size: int = 10
    dynamic_naive_agents: bool = False
    """naive inits copied from the current agents every iteration (CleanUp mixed pool)"""
    history: tuple[str, ...] = ()
    """optional history channels of the meta-env observation (paper: none)"""

    # --- network (App. B.3)
    model: str = "hawk"
    hidden: int = 32

    # --- meta-agent RL (Tables 4, 7)
    estimator: Literal["coala", "batch_unaware", "mfos"] = "coala"
    algorithm: Literal["ppo", "a2c"] = "ppo"
    ppo_nminibatches: int = 2
    ppo_nepochs: int = 4
    clip_eps: float = 0.2
    value_coef: float = 0.5
    clip_value: bool = True
    entropy_coef: float = 0.0
    advantage_normalization: bool = False
    """centre advantages per agent, separately per opponent kind"""
    advantage_std: bool = False
    """also divide by the standard deviation (the paper only says centering)"""
    batch_scaling: Literal["sum", "mean"] = "sum"
    """COALA/M-FOS sum over b: 'sum' weights naive-opponent trajectories by B, 'mean' does not"""
    reward_rescaling: float = 0.05
    gamma: float = 1.0
    td_lambda: float = 1.0
    gae_lambda: float = 1.0
    optimizer: Literal["adam", "sgd"] = "adam"
    adam_eps: float = 1e-5
    learning_rate: float = 3e-4
    max_grad_norm: float | None = 1.0

    # --- naive learners (Table 8)
    naive_model: str | None = None
    """network of the naive learners (default: same as ``model``)"""
    naive_learning_rate: float = 0.005
    naive_optimizer: Literal["adam", "sgd"] = "adam"
    naive_reward_rescaling: float = 0.05
    naive_gamma: float = 0.99

    # --- running it
    run_dir: str | None = None
    """where checkpoint.pt, metrics.csv, args.json and TensorBoard logs go (None: no files)"""
    checkpoint_every: int = 10
    resume: bool = False
    progress: bool = True
    tensorboard: bool | None = None
    """None: log to TensorBoard when it is installed"""
    torch_threads: int | None = None
    """torch CPU threads during the run: None = auto (1 on a CPU device: measured ~5x faster than torch's
    default on the 2-core machine, see docs/coala.md), 0 = torch's default, N = N threads"""

    def __post_init__(self) -> None:
        self.history = tuple(self.history)
        if self.estimator not in ESTIMATOR_FLAGS:
            raise ValueError(f"estimator must be one of {sorted(ESTIMATOR_FLAGS)}, got {self.estimator!r}")
        if self.algorithm not in ("ppo", "a2c"):
            raise ValueError(f"algorithm must be 'ppo' or 'a2c', got {self.algorithm!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.batch_scaling not in ("sum", "mean"):
            raise ValueError(f"batch_scaling must be 'sum' or 'mean', got {self.batch_scaling!r}")
        for name in ("iterations", "meta_batch", "batch_size", "num_inner_episodes", "population_size",
                     "ppo_nminibatches", "ppo_nepochs", "checkpoint_every", "naive_population_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not 0.0 <= self.p_naive <= 1.0:
            raise ValueError(f"p_naive must lie in [0, 1], got {self.p_naive}")
        if self.p_naive < 1.0 and self.population_size < 2:
            raise ValueError(f"p_naive={self.p_naive} < 1 needs population_size >= 2 (agents never face themselves)")
        if self.history and self.p_naive < 1.0:
            raise ValueError("history channels are not supported in mixed pools: the agents also act as co-players "
                             "on the plain game observation; use history=() or p_naive=1")
        if self.algorithm == "ppo" and self.meta_batch < self.ppo_nminibatches:
            raise ValueError(f"meta_batch={self.meta_batch} must be >= ppo_nminibatches={self.ppo_nminibatches}")
        for name in ("gamma", "td_lambda", "gae_lambda"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {v}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["history"] = list(self.history)
        return d

    def replace(self, **overrides: Any) -> Args:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown option(s) {unknown}; known: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **overrides)


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    args: Args
    iterations_done: int
    history: list[dict[str, float]]
    """one metrics dict per iteration run in this call"""
    model: PolicyValueModel
    checkpoint: Path | None
    interrupted: bool = False

    @property
    def final(self) -> dict[str, float]:
        return self.history[-1] if self.history else {}


# ============================================================================ building blocks


def _env_seed(seed: int, iteration: int, agent: int) -> int:
    """A reset seed per (run seed, iteration, agent); distinct for all practical runs."""
    return (int(seed) * 1_000_003 + int(iteration) * 131 + int(agent)) % (2**62)


def build_model(args: Args, obs_dim: int, num_actions: int) -> PolicyValueModel:
    return make_model(args.model, obs_dim, num_actions, population=args.population_size, hidden=args.hidden,
                      seed=args.seed * 7919 + 17, device=args.device)


def build_envs(args: Args, agents: PolicyValueModel | None) -> list[Any]:
    """One ShapingMetaEnv per learning agent, each with its own opponent pool."""
    from social_dilemmas.coplayers.naive import NaiveConfig, NaiveLearner  # noqa: PLC0415
    from social_dilemmas.coplayers.pool import OpponentPool  # noqa: PLC0415
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    envs = []
    probe = _probe_dims(args)
    for p in range(args.population_size):
        naive = None
        if args.p_naive > 0:
            cfg = NaiveConfig(
                model=args.naive_model or args.model, hidden=args.hidden,
                population_size=args.naive_population_size, init_seed=args.seed * 7919 + 100_003,
                optimizer=args.naive_optimizer, learning_rate=args.naive_learning_rate,
                discount=args.naive_gamma, reward_rescaling=args.naive_reward_rescaling,
            )
            naive = NaiveLearner(probe["coplayer_obs_dim"], probe["num_actions"], args.meta_batch, cfg,
                                 device=args.device)
        pool = OpponentPool(args.meta_batch, args.p_naive, naive=naive,
                            agents=agents if args.p_naive < 1 else None,
                            ego_index=p if args.p_naive < 1 else None)
        env = ShapingMetaEnv(game=args.game, coplayer=pool, meta_batch=args.meta_batch, batch_size=args.batch_size,
                             num_inner_episodes=args.num_inner_episodes, history=args.history, device=args.device,
                             game_kwargs=dict(args.game_kwargs) or None, validate=False)
        envs.append(env)
    return envs


def _probe_dims(args: Args) -> dict[str, int]:
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


def compute_targets(args: Args, batch: Rollout) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(advantages, value_targets, slot_weights)`` for a rollout (paper §A.2-A.4)."""
    r = rescale_rewards(batch.rewards, args.reward_rescaling).to(batch.values.dtype)
    v = batch.values
    t_len = batch.inner_episode_length
    targets = value_targets(r, v, gamma=args.gamma, td_lambda=args.td_lambda, inner_episode_length=t_len)
    adv = advantages(r, v, estimator=args.estimator, gamma=args.gamma, gae_lambda=args.gae_lambda,
                     inner_episode_length=t_len)
    is_naive = batch.is_naive
    if args.estimator != "batch_unaware" and not bool(is_naive.all()):
        plain = advantages(r, v, estimator="batch_unaware", gamma=args.gamma, gae_lambda=args.gae_lambda,
                           inner_episode_length=t_len)
        adv = torch.where(is_naive[..., None, None], adv, plain)
    if args.advantage_normalization:
        adv = center_advantages(adv, is_naive, normalize_std=args.advantage_std)
    weights = batch_scaling_weights(is_naive, estimator=args.estimator, batch_size=batch.shape[2],
                                    mode=args.batch_scaling).to(adv.dtype)
    return adv, targets, weights


def update_learner(
    args: Args,
    model: PolicyValueModel,
    optimizer: torch.optim.Optimizer,
    batch: Rollout,
    generator: torch.Generator,
    iteration: int,
) -> dict[str, float]:
    """PPO epochs / one A2C step on a rollout (``iteration`` is 1-based, for messages).

    Raises :class:`~social_dilemmas.baselines.checkpoint.NonFiniteLossError` before any
    optimiser step with a non-finite loss or gradient.
    """
    adv, targets, weights = compute_targets(args, batch)
    p_count, mb, b_size, length = batch.shape
    if args.algorithm == "a2c":
        nepochs, nmini = 1, 1
    else:
        nepochs, nmini = args.ppo_nepochs, args.ppo_nminibatches
    stats: dict[str, list[float]] = {}
    for _ in range(nepochs):
        perm = torch.randperm(mb, generator=generator, device=generator.device).to(adv.device)
        for idx in perm.chunk(nmini):
            k = idx.numel()
            obs = batch.obs[:, idx].reshape(p_count, k * b_size, length, -1)
            logits, values, _ = model(obs)
            logits = logits.view(p_count, k, b_size, length, -1)
            values = values.view(p_count, k, b_size, length)
            logp, ent = log_probs_entropy(logits, batch.actions[:, idx])
            if args.algorithm == "ppo":
                pg, pstats = ppo_policy_loss(logp, batch.logp[:, idx], adv[:, idx], args.clip_eps, weights[:, idx])
            else:
                pg, pstats = a2c_policy_loss(logp, adv[:, idx], weights[:, idx])
            vl = value_loss(values, batch.values[:, idx], targets[:, idx], args.clip_eps if args.clip_value else None)
            ent_m = entropy_mean(ent)
            loss = pg + args.value_coef * vl - args.entropy_coef * ent_m
            ckpt.check_finite(iteration, policy_loss=pg, value_loss=vl, entropy=ent_m)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norms = clip_grad_norm_per_member(model, args.max_grad_norm)
            if not bool(torch.isfinite(norms).all()):
                raise ckpt.NonFiniteLossError(
                    f"non-finite gradient at iteration {iteration}; training stopped before the optimiser step. "
                    "The last good checkpoint is intact."
                )
            optimizer.step()
            for name, val in (("loss/policy", pg / p_count), ("loss/value", vl / p_count),
                              ("loss/entropy", ent_m / p_count), ("loss/approx_kl", pstats.approx_kl),
                              ("loss/clip_fraction", pstats.clip_fraction), ("loss/grad_norm", norms.mean())):
                stats.setdefault(name, []).append(float(val.detach()))
    out = {k: float(np.mean(v)) for k, v in stats.items()}
    with torch.no_grad():
        out["adv/mean_abs"] = float(adv.abs().mean())
        out["value/explained_variance"] = _explained_variance(batch.values, targets)
    return out


def _explained_variance(pred: torch.Tensor, target: torch.Tensor) -> float:
    var = target.var()
    return float("nan") if float(var) == 0 else float(1 - (target - pred).var() / var)


def rollout_metrics(args: Args, batch: Rollout) -> dict[str, float]:
    """The paper's metrics of one iteration, in game units, under stable names."""
    p_count, mb, b_size, length = batch.shape
    t_len = batch.inner_episode_length
    m_count = length // t_len
    r = batch.rewards.float()
    rc = batch.coplayer_rewards.float()
    naive = batch.is_naive[..., None, None].expand_as(r)
    out: dict[str, float] = {
        "reward/ego": float(r.mean()),
        "reward/coplayer": float(rc.mean()),
    }
    # keys depend only on the pool's settings (NaN when no slot of that kind was drawn)
    nan = float("nan")
    if args.p_naive > 0:
        out["reward/vs_naive"] = float(r[naive].mean()) if bool(naive.any()) else nan
        out["reward/naive_coplayer"] = float(rc[naive].mean()) if bool(naive.any()) else nan
    if args.p_naive < 1:
        out["reward/vs_agents"] = float(r[~naive].mean()) if bool((~naive).any()) else nan
    for p in range(p_count):
        if p_count > 1:
            out[f"agent{p}/reward"] = float(r[p].mean())
    per_ep = r.view(p_count, mb, b_size, m_count, t_len).mean((0, 1, 2, 4))
    out["reward/ego_first_episode"] = float(per_ep[0])
    out["reward/ego_last_episode"] = float(per_ep[-1])
    if args.game.lower().startswith(("ipd", "iterated")) or batch.actions.max() <= 1:
        d = (batch.actions == 1).float()
        out["ipd/ego_defect_rate"] = float(d.mean())
        dm = d.view(p_count, mb, b_size, m_count, t_len)
        out["ipd/ego_defect_rate_first_episode"] = float(dm[..., 0, :].mean())
        out["ipd/ego_defect_rate_last_episode"] = float(dm[..., -1, :].mean())
        if batch.coplayer_actions is not None:
            cd = (batch.coplayer_actions == 1).float()
            out["ipd/coplayer_defect_rate"] = float(cd.mean())
            cdm = cd.view(p_count, mb, b_size, m_count, t_len)
            out["ipd/coplayer_defect_rate_first_episode"] = float(cdm[..., 0, :].mean())
            out["ipd/coplayer_defect_rate_last_episode"] = float(cdm[..., -1, :].mean())
    for k, v in batch.metrics.items():
        if v.shape[-1] == 2:  # per player: ego (player 0) and co-player
            out[f"game/{k}/ego"] = float(v[..., 0].mean())
            out[f"game/{k}/coplayer"] = float(v[..., 1].mean())
            if k == "cleaned":  # paper Fig. 6: |ego - co-player| cleaning per step, per slot
                out["game/cleaning_discrepancy"] = float((v[..., 0] - v[..., 1]).abs().mean())
        else:
            out[f"game/{k}"] = float(v.mean())
    for k, v in batch.coplayer_diagnostics.items():
        out[f"coplayer/{k}"] = v
    out["pool/naive_fraction"] = float(batch.is_naive.float().mean())
    return out


# ============================================================================ checkpoints


def _checkpoint_state(args: Args, model, optimizer, generator, iteration: int) -> dict[str, Any]:
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
    if d.get("algo") == "lola-dice":
        from social_dilemmas.baselines.lola_dice import LolaArgs  # noqa: PLC0415

        return LolaArgs(**d)
    return Args(**d)


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


def _make_generator(args: Args) -> torch.Generator:
    g = torch.Generator(device=args.device)
    g.manual_seed(args.seed * 1_000_033 + 5)
    return g


#: Args fields that may differ between a run and its resumption.
RESUMABLE_CHANGES = frozenset({"iterations", "run_dir", "resume", "progress", "tensorboard", "checkpoint_every",
                               "torch_threads"})


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
    dims = _probe_dims(args)
    run_dir = Path(args.run_dir) if args.run_dir else None
    ckpt_path = run_dir / CHECKPOINT_NAME if run_dir else None
    generator = _make_generator(args)
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
                 model: PolicyValueModel, optimizer: torch.optim.Optimizer, generator: torch.Generator) -> None:
        self.args, self.ckpt_path, self.start = args, ckpt_path, start
        self.model, self.optimizer, self.generator = model, optimizer, generator
        self.logger = None
        if run_dir:
            self.logger = RunLogger(run_dir, tensorboard=args.tensorboard, resume_from=start if args.resume else None)
            (run_dir / "args.json").write_text(json.dumps(args.to_dict(), indent=2, default=str))
        self.bar = Progress(args.iterations, initial=start, enabled=args.progress, desc=args.algo)
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
                    self.record(it, metrics, stop.requested)
                    if stop.requested:
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
            state = _checkpoint_state(a, self.model, self.optimizer, self.generator, it)
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


def train(args: Args) -> TrainResult:
    """Train ``args.population_size`` agents for ``args.iterations`` iterations (see :func:`_train`)."""
    with torch_threads(args):
        return _train(args)


def _train(args: Args) -> TrainResult:
    """Train ``args.population_size`` agents for ``args.iterations`` iterations.

    Writes ``checkpoint.pt`` (atomically, every ``checkpoint_every`` iterations and at the end),
    ``metrics.csv``, ``args.json`` and TensorBoard logs under ``args.run_dir`` when given.
    With ``args.resume`` the run continues from the checkpoint there, bit-for-bit (same device).
    Ctrl-C stops after the current iteration and writes a checkpoint; a non-finite loss raises
    :class:`~social_dilemmas.baselines.checkpoint.NonFiniteLossError` before the optimiser step
    and leaves the last good checkpoint untouched.
    """
    dims, run_dir, ckpt_path, generator, model, optimizer, start = init_learner(args)
    envs = build_envs(args, model)
    timer = Timer(model.device)
    time_coplayer_updates(envs, timer)
    steps_per_iter = (args.population_size * args.meta_batch * args.batch_size * args.num_inner_episodes
                      * int(envs[0].inner_episode_length))

    def iteration(it: int) -> dict[str, float]:
        t_iter = time.perf_counter()
        cpu_iter = time.process_time()
        if args.dynamic_naive_agents:
            for env in envs:
                env.coplayer.naive.set_initial_population(model)
        seeds = [_env_seed(args.seed, it, p) for p in range(args.population_size)]
        batch = collect(model, envs, seeds, generator, timer=timer)
        t_learn = time.perf_counter()
        learn = update_learner(args, model, optimizer, batch, generator, it + 1)
        timer.sync()
        t_end = time.perf_counter()
        metrics = rollout_metrics(args, batch)
        metrics.update(learn)
        metrics["time/rollout"] = batch.timings["rollout"] - batch.timings["coplayer_update"]
        metrics["time/coplayer_update"] = batch.timings["coplayer_update"]
        metrics["time/learner_update"] = t_end - t_learn
        metrics["time/iteration"] = t_end - t_iter
        metrics["time/iteration_cpu"] = time.process_time() - cpu_iter
        metrics["perf/steps_per_second"] = steps_per_iter / max(t_end - t_iter, 1e-9)
        metrics["perf/env_steps"] = float((it + 1) * steps_per_iter)
        return metrics

    return RunBook(args, run_dir, ckpt_path, start, model, optimizer, generator).run(iteration)


# ============================================================================ evaluation


def evaluate(
    checkpoint: str | Path,
    against: str = "naive",
    *,
    seed: int = 12345,
    episodes: int = 1,
    meta_batch: int | None = None,
    device: str = "cpu",
    greedy: bool = False,
) -> dict[str, float]:
    """Play trained agents from ``checkpoint`` against ``against`` and return the paper's metrics.

    ``against``: ``"naive"`` (fresh naive learners, the training population's settings),
    ``"pool"`` (the training pool: naive with p_naive, else the other agents), ``"agents"``
    (only the other trained agents, p_naive = 0), or any fixed co-player name the meta-env
    accepts (e.g. ``"always_defect"``, ``"tit_for_tat"``). Metrics are averaged over
    ``episodes`` meta-episodes with fresh seeds; nothing is learned by the agents.
    """
    model, args, _ = load_model(checkpoint, device)
    model.requires_grad_(False)  # (no torch.no_grad() here: naive co-players learn inside the env)
    overrides: dict[str, Any] = {"device": device, "run_dir": None, "resume": False, "progress": False}
    if meta_batch is not None:
        overrides["meta_batch"] = meta_batch
    if against == "naive":
        overrides["p_naive"] = 1.0
    elif against == "agents":
        overrides["p_naive"] = 0.0
        if args.population_size < 2:
            raise ValueError("against='agents' needs a checkpoint with population_size >= 2")
    eargs = args.replace(**overrides)
    envs = build_envs(eargs, model) if against in ("naive", "pool", "agents") else _fixed_envs(eargs, against)
    gen = torch.Generator(device=device).manual_seed(seed)
    results: list[dict[str, float]] = []
    for e in range(episodes):
        seeds = [_env_seed(seed, 10_000_000 + e, p) for p in range(model.population)]
        # LOLA-DiCE policies only see the current inner episode
        batch = collect(model, envs, seeds, gen, greedy=greedy, reset_at_inner_boundary=args.algo == "lola-dice")
        results.append(rollout_metrics(eargs, batch))
    out: dict[str, float] = {}
    for k in sorted(set().union(*results)):
        vals = [r[k] for r in results if k in r and math.isfinite(r[k])]
        if vals:  # (keys that do not apply to this opponent, e.g. reward/vs_naive vs a fixed strategy, are dropped)
            out[k] = float(np.mean(vals))
    return out


def _fixed_envs(args: Args, name: str) -> list[Any]:
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    return [
        ShapingMetaEnv(game=args.game, coplayer=name, meta_batch=args.meta_batch, batch_size=args.batch_size,
                       num_inner_episodes=args.num_inner_episodes, history=args.history, device=args.device,
                       game_kwargs=dict(args.game_kwargs) or None)
        for _ in range(args.population_size)
    ]

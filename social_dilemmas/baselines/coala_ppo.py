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

import functools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines.args import Args, TrainResult
from social_dilemmas.baselines.distributed import World, init_world
from social_dilemmas.baselines.estimators import advantages, value_targets
from social_dilemmas.baselines.losses import (
    a2c_policy_loss,
    batch_scaling_weights,
    center_advantages,
    entropy_mean,
    ppo_policy_loss,
    rescale_rewards,
    value_loss,
)
from social_dilemmas.baselines.metrics import MeanBook, rollout_metrics
from social_dilemmas.baselines.rollout import Rollout, Timer, collect
from social_dilemmas.baselines.runtime import (
    RunBook,
    build_envs,
    build_model,
    clip_grad_norm_per_member,
    env_seed,
    init_learner,
    load_model,
    make_optimizer,
    slot_seed,
    time_coplayer_updates,
    torch_threads,
)
from social_dilemmas.core.rng import check_seed
from social_dilemmas.core.validation import MAX_BATCH, MAX_STEPS, check_positive_int
from social_dilemmas.models import PolicyValueModel
from social_dilemmas.models.functional import log_probs_entropy

__all__ = ["Args", "TrainResult", "build_model", "compute_targets", "evaluate", "load_model", "make_optimizer",
           "train", "update_learner"]


# ============================================================================ the learner update


def compute_targets(args: Args, batch: Rollout, world: World | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(advantages, value_targets, slot_weights)`` for a rollout (paper §A.2-A.4).

    Everything is per trajectory (the COALA batch mean runs over the ``B`` games of one slot)
    except the optional centring, whose statistics ``world`` sums over the ranks.
    """
    r = rescale_rewards(batch.rewards, args.reward_rescaling).to(batch.values.dtype)
    v = batch.values
    t_len = batch.inner_episode_length
    targets = value_targets(r, v, gamma=args.gamma, td_lambda=args.td_lambda, inner_episode_length=t_len)
    is_naive = batch.is_naive
    # one estimator for every agent, or one per agent (agent_estimators: a heterogeneous pool)
    per_agent = args.agent_estimators or (args.estimator,) * batch.shape[0]
    adv_of, w_of = {}, {}
    for est in dict.fromkeys(per_agent):
        a = advantages(r, v, estimator=est, gamma=args.gamma, gae_lambda=args.gae_lambda, inner_episode_length=t_len)
        if est != "batch_unaware" and not bool(is_naive.all()):
            plain = advantages(r, v, estimator="batch_unaware", gamma=args.gamma, gae_lambda=args.gae_lambda,
                               inner_episode_length=t_len)
            a = torch.where(is_naive[..., None, None], a, plain)  # against agents: always batch-unaware
        adv_of[est] = a
        w_of[est] = batch_scaling_weights(is_naive, estimator=est, batch_size=batch.shape[2],
                                          mode=args.batch_scaling).to(a.dtype)
    if len(adv_of) == 1:
        adv, weights = adv_of[per_agent[0]], w_of[per_agent[0]]
    else:
        adv = torch.stack([adv_of[e][i] for i, e in enumerate(per_agent)])
        weights = torch.stack([w_of[e][i] for i, e in enumerate(per_agent)])
    if args.advantage_normalization:
        reduce = world.sum_ if world is not None and world.size > 1 else None
        adv = center_advantages(adv, is_naive, normalize_std=args.advantage_std, reduce_sum=reduce)
    return adv, targets, weights


def minibatch_losses(
    args: Args, model: PolicyValueModel, obs: torch.Tensor, actions: torch.Tensor, old_logp: torch.Tensor,
    adv: torch.Tensor, old_values: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss terms of one minibatch of ``k`` slots: ``(policy, value, entropy, approx_kl, clip_fraction)``.

    ``obs [P, k, B, L, D]``, the others ``[P, k, B, L]`` (``weights [P, k]``); the sequences are
    re-run from a fresh carry. Each term is a mean over the minibatch, summed over the agents.
    """
    p_count, k, b_size, length = actions.shape
    logits, values, _ = model(obs.reshape(p_count, k * b_size, length, -1))
    logits = logits.view(p_count, k, b_size, length, -1)
    values = values.view(p_count, k, b_size, length)
    logp, ent = log_probs_entropy(logits, actions)
    if args.algorithm == "ppo":
        pg, pstats = ppo_policy_loss(logp, old_logp, adv, args.clip_eps, weights)
    else:
        pg, pstats = a2c_policy_loss(logp, adv, weights)
    vl = value_loss(values, old_values, targets, args.clip_eps if args.clip_value else None)
    return pg, vl, entropy_mean(ent), pstats.approx_kl, pstats.clip_fraction


@functools.cache
def _compiled_minibatch_losses():  # noqa: ANN202 - torch.compile's wrapper
    """:func:`minibatch_losses` through ``torch.compile`` (forward and backward), made once per process."""
    return torch.compile(minibatch_losses)


def minibatch_slots(meta_batch: int, nmini: int, generator: torch.Generator,
                    device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """One epoch's ``nmini`` minibatches of global meta-batch slots (ascending ``int64`` index tensors).

    Stratified: the slots are cut into consecutive groups of ``nmini`` and each group sends one
    slot, drawn at random, to every minibatch (a last, shorter group to a random subset), so every
    minibatch holds ``meta_batch // nmini`` or one more slots and each slot is in exactly one.
    The split depends only on the global slots and ``generator``, never on the world size; and a
    rank whose contiguous slot range starts and ends on a group boundary (e.g. 2 ranks, 128 slots,
    2 minibatches) holds the same share of every minibatch, so no rank waits for a busier one
    and the compiled loss sees one shape. Consumes one ``[ceil(meta_batch / nmini), nmini]``
    uniform draw from ``generator``.
    """
    groups = -(-meta_batch // nmini)
    which = torch.rand((groups, nmini), generator=generator, device=generator.device).argsort(dim=1)
    which = which.flatten()[:meta_batch].to(device)  # slot s -> its minibatch
    return [torch.nonzero(which == j).flatten() for j in range(nmini)]


def update_learner(
    args: Args,
    model: PolicyValueModel,
    optimizer: torch.optim.Optimizer,
    batch: Rollout,
    generator: torch.Generator,
    iteration: int,
    world: World | None = None,
) -> dict[str, float]:
    """PPO epochs / one A2C step on a rollout (``iteration`` is 1-based, for messages).

    Minibatches are sets of *global* meta-batch slots (:func:`minibatch_slots`, drawn anew each
    epoch), so they do not depend on the world size. With a ``world`` of several ranks, ``batch`` holds
    this rank's slots (:meth:`World.slot_range`); each rank's loss is its share of the global
    mean, and the gradients and loss statistics are summed over the ranks before the (same)
    clipping and optimiser step on every rank.

    Raises :class:`~social_dilemmas.baselines.checkpoint.NonFiniteLossError` before any
    optimiser step with a non-finite loss or gradient.
    """
    world = world or World()
    adv, targets, weights = compute_targets(args, batch, world)
    p_count, mb, b_size, length = batch.shape
    lo, hi = (0, mb) if world.size == 1 else world.slot_range(args.meta_batch)
    mb_all = mb if world.size == 1 else args.meta_batch
    if hi - lo != mb:
        raise ValueError(f"rank {world.rank} holds {mb} slots, expected {hi - lo} (slots {lo}..{hi - 1})")
    params = list(model.parameters())
    losses_fn = _compiled_minibatch_losses() if args.torch_compile else minibatch_losses
    if args.algorithm == "a2c":
        nepochs, nmini = 1, 1
    else:
        nepochs, nmini = args.ppo_nepochs, args.ppo_nminibatches
    stats: list[torch.Tensor] = []
    for _ in range(nepochs):
        for chunk in minibatch_slots(mb_all, nmini, generator, adv.device):
            idx = chunk if world.size == 1 else chunk[(chunk >= lo) & (chunk < hi)] - lo
            k = idx.numel()
            optimizer.zero_grad(set_to_none=True)
            if k:
                pg, vl, ent_m, kl, cf = losses_fn(args, model, batch.obs[:, idx], batch.actions[:, idx],
                                                  batch.logp[:, idx], adv[:, idx], batch.values[:, idx],
                                                  targets[:, idx], weights[:, idx])
                share = k / chunk.numel()  # this rank's part of the minibatch mean (1 in one process)
                if share != 1.0:
                    pg, vl, ent_m, kl, cf = (x * share for x in (pg, vl, ent_m, kl, cf))
                loss = pg + args.value_coef * vl - args.entropy_coef * ent_m
                loss.backward()
            else:  # no slot of this minibatch lives here: contribute zeros
                pg = vl = ent_m = kl = cf = torch.zeros((), device=adv.device)
            if world.size > 1:
                summed = world.sum_grads_(params, torch.stack([pg, vl, ent_m, kl, cf]).detach())
                pg, vl, ent_m, kl, cf = summed.unbind()  # type: ignore[union-attr]
            norms = clip_grad_norm_per_member(model, args.max_grad_norm)
            step_stats = torch.stack([pg / p_count, vl / p_count, ent_m / p_count, kl, cf, norms.mean()]).detach()
            if not bool(torch.isfinite(torch.cat([step_stats, norms])).all()):  # (one host sync per step)
                ckpt.check_finite(iteration, policy_loss=pg, value_loss=vl, entropy=ent_m)
                raise ckpt.NonFiniteLossError(
                    f"non-finite gradient at iteration {iteration}; training stopped before the optimiser step. "
                    "The last good checkpoint is intact."
                )
            optimizer.step()
            stats.append(step_stats)
    out = dict(zip(_STEP_STATS, torch.stack(stats).double().mean(0).tolist()))
    with torch.no_grad():
        book = MeanBook()
        book.add("adv/mean_abs", adv.abs())
        out.update(book.means(world, adv.device))
        out["value/explained_variance"] = explained_variance(batch.values, targets, world)
    return out


#: The per-minibatch-step statistics :func:`update_learner` averages (in this order).
_STEP_STATS = ("loss/policy", "loss/value", "loss/entropy", "loss/approx_kl", "loss/clip_fraction", "loss/grad_norm")


@torch.no_grad()
def explained_variance(pred: torch.Tensor, target: torch.Tensor, world: World | None = None) -> float:
    """``1 - Var[target - pred] / Var[target]`` over every entry (of every rank; NaN if Var = 0).

    Two passes (means first, then squared deviations, each summed over the ranks), so it is
    as accurate as ``torch.var`` and the same for any world size.
    """
    world = world or World()
    t, e = target.double(), (target - pred).double()
    s = world.sum_(torch.stack([t.sum(), e.sum(), torch.tensor(float(t.numel()), dtype=torch.float64,
                                                               device=t.device)]))
    n = float(s[2])
    q = world.sum_(torch.stack([(t - s[0] / n).square().sum(), (e - s[1] / n).square().sum()]))
    if n < 2 or float(q[0]) == 0:
        return float("nan")
    return float(1 - q[1] / q[0])


# ============================================================================ training loop


def train(args: Args) -> TrainResult:
    """Train ``args.population_size`` agents for ``args.iterations`` iterations (see :func:`_train`).

    Launched by torchrun on several ranks, each rank plays its share of the meta-batch and the
    ranks train one set of agents together (:mod:`social_dilemmas.baselines.distributed`).
    """
    args.validate()
    with torch_threads(args):
        world = init_world(args.device)
        try:
            result = _train(args, world)
            world.barrier()  # every rank is done communicating before any tears its group down
            return result
        finally:
            world.close()


def _train(args: Args, world: World | None = None) -> TrainResult:
    """Train ``args.population_size`` agents for ``args.iterations`` iterations.

    Writes ``checkpoint.pt`` (atomically, every ``checkpoint_every`` iterations and at the end),
    ``metrics.csv``, ``args.json`` and TensorBoard logs under ``args.run_dir`` when given.
    With ``args.resume`` the run continues from the checkpoint there, bit-for-bit (same device).
    Ctrl-C stops after the current iteration and writes a checkpoint; a non-finite loss raises
    :class:`~social_dilemmas.baselines.checkpoint.NonFiniteLossError` before the optimiser step
    and leaves the last good checkpoint untouched. With several ranks (``world``) the results
    equal those of one process up to floating-point summation order; rank 0 writes the files.
    """
    world = world or World()
    lo, hi = world.slot_range(args.meta_batch)
    dims, run_dir, ckpt_path, generator, model, optimizer, start = init_learner(args)
    envs = build_envs(args, model, slots=(lo, hi))
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
        seeds = [slot_seed(env_seed(args.seed, it, p), lo, args.batch_size) for p in range(args.population_size)]
        batch = collect(model, envs, seeds, generator, timer=timer, slot_offset=lo, global_meta_batch=args.meta_batch)
        t_learn = time.perf_counter()
        learn = update_learner(args, model, optimizer, batch, generator, it + 1, world)
        timer.sync()
        t_end = time.perf_counter()
        metrics = rollout_metrics(args, batch, world)
        metrics.update(learn)
        metrics["time/rollout"] = batch.timings["rollout"] - batch.timings["coplayer_update"]
        metrics["time/coplayer_update"] = batch.timings["coplayer_update"]
        metrics["time/learner_update"] = t_end - t_learn
        metrics["time/iteration"] = t_end - t_iter
        metrics["time/iteration_cpu"] = time.process_time() - cpu_iter
        metrics["perf/steps_per_second"] = steps_per_iter / max(t_end - t_iter, 1e-9)
        metrics["perf/env_steps"] = float((it + 1) * steps_per_iter)
        return metrics

    return RunBook(args, run_dir, ckpt_path, start, model, optimizer, generator, world).run(iteration)


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
    ``episodes`` meta-episodes with fresh seeds (:func:`evaluate_episodes` gives each one);
    nothing is learned by the agents.
    """
    results = evaluate_episodes(checkpoint, against, seed=seed, episodes=episodes, meta_batch=meta_batch,
                                device=device, greedy=greedy)
    out: dict[str, float] = {}
    for k in sorted(set().union(*results)):
        vals = [r[k] for r in results if k in r and math.isfinite(r[k])]
        if vals:  # (keys that do not apply to this opponent, e.g. reward/vs_naive vs a fixed strategy, are dropped)
            out[k] = float(np.mean(vals))
    return out


def evaluate_episodes(
    checkpoint: str | Path,
    against: str = "naive",
    *,
    seed: int = 12345,
    episodes: int = 1,
    meta_batch: int | None = None,
    device: str = "cpu",
    greedy: bool = False,
) -> list[dict[str, float]]:
    """The metrics of each of ``episodes`` evaluation meta-episodes (arguments as :func:`evaluate`)."""
    episodes = check_positive_int("episodes", episodes, MAX_STEPS)
    check_seed("seed", seed)
    if meta_batch is not None:
        check_positive_int("meta_batch", meta_batch, MAX_BATCH)
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
        seeds = [env_seed(seed, 10_000_000 + e, p) for p in range(model.population)]
        # LOLA-DiCE policies only see the current inner episode
        batch = collect(model, envs, seeds, gen, greedy=greedy, reset_at_inner_boundary=args.algo == "lola-dice")
        results.append(rollout_metrics(eargs, batch))
    return results


def _fixed_envs(args: Args, name: str) -> list[Any]:
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    return [
        ShapingMetaEnv(game=args.game, coplayer=name, meta_batch=args.meta_batch, batch_size=args.batch_size,
                       num_inner_episodes=args.num_inner_episodes, history=args.history, device=args.device,
                       game_kwargs=dict(args.game_kwargs) or None)
        for _ in range(args.population_size)
    ]

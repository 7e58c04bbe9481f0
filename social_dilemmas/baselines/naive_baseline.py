"""Naive learners as a baseline: the ego is itself a naive A2C learner (paper Fig. 13D).

A naive ego does not learn across meta-episodes: like the co-players it starts every
meta-episode from a fresh initialisation (drawn from the same static naive population, with its
own draws), sees only the current inner episode, and takes one A2C step (paper Table 8) on its
``B`` finished inner episodes at every inner boundary. "Training" it for ``iterations`` therefore
just plays that many independent meta-episodes against naive co-players and logs the same metrics
as the other algorithms, so the curves can be drawn side by side.

The co-players are naive learners (``p_naive`` is forced to 1: a pool of "other agents" makes no
sense for an ego that is re-initialised every meta-episode).
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch

from social_dilemmas.baselines.args import Args, TrainResult
from social_dilemmas.baselines.distributed import require_single_process
from social_dilemmas.baselines.metrics import rollout_metrics
from social_dilemmas.baselines.rollout import Rollout
from social_dilemmas.baselines.runlog import Progress, RunLogger
from social_dilemmas.baselines.runtime import RunSetupError, env_seed, prepare_run_dir, probe_dims, torch_threads
from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveConfig, NaiveLearner
from social_dilemmas.core.rng import RNG
from social_dilemmas.models.functional import log_probs_entropy, sample_actions_from_uniforms


def _naive_config(args: Args, init_seed: int) -> NaiveConfig:
    return NaiveConfig(
        model=args.naive_model or args.model, hidden=args.hidden, population_size=args.naive_population_size,
        init_seed=init_seed, optimizer=args.naive_optimizer, learning_rate=args.naive_learning_rate,
        discount=args.naive_gamma, reward_rescaling=args.naive_reward_rescaling,
    )


def play_naive_meta_episode(args: Args, env, ego: NaiveLearner, seed: int, generator: torch.Generator) -> Rollout:
    """One meta-episode of a learning naive ego (fresh init) against ``env``'s co-players."""
    mb, b, m_count, t_len = env.meta_batch, env.batch_size, env.num_inner_episodes, env.inner_episode_length
    n, length = mb * b, m_count * t_len
    obs_now = env.reset(seed=seed)
    slot_rng = RNG.from_seeds(torch.arange(mb, dtype=torch.int64) * 7 + seed * 13 + 5)
    ego.begin_meta_episode(slot_rng)
    mem = ego.initial_memory(n, env.device)
    d = obs_now.reshape(n, -1).shape[-1]
    store = {k: [] for k in ("obs", "act", "logp", "rew", "corew", "coact")}
    buf_obs = torch.zeros((mb, b, t_len, d), device=env.device)
    buf_act = torch.zeros((mb, b, t_len), dtype=torch.int64, device=env.device)
    buf_rew = torch.zeros((mb, b, t_len), device=env.device)
    for t in range(length):
        o = obs_now.reshape(n, -1).float()
        with torch.no_grad():
            logits, mem = ego.action_logits(o, mem)
            u = torch.rand(n, generator=generator, device=generator.device).to(o.device)
            a = sample_actions_from_uniforms(logits, u)
            lp, _ = log_probs_entropy(logits, a)
        out = env.step(a.view(mb, b))
        tt = t % t_len
        buf_obs[:, :, tt] = o.view(mb, b, d)
        buf_act[:, :, tt] = a.view(mb, b)
        buf_rew[:, :, tt] = out.reward
        for k, v in (("obs", o), ("act", a), ("logp", lp), ("rew", out.reward.reshape(n)),
                     ("corew", out.coplayer_reward.reshape(n)), ("coact", out.coplayer_action.reshape(n))):
            store[k].append(v)
        if tt == t_len - 1:
            if t < length - 1:
                ego.update(InnerEpisodeBatch(buf_obs, buf_act, buf_rew, index=t // t_len))
            mem = ego.reset_memory(mem, torch.ones(n, dtype=torch.bool, device=env.device))
        obs_now = out.obs

    def st(k: str) -> torch.Tensor:
        x = torch.stack(store[k], dim=1)  # [N, L, ...]
        return x.view(1, mb, b, length, *x.shape[2:])

    return Rollout(obs=st("obs"), actions=st("act"), logp=st("logp"), values=torch.zeros(1, mb, b, length),
                   rewards=st("rew").float(), coplayer_rewards=st("corew").float(), coplayer_actions=st("coact"),
                   is_naive=torch.ones(1, mb, dtype=torch.bool), inner_episode_length=t_len)


def run_naive(args: Args) -> TrainResult:
    """Play ``args.iterations`` meta-episodes of naive egos vs naive co-players and log the metrics."""
    require_single_process("the naive-vs-naive baseline")
    from social_dilemmas.coplayers.pool import OpponentPool  # noqa: PLC0415
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv  # noqa: PLC0415

    if args.resume:
        raise RunSetupError(
            "resume (--resume): the naive-vs-naive baseline keeps no checkpoint (its learners start afresh every "
            "meta-episode), so there is nothing to resume; run it again without --resume (add --overwrite to "
            "replace the run in run_dir)"
        )
    run_dir = prepare_run_dir(args)
    with torch_threads(args):
        torch.manual_seed(args.seed)
        np.random.seed(args.seed % (2**32))
        dims = probe_dims(args)
        co = NaiveLearner(dims["coplayer_obs_dim"], dims["num_actions"], args.meta_batch,
                          _naive_config(args, args.seed * 7919 + 100_003), device=args.device)
        env = ShapingMetaEnv(game=args.game, coplayer=OpponentPool(args.meta_batch, 1.0, naive=co),
                             meta_batch=args.meta_batch, batch_size=args.batch_size,
                             num_inner_episodes=args.num_inner_episodes, device=args.device,
                             game_kwargs=dict(args.game_kwargs) or None, validate=False)
        ego = NaiveLearner(dims["coplayer_obs_dim"], dims["num_actions"], args.meta_batch,
                           _naive_config(args, args.seed * 7919 + 100_003), device=args.device)
        gen = torch.Generator(device=args.device).manual_seed(args.seed * 1_000_033 + 5)
        logger = RunLogger(run_dir, tensorboard=args.tensorboard, hparams=args.to_dict()) if run_dir else None
        if run_dir:
            (run_dir / "args.json").write_text(json.dumps(args.to_dict(), indent=2, default=str))
        bar = Progress(args.iterations, enabled=args.progress, desc="naive")
        history = []
        try:
            for it in range(args.iterations):
                t0 = time.perf_counter()
                batch = play_naive_meta_episode(args, env, ego, env_seed(args.seed, it, 0), gen)
                metrics = rollout_metrics(args, batch)
                metrics["time/iteration"] = time.perf_counter() - t0
                history.append(metrics)
                if logger:
                    logger.log(it + 1, metrics)
                bar.update(metrics)
        finally:
            bar.close()
            if logger:
                logger.close()
        return TrainResult(args=args, iterations_done=args.iterations, history=history, model=ego.model,
                           checkpoint=None)

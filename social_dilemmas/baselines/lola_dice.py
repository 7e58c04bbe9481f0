"""LOLA-DiCE with the paper's network: look ahead through differentiable co-player updates.

Reference: Foerster et al. 2018, "DiCE: The Infinitely Differentiable Monte-Carlo Estimator"
(LOLA-DiCE); used as a baseline by Meulemans et al. 2025 (paper Eq. 4, Table 7, Fig. 5). The
paper gives no implementation detail for its RL LOLA-DiCE beyond Table 7; this file documents
the choices made (also in ``docs/coala.md``):

* **Policy.** The same Hawk network as everyone else, but like a naive learner it only sees the
  current inner episode (memory reset at every inner boundary): LOLA learns on the naive
  timescale, across training iterations, not in context (paper App. E / H.3).
* **Co-player model.** LOLA needs the co-player's parameters (paper: "which therefore needs
  co-player parameters"). For each meta-batch slot the co-player starts from its true initial
  parameters — a naive init drawn from the static naive population, or the current parameters
  of another agent of the population (mixed pool) — and LOLA models its learning as
  ``lola_lookahead`` differentiable SGD steps of size ``lola_opponent_lr`` on the co-player's
  DiCE objective (its own rescaled, discounted return over ``B`` sampled inner episodes):
  ``psi_{k+1} = psi_k + eta * grad_psi J2(phi, psi_k)`` with the graph kept, so ``psi_k`` is a
  function of the agent's parameters ``phi``.
* **Objective.** ``lola_objective="final"`` (LOLA): the agent's DiCE return against
  ``psi_K``; ``"sum"``: summed over the look-ahead trajectory ``k = 0..K`` (the COALA-like total,
  paper §4.3 / App. E). Each look-ahead step samples fresh inner episodes with the current
  (detached) ``psi_k``.
* **DiCE** with the standard baseline term for variance reduction,
  ``sum_t magic(S_<=t) r_t + sum_t (1 - magic(S_t)) b_t`` with ``b_t`` the batch mean reward at
  step ``t`` (over the ``B`` games of the slot), which leaves the gradients unbiased.

Each iteration also plays one real meta-episode against the actual pool (naive learners that
really learn with their A2C rule) to log the paper's metrics under the same names as COALA.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch
from torch import Tensor
from torch.func import functional_call

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines.args import Args, LolaArgs, TrainResult
from social_dilemmas.baselines.distributed import require_single_process
from social_dilemmas.baselines.metrics import rollout_metrics
from social_dilemmas.baselines.rollout import Timer, collect
from social_dilemmas.baselines.runtime import (
    RunBook,
    build_envs,
    clip_grad_norm_per_member,
    env_seed,
    init_learner,
    time_coplayer_updates,
    torch_threads,
)
from social_dilemmas.models import PolicyValueModel, make_model
from social_dilemmas.models.functional import sample_actions_from_uniforms
from social_dilemmas.models.population import population_like

# ============================================================================ the maths


def magic_box(x: Tensor) -> Tensor:
    """DiCE's operator: 1 in the forward pass, derivative ``d/dx = magic_box(x)``."""
    return torch.exp(x - x.detach())


def dice_objective(logp_own: Tensor, logp_other: Tensor, rewards: Tensor, discount: float) -> Tensor:
    """Mean DiCE return over games, per slot: inputs ``[S, B, T]``, output ``[S]``.

    ``sum_t gamma^t [magic(sum_{k<=t} logp_k) r_t + (1 - magic(logp_t)) b_t]`` with
    ``logp = logp_own + logp_other`` (both players' stochastic nodes) and ``b_t`` the mean of
    ``r_t`` over the ``B`` games (the DiCE baseline; unbiased).
    """
    t_len = rewards.shape[-1]
    disc = discount ** torch.arange(t_len, dtype=rewards.dtype, device=rewards.device)
    logp = logp_own + logp_other
    dep = torch.cumsum(logp, dim=-1)
    baseline = rewards.mean(dim=1, keepdim=True).detach()
    term = magic_box(dep) * rewards + (1.0 - magic_box(logp)) * baseline
    return (term * disc).sum(-1).mean(-1)


@torch.no_grad()
def play_inner_episodes(
    game: Any,
    ego: PolicyValueModel,
    opponent: PolicyValueModel,
    seeds: Tensor,
    generator: torch.Generator,
) -> dict[str, Tensor]:
    """Sample one inner episode in every game with acting (detached) policies.

    ``ego`` has ``P`` members playing ``N = S*B/P`` games each; ``opponent`` has ``S`` members
    (slots) with ``B`` games each; games are laid out ``[P, slots_per_agent, B]`` flat.
    Returns observations of both players ``[N_total, T, D]``, actions and rewards ``[N_total, T]``.
    """
    state, obs = game.reset(seeds)
    n_total = seeds.shape[0]
    p, s = ego.population, opponent.population
    b = n_total // s
    t_len = game.max_steps
    obs_e, obs_o, act_e, act_o, rew_e, rew_o = [], [], [], [], [], []
    ce = ego.initial_carry(n_total // p)
    co = opponent.initial_carry(b)
    for _ in range(t_len):
        o = obs.reshape(n_total, 2, -1).to(ego.dtype)
        le, _, ce = ego.step(o[:, 0].reshape(p, n_total // p, -1), ce)
        lo, _, co = opponent.step(o[:, 1].reshape(s, b, -1), co)
        u = torch.rand((2, n_total), generator=generator, device=generator.device).to(o.device)
        ae = sample_actions_from_uniforms(le.reshape(n_total, -1), u[0])
        ao = sample_actions_from_uniforms(lo.reshape(n_total, -1), u[1])
        state, out = game.step(state, torch.stack((ae, ao), dim=1), autoreset=False, validate=False)
        obs_e.append(o[:, 0])
        obs_o.append(o[:, 1])
        act_e.append(ae)
        act_o.append(ao)
        rew_e.append(out.reward[:, 0])
        rew_o.append(out.reward[:, 1])
        obs = out.obs
    st = lambda xs: torch.stack(xs, dim=1)  # noqa: E731
    return {"obs_ego": st(obs_e), "obs_opp": st(obs_o), "act_ego": st(act_e), "act_opp": st(act_o),
            "rew_ego": st(rew_e).float(), "rew_opp": st(rew_o).float()}


def _logp(model: PolicyValueModel, params: dict[str, Tensor] | None, obs: Tensor, actions: Tensor) -> Tensor:
    """Log-probabilities ``[P, N, T]`` of ``actions`` under ``model`` (with substituted ``params``)."""
    if params is None:
        logits, _, _ = model(obs)
    else:
        logits, _, _ = functional_call(model, params, (obs,))
    return torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def lookahead_loss(
    args: LolaArgs,
    game: Any,
    ego: PolicyValueModel,
    opponent: PolicyValueModel,
    seeds: list[Tensor],
    generator: torch.Generator,
) -> tuple[Tensor, dict[str, float]]:
    """The LOLA-DiCE loss of every agent (summed over agents), differentiable in ``ego``'s parameters.

    ``opponent`` holds each slot's initial co-player parameters ``psi_0`` (``S = P * meta_batch``
    members, constants); ``seeds[k]`` are the game seeds of look-ahead rollout ``k``.
    """
    p_count = ego.population
    s_count = opponent.population
    names = opponent.param_names()
    psi = {n: getattr(opponent, n).detach().clone().requires_grad_(True) for n in names}
    scratch = population_like(opponent, s_count).requires_grad_(False)
    objective = 0.0
    returns = []
    for k in range(args.lola_lookahead + 1):
        with torch.no_grad():
            for n in names:
                getattr(scratch, n).copy_(psi[n].detach())
        ep = play_inner_episodes(game, ego, scratch, seeds[k], generator)
        n_total, t_len = ep["act_ego"].shape
        b = n_total // s_count
        lp_e = _logp(ego, None, ep["obs_ego"].reshape(p_count, n_total // p_count, t_len, -1),
                     ep["act_ego"].reshape(p_count, n_total // p_count, t_len))
        lp_o = _logp(opponent, psi, ep["obs_opp"].reshape(s_count, b, t_len, -1),
                     ep["act_opp"].reshape(s_count, b, t_len))
        lp_e = lp_e.reshape(s_count, b, t_len)
        r_e = ep["rew_ego"].reshape(s_count, b, t_len) * args.reward_rescaling
        r_o = ep["rew_opp"].reshape(s_count, b, t_len) * args.naive_reward_rescaling
        returns.append(float(ep["rew_ego"].mean()))
        j_ego = dice_objective(lp_e, lp_o, r_e, args.gamma)  # [S]
        if args.lola_objective == "sum" or k == args.lola_lookahead:
            # per agent: mean over its own slots; summed over agents
            objective = objective + j_ego.view(p_count, -1).mean(1).sum()
        if k < args.lola_lookahead:
            j_opp = dice_objective(lp_o, lp_e, r_o, args.naive_gamma).sum()
            grads = torch.autograd.grad(j_opp, [psi[n] for n in names], create_graph=True, allow_unused=True)
            # (the value head does not enter a policy objective: its gradient is None)
            psi = {n: psi[n] if g is None else psi[n] + args.lola_opponent_lr * g for n, g in zip(names, grads)}
    return -objective, {"lola/return_first": returns[0], "lola/return_last": returns[-1]}


# ============================================================================ training loop


def _initial_opponents(args: LolaArgs, ego: PolicyValueModel, naive_init: PolicyValueModel | None,
                       generator: torch.Generator) -> tuple[PolicyValueModel, Tensor]:
    """Each slot's ``psi_0``: a naive init (prob. ``p_naive``) or another agent's current parameters."""
    p, mb = args.population_size, args.meta_batch
    u = torch.rand((p, mb), generator=generator, device=generator.device).cpu()
    is_naive = u < args.p_naive
    pick = torch.rand((p, mb), generator=generator, device=generator.device).cpu()
    slots = p * mb
    if naive_init is not None:
        idx = (pick * naive_init.population).long().clamp(max=naive_init.population - 1).reshape(-1)
        opp = population_like(naive_init, slots, idx)
    else:
        opp = population_like(ego, slots, 0)
    if not bool(is_naive.all()):
        others = p - 1
        k = (pick * others).long().clamp(max=max(others - 1, 0))
        k = k + (k >= torch.arange(p).view(p, 1)).long()  # never oneself
        agent_pop = population_like(ego, slots, k.reshape(-1))
        with torch.no_grad():
            m = (~is_naive).reshape(-1)
            for n in opp.param_names():
                dst = getattr(opp, n)
                dst.copy_(torch.where(m.view(-1, *([1] * (dst.dim() - 1))).to(dst.device), getattr(agent_pop, n), dst))
    return opp.requires_grad_(False), is_naive


def train_lola(args: LolaArgs) -> TrainResult:
    """Train ``population_size`` LOLA-DiCE agents (same outputs and files as :func:`coala_ppo.train`).

    One process only: its look-ahead differentiates through whole simulated games, which this
    package does not split over ranks (a clear error under torchrun with several ranks).
    """
    args.validate()
    require_single_process("LOLA-DiCE")
    with torch_threads(args):
        return _train_lola(args)


def _train_lola(args: LolaArgs) -> TrainResult:
    from social_dilemmas.registration import make_game  # noqa: PLC0415

    if args.history:
        raise ValueError("LOLA-DiCE plays the raw game observation; history channels are not supported")
    dims, run_dir, ckpt_path, generator, model, optimizer, start = init_learner(args)
    game = make_game(args.game, device=args.device, **dict(args.game_kwargs))
    naive_init = None
    if args.p_naive > 0:
        naive_init = make_model(args.naive_model or args.model, dims["coplayer_obs_dim"], dims["num_actions"],
                                population=args.naive_population_size, hidden=args.hidden,
                                seed=args.seed * 7919 + 100_003, device=args.device)
    envs = build_envs(args, model)  # the real pool, for the metrics
    timer = Timer(model.device)
    time_coplayer_updates(envs, timer)
    slots = args.population_size * args.meta_batch
    n_games = slots * args.batch_size

    def iteration(it: int) -> dict[str, float]:
        nonlocal naive_init
        t0 = time.perf_counter()
        if args.dynamic_naive_agents and naive_init is not None:
            naive_init = population_like(model, model.population).requires_grad_(False)
            for env in envs:
                env.coplayer.naive.set_initial_population(model)
        opp, _ = _initial_opponents(args, model, naive_init, generator)
        base = env_seed(args.seed, it, 0) * 7 + 1
        seeds = [torch.arange(n_games, device=game.device, dtype=torch.int64) + base + k * n_games
                 for k in range(args.lola_lookahead + 1)]
        loss, look = lookahead_loss(args, game, model, opp, seeds, generator)
        ckpt.check_finite(it + 1, lola_loss=loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norms = clip_grad_norm_per_member(model, args.max_grad_norm)
        optimizer.step()
        t_learn = time.perf_counter() - t0
        done = it + 1
        metrics: dict[str, float] = {"loss/policy": float(loss.detach()) / args.population_size,
                                     "loss/grad_norm": float(norms.mean()), **look}
        if done % args.lola_eval_every == 0 or done == args.iterations:
            seeds_env = [env_seed(args.seed, done, p) for p in range(args.population_size)]
            # its own generator: evaluating (or not) never changes the training randomness
            eval_gen = torch.Generator(device=generator.device).manual_seed(env_seed(args.seed, done, 99))
            batch = collect(model, envs, seeds_env, eval_gen, timer=timer, reset_at_inner_boundary=True)
            metrics.update(rollout_metrics(args, batch))
            metrics["time/rollout"] = batch.timings["rollout"] - batch.timings["coplayer_update"]
            metrics["time/coplayer_update"] = batch.timings["coplayer_update"]
        metrics["time/learner_update"] = t_learn
        metrics["time/iteration"] = time.perf_counter() - t0
        return metrics

    return RunBook(args, run_dir, ckpt_path, start, model, optimizer, generator).run(iteration)


def lola_args_from(args: Args, **overrides: Any) -> LolaArgs:
    """A :class:`LolaArgs` with the fields of ``args`` (e.g. from a preset) plus ``overrides``."""
    d = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}
    d.update(overrides)
    return LolaArgs(**d)

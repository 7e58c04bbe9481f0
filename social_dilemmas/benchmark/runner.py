"""Play a policy through a scenario: one loop over the shaping meta-environment, all opponents in lockstep.

Each opponent of the scenario gets its own :class:`~social_dilemmas.wrappers.shaping.ShapingMetaEnv`
with one meta-batch slot per replicate; every step the focal policy acts ONCE on the
concatenated observations of all of them (``[sum of slots * B, *obs]``), so scoring costs one
policy call per step whatever the population size. The meta-environment owns the games, the
co-players' sampling, their updates between inner episodes and their memory resets; this loop
only feeds the focal actions, applies the focal memory rule and keeps per-inner-episode sums.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from social_dilemmas.benchmark.policy import PolicyCoPlayer, PolicyError, check_actions, check_compatible
from social_dilemmas.benchmark.scenarios import OpponentSpec, Scenario
from social_dilemmas.benchmark.zoo import zoo_member

__all__ = ["build_coplayer", "play_scenario", "seeded", "scenario_observation_shape"]


@contextlib.contextmanager
def seeded(seed: int, threads: int | None = 1) -> Iterator[None]:
    """Seed torch's global generator (and NumPy's) for the block, restore the caller's state afterwards.

    ``threads``: torch intra-op threads inside the block (``None``: unchanged). One thread is the
    fast choice for these small batches on a CPU.
    """
    prev_threads = torch.get_num_threads()
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % (2**32))
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(prev_threads)
            np.random.set_state(np_state)


def _env_seed(seed: int, opponent_index: int) -> int:
    """Reset seed of an opponent's env; game ``i`` of it gets ``+ i`` (room for 10^5 games)."""
    return int(seed) * 10_000_019 + opponent_index * 100_003


def build_coplayer(spec: OpponentSpec, *, game: Any, meta_batch: int, batch_size: int, seed: int, focal: Any,
                   device: str = "cpu") -> Any:
    """The co-player object of one opponent spec for ``meta_batch`` slots."""
    from social_dilemmas.coplayers.naive import NaiveLearner, default_naive_config

    spec_ = game.spec
    if spec.kind == "zoo":
        return zoo_member(spec.options.get("strategy", spec.name), game)
    if spec.kind == "axelrod":
        from social_dilemmas.benchmark.axelrod_zoo import AxelrodCoPlayer

        return AxelrodCoPlayer(spec.options.get("strategy", spec.name), match_length=game.max_steps)
    if spec.kind == "naive":
        cfg = default_naive_config(spec_.name).replace(init_seed=seed % (2**31), **spec.options)
        return NaiveLearner(int(np.prod(spec_.obs_shape)), spec_.num_actions, meta_batch, cfg, device=device)
    if spec.kind == "reference":
        from social_dilemmas.benchmark.references import load_reference

        agent = load_reference(spec.options.get("agent", spec.name))
        return _seat(agent, spec_, batch_size, meta_batch, device)
    if spec.kind == "self":
        return _seat(focal, spec_, batch_size, meta_batch, device)
    if spec.kind == "policy":
        return _seat(spec.options["policy"], spec_, batch_size, meta_batch, device)
    raise ValueError(f"unknown opponent kind {spec.kind!r}")


def _seat(policy: Any, spec: Any, batch_size: int, meta_batch: int, device: str) -> Any:
    """A policy in the co-player seat (its own coplayer form if it has one, e.g. a learner)."""
    make = getattr(policy, "as_coplayer", None)
    if callable(make):
        return make(meta_batch=meta_batch, batch_size=batch_size, device=device)
    if getattr(policy, "history", ()):
        raise PolicyError(f"policy {getattr(policy, 'name', policy)!r} uses history channels "
                          f"{tuple(policy.history)}; the co-player seat sees the plain game observation, so it "
                          "cannot play there (self-play and league need history-free policies)")
    check_compatible(policy, tuple(spec.obs_shape), spec.num_actions, f"(co-player seat of {spec.name})")
    return PolicyCoPlayer(policy, spec.num_actions, group_size=batch_size)


def scenario_observation_shape(scenario: Scenario, history: tuple[str, ...] = ()) -> tuple[int, ...]:
    """The focal observation shape of ``scenario`` (the game's, plus history channels)."""
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv

    probe = ShapingMetaEnv(game=scenario.game, coplayer="random", meta_batch=1, batch_size=1,
                           num_inner_episodes=1, history=history, game_kwargs=dict(scenario.game_kwargs) or None)
    return tuple(probe.observation_shape)


def play_scenario(policy: Any, scenario: Scenario, *, seeds: int | None = None, seed: int = 0,
                  device: str = "cpu") -> dict[str, dict[str, np.ndarray]]:
    """Play ``policy`` against every opponent of ``scenario``.

    Returns ``{opponent: {raw name: [replicates, M]}}``: per-step means over the ``B`` games of
    every inner episode (see :mod:`social_dilemmas.benchmark.metrics` for the names).
    Call it inside :func:`seeded` for a reproducible run.
    """
    from social_dilemmas.core.validation import check_positive_int
    from social_dilemmas.registration import make_game
    from social_dilemmas.wrappers.shaping import ShapingMetaEnv

    n_rep = check_positive_int("seeds", scenario.seeds if seeds is None else seeds)
    b, m_count = scenario.batch_size, scenario.num_inner_episodes
    game = make_game(scenario.game, device=device, **dict(scenario.game_kwargs))
    if callable(getattr(policy, "for_game", None)):
        policy = policy.for_game(game)
    history = tuple(getattr(policy, "history", ()) or ())
    check_compatible(policy, scenario_observation_shape(scenario, history), game.spec.num_actions, scenario.id)
    name = getattr(policy, "name", type(policy).__name__)
    envs = []
    for k, opp in enumerate(scenario.opponents):
        cp = build_coplayer(opp, game=game, meta_batch=n_rep, batch_size=b, seed=_env_seed(seed, k) + 17,
                            focal=policy, device=device)
        envs.append(ShapingMetaEnv(game=scenario.game, coplayer=cp, meta_batch=n_rep, batch_size=b,
                                   num_inner_episodes=m_count, history=history, device=device,
                                   game_kwargs=dict(scenario.game_kwargs) or None, validate=False))
    t_len = envs[0].inner_episode_length
    rows = n_rep * b
    n = rows * len(envs)
    obs = torch.cat([env.reset(seed=_env_seed(seed, k)).reshape(rows, -1) for k, env in enumerate(envs)])
    obs = obs.reshape(n, *envs[0].observation_shape)
    state = policy.initial_state(n, b)
    start = torch.ones(n, dtype=torch.bool, device=obs.device)
    inner_reset = bool(getattr(policy, "resets_at_inner_boundary", False))
    observe = getattr(policy, "observe", None)
    sums: list[dict[str, torch.Tensor]] = [{} for _ in envs]
    for t in range(m_count * t_len):
        acts, state = policy.act(obs, state, start)
        acts = check_actions(name, acts, n, game.spec.num_actions).to(obs.device)
        m = t // t_len
        nxt, rew = [], []
        inner_done = False
        for k, env in enumerate(envs):
            a = acts[k * rows:(k + 1) * rows]
            out = env.step(a.view(n_rep, b))
            inner_done = out.inner_boundary
            nxt.append(out.obs.reshape(rows, -1))
            rew.append(out.reward.reshape(rows))
            rec = {"reward": out.reward, "coplayer_reward": out.coplayer_reward,
                   "focal_a0": (a.view(n_rep, b) == 0), "coplayer_a0": (out.coplayer_action == 0)}
            for key, v in out.metrics.items():
                v = v.reshape(n_rep, b, -1)
                for j in range(v.shape[-1]):
                    rec[f"metric/{key}/{j}"] = v[..., j]
            acc = sums[k]
            for key, v in rec.items():
                if key not in acc:
                    acc[key] = torch.zeros(n_rep, m_count, dtype=torch.float64)
                acc[key][:, m] += v.to(torch.float64).mean(1).cpu()
        if callable(observe):
            observe(torch.cat(rew), inner_done)
        obs = torch.cat(nxt).reshape(n, *envs[0].observation_shape)
        start = torch.full((n,), inner_done and inner_reset, dtype=torch.bool, device=obs.device)
    return {opp.name: {k: (v / t_len).numpy() for k, v in acc.items()} for opp, acc in zip(scenario.opponents, sums)}

"""Throughput benchmark of the batched cores (``social-dilemmas bench``).

Measures env-steps/s (one sub-environment advancing one step) and agent-steps/s
(env-steps x agents) with random actions drawn *before* timing, reports the median over
repeats, and keeps the first steps (allocation, lazy initialisation, kernel compilation)
apart as ``warmup_s``.

Every registered id can be benchmarked: a game's batched core, or a shaping meta-environment
(``IPD-Shaping-v0``: ``batch_size`` games, one default co-player each as ``num_envs`` alone
means, stepped by a random ego; the co-players' updates at inner boundaries are in the time).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch

from social_dilemmas.core.validation import check_positive_int
from social_dilemmas.registration import get_entry, make_batched


@dataclass(frozen=True)
class BenchResult:
    """One benchmark figure (JSON-serialisable through :func:`dataclasses.asdict`)."""

    env_id: str
    device: str
    batch_size: int
    env_steps_per_s: float
    agent_steps_per_s: float
    warmup_s: float
    steps: int
    repeats: int
    validate: bool
    torch_version: str
    threads: int

    def as_dict(self) -> dict:
        return asdict(self)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_env(
    env_id: str,
    batch_size: int,
    *,
    device: str = "cpu",
    steps: int = 200,
    repeats: int = 5,
    validate: bool = False,
    seed: int = 0,
) -> BenchResult:
    """Median throughput of ``steps`` batched steps of ``env_id``, over ``repeats`` runs."""
    steps = check_positive_int("steps", steps)
    repeats = check_positive_int("repeats", repeats)
    if get_entry(env_id).kind == "shaping":
        env = _ShapingBench(env_id, batch_size, device)
    else:
        env = make_batched(env_id, batch_size, device=device)
    dev = env.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    n_agents, n_actions = env.spec.num_agents, env.spec.num_actions
    width = getattr(env, "actors", n_agents)
    pool = [torch.randint(0, n_actions, (env.batch_size, width), generator=gen).to(dev) for _ in range(8)]
    t0 = time.perf_counter()
    env.reset(seed=seed)
    for i in range(3):
        env.step(pool[i % 8], validate=validate)
    _sync(dev)
    warmup = time.perf_counter() - t0
    rates = []
    for _ in range(repeats):
        _sync(dev)
        t0 = time.perf_counter()
        for i in range(steps):
            env.step(pool[i & 7], validate=validate)
        _sync(dev)
        rates.append(env.batch_size * steps / (time.perf_counter() - t0))
    med = statistics.median(rates)
    return BenchResult(
        env_id=env_id,
        device=str(dev),
        batch_size=env.batch_size,
        env_steps_per_s=med,
        agent_steps_per_s=med * n_agents,
        warmup_s=warmup,
        steps=steps,
        repeats=repeats,
        validate=validate,
        torch_version=torch.__version__,
        threads=torch.get_num_threads(),
    )


class _ShapingBench:
    """A shaping meta-environment behind the ``reset``/``step`` calls :func:`bench_env` times
    (the ego's actions ``[N, 1]``; the co-player acts inside the environment)."""

    actors = 1

    def __init__(self, env_id: str, batch_size: int, device: str) -> None:
        from social_dilemmas.wrappers.shaping import ShapingMetaEnv

        entry = get_entry(env_id, "shaping")
        n = check_positive_int("batch_size", batch_size)
        self.env = ShapingMetaEnv(entry.kwargs["game"], entry.default_opponent, meta_batch=n, batch_size=1,
                                  device=device)
        self.device, self.spec, self.batch_size = self.env.device, self.env.spec, n

    def reset(self, seed: int) -> None:
        self.env.reset(seed=seed)

    def step(self, actions: torch.Tensor, validate: bool = False) -> None:
        self.env.validate = validate
        self.env.step(actions.view(self.batch_size, 1))

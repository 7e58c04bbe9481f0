"""Self-play PPO on the iterated prisoner's dilemma through PettingZoo + SuperSuit + SB3.

One shared policy plays both seats (parameter sharing, the pattern of PettingZoo's SB3
tutorials): the PettingZoo ``ParallelEnv`` becomes an SB3 ``VecEnv`` with one sub-env per
seat via :func:`social_dilemmas.adapters.sb3.supersuit_sb3_vec_env`, which reports the
``max_steps`` time limit to SB3 as truncation (``TimeLimit.truncated``), not termination.

    python examples/supersuit_sb3_ipd.py                    # ~10 s on a laptop CPU
    python examples/supersuit_sb3_ipd.py --timesteps 50000 --num-vec-envs 16

Prints one JSON line with the cooperation rate of the greedy policy in self-play. Naive
self-play learners in the IPD usually drift to mutual defection; the paper's learning-aware
agents (COALA-PG) are what changes that. Needs the ``sb3`` extra.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from social_dilemmas.adapters.sb3 import supersuit_sb3_vec_env
from social_dilemmas.envs import ipd_v0


def self_play(model: PPO, episodes: int = 10, seed: int = 10_000) -> dict[str, float]:
    env = ipd_v0.parallel_env()
    coop, moves, returns = 0, 0, []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        total = 0.0
        while env.agents:
            actions = {a: int(model.predict(o, deterministic=True)[0]) for a, o in obs.items()}
            obs, rewards, *_ = env.step(actions)
            coop += sum(a == 0 for a in actions.values())
            moves += len(actions)
            total += rewards["player_0"]
        returns.append(total)
    return {"cooperation_rate": coop / moves, "mean_return_player_0": float(np.mean(returns))}


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timesteps", type=int, default=4096)
    p.add_argument("--num-vec-envs", type=int, default=4, help="copies of the game (2 seats each)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # a 64x64 MLP gains nothing from threads; oversubscription costs a lot

    venv = VecMonitor(supersuit_sb3_vec_env(ipd_v0.parallel_env(), num_vec_envs=args.num_vec_envs))
    n_envs = venv.num_envs
    model = PPO("MlpPolicy", venv, n_steps=max(16, 256 // n_envs), batch_size=64, seed=args.seed, verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    result = {"timesteps": args.timesteps, "seats": n_envs, "train_seconds": time.perf_counter() - t0}
    result.update(self_play(model))
    venv.close()
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

"""Train Stable-Baselines3 PPO as player 0 of the iterated prisoner's dilemma.

The co-player is a fixed strategy (``--opponent``, default ``always_defect``, against which
the best response is to defect in every round). With ``--num-envs 1`` (the default) PPO
trains on ``gym.make("social_dilemmas/IPD-v0")`` exactly as on any Gymnasium env; with
``--num-envs N`` it trains on ``N`` sub-environments of one batched core
(:class:`social_dilemmas.adapters.sb3.BatchedSB3VecEnv`).

    python examples/sb3_ppo_ipd.py                          # ~10 s on a laptop CPU
    python examples/sb3_ppo_ipd.py --opponent tit_for_tat --timesteps 20000 --num-envs 16

Prints one JSON line: the greedy policy's defection rate and return over 20 evaluation
episodes. Needs the ``sb3`` extra (``pip install 'social-dilemmas[sb3]'``).
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO

import social_dilemmas  # noqa: F401  (registers the ids)


def evaluate(model: PPO, opponent: str, episodes: int = 20, seed: int = 10_000) -> dict[str, float]:
    env = gym.make("social_dilemmas/IPD-v0", opponent=opponent)
    defections, steps, returns = 0, 0, []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            defections += int(action == 1)
            steps += 1
            total += reward
            done = terminated or truncated
        returns.append(total)
    return {"defection_rate": defections / steps, "mean_return": float(np.mean(returns))}


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--opponent", default="always_defect")
    p.add_argument("--timesteps", type=int, default=4096)
    p.add_argument("--num-envs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # a 64x64 MLP gains nothing from threads; oversubscription costs a lot

    if args.num_envs == 1:
        env = gym.make("social_dilemmas/IPD-v0", opponent=args.opponent)
    else:
        from social_dilemmas.adapters.sb3 import BatchedSB3VecEnv

        env = BatchedSB3VecEnv("IPD-v0", args.num_envs, opponent=args.opponent)
    n_steps = max(16, 256 // args.num_envs)
    model = PPO("MlpPolicy", env, n_steps=n_steps, batch_size=64, learning_rate=1e-3, seed=args.seed, verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    result = {"opponent": args.opponent, "timesteps": args.timesteps, "train_seconds": time.perf_counter() - t0}
    result.update(evaluate(model, args.opponent))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()

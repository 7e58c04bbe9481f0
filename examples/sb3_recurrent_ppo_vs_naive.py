"""Train sb3-contrib's RecurrentPPO (or SB3 PPO) against *learning* naive co-players, unchanged.

The Gymnasium face of the shaping meta-environment (``social_dilemmas/IPD-Shaping-v0``) is a
vector env of ``meta_batch x B`` ego games; :func:`make_sb3_vec_env` hands it to SB3. One
rollout of ``n_steps = M * T`` steps is exactly one meta-episode: the naive learners update
after every inner episode (``T`` steps), while the LSTM policy keeps its memory across those
inner boundaries (only the meta-episode end is an SB3 ``done``). This is the batch-*unaware*
setting: SB3's PPO knows nothing about the co-player's learning — compare with COALA-PPO in
``social_dilemmas.baselines``.

Run (a few minutes on a laptop CPU)::

    python examples/sb3_recurrent_ppo_vs_naive.py --meta-episodes 30

A tiny budget is exercised by ``tests/test_meta_faces.py``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algo", choices=("recurrent_ppo", "ppo"), default="recurrent_ppo")
    p.add_argument("--game", default="IPD-v0")
    p.add_argument("--meta-batch", type=int, default=8, help="co-players per rollout")
    p.add_argument("--batch-size", type=int, default=4, help="B: parallel games per co-player")
    p.add_argument("--inner-episodes", type=int, default=10, help="M: inner episodes per meta-episode")
    p.add_argument("--meta-episodes", type=int, default=20, help="training budget in meta-episodes (rollouts)")
    p.add_argument("--coplayer-model", default="hawk", help="naive learners' network: hawk, gru, mlp, tabular")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import torch

    import social_dilemmas  # noqa: F401  (registers the ids)
    from social_dilemmas.adapters.meta_gymnasium import ShapingVectorEnv, make_sb3_vec_env

    torch.manual_seed(args.seed)
    venv = ShapingVectorEnv(
        game=args.game, meta_batch=args.meta_batch, batch_size=args.batch_size,
        num_inner_episodes=args.inner_episodes, coplayer="naive",
        coplayer_kwargs={"model": args.coplayer_model}, device=args.device,
        autoreset_mode="SameStep",  # SB3 resets inside the step that ends an episode
    )
    env = make_sb3_vec_env(venv)
    env.seed(args.seed)
    n_steps = args.inner_episodes * venv.meta_env.inner_episode_length  # one rollout = one meta-episode
    n_envs = venv.num_envs
    # 2 minibatches x 4 epochs per rollout, undiscounted returns (the paper's PPO settings, Table 4)
    common = dict(n_steps=n_steps, batch_size=max(n_steps * n_envs // 2, 1), n_epochs=4, gamma=1.0, gae_lambda=1.0,
                  learning_rate=3e-4, ent_coef=0.0, seed=args.seed,
                  device="cpu", verbose=0)
    if args.algo == "recurrent_ppo":
        from sb3_contrib import RecurrentPPO

        model = RecurrentPPO("MlpLstmPolicy", env, policy_kwargs={"lstm_hidden_size": 32, "net_arch": [32]}, **common)
    else:
        from stable_baselines3 import PPO

        model = PPO("MlpPolicy", env, policy_kwargs={"net_arch": [32]}, **common)

    rewards: list[float] = []

    from stable_baselines3.common.callbacks import BaseCallback

    class MetaEpisodeReward(BaseCallback):
        """Mean ego reward per step of each rollout (= one meta-episode)."""

        def _on_rollout_end(self) -> None:
            rewards.append(float(np.mean(self.model.rollout_buffer.rewards)))

        def _on_step(self) -> bool:
            return True

    t0 = time.perf_counter()
    model.learn(total_timesteps=args.meta_episodes * n_steps * n_envs, callback=MetaEpisodeReward())
    elapsed = time.perf_counter() - t0
    stats = venv.meta_env.last_meta_episode_stats
    result = {
        "algo": args.algo,
        "meta_episodes": len(rewards),
        "ego_reward_per_step": rewards,
        "coplayer_coop_rate_last_meta_episode": stats["coplayer_coop_rate"].mean(1).tolist() if stats else [],
        "steps_per_second": args.meta_episodes * n_steps * n_envs / elapsed,
    }
    print(f"{args.algo}: {len(rewards)} meta-episodes, ego reward/step first {rewards[0]:.3f} last {rewards[-1]:.3f}, "
          f"{result['steps_per_second']:.0f} steps/s")
    env.close()
    return result


if __name__ == "__main__":
    main()

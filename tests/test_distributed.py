"""Data-parallel COALA training over torch.distributed: world-size invariance, checkpoints, faults.

The two-rank jobs start ``tests/dist_worker.py`` twice with the variables torchrun sets (gloo on
loopback), so they exercise the same code path as ``torchrun --nproc-per-node 2``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines.args import Args, LolaArgs
from social_dilemmas.baselines.coala_ppo import train
from social_dilemmas.baselines.distributed import World, init_world
from social_dilemmas.baselines.rollout import collect
from social_dilemmas.baselines.runlog import read_csv
from social_dilemmas.baselines.runtime import build_envs, build_model, env_seed, probe_dims, slot_seed

WORKER = Path(__file__).with_name("dist_worker.py")
ROLLOUT_KEYS = ("obs", "actions", "logp", "values", "rewards", "coplayer_rewards", "coplayer_actions", "is_naive")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # (fixture: tests/conftest.py)


def tiny(**kw) -> dict:
    base = dict(iterations=3, meta_batch=5, batch_size=2, num_inner_episodes=3, naive_population_size=2,
                progress=False, tensorboard=False, checkpoint_every=1, seed=3, learning_rate=3e-3, torch_threads=1)
    base.update(kw)
    return base


#: Runs that must give the same results on 1 and 2 ranks: pure shaping with PPO minibatches of one
#: slot (so one rank has nothing in each minibatch) and centring + standardisation, and a mixed pool
#: (agents as co-players, dynamic naive inits) with M-FOS and A2C, and CleanUp-lite (per-player game metrics).
CASES = {
    "shaping_ppo": tiny(ppo_nminibatches=5, ppo_nepochs=2, advantage_normalization=True, advantage_std=True),
    "mixed_mfos_a2c": tiny(population_size=2, p_naive=0.5, meta_batch=6, estimator="mfos", algorithm="a2c",
                           dynamic_naive_agents=True, batch_scaling="mean", advantage_normalization=True),
    "cleanup_batch_unaware": tiny(game="CleanUpLite-v0", game_kwargs={"max_steps": 4}, estimator="batch_unaware",
                                  meta_batch=3, batch_size=1, num_inner_episodes=2, iterations=2),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp: Path, job: list[dict], world_size: int = 2, timeout: float = 240, env: dict | None = None,
           grace: float = 0.0) -> tuple[list[int], float]:
    """Start ``world_size`` ranks of ``job``; return their exit codes and the seconds until all ended.

    Once a rank fails, the others get ``grace`` seconds to end by themselves, then are killed.
    """
    (tmp / "job.json").write_text(json.dumps(job))
    port = _free_port()
    procs = []
    t0 = time.perf_counter()
    for rank in range(world_size):
        e = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
             "LOCAL_WORLD_SIZE": str(world_size), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
             "OMP_NUM_THREADS": "1", **(env or {})}
        e.pop("PYTEST_XDIST_WORKER", None)
        procs.append(subprocess.Popen([sys.executable, str(WORKER), str(tmp / "job.json"), str(tmp)], env=e))
    try:  # like torchrun: once a rank fails, the others are stopped
        while any(p.poll() is None for p in procs) and time.perf_counter() - t0 < timeout:
            if any(p.poll() not in (None, 0) for p in procs):
                end = time.perf_counter() + grace
                while any(p.poll() is None for p in procs) and time.perf_counter() < end:
                    time.sleep(0.05)
                break
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    codes = [p.returncode for p in procs]
    return codes, time.perf_counter() - t0


def _result(tmp: Path, name: str, rank: int) -> dict:
    return torch.load(tmp / f"{name}.rank{rank}.pt", weights_only=False)


# --------------------------------------------------------------------------- in one process


def test_slot_range_splits_the_meta_batch_and_refuses_too_many_ranks():
    shares = [World(rank=r, size=3).slot_range(8) for r in range(3)]
    assert shares == [(0, 2), (2, 5), (5, 8)]
    assert World().slot_range(8) == (0, 8)
    with pytest.raises(ValueError, match="meta_batch=2 must be >= the number of ranks"):
        World(rank=0, size=3).slot_range(2)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_share_of_the_slots_plays_exactly_its_slice_of_the_full_meta_batch(case):
    args = Args(**CASES[case])
    dims = probe_dims(args)
    model = build_model(args, dims["ego_obs_dim"], dims["num_actions"])
    seeds = [env_seed(args.seed, 0, p) for p in range(args.population_size)]

    def play(lo: int, hi: int):
        gen = torch.Generator().manual_seed(11)
        envs = build_envs(args, model, slots=(lo, hi))
        return collect(model, envs, [slot_seed(s, lo, args.batch_size) for s in seeds], gen, slot_offset=lo,
                       global_meta_batch=args.meta_batch)

    full = play(0, args.meta_batch)
    for lo, hi in ((0, 2), (2, args.meta_batch)):
        part = play(lo, hi)
        for k in ROLLOUT_KEYS:
            a, b = getattr(full, k), getattr(part, k)
            if a is not None:
                assert torch.equal(a[:, lo:hi], b), (k, lo, hi)


def test_single_process_trainers_refuse_several_ranks(monkeypatch):
    from social_dilemmas.baselines.dispatch import run

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="LOLA-DiCE runs in one process only.*WORLD_SIZE=2"):
        run(LolaArgs(**tiny(algo="lola-dice")))
    with pytest.raises(ValueError, match="naive-vs-naive baseline runs in one process only"):
        run(Args(**tiny(algo="naive")))


def test_bad_launch_settings_are_named(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE must be a positive integer, got 'two'"):
        init_world("cpu")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("SOCIAL_DILEMMAS_DIST_TIMEOUT", "-5")
    with pytest.raises(ValueError, match="SOCIAL_DILEMMAS_DIST_TIMEOUT must be a positive number"):
        init_world("cpu")
    monkeypatch.setenv("SOCIAL_DILEMMAS_DIST_TIMEOUT", "30")
    with pytest.raises(ValueError, match="with several ranks pass device='cuda'"):
        init_world("cuda:1")


# --------------------------------------------------------------------------- two gloo ranks


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def _train_keeping_first_rollout(args: Args, monkeypatch) -> tuple:
    import social_dilemmas.baselines.coala_ppo as coala_ppo

    real, first = coala_ppo.collect, {}

    def keep(*x, **kw):
        b = real(*x, **kw)
        if not first:
            first.update({k: getattr(b, k) for k in ROLLOUT_KEYS})
        return b

    with monkeypatch.context() as m:
        m.setattr(coala_ppo, "collect", keep)
        return train(args), first


def test_two_ranks_train_like_one_process_and_resume_with_another_world_size(tmp_path, monkeypatch):
    # a 1-process checkpoint at iteration 2 that the 2-rank job resumes to 4 ...
    one = tmp_path / "one"
    train(Args(**tiny(iterations=2, run_dir=str(one))))
    job = [{"name": n, "args": a} for n, a in CASES.items()]
    job.append({"name": "resume_one", "args": tiny(iterations=4, run_dir=str(one), resume=True)})
    # ... and a 2-rank run whose checkpoint at iteration 2 one process resumes to 4
    two = tmp_path / "two"
    job.append({"name": "fresh_two", "args": tiny(iterations=2, run_dir=str(two))})
    codes, _ = launch(tmp_path, job)
    assert codes == [0, 0]

    for name, a in CASES.items():
        ref, ref_first = _train_keeping_first_rollout(Args(**a), monkeypatch)
        ranks = [_result(tmp_path, name, r) for r in range(2)]
        assert all("error" not in r for r in ranks), [r.get("error") for r in ranks]
        for r, res in enumerate(ranks):
            lo, hi = World(rank=r, size=2).slot_range(a["meta_batch"])
            for k in ROLLOUT_KEYS:  # bit-identical before the first update
                if ref_first[k] is not None:
                    assert torch.equal(res["rollout"][k], ref_first[k][:, lo:hi]), (name, r, k)
        for k, v in ref.model.state_dict().items():
            assert torch.equal(ranks[0]["params"][k], ranks[1]["params"][k]), (name, k)  # one model on all ranks
            assert _close(ranks[0]["params"][k], v), (name, k, (ranks[0]["params"][k] - v).abs().max())
        for h_ref, h_two in zip(ref.history, ranks[0]["history"]):
            assert set(h_two) == set(h_ref), (name, set(h_two) ^ set(h_ref))
            for key in ("reward/ego", "loss/value", "value/explained_variance", "adv/mean_abs", "pool/naive_fraction",
                        "coplayer/update/loss", *(k for k in h_ref if k.startswith(("ipd/", "game/")))):
                assert h_two[key] == pytest.approx(h_ref[key], rel=1e-3, abs=1e-5, nan_ok=True), (name, key)
        assert ref.history[0]["reward/ego"] == pytest.approx(ranks[0]["history"][0]["reward/ego"], rel=1e-12)

    # resuming across world sizes: 1 -> 2 ranks and 2 -> 1 rank both continue the same run
    straight = train(Args(**tiny(iterations=4)))
    resumed_on_two = _result(tmp_path, "resume_one", 0)
    assert resumed_on_two["iterations_done"] == 4
    state = ckpt.load(two / "checkpoint.pt")  # written by rank 0 alone, atomically
    assert state["iteration"] == 2 and not list(two.glob("*.tmp"))
    assert [r["iteration"] for r in read_csv(two / "metrics.csv")] == [1, 2]
    resumed_on_one = train(Args(**tiny(iterations=4, run_dir=str(two), resume=True)))
    for k, v in straight.model.state_dict().items():
        assert _close(resumed_on_two["params"][k], v), k
        assert _close(resumed_on_one.model.state_dict()[k], v), k
    assert [r["iteration"] for r in read_csv(two / "metrics.csv")] == [1, 2, 3, 4]


def test_a_dead_rank_ends_the_job_with_a_clear_message_and_keeps_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    job = [{"name": "fault", "args": tiny(iterations=5, run_dir=str(run)),
            "fault": {"rank": 1, "iteration": 3, "kind": "exit"}}]
    codes, seconds = launch(tmp_path, job, env={"SOCIAL_DILEMMAS_DIST_TIMEOUT": "20"}, timeout=120,
                            grace=60)
    assert codes == [1, 3]  # rank 1 died; rank 0 noticed and stopped by itself
    err = _result(tmp_path, "fault", 0)["error"]
    assert "PeerFailure" in err and "another rank died or stopped answering" in err and "--resume" in err
    assert seconds < 100
    state = ckpt.load(run / "checkpoint.pt")
    assert state["iteration"] == 2 and all(torch.isfinite(v).all() for v in state["model"].values())
    assert [r["iteration"] for r in read_csv(run / "metrics.csv")] == [1, 2]


def test_a_rank_that_stops_answering_times_out(tmp_path):
    job = [{"name": "hang", "args": tiny(iterations=3), "fault": {"rank": 1, "iteration": 2, "kind": "hang"}}]
    t0 = time.perf_counter()
    codes, _ = launch(tmp_path, job, env={"SOCIAL_DILEMMAS_DIST_TIMEOUT": "4"}, timeout=60)
    assert codes[0] == 1 and codes[1] == -9  # rank 0 gave up; the launcher then stopped rank 1
    res = _result(tmp_path, "hang", 0)
    assert "PeerFailure" in res["error"] and "within 4 s" in res["error"]
    assert 3 < res["seconds"] < 40 and time.perf_counter() - t0 < 60


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists threads through Linux /proc")
def test_a_finished_run_tears_its_process_group_down_before_exit(tmp_path):
    # train() creates the group and destroys it; if the group survived (torch._dynamo imported after
    # it was created keeps it alive), its gloo threads would meet interpreter shutdown and could
    # abort the process at exit after a run that finished well
    codes, _ = launch(tmp_path, [{"name": "once", "args": tiny(iterations=1)}])
    assert codes == [0, 0]
    for rank in range(2):
        threads = _result(tmp_path, "once", rank)["threads_after"]
        assert threads and not [t for t in threads if "gloo" in t], (rank, threads)


# --------------------------------------------------------------------------- CUDA (skipped without a GPU)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_checkpoints_and_resumes_bit_for_bit(tmp_path):
    full = train(Args(**tiny(device="cuda", iterations=3)))
    train(Args(**tiny(device="cuda", iterations=2, run_dir=str(tmp_path / "r"))))
    rest = train(Args(**tiny(device="cuda", iterations=3, run_dir=str(tmp_path / "r"), resume=True)))
    for k, v in full.model.state_dict().items():
        assert v.device.type == "cuda" and torch.equal(v, rest.model.state_dict()[k]), k
    assert all(torch.isfinite(torch.tensor(list(h.values()))).any() for h in full.history)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_two_nccl_ranks_train_like_one_gpu(tmp_path):
    args = tiny(device="cuda")
    codes, _ = launch(tmp_path, [{"name": "nccl", "args": args}])
    assert codes == [0, 0]
    ref = train(Args(**args))
    ranks = [_result(tmp_path, "nccl", r) for r in range(2)]
    for k, v in ref.model.state_dict().items():
        assert torch.equal(ranks[0]["params"][k], ranks[1]["params"][k]), k
        assert torch.allclose(ranks[0]["params"][k].cpu(), v.cpu(), rtol=1e-3, atol=1e-4), k

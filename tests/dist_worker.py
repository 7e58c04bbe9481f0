"""One rank of a data-parallel test job (started by tests/test_distributed.py the way torchrun starts ranks).

``python tests/dist_worker.py JOB.json OUT_DIR`` with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` in the environment. ``JOB.json`` lists runs
``{"name", "args": {...Args fields}, "fault": null | {"rank", "iteration", "kind": "exit"|"hang"}}``;
each rank writes ``OUT_DIR/<name>.rank<r>.pt`` (its first rollout, final parameters, history)
or, when its run raised, the error message and the seconds it took to fail.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

import social_dilemmas.baselines.coala_ppo as coala_ppo
from social_dilemmas.baselines.args import Args
from social_dilemmas.baselines.distributed import PeerFailure, exit_after_peer_failure


def _thread_names() -> list[str] | None:
    """The names of this process's threads (Linux ``/proc``; None elsewhere)."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return None
    return [(t / "comm").read_text().strip() for t in tasks.iterdir() if (t / "comm").exists()]


def _run(spec: dict, out: Path, rank: int) -> bool:
    """Run one spec; False if it raised."""
    first: dict = {}
    real_collect, real_update = coala_ppo.collect, coala_ppo.update_learner
    fault = spec.get("fault")

    def keep_first(*a, **kw):
        batch = real_collect(*a, **kw)
        if not first:
            first.update({k: getattr(batch, k) for k in ("obs", "actions", "logp", "values", "rewards",
                                                        "coplayer_rewards", "coplayer_actions", "is_naive")})
        return batch

    def faulty_update(args, model, optimizer, batch, generator, iteration, world=None):
        if fault and rank == fault["rank"] and iteration == fault["iteration"]:
            if fault["kind"] == "exit":
                os._exit(3)  # a rank that dies without a word (killed, out of memory, ...)
            time.sleep(600)  # a rank that stops answering
        return real_update(args, model, optimizer, batch, generator, iteration, world)

    coala_ppo.collect, coala_ppo.update_learner = keep_first, faulty_update
    t0 = time.perf_counter()
    try:
        res = coala_ppo.train(Args(**spec["args"]))
    except Exception as e:  # noqa: BLE001 - the test reads the message
        torch.save({"error": f"{type(e).__name__}: {e}", "seconds": time.perf_counter() - t0},
                   out / f"{spec['name']}.rank{rank}.pt")
        if isinstance(e, PeerFailure):  # as the CLI does: no teardown of a process group with a lost peer
            exit_after_peer_failure(str(e))
        return False
    finally:
        coala_ppo.collect, coala_ppo.update_learner = real_collect, real_update
    torch.save({"rollout": first, "params": {k: v.detach().clone() for k, v in res.model.state_dict().items()},
                "history": res.history, "iterations_done": res.iterations_done, "threads_after": _thread_names()},
               out / f"{spec['name']}.rank{rank}.pt")
    return True


def main() -> None:
    job, out = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    if len(job) > 1:  # one process group for all the runs (a single run lets train() create its own)
        importlib.import_module("torch._dynamo")  # before the group, as docs/distributed.md asks (a clean exit)
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    ok = [_run(spec, out, rank) for spec in job]
    if len(job) > 1:
        dist.destroy_process_group()
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()

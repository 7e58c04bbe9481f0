"""Throughput of the gridworld cores (coin game, CleanUp-lite) with random actions.

Prints one JSON line per (game, batch size, validate) with env-steps/s and agent-steps/s
(the median over ``--repeats`` timed runs; each run steps long enough to last about
``--min-time`` seconds). Random actions are drawn on the device inside the timed loop,
autoreset is on (episodes end every ``max_steps`` steps) and ``validate=False`` is the
hot-loop setting (``validate=True`` adds an action check and one device sync per step).

When ``jaxmarl`` is importable (the ``bench`` extra), its jitted + vmapped coin game is
timed the same way (random actions inside ``lax.scan``, compile time excluded) and the
ratio is printed; without it that part is skipped.

Usage::

    python benchmarks/bench_gridworlds.py                      # CPU, writes results/gridworlds_cpu.json
    python benchmarks/bench_gridworlds.py --device cuda --batch 1024,65536,1000000 --out results/gridworlds_cuda.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from social_dilemmas.registration import make_game  # noqa: E402

#: The project's throughput targets (env-steps/s at batch 8192 on its 2-core CPU; docs/benchmarks.md).
TARGETS = {"CoinGame-v0": 1.8e6, "CleanUpLite-v0": 1.0e6}
#: JaxMARL 0.2's jitted coin game at batch 8192 on that CPU, the figure the target was set from.
JAXMARL_QUOTED = 1.8e6


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_torch(env_id: str, batch: int, device: str, *, validate: bool, repeats: int, min_time: float) -> dict:
    game = make_game(env_id, device=device)
    dev = game.device
    gen = torch.Generator(device=dev).manual_seed(0)
    n_act = game.spec.num_actions
    state, _ = game.reset(torch.arange(batch, device=dev))

    cpu_times: list[float] = []

    def run(steps: int) -> float:
        nonlocal state
        _sync(dev)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(steps):
            actions = torch.randint(0, n_act, (batch, 2), device=dev, generator=gen)
            state, out = game.step(state, actions, validate=validate)
        _sync(dev)
        cpu_times.append(time.process_time() - c)
        return time.perf_counter() - t

    run(3)  # warm up (allocator, kernels)
    steps = 4
    while (dt := run(steps)) < min_time / 4 and steps < 1 << 20:
        steps *= 2
    steps = max(4, int(steps * min_time / max(dt, 1e-9)))
    cpu_times.clear()
    times = [run(steps) for _ in range(repeats)]
    per_step = statistics.median(times) / steps
    cpu_per_step = statistics.median(cpu_times) / steps
    return {
        "impl": "social_dilemmas (torch)",
        "game": env_id,
        "device": str(dev),
        "batch": batch,
        "validate": validate,
        "env_steps_per_s": batch / per_step,
        "agent_steps_per_s": 2 * batch / per_step,
        "step_us": per_step * 1e6,
        # process CPU time (all threads): on a shared machine wall-clock understates speed
        "cpu_us_per_step": cpu_per_step * 1e6,
        "env_steps_per_cpu_s": batch / cpu_per_step,
        "steps_per_repeat": steps,
        "repeats": repeats,
        "runs_env_steps_per_s": sorted(batch * steps / t for t in times),
    }


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 to /dev/null (a plain redirect_stdout misses some prints)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def bench_jaxmarl(batch: int, *, repeats: int, min_time: float, max_steps: int = 16) -> dict:
    """JaxMARL's coin game, vmapped over ``batch`` and scanned over steps inside one jit."""
    import jax

    with _quiet_stdout():  # jaxmarl prints while importing: keep stdout JSON lines
        import jaxmarl

        try:
            env = jaxmarl.make("coin_game", num_inner_steps=max_steps, num_outer_steps=1)
        except TypeError:  # other versions take other arguments
            env = jaxmarl.make("coin_game")
    agents = list(env.agents)
    n_act = int(env.action_space(agents[0]).n)

    def make_run(steps: int):
        def run(key):
            key, k_reset = jax.random.split(key)
            _, state = jax.vmap(env.reset)(jax.random.split(k_reset, batch))

            def body(carry, _):
                key, state = carry
                key, k_act, k_step = jax.random.split(key, 3)
                acts = jax.random.randint(k_act, (len(agents), batch), 0, n_act)
                actions = {a: acts[i] for i, a in enumerate(agents)}
                _, state, reward, _, _ = jax.vmap(env.step)(jax.random.split(k_step, batch), state, actions)
                return (key, state), reward[agents[0]].sum()

            (_, _), rewards = jax.lax.scan(body, (key, state), None, length=steps)
            return rewards.sum()

        return jax.jit(run)

    def timed(fn, seed: int) -> float:
        t = time.perf_counter()
        fn(jax.random.PRNGKey(seed)).block_until_ready()
        return time.perf_counter() - t

    steps = 64
    fn = make_run(steps)
    fn(jax.random.PRNGKey(0)).block_until_ready()  # compile (excluded)
    dt = timed(fn, 1)
    steps = max(16, int(steps * min_time / max(dt, 1e-9)))
    fn = make_run(steps)
    t0 = time.perf_counter()
    fn(jax.random.PRNGKey(0)).block_until_ready()
    compile_s = time.perf_counter() - t0
    times = [timed(fn, 2 + r) for r in range(repeats)]
    per_step = statistics.median(times) / steps
    return {
        "impl": f"jaxmarl {getattr(jaxmarl, '__version__', '?')} (jax {jax.__version__}, jit+vmap+scan)",
        "game": "coin_game",
        "device": str(jax.devices()[0]),
        "batch": batch,
        "env_steps_per_s": batch / per_step,
        "agent_steps_per_s": 2 * batch / per_step,
        "step_us": per_step * 1e6,
        "steps_per_repeat": steps,
        "repeats": repeats,
        "compile_and_first_run_s": compile_s,
    }


def machine_info(device: str) -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", default="1,64,1024,8192,65536", help="comma-separated batch sizes")
    p.add_argument("--games", default="CoinGame-v0,CleanUpLite-v0")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per timed repeat")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--no-validate-runs", action="store_true", help="skip the validate=True runs")
    p.add_argument("--no-jaxmarl", action="store_true", help="skip JaxMARL even when it is installed")
    p.add_argument("--out", default=None, help="JSON file to write (default on CPU: results/gridworlds_cpu.json)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batch.split(",") if b]
    games = [g for g in args.games.split(",") if g]
    out_path = args.out
    if out_path is None and args.device == "cpu":
        out_path = str(Path(__file__).parent / "results" / "gridworlds_cpu.json")

    info = machine_info(args.device)
    load_before = load_average()
    print(json.dumps({"machine": info, "load_average": load_before}), flush=True)
    results = []
    for env_id in games:
        for batch in batches:
            for validate in (False,) if args.no_validate_runs else (False, True):
                r = bench_torch(env_id, batch, args.device, validate=validate, repeats=args.repeats,
                                min_time=args.min_time)
                results.append(r)
                print(json.dumps(r), flush=True)

    jax_results: list[dict] = []
    jax_status = "skipped (--no-jaxmarl)" if args.no_jaxmarl else ""
    if not args.no_jaxmarl and "CoinGame-v0" in games:
        try:
            import importlib.util

            if importlib.util.find_spec("jaxmarl") is None:
                raise ImportError("jaxmarl")
        except ImportError:
            jax_status = "jaxmarl is not installed (pip install 'social-dilemmas[bench]'): comparison skipped"
        else:
            for batch in batches:
                try:
                    r = bench_jaxmarl(batch, repeats=args.repeats, min_time=args.min_time)
                except Exception as e:  # a JaxMARL API change must not lose the torch results
                    jax_status = f"jaxmarl failed: {type(e).__name__}: {e}"
                    break
                jax_results.append(r)
                ours = next(x for x in results if x["game"] == "CoinGame-v0" and x["batch"] == batch
                            and not x["validate"])
                r["torch_over_jaxmarl"] = ours["env_steps_per_s"] / r["env_steps_per_s"]
                print(json.dumps(r), flush=True)
            jax_status = jax_status or "measured side by side"
    print(json.dumps({"jaxmarl": jax_status}), flush=True)

    summary = {}
    for env_id, target in TARGETS.items():
        r = next((x for x in results if x["game"] == env_id and x["batch"] == 8192 and not x["validate"]), None)
        if r is not None:
            summary[env_id] = {
                "batch_8192_env_steps_per_s": r["env_steps_per_s"],
                "target": target,
                "ratio_to_target": r["env_steps_per_s"] / target,
            }
    if jax_results:
        j = next((x for x in jax_results if x["batch"] == 8192), None)
        if j is not None:
            summary["jaxmarl_coin_game_batch_8192"] = j["env_steps_per_s"]
    print(json.dumps({"summary": summary}), flush=True)

    if out_path:
        record = {
            "benchmark": "benchmarks/bench_gridworlds.py",
            "argv": sys.argv[1:] if argv is None else argv,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": info,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "setting": "random actions drawn on the device inside the timed loop; autoreset on; "
            "median of repeats; env-steps/s = batch * steps / seconds",
            "targets_env_steps_per_s_at_8192": TARGETS,
            "jaxmarl_quoted_env_steps_per_s_at_8192": JAXMARL_QUOTED,
            "jaxmarl": jax_status,
            "summary": summary,
            "results": results + jax_results,
        }
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        Path(out_path).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

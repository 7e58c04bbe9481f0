"""Bad input fails loudly at every public entry point, naming the argument and what it accepts.

Each class of root cause has a table of bad inputs; every row asserts the error type and that
the message names the argument and the accepted values (raised by our own validation, not by
torch or NumPy further down).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import social_dilemmas  # noqa: F401  (registers the ids)
from social_dilemmas.adapters.meta_gymnasium import ShapingVectorEnv
from social_dilemmas.adapters.meta_pettingzoo import MetaParallelEnv
from social_dilemmas.adapters.pettingzoo_env import module_factories
from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.coplayers.naive import NaiveConfig, NaiveLearner
from social_dilemmas.core.devices import available_devices, check_device
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.validation import (
    MAX_BATCH,
    MAX_STEPS,
    NonFiniteError,
    allocation_guard,
    cli_label,
    validate_fields,
)
from social_dilemmas.envs.cleanup_lite import CleanUpLite
from social_dilemmas.envs.coin_game import CoinGame
from social_dilemmas.envs.matrix_game import IteratedMatrixGame
from social_dilemmas.envs.payoffs import PayoffTable
from social_dilemmas.models import make_model
from social_dilemmas.registration import make_batched, make_game
from social_dilemmas.wrappers.shaping import ShapingMetaEnv


def raises(exc, *words):
    """A context manager asserting ``exc`` whose message contains every one of ``words``."""

    class _Ctx:
        def __enter__(self):
            self._cm = pytest.raises(exc)
            self.info = self._cm.__enter__()
            return self.info

        def __exit__(self, *a):
            out = self._cm.__exit__(*a)
            msg = str(self.info.value)
            for w in words:
                assert w in msg, f"{w!r} not in {msg!r}"
            # raised by our own validation, not a crash deep in torch/numpy (Gymnasium's make
            # re-raises creator errors with the original as the cause)
            exc_, ours = self.info.value, False
            while exc_ is not None and not ours:
                tb = exc_.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                ours = tb is not None and "/social_dilemmas/" in tb.tb_frame.f_code.co_filename
                exc_ = exc_.__cause__
            assert ours, f"{type(self.info.value).__name__} was not raised by social_dilemmas' own checks"
            return out

    return _Ctx()


# ====================================================================== 1. float32 overflow
BIG = 1e39  # finite in float64, inf in float32


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: IteratedMatrixGame((((BIG, 1), (0, 0)), ((0, 0), (0, 0)))), ["payoffs", "float32"]),
        (lambda: IteratedMatrixGame((((1, 1), (0, 0)), ((0, 0), (0, -BIG)))), ["payoffs", "float32"]),
        (lambda: IteratedMatrixGame([[(0, 0), (0, 0)], [(0, 0), (3.5e38, 0)]]), ["payoffs", "float32"]),
        (lambda: PayoffTable("x", (((BIG, 1), (0, 0)), ((0, 0), (0, 0)))), ["payoffs", "float32"]),
        (lambda: make_batched("IteratedMatrixGame-v0", 2, payoffs=(((BIG, 1), (0, 0)), ((0, 0), (0, 0)))),
         ["payoffs", "float32"]),
        # a prisoner's dilemma in float64 that is not one in float32 (T rounds to R)
        (lambda: PayoffTable("x", (((1, 1), (-1, 1 + 1e-9)), ((1 + 1e-9, -1), (0, 0))), kind="prisoners_dilemma"),
         ["T > R > P > S", "float32"]),
        (lambda: CleanUpLite(apple_reward=BIG), ["apple_reward", "float32", "3.403e+38"]),
        (lambda: CleanUpLite(apple_reward=-BIG), ["apple_reward", "float32"]),
        (lambda: make_batched("CleanUpLite-v0", 1, apple_reward=BIG), ["apple_reward", "float32"]),
        (lambda: CoinGame(penalty=BIG), ["penalty", "float32"]),
        (lambda: CoinGame(reward_own=-BIG), ["reward_own", "float32"]),
        (lambda: CoinGame(reward_other=BIG), ["reward_other", "float32"]),
        (lambda: CoinGame(reward_own=3e38, penalty=3e38), ["penalty", "overflow float32"]),
        (lambda: gym.make("social_dilemmas/CoinGame-v0", penalty=BIG), ["penalty", "float32"]),
        (lambda: NaiveConfig(learning_rate=BIG), ["learning_rate", "float32"]),
        (lambda: NaiveConfig(reward_rescaling=-1.0), ["reward_rescaling", ">= 0"]),
        (lambda: NaiveConfig(max_grad_norm=float("nan")), ["max_grad_norm", "None"]),
    ],
)
def test_values_that_overflow_float32_are_refused(build, words):
    with raises(ValueError, *words):
        build()


def test_largest_float32_reward_is_accepted_and_played_exactly():
    env = make_batched("IteratedMatrixGame-v0", 1, payoffs=(((3e38, 1), (0, 0)), ((0, 0), (0, 0))))
    env.reset(seed=0)
    out = env.step(torch.zeros(1, 2, dtype=torch.long))
    assert torch.isfinite(out.reward).all() and float(out.reward[0, 0]) == pytest.approx(3e38, rel=1e-6)


# ====================================================================== 2. integer bounds
@pytest.mark.parametrize(
    "build, exc, words",
    [
        (lambda: make_batched("IPD-v0", 1, max_steps=2**63), ValueError, ["max_steps", str(MAX_STEPS)]),
        (lambda: make_batched("IPD-v0", 1, max_steps=2**70), ValueError, ["max_steps", str(MAX_STEPS)]),
        (lambda: make_batched("IPD-v0", 1, max_steps=2**31), ValueError, ["max_steps", str(MAX_STEPS)]),
        (lambda: make_batched("IPD-v0", 1, max_steps=10.0), TypeError, ["max_steps", "integer"]),
        (lambda: make_batched("CleanUpLite-v0", 1, freeze_steps=2**70), ValueError, ["freeze_steps", str(MAX_STEPS)]),
        (lambda: make_batched("IPD-v0", 2**40), ValueError, ["batch_size", str(MAX_BATCH)]),
        (lambda: gym.make_vec("social_dilemmas/IPD-v0", num_envs=2**40, vectorization_mode="vector_entry_point"),
         ValueError, ["num_envs", str(MAX_BATCH)]),
        (lambda: module_factories("IPD-v0")[0](max_cycles=2**40), ValueError, ["max_cycles", str(MAX_STEPS)]),
        (lambda: CoinGame(grid_size=50), ValueError, ["grid_size", "[2, 12]", "GiB"]),
        (lambda: CoinGame(grid_size=13), ValueError, ["grid_size", "[2, 12]"]),
        (lambda: CleanUpLite(height=33), ValueError, ["height", "[1, 32]"]),
        (lambda: CleanUpLite(width=1000), ValueError, ["width", "[2, 32]"]),
        (lambda: ShapingMetaEnv("IPD-v0", coplayer="random", meta_batch=2**40), ValueError,
         ["meta_batch", str(MAX_BATCH)]),
        (lambda: ShapingMetaEnv("IPD-v0", coplayer="random", meta_batch=2**20, batch_size=2**20), ValueError,
         ["meta_batch * batch_size", str(MAX_BATCH)]),
        (lambda: ShapingMetaEnv("IPD-v0", coplayer="random", num_inner_episodes=2**40), ValueError,
         ["num_inner_episodes", str(MAX_STEPS)]),
        (lambda: ShapingVectorEnv(num_envs=2**40, coplayer="random"), ValueError, ["num_envs", str(MAX_BATCH)]),
        (lambda: MetaParallelEnv(batch_size=2**40), ValueError, ["batch_size", str(MAX_BATCH)]),
        (lambda: NaiveConfig(hidden=2**20), ValueError, ["hidden", "65536"]),
        (lambda: NaiveConfig(population_size=0), ValueError, ["population_size", "positive"]),
        (lambda: NaiveConfig(update_block=0), ValueError, ["update_block", "None"]),
        (lambda: NaiveConfig(adam_betas=(0.9, 1.0)), ValueError, ["adam_betas[1]", "[0, 1)"]),
        (lambda: make_model("mlp", 5, 2, hidden=2**40), ValueError, ["hidden", "65536"]),
    ],
)
def test_integer_arguments_are_bounded(build, exc, words):
    with raises(exc, *words):
        build()


def test_the_largest_episode_length_is_accepted_and_does_not_truncate_at_once():
    env = make_batched("IPD-v0", 1, max_steps=MAX_STEPS)
    env.reset(seed=0)
    out = env.step(torch.zeros(1, 2, dtype=torch.long))
    assert not bool(out.truncated[0])


def test_allocator_failures_name_the_size_argument():
    with raises(MemoryError, "batch_size=123", "smaller"), allocation_guard("batch_size=123"):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:116] DefaultCPUAllocator: not enough memory")
    with pytest.raises(RuntimeError, match="unrelated"), allocation_guard("batch_size=1"):
        raise RuntimeError("unrelated")


# ====================================================================== 3. seeds
def _resets():
    """``(name, reset(seed))`` for every face; each face has 4 sub-environments (or 1)."""
    def core():
        return lambda s: make_batched("IPD-v0", 4).reset(seed=s)

    def single():
        return lambda s: gym.make("social_dilemmas/IPD-v0").reset(seed=s)

    def vector():
        return lambda s: gym.make_vec("social_dilemmas/IPD-v0", num_envs=4,
                                      vectorization_mode="vector_entry_point").reset(seed=s)

    def parallel():
        return lambda s: module_factories("IPD-v0")[0]().reset(seed=s)

    def meta():
        return lambda s: ShapingMetaEnv("IPD-v0", coplayer="random", meta_batch=2, batch_size=2).reset(seed=s)

    def meta_vec():
        return lambda s: ShapingVectorEnv(num_envs=4, meta_batch=2, coplayer="random").reset(seed=s)

    def meta_pz():
        return lambda s: MetaParallelEnv(batch_size=4).reset(seed=s)

    return {"core": (core, 4), "single": (single, 1), "vector": (vector, 4), "parallel": (parallel, 1),
            "meta": (meta, 4), "meta_vec": (meta_vec, 4), "meta_pz": (meta_pz, 4)}


FACES = _resets()


@pytest.mark.parametrize("face", sorted(FACES))
@pytest.mark.parametrize(
    "seed, words",
    [
        (2**64, ["seed", "2**63"]),
        (2**63, ["seed", "2**63"]),
        (-1, ["seed", "non-negative", "2**63"]),
        ("abc", ["seed", "int"]),
        (1.5, ["seed", "int"]),
    ],
)
def test_bad_seeds_at_every_face(face, seed, words):
    make, _ = FACES[face]
    with raises(ValueError, *words):
        make()(seed)


@pytest.mark.parametrize("face", sorted(f for f in FACES if FACES[f][1] == 4))
def test_a_base_seed_whose_batch_would_overflow_is_refused_naming_the_range(face):
    make, n = FACES[face]
    with raises(ValueError, "seed", f"[0, 2**63 - {n}]", f"{2**63 - n}"):
        make()(2**63 - 2)
    make()(2**63 - n)  # the largest accepted base seed


@pytest.mark.parametrize("seeds, words", [
    ([2**63], ["seeds[0]", "2**63"]),
    ([0, "x"], ["seeds", "integers"]),
    (np.array([2**63], dtype=np.uint64), ["seeds[0]", "2**63"]),
    ("7", ["seeds", "integers"]),
])
def test_bad_seeds_at_the_core_reset(seeds, words):
    with raises(ValueError, *words):
        make_game("IPD-v0").reset(seeds)


def test_seeds_near_the_top_keep_batch_invariance():
    s = 2**63 - 4
    big = make_batched("CleanUpLite-v0", 4)
    obs = big.reset(seed=s)
    for i in range(4):
        one = make_batched("CleanUpLite-v0", 1)
        assert torch.equal(one.reset(seed=s + i)[0], obs[i])
        assert torch.equal(one.state.rng.key, big.state.rng.key[i : i + 1])
    # one seed per sub-environment, including the largest one
    state, _ = make_game("IPD-v0").reset([2**63 - 1, 0])
    assert torch.equal(state.rng.key, RNG.from_seeds(torch.tensor([2**63 - 1, 0])).key)


# ====================================================================== 4. devices
MISSING = [d for d in ("cuda", "cuda:7", "mps") if d not in available_devices() and
           not (d == "cuda" and torch.cuda.is_available())]
BAD_DEVICES = [(d, ValueError) for d in MISSING] + [("meta", ValueError), ("gpu", ValueError),
                                                     ("cuda:x", ValueError), (0, TypeError), (1.5, TypeError)]
DEVICE_ENTRY_POINTS = {
    "make_batched": lambda d: make_batched("IPD-v0", 2, device=d),
    "make_game": lambda d: make_game("CoinGame-v0", device=d),
    "gym.make": lambda d: gym.make("social_dilemmas/IPD-v0", device=d),
    "gym.make_vec": lambda d: gym.make_vec("social_dilemmas/CleanUpLite-v1", num_envs=2,
                                           vectorization_mode="vector_entry_point", device=d),
    "parallel_env": lambda d: module_factories("IPD-v0")[0](device=d),
    "meta-env": lambda d: ShapingMetaEnv("IPD-v0", meta_batch=2, batch_size=2, device=d),
    "meta vector": lambda d: ShapingVectorEnv(num_envs=2, device=d),
    "meta parallel": lambda d: MetaParallelEnv(device=d),
    "make_model": lambda d: make_model("mlp", 5, 2, device=d),
    "NaiveLearner": lambda d: NaiveLearner(5, 2, 2, device=d),
}


@pytest.mark.parametrize("entry", sorted(DEVICE_ENTRY_POINTS))
@pytest.mark.parametrize("device, exc", BAD_DEVICES, ids=[str(d) for d, _ in BAD_DEVICES])
def test_unavailable_devices_fail_up_front_listing_the_devices_here(entry, device, exc):
    with raises(exc, "device", "this machine has: cpu"):
        DEVICE_ENTRY_POINTS[entry](device)


def test_check_device_accepts_what_exists():
    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    assert available_devices()[0] == "cpu"
    if torch.cuda.is_available():
        assert check_device("cuda").type == "cuda"


# ====================================================================== 7. checkpoints
def _good_state() -> dict:
    model = make_model("mlp", 5, 2, hidden=4, seed=0)
    opt = torch.optim.Adam(model.parameters())
    return {"format": 1, "args": {"algo": "coala-ppo"}, "iteration": 2, "model": model.state_dict(),
            "model_kind": "mlp", "obs_dim": 5, "num_actions": 2, "optimizer": opt.state_dict(),
            "rng": ckpt.rng_state()}


def _flip_a_weight_bit(path):
    data = bytearray(path.read_bytes())
    state = torch.load(path, weights_only=False)
    w = next(iter(state["model"].values()))
    needle = w.reshape(-1)[:4].numpy().tobytes()
    pos = bytes(data).find(needle)
    assert pos > 0
    data[pos] ^= 0x10
    path.write_bytes(bytes(data))


def _damage(kind, path):
    state = _good_state()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        ckpt.save_atomic(state, path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "text":
        path.write_text("not a checkpoint\n")
    elif kind == "bitflip":
        ckpt.save_atomic(state, path)
        _flip_a_weight_bit(path)
    elif kind == "format99":
        ckpt.save_atomic({**state, "format": 99}, path)
    elif kind == "format-str":
        ckpt.save_atomic({**state, "format": "1"}, path)
    elif kind == "missing-model":
        ckpt.save_atomic({k: v for k, v in state.items() if k != "model"}, path)
    elif kind == "newer-missing":
        ckpt.save_atomic({**{k: v for k, v in state.items() if k != "rng"}, "package_version": "99.0"}, path)
    elif kind == "not-a-dict":
        torch.save([1, 2, 3], path)


@pytest.mark.parametrize(
    "kind, words",
    [
        ("empty", ["empty", "0 bytes"]),
        ("truncated", ["corrupt or truncated"]),
        ("garbage", ["corrupt or truncated"]),
        ("text", ["corrupt or truncated"]),
        ("bitflip", ["corrupt", "digest"]),
        ("format99", ["format 99", "newer", "formats 1..1"]),
        ("format-str", ["format '1'", "formats 1..1"]),
        ("missing-model", ["'model'", "a checkpoint holds"]),
        ("newer-missing", ["'rng'", "newer", "99.0"]),
        ("not-a-dict", ["holds a list"]),
    ],
)
def test_damaged_checkpoints_are_named_and_explained(tmp_path, kind, words):
    path = tmp_path / "checkpoint.pt"
    _damage(kind, path)
    with raises(ckpt.CheckpointError, str(path), *words):
        ckpt.load(path)
    with raises(ckpt.CheckpointError, str(path)):  # a run directory resolves to its checkpoint
        ckpt.load(tmp_path)


def test_a_good_checkpoint_round_trips_and_needs_an_existing_device(tmp_path):
    path = ckpt.save_atomic(_good_state(), tmp_path / "c.pt")
    state = ckpt.load(path)
    assert state["iteration"] == 2 and "digest" not in state and state["package_version"]
    with raises(FileNotFoundError, str(tmp_path / "nope.pt")):
        ckpt.load(tmp_path / "nope.pt")
    for d in MISSING:
        with raises(ValueError, "device", "this machine has: cpu"):
            ckpt.load(path, map_location=d)


def test_checkpoints_without_a_digest_still_load(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(_good_state(), path)  # as written before digests existed
    assert ckpt.load(path)["iteration"] == 2


# ====================================================================== 8. learning co-players stay finite
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"learning_rate": 1e30, "optimizer": "sgd"}, ["learning_rate=1e+30", "optimizer='sgd'"]),
        ({"learning_rate": 1e38}, ["learning_rate=1e+38", "optimizer='adam'"]),
        ({"learning_rate": 1e20, "optimizer": "sgd", "max_grad_norm": None}, ["max_grad_norm=None"]),
        ({"learning_rate": 1e37, "optimizer": "sgd", "model": "mlp"}, ["model='mlp'"]),
        ({"reward_rescaling": 1e38, "optimizer": "sgd", "learning_rate": 1.0, "max_grad_norm": None,
          "normalize_advantages": False}, ["reward_rescaling=1e+38"]),
    ],
)
def test_a_diverging_naive_coplayer_stops_at_its_first_non_finite_update(kwargs, words):
    env = ShapingMetaEnv("IPD-v0", coplayer="naive", meta_batch=2, batch_size=2, num_inner_episodes=4,
                         coplayer_kwargs=kwargs)
    env.reset(seed=0)
    with raises(NonFiniteError, "naive co-player", "non-finite", "slot", *words):
        for _ in range(env.meta_episode_length):
            env.step(torch.ones(2, 2, dtype=torch.long))
    params = env.coplayer.model.state_dict()
    assert not all(bool(torch.isfinite(p).all()) for p in params.values())  # it did diverge


def test_a_healthy_naive_coplayer_is_unaffected():
    env = ShapingMetaEnv("IPD-v0", coplayer="naive", meta_batch=2, batch_size=2, num_inner_episodes=4)
    env.reset(seed=0)
    for _ in range(env.meta_episode_length):
        env.step(torch.ones(2, 2, dtype=torch.long))
    assert all(bool(torch.isfinite(p).all()) for p in env.coplayer.model.state_dict().values())


# ====================================================================== 10. smaller ones (library side)
OPTION_FACES = {
    "single": lambda: gym.make("social_dilemmas/IPD-v0"),
    "vector": lambda: gym.make_vec("social_dilemmas/IPD-v0", num_envs=2, vectorization_mode="vector_entry_point"),
    "parallel": lambda: module_factories("IPD-v0")[0](),
    "meta_vec": lambda: ShapingVectorEnv(num_envs=2, coplayer="random"),
    "meta_pz": lambda: MetaParallelEnv(),
}


@pytest.mark.parametrize("face", sorted(OPTION_FACES))
@pytest.mark.parametrize("options", [42, "reset_mask", [("reset_mask", None)]])
def test_reset_options_must_be_a_dict(face, options):
    with raises(TypeError, "options", "None or a dict"):
        OPTION_FACES[face]().reset(seed=0, options=options)


WIDE = np.uint64(2**64 - 1)
WIDE_PAIR = np.array([WIDE, 0], dtype=np.uint64)


@pytest.mark.parametrize(
    "step, value",
    [
        (lambda: _stepped(make_batched("IPD-v0", 1)).step(torch.tensor([[2**64 - 1, 0]], dtype=torch.uint64)),
         2**64 - 1),
        (lambda: _stepped(make_batched("IPD-v0", 1)).step(torch.tensor([[0, 2**32 - 1]], dtype=torch.uint32)),
         2**32 - 1),
        (lambda: _stepped(gym.make_vec("social_dilemmas/IPD-v0", num_envs=2,
                                       vectorization_mode="vector_entry_point")).step(WIDE_PAIR), 2**64 - 1),
        (lambda: _stepped(gym.make("social_dilemmas/IPD-v0")).step(WIDE), 2**64 - 1),
        (lambda: _stepped(ShapingVectorEnv(num_envs=2, coplayer="random")).step(WIDE_PAIR), 2**64 - 1),
    ],
)
def test_huge_unsigned_actions_are_reported_as_themselves(step, value):
    with raises(ValueError, "action", "[0, 2)", f"got {value}"):
        step()


def _stepped(env):
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    "build, exc, words",
    [
        (lambda: make_batched("IPD-v0", 1, max_step=3), TypeError, ["max_step", "did you mean 'max_steps'", "payoffs"]),
        (lambda: gym.make("social_dilemmas/CleanUpLite-v1", aple_reward=2), TypeError, ["aple_reward", "apple_reward"]),
        (lambda: ShapingMetaEnv(coplayer="random", game_kwargs=[1]), TypeError, ["game_kwargs", "dict"]),
        (lambda: ShapingMetaEnv(coplayer=["a"] * 5), ValueError, ["p_cooperate", "[0, 1]"]),
        (lambda: gym.make("social_dilemmas/IPD-v0", opponent="titfortat"), ValueError,
         ["opponent", "did you mean 'tit_for_tat'"]),
    ],
)
def test_unknown_options_and_misspelt_names_are_pointed_out(build, exc, words):
    with raises(exc, *words):
        build()


def test_the_meta_env_reports_wide_unsigned_ego_actions_as_themselves():
    env = ShapingMetaEnv(coplayer="random", meta_batch=2, batch_size=2)
    env.reset(seed=0)
    with raises(ValueError, "ego_actions", "[0, 2)", f"got {2**64 - 1}"):
        env.step(torch.full((2, 2), 2**64 - 1, dtype=torch.uint64))


# ====================================================================== the mechanism itself
def test_field_rules_convert_and_name_fields_in_cli_form():
    from dataclasses import dataclass

    from social_dilemmas.core.validation import Float, Int

    @dataclass
    class Demo:
        clip_eps: float = 0.2
        iterations: int = 3

    d = Demo(iterations=np.int64(5))
    validate_fields(d, {"clip_eps": Float(0.0, low_open=True), "iterations": Int(1)}, cli_label)
    assert d.iterations == 5 and type(d.iterations) is int
    with raises(ValueError, "clip_eps (--clip-eps) must be > 0, got -1"):
        validate_fields(Demo(clip_eps=-1), {"clip_eps": Float(0.0, low_open=True)}, cli_label)
    with raises(TypeError, "iterations (--iterations)", "integer", "'3'"):
        validate_fields(Demo(iterations="3"), {"iterations": Int(1)}, cli_label)

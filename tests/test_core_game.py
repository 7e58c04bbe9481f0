"""The batched game contract: reset/step, same-step autoreset, seeding, bad input."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
from reference.toy_game import DiceRace

import social_dilemmas
from social_dilemmas import BatchedEnv, StepOutput, make_batched, make_game
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.tree import tree_cat, tree_index, tree_map, tree_to, tree_where
from social_dilemmas.envs.matrix_game import CC, START, IteratedMatrixGame

C, D = 0, 1


def acts(*pairs, device="cpu"):
    return torch.tensor(pairs, dtype=torch.int64, device=device)


# ---------------------------------------------------------------------- seeding
class TestSeeding:
    def test_reset_seed_s_gives_sub_env_i_the_seed_s_plus_i(self):
        env = make_batched("IPD-v0", 5)
        env.reset(seed=40)
        assert torch.equal(env.state.rng.key, RNG.from_seeds(torch.arange(40, 45)).key)
        assert env.state.rng.counter.tolist() == [0] * 5
        assert env.seeds_for(40).tolist() == [40, 41, 42, 43, 44]

    def test_reset_with_one_seed_per_sub_env(self):
        env = make_batched("IPD-v0", 3)
        for seeds in ([7, 1, 2**40], np.array([7, 1, 2**40]), torch.tensor([7, 1, 2**40])):
            env.reset(seed=seeds)
            assert torch.equal(env.state.rng.key, RNG.from_seeds(torch.tensor([7, 1, 2**40])).key)

    def test_unseeded_reset_continues_the_random_streams(self):
        env = make_batched("IPD-v0", 2)
        env.reset(seed=3)
        env.step(acts((C, C), (D, D)))
        key = env.state.rng.key.clone()
        env.reset()
        assert torch.equal(env.state.rng.key, key)
        assert env.state.rng.counter.tolist() == [2, 2]  # one step + the reset's own advance

    def test_first_unseeded_reset_draws_fresh_entropy(self):
        a, b = make_batched("IPD-v0", 2), make_batched("IPD-v0", 2)
        a.reset()
        b.reset()
        assert not torch.equal(a.state.rng.key, b.state.rng.key)

    @pytest.mark.parametrize(
        "seed, error, pattern",
        [
            (-1, ValueError, r"seed must be a non-negative integer, got -1"),
            ([1, 2], ValueError, r"seed must be an int or a sequence of 3 ints \(one per sub-environment\)"),
            ([[1, 2, 3]], ValueError, r"seed must be an int or a sequence of 3 ints"),
            ([1.5, 2.0, 3.0], ValueError, r"seed must be an int or a sequence of 3 ints"),
            ([1, -2, 3], ValueError, r"seeds must be non-negative integers, got -2"),
            (True, ValueError, r"seed must be an int or a sequence of 3 ints"),
        ],
    )
    def test_bad_seeds(self, seed, error, pattern):
        with pytest.raises(error, match=pattern):
            make_batched("IPD-v0", 3).reset(seed=seed)

    @pytest.mark.parametrize(
        "seeds, pattern",
        [
            ([], r"seeds must be a non-empty 1-D sequence of integers"),
            ([[0, 1]], r"seeds must be a non-empty 1-D sequence of integers"),
            ([0.0], r"seeds must be a non-empty 1-D sequence of integers"),
            ([-5], r"seeds must be non-negative integers, got -5"),
        ],
    )
    def test_bad_seeds_at_the_core(self, seeds, pattern):
        with pytest.raises(ValueError, match=pattern):
            make_game("IPD-v0").reset(seeds)

    def test_core_reset_accepts_an_int(self):
        state, obs = make_game("IPD-v0").reset(9)
        assert obs.shape == (1, 2, 5) and torch.equal(state.rng.key, RNG.from_seeds(torch.tensor([9])).key)


# ---------------------------------------------------------------------- autoreset
class TestAutoreset:
    def test_same_step_autoreset_in_the_ipd(self):
        env = make_batched("IPD-v0", 2, max_steps=3)
        env.reset(seed=0)
        for k in range(3):
            out = env.step(acts((C, C), (D, C)))
            assert out.truncated.tolist() == [k == 2] * 2 and not out.terminated.any()
        # The step that ends the episode: final_obs is the last joint action, obs the start token.
        assert out.final_obs.argmax(-1).tolist() == [[CC, CC], [3, 2]]
        assert out.obs.argmax(-1).tolist() == [[START, START], [START, START]]
        assert out.reward.tolist() == [[1.0, 1.0], [2.0, -1.0]]
        assert env.state.t.tolist() == [0, 0]
        # Where nothing ended final_obs equals obs.
        out = env.step(acts((C, D), (C, D)))
        assert torch.equal(out.final_obs, out.obs)

    def test_autoreset_with_termination_resets_only_the_finished_sub_envs(self):
        game = DiceRace(max_steps=50)
        state, _ = game.reset(torch.arange(64))
        seen_done = False
        for _ in range(20):
            before = state
            state, out = game.step(state, torch.full((64, 2), 2))
            done = out.done
            if done.any():
                seen_done = True
                assert (out.terminated[done]).all() and not out.truncated.any()
                assert (out.final_obs[done] * 8 >= 6).any(-1).any(-1).all()  # a runner reached square 6
                assert (state.t[done] == 0).all() and (state.t[~done] == before.t[~done] + 1).all()
                assert torch.equal(out.obs[done], game.observe(game.init(state.rng))[done])
            assert torch.equal(out.obs[~done], out.final_obs[~done])
        assert seen_done

    def test_no_autoreset_leaves_the_episode_at_its_end(self):
        game = make_game("IPD-v0", max_steps=2)
        state, _ = game.reset([0])
        for _ in range(2):
            state, out = game.step(state, acts((D, D)), autoreset=False)
        assert out.final_obs is None and out.truncated.tolist() == [True]
        assert out.obs.argmax(-1).tolist() == [[4, 4]] and state.t.tolist() == [2]

    def test_batched_env_without_autoreset_refuses_to_step_past_the_end(self):
        env = make_batched("IPD-v0", 2, max_steps=2, autoreset=False)
        env.reset(seed=0)
        env.step(acts((C, C), (C, C)))
        env.step(acts((C, C), (C, C)))
        with pytest.raises(RuntimeError, match=r"have ended and autoreset=False: call reset\(\) before stepping again"):
            env.step(acts((C, C), (C, C)))
        env.reset()
        assert env.step(acts((C, C), (C, C))).truncated.tolist() == [False, False]

    def test_batched_env_without_autoreset_refuses_to_step_after_termination(self):
        # DiceRace terminates long before max_steps: the episode clock alone cannot tell.
        env = BatchedEnv(DiceRace(max_steps=100), 4, autoreset=False)
        env.reset(seed=0)
        for _ in range(30):
            out = env.step(torch.full((4, 2), 2))
            if out.terminated.any():
                break
        assert out.terminated.any()
        ended = out.terminated.nonzero().view(-1).tolist()
        with pytest.raises(RuntimeError, match=re.escape(f"sub-environments {ended}")):
            env.step(torch.full((4, 2), 2))


# ---------------------------------------------------------------------- actions
class TestActions:
    @pytest.mark.parametrize("dtype", [torch.int8, torch.int16, torch.int32, torch.uint8, torch.int64])
    def test_every_integer_dtype_gives_the_same_step(self, dtype):
        # uint8 would otherwise index the payoff table as a boolean mask.
        game = make_game("IPD-v0")
        state, _ = game.reset(torch.arange(4))
        a = acts((C, C), (C, D), (D, C), (D, D))
        _, want = game.step(state, a)
        _, got = game.step(state, a.to(dtype))
        assert torch.equal(got.reward, want.reward) and torch.equal(got.obs, want.obs)

    @pytest.mark.parametrize(
        "actions, error, pattern",
        [
            (torch.tensor([[0, 2], [0, 0]]), ValueError, r"actions must lie in \[0, 2\) \(cooperate, defect\), got 2"),
            (torch.tensor([[0, -1], [0, 0]]), ValueError, r"actions must lie in \[0, 2\) .*got -1"),
            (
                torch.zeros(2, 3, dtype=torch.long),
                ValueError,
                r"actions must have shape \[2, 2\] \(batch, agents\), got \[2, 3\]",
            ),
            (
                torch.zeros(3, 2, dtype=torch.long),
                ValueError,
                r"actions must have shape \[2, 2\] \(batch, agents\), got \[3, 2\]",
            ),
            (torch.zeros(2, dtype=torch.long), ValueError, r"actions must have shape \[2, 2\]"),
            (torch.zeros(2, 2), ValueError, r"actions must have an integer dtype, got torch.float32"),
            (torch.full((2, 2), float("nan")), ValueError, r"actions must have an integer dtype, got torch.float32"),
            (torch.zeros(2, 2, dtype=torch.bool), ValueError, r"actions must have an integer dtype, got torch.bool"),
            (
                torch.zeros(2, 2, dtype=torch.long, device="meta"),
                ValueError,
                r"actions are on meta, the game is on cpu",
            ),
            ([[0, 0], [0, 0]], TypeError, r"actions must be a torch.Tensor of shape \[2, 2\], got list"),
            (
                np.zeros((2, 2), dtype=np.int64),
                TypeError,
                r"actions must be a torch.Tensor of shape \[2, 2\], got ndarray",
            ),
        ],
    )
    def test_bad_actions_are_rejected_with_a_message(self, actions, error, pattern):
        env = make_batched("IPD-v0", 2)
        env.reset(seed=0)
        with pytest.raises(error, match=pattern):
            env.step(actions)
        assert env.state.t.tolist() == [0, 0]  # nothing happened

    @pytest.mark.gpu
    def test_actions_on_the_wrong_device(self):
        env = make_batched("IPD-v0", 2, device="cuda")
        env.reset(seed=0)
        with pytest.raises(ValueError, match=r"actions are on cpu, the game is on cuda"):
            env.step(torch.zeros(2, 2, dtype=torch.long))

    def test_validate_false_skips_the_checks(self):
        env = make_batched("IPD-v0", 2)
        env.reset(seed=0)
        out = env.step(acts((C, C), (D, D)), validate=False)
        assert out.reward.tolist() == [[1.0, 1.0], [0.0, 0.0]]


# ---------------------------------------------------------------------- construction errors
class TestConstruction:
    @pytest.mark.parametrize("n", [0, -3])
    def test_non_positive_batch_size(self, n):
        with pytest.raises(ValueError, match=rf"batch_size must be a positive integer in \[1, 2147483647\], got {n}"):
            make_batched("IPD-v0", n)

    @pytest.mark.parametrize("n", [2.0, True, "4", None])
    def test_non_integer_batch_size(self, n):
        with pytest.raises(TypeError, match=r"batch_size must be an integer"):
            make_batched("IPD-v0", n)

    @pytest.mark.parametrize("t", [0, -1])
    def test_non_positive_max_steps(self, t):
        with pytest.raises(ValueError, match=rf"max_steps must be a positive integer in \[1, 2147483647\], got {t}"):
            make_game("IPD-v0", max_steps=t)

    def test_non_integer_max_steps(self):
        with pytest.raises(TypeError, match=r"max_steps must be an integer, got 2.5"):
            make_game("IPD-v0", max_steps=2.5)

    def test_bad_device(self):
        with pytest.raises(ValueError, match=r"device='gpu0' is not a torch device"):
            make_game("IPD-v0", device="gpu0")

    def test_step_and_global_state_need_a_reset(self):
        env = make_batched("IPD-v0", 2)
        with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
            env.step(acts((C, C), (C, C)))
        with pytest.raises(RuntimeError, match=r"call reset\(\) before global_state\(\)"):
            env.global_state()

    def test_numpy_integer_sizes_are_fine(self):
        env = make_batched("IPD-v0", np.int64(3), max_steps=np.int32(4))
        assert env.batch_size == 3 and env.game.max_steps == 4 and isinstance(env.game.max_steps, int)


# ---------------------------------------------------------------------- the functional core
def test_step_is_pure():
    game = make_game("IPD-v0")
    state, _ = game.reset(torch.arange(3))
    copy = tree_map(torch.clone, state)
    s1, o1 = game.step(state, acts((C, D), (D, D), (C, C)))
    s2, o2 = game.step(state, acts((C, D), (D, D), (C, C)))
    assert torch.equal(state.last, copy.last) and torch.equal(state.t, copy.t)
    assert torch.equal(o1.obs, o2.obs) and torch.equal(s1.last, s2.last)


def test_step_output_done():
    out = StepOutput(
        obs=torch.zeros(3, 2, 5),
        reward=torch.zeros(3, 2),
        terminated=torch.tensor([True, False, False]),
        truncated=torch.tensor([False, True, False]),
    )
    assert out.done.tolist() == [True, True, False]


def test_batched_env_repr_and_properties():
    env = make_batched("IPD-v0", 4)
    assert env.spec is env.game.spec and env.device == torch.device("cpu")
    assert repr(env) == "BatchedEnv(IPD-v0, batch_size=4, device=cpu)"
    env.reset(seed=0)
    assert env.global_state().shape == (4, 5)


class TestTree:
    @dataclasses.dataclass(frozen=True)
    class Inner:
        a: torch.Tensor

    @dataclasses.dataclass(frozen=True)
    class Outer:
        __static_fields__ = ("label",)
        x: torch.Tensor
        inner: TestTree.Inner
        label: str
        extra: torch.Tensor | None = None

    def make(self, v: int, n: int = 3):
        return self.Outer(torch.full((n, 2), v), self.Inner(torch.full((n,), v)), "L")

    def test_where_index_cat_to(self):
        a, b = self.make(1), self.make(2)
        w = tree_where(torch.tensor([True, False, True]), a, b)
        assert w.x[:, 0].tolist() == [1, 2, 1] and w.inner.a.tolist() == [1, 2, 1] and w.label == "L"
        assert tree_index(w, 1).inner.a.item() == 2
        assert tree_index(w, torch.tensor([0, 2])).x.shape == (2, 2)
        cat = tree_cat([a, self.make(5, 2)])
        assert cat.inner.a.tolist() == [1, 1, 1, 5, 5] and cat.extra is None
        assert tree_to(a, "cpu").x.device.type == "cpu"

    def test_unknown_leaf(self):
        with pytest.raises(TypeError, match=r"cannot map over a leaf of type str"):
            tree_map(lambda x: x, {"k": "v"})

    def test_dicts_and_tuples(self):
        out = tree_map(
            lambda x, y: x + y, {"a": (torch.ones(1), [torch.ones(1)])}, {"a": (torch.ones(1), [torch.ones(1)])}
        )
        assert out["a"][0].item() == 2 and out["a"][1][0].item() == 2


def test_same_trajectory_on_every_device(device):
    cpu, dev = make_batched("IPD-v0", 16), make_batched("IPD-v0", 16, device=device)
    cpu.reset(seed=1)
    dev.reset(seed=1)
    g = torch.Generator().manual_seed(0)
    for _ in range(25):
        a = torch.randint(0, 2, (16, 2), generator=g)
        oc, od = cpu.step(a), dev.step(a.to(device))
        for f in ("obs", "reward", "terminated", "truncated", "final_obs"):
            assert torch.equal(getattr(oc, f), getattr(od, f).cpu()), f


def test_public_api():
    for name in social_dilemmas.__all__:
        assert hasattr(social_dilemmas, name), name
    assert isinstance(make_game("IPD-v0"), IteratedMatrixGame)

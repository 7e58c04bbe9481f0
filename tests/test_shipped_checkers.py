"""The shipped checkers pass good games and CATCH deliberately broken ones.

Each broken game below differs from a correct one in exactly one way; the test asserts that
the right checker fails with a message that points at that way.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch
from reference.matrix_game_reference import MatrixGameReference
from reference.toy_game import DiceRace, DiceRaceReference, DiceRaceState

from social_dilemmas.core.rng import RNG
from social_dilemmas.envs.matrix_game import IteratedMatrixGame
from social_dilemmas.envs.payoffs import PRISONERS_DILEMMA
from social_dilemmas.testing import (
    Reference,
    SubEnvRNG,
    check_all,
    check_batch_invariance,
    check_determinism,
    check_game,
    check_reference_match,
)


# ---------------------------------------------------------------------- good games pass
def test_good_games_pass_every_checker():
    check_all("IPD-v0", reference_factory=lambda: MatrixGameReference(PRISONERS_DILEMMA.payoffs, 10))
    check_all(DiceRace, reference_factory=DiceRaceReference)
    check_all(functools.partial(DiceRace, max_steps=3), reference_factory=lambda: DiceRaceReference(3))


def test_checkers_accept_instances_ids_and_factories():
    game = DiceRace()
    check_game(game, batch_size=3, steps=5)
    check_game("IteratedChicken-v0", batch_size=1)
    check_determinism(game, steps=4)
    check_batch_invariance(game, batch_sizes=(1, 3), episodes=1)
    check_reference_match("IPD-v0", lambda: MatrixGameReference(PRISONERS_DILEMMA.payoffs), batch_size=2)


# ---------------------------------------------------------------------- broken variants
class WrongObsShape(DiceRace):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.spec = dataclasses.replace(self.spec, obs_shape=(3,))


class Float64Obs(DiceRace):
    def observe(self, state):
        return super().observe(state).double()


class ObsOutOfBounds(DiceRace):
    def observe(self, state):
        return super().observe(state) * 8  # squares, not squares / 8: leaves [0, 1]


class Float64Reward(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        return nxt, r.double(), term, m


class RewardPerSubEnv(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        return nxt, r.sum(1), term, m  # [N] instead of [N, A]


class IntTerminated(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        return nxt, r, term.long(), m


class MetricWithoutBatch(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        return nxt, r, term, {"moved_total": m["moved"].sum()}


class MetricNotTensor(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        return nxt, r, term, {"moved": m["moved"].tolist()}


class FinalObsIsResetObs(DiceRace):
    """Reports the post-reset observation as final_obs (the classic autoreset mistake)."""

    def step(self, state, actions, *, autoreset=True, validate=True):
        nxt, out = super().step(state, actions, autoreset=autoreset, validate=validate)
        if autoreset:
            out = dataclasses.replace(out, final_obs=out.obs)
        return nxt, out


class NoResetObsAfterDone(DiceRace):
    """Autoresets the state but emits the last observation of the old episode as obs."""

    def step(self, state, actions, *, autoreset=True, validate=True):
        nxt, out = super().step(state, actions, autoreset=autoreset, validate=validate)
        if autoreset:
            out = dataclasses.replace(out, obs=out.final_obs)
        return nxt, out


class TruncatesOneStepLate(DiceRace):
    def step(self, state, actions, *, autoreset=True, validate=True):
        # Pretend max_steps is one larger, keep the spec's max_steps.
        self.max_steps += 1
        try:
            return super().step(state, actions, autoreset=autoreset, validate=validate)
        finally:
            self.max_steps -= 1


class TerminatedAndTruncated(DiceRace):
    def step(self, state, actions, *, autoreset=True, validate=True):
        nxt, out = super().step(state, actions, autoreset=autoreset, validate=validate)
        return nxt, dataclasses.replace(out, truncated=out.truncated | out.terminated)


class MutatesState(DiceRace):
    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        state.pos.add_(0).copy_(nxt.pos)  # writes the new squares into the input state
        return nxt, r, term, m


class AcceptsOutOfRange(DiceRace):
    def check_actions(self, actions, batch_size):
        if not isinstance(actions, torch.Tensor) or actions.dtype.is_floating_point or actions.dtype == torch.bool:
            raise TypeError("actions must be an int tensor")
        if tuple(actions.shape) != (batch_size, 2) or actions.device != self.device:
            raise ValueError("bad shape/device")


class WrongGlobalStateShape(DiceRace):
    def global_state(self, state):
        return state.pos.float().view(-1) / 8


class BatchPositionRNG(DiceRace):
    """Draws from one generator keyed by the batch position instead of the seed."""

    def init(self, rng):
        pos_rng = RNG.from_seeds(torch.arange(rng.key.shape[0], device=rng.key.device))
        state = super().init(pos_rng)
        return dataclasses.replace(state, rng=rng)


class GlobalTorchRNG(DiceRace):
    """Uses torch's global generator, shared by the whole batch and by everything else."""

    def transition(self, state, actions):
        nxt, r, term, m = super().transition(state, actions)
        wiggle = (torch.rand(actions.shape, device=actions.device) < 0.5).float()
        return nxt, r * wiggle, term, m


class IgnoresSeed(DiceRace):
    """Declares randomness but uses a constant key (every seed plays the same game)."""

    def init(self, rng):
        const = RNG(torch.zeros_like(rng.key), rng.counter)
        return dataclasses.replace(super().init(const), rng=rng)

    def transition(self, state, actions):
        const = RNG(torch.zeros_like(state.rng.key), state.rng.counter)
        return super().transition(dataclasses.replace(state, rng=const), actions)


class DeclaredDeterministicButRandom(DiceRace):
    stochastic = False


class UsesWrongStream(DiceRace):
    """The core draws its move from stream 1, the reference (the spec) says stream 0."""

    def transition(self, state, actions):
        ok = state.rng.uniform(1, 2) < 0.5
        moved = actions * ok
        pos = state.pos + moved
        return DiceRaceState(pos, state.t, state.rng), moved.float(), (pos >= 6).any(1), {"moved": moved > 0}


class BuggyReference(DiceRaceReference):
    """Forgets that a runner who reached the goal ends the episode when it jumps from 5."""

    def step(self, actions, rng):
        obs, rew, term, trunc, m = super().step(actions, rng)
        if term and max(self.pos) == 7:
            term, trunc = False, self.t == self.max_steps
        return obs, rew, term, trunc, m


class AdvancesRNGTwice(DiceRace):
    def step(self, state, actions, *, autoreset=True, validate=True):
        nxt, out = super().step(state, actions, autoreset=autoreset, validate=validate)
        return dataclasses.replace(nxt, rng=nxt.rng.advance()), out


class ResetKeepsClock(DiceRace):
    """After an autoreset the new episode keeps the old step count."""

    def init(self, rng):
        return super().init(rng)

    def step(self, state, actions, *, autoreset=True, validate=True):
        nxt, out = super().step(state, actions, autoreset=autoreset, validate=validate)
        if autoreset:
            t = torch.where(out.terminated | out.truncated, state.t + 1, nxt.t)
            nxt = dataclasses.replace(nxt, t=t)
        return nxt, out


class IPDWithSwappedView(IteratedMatrixGame):
    """Shows player 1 the joint action with player 0's action first (not own-first)."""

    def observe(self, state):
        idx = torch.stack((state.last, state.last), dim=1)
        return self._eye[idx]


@pytest.mark.parametrize(
    "broken, pattern",
    [
        (WrongObsShape, r"observation must have shape \[8, 2, 3\], got \[8, 2, 2\]"),
        (Float64Obs, r"observation must have dtype torch.float32, got torch.float64"),
        (ObsOutOfBounds, r"observations must lie in \[obs_low, obs_high\] = \[0.0, 1.0\]"),
        (Float64Reward, r"reward must have dtype torch.float32"),
        (RewardPerSubEnv, r"reward must have shape \[8, 2\], got \[8\]"),
        (IntTerminated, r"terminated must have dtype torch.bool"),
        (MetricWithoutBatch, r"metrics\['moved_total'\] needs the batch \(8\) as leading dimension"),
        (MetricNotTensor, r"metrics\['moved'\] must be a tensor"),
        (FinalObsIsResetObs, r"final_obs must be the observation the step reached before any reset"),
        (NoResetObsAfterDone, r"the emitted observation differs from observe\(state\)"),
        (TruncatesOneStepLate, r"truncated must be true exactly when .* reaches max_steps=6"),
        (TerminatedAndTruncated, r"both terminated and truncated"),
        (MutatesState, r"modified its input state in place"),
        (AcceptsOutOfRange, r"accepted actions with an action equal to num_actions=3"),
        (WrongGlobalStateShape, r"global_state must have shape \[8, 2\], got \[16\]"),
        (AdvancesRNGTwice, r"random counter by exactly one"),
        (ResetKeepsClock, r"after an autoreset state.t must be 0"),
    ],
)
def test_check_game_catches(broken, pattern):
    with pytest.raises(AssertionError, match=pattern):
        check_game(broken(), batch_size=8)


def test_check_game_catches_a_bad_spec():
    class NoMeanings(DiceRace):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.spec = dataclasses.replace(self.spec, action_meanings=("stay",))

    class BadBounds(DiceRace):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.spec = dataclasses.replace(self.spec, obs_low=2.0)

    class ListShape(DiceRace):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.spec = dataclasses.replace(self.spec, obs_shape=[2])

    with pytest.raises(AssertionError, match=r"action_meanings must be a tuple of 3 non-empty strings"):
        check_game(NoMeanings())
    with pytest.raises(AssertionError, match=r"obs_low=2.0 > spec.obs_high=1.0"):
        check_game(BadBounds())
    with pytest.raises(AssertionError, match=r"spec.obs_shape must be a tuple of positive ints"):
        check_game(ListShape())


def test_check_game_catches_a_wrong_render():
    class BadRender(DiceRace):
        render_modes = ("ansi", "rgb_array")

        def render_rgb(self, state, index=0):
            return torch.zeros(4, 4, 3)

    with pytest.raises(AssertionError, match=r"render_rgb must return an \[H, W, 3\] uint8 numpy array"):
        check_game(BadRender())


def test_check_game_catches_player_views_that_are_not_own_first():
    # The conformance checker cannot know the encoding, the reference can.
    check_game(IPDWithSwappedView())
    with pytest.raises(AssertionError, match=r"sub-env \d \(seed \d\) at step \d+ .*observation.* differs"):
        check_reference_match(IPDWithSwappedView(), lambda: MatrixGameReference(PRISONERS_DILEMMA.payoffs))


def test_check_batch_invariance_catches_a_batch_position_rng():
    check_game(BatchPositionRNG())  # conforms otherwise
    with pytest.raises(AssertionError, match=r"sub-env 1 of a batch of 64 vs a batch of 1 with seed 1 .* after reset"):
        check_batch_invariance(BatchPositionRNG)


def test_check_determinism_catches_the_global_torch_generator():
    with pytest.raises(AssertionError, match=r"two runs with seed 0: reward differs at step \d+"):
        check_determinism(GlobalTorchRNG)
    torch.manual_seed(0)  # leave the global generator in a known state for other tests


def test_check_batch_invariance_catches_the_global_torch_generator():
    with pytest.raises(AssertionError, match=r"reward differs"):
        check_batch_invariance(GlobalTorchRNG, batch_sizes=(1, 4))


def test_check_determinism_catches_a_game_that_ignores_its_seed():
    check_batch_invariance(IgnoresSeed, batch_sizes=(1, 4))  # position independent, still broken
    with pytest.raises(AssertionError, match=r"declares stochastic=True but seeds 0.. and 1000003.. gave identical"):
        check_determinism(IgnoresSeed)


def test_check_determinism_catches_a_false_claim_of_determinism():
    with pytest.raises(AssertionError, match=r"declares stochastic=False but changing the seed changed .*obs"):
        check_determinism(DeclaredDeterministicButRandom)


def test_check_determinism_asserts_matrix_games_ignore_their_seed():
    check_determinism("IPD-v0", stochastic=False)
    with pytest.raises(AssertionError, match=r"declares stochastic=True"):
        check_determinism("IPD-v0", stochastic=True)


def test_check_reference_match_catches_a_core_drawing_from_the_wrong_stream():
    check_game(UsesWrongStream())
    with pytest.raises(AssertionError, match=r"check_reference_match\(DiceRace-v0\): sub-env \d \(seed \d\) at step"):
        check_reference_match(UsesWrongStream(), DiceRaceReference, batch_size=8)


def test_check_reference_match_catches_a_buggy_reference():
    with pytest.raises(AssertionError, match=r"terminated differs\n  core:      True\n  reference: False"):
        check_reference_match(DiceRace(), BuggyReference, batch_size=16, steps=60)


def test_check_reference_match_catches_a_core_that_breaks_the_rng_clock():
    with pytest.raises(AssertionError, match=r"random state \(key, counter\)|differs"):
        check_reference_match(AdvancesRNGTwice(), DiceRaceReference, batch_size=4)


def test_check_reference_match_reports_wrong_rewards_with_history():
    class WrongReward(MatrixGameReference):
        def step(self, actions, rng=None):
            obs, r, term, trunc, m = super().step(actions, rng)
            if actions == [1, 1]:
                r = [-1.0, -1.0]  # a typo'd P
            return obs, r, term, trunc, m

    with pytest.raises(AssertionError) as err:
        check_reference_match(
            "IPD-v0", lambda: WrongReward(PRISONERS_DILEMMA.payoffs), actions=[[[0, 0]], [[1, 1]]], batch_size=1
        )
    msg = str(err.value)
    assert (
        "sub-env 0 (seed 0) at step 1 (step 2 of its episode): "
        "reward differs at index [0]: 0.0 (core) vs -1.0 (reference)" in msg
    )
    assert "core:      [0.0, 0.0]" in msg and "reference: [-1.0, -1.0]" in msg
    assert "last joint actions of this sub-env: [[0, 0], [1, 1]]" in msg


def test_check_reference_match_validates_its_arguments():
    ref = functools.partial(MatrixGameReference, PRISONERS_DILEMMA.payoffs)
    with pytest.raises(ValueError, match=r"actions must have shape \[steps, 2, 2\]"):
        check_reference_match("IPD-v0", ref, batch_size=2, actions=[[0, 1]])
    with pytest.raises(TypeError, match=r"reference.step must return \(obs, rewards, terminated, truncated, metrics\)"):

        class Short(MatrixGameReference):
            def step(self, actions, rng=None):
                return super().step(actions)[:3]

        check_reference_match("IPD-v0", lambda: Short(PRISONERS_DILEMMA.payoffs), batch_size=1)


def test_subenv_rng_follows_the_documented_clock():
    # The reference gets counter 0 at the first reset, counter k at the k-th step and
    # counter k + 1 at the reset after an episode that ended at step k.
    seen = []

    class Spy(DiceRaceReference):
        def reset(self, rng):
            seen.append(("reset", rng.counter))
            return super().reset(rng)

        def step(self, actions, rng):
            seen.append(("step", rng.counter))
            return super().step(actions, rng)

    check_reference_match(DiceRace(max_steps=2), lambda: Spy(2), batch_size=1, steps=4, actions=[[[0, 0]]] * 4)
    assert seen == [("reset", 0), ("step", 0), ("step", 1), ("reset", 2), ("step", 2), ("step", 3), ("reset", 4)]
    assert SubEnvRNG.from_seed(3).advance().counter == 1
    assert isinstance(MatrixGameReference(PRISONERS_DILEMMA.payoffs), Reference)
    assert isinstance(DiceRaceReference(), Reference)


def test_checkers_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        check_game("IPD-v0", seed=-1)
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer"):
        check_game("IPD-v0", batch_size=0)
    with pytest.raises(TypeError, match=r"expected an env id, a BatchedGame or a factory"):
        check_game(42)
    with pytest.raises(TypeError, match=r"the game factory must return a BatchedGame"):
        check_determinism(lambda: "IPD-v0")
    with pytest.raises(ValueError, match=r"unknown env id 'Nope-v0'"):
        check_all("Nope-v0")
    with pytest.raises(ValueError, match=r"batch_sizes must name at least one batch size"):
        check_batch_invariance("IPD-v0", batch_sizes=())


@pytest.mark.gpu
def test_batch_invariance_across_devices():
    check_batch_invariance(DiceRace, devices=("cpu", "cuda"))
    check_batch_invariance("IPD-v0", devices=("cpu", "cuda"))
    check_game(DiceRace(device="cuda"))

"""Iterated 2x2 games: observation encoding, start token, truncation, and the reference match."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from reference.matrix_game_reference import MatrixGameReference

from social_dilemmas import make_batched, make_game
from social_dilemmas.envs.matrix_game import CC, CD, DC, DD, START, IteratedMatrixGame
from social_dilemmas.envs.payoffs import GAMES, PayoffTable
from social_dilemmas.testing import check_game, check_reference_match

C, D = 0, 1
MATRIX_IDS = [
    "IPD-v0",
    "IteratedMatchingPennies-v0",
    "IteratedStagHunt-v0",
    "IteratedChicken-v0",
    "IteratedMatrixGame-v0",
]


def index_seen(obs: torch.Tensor) -> list[list[int]]:
    """Which of (start, CC, CD, DC, DD) each player sees, checking the vector is one-hot."""
    assert ((obs == 0) | (obs == 1)).all() and (obs.sum(-1) == 1).all()
    return obs.argmax(-1).tolist()


# ---------------------------------------------------------------------- known answers
def test_outcome_indices():
    assert (START, CC, CD, DC, DD) == (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    "joint, seen_by_0, seen_by_1",
    [
        ((C, C), CC, CC),
        ((C, D), CD, DC),  # player 0 cooperated, player 1 defected: own action first
        ((D, C), DC, CD),
        ((D, D), DD, DD),
    ],
)
def test_observations_put_the_owners_action_first(joint, seen_by_0, seen_by_1):
    env = make_batched("IPD-v0", 1)
    env.reset(seed=0)
    out = env.step(torch.tensor([joint]))
    assert index_seen(out.obs) == [[seen_by_0, seen_by_1]]
    assert env.global_state().argmax(-1).tolist() == [seen_by_0]  # global state = player 0's view
    assert out.obs.shape == (1, 2, 5) and out.obs.dtype == torch.float32


def test_after_c_d_player_0_sees_index_2_and_player_1_index_3():
    env = make_batched("IPD-v0", 1)
    env.reset(seed=0)
    assert index_seen(env.step(torch.tensor([[C, D]])).obs) == [[2, 3]]


@pytest.mark.parametrize("env_id", MATRIX_IDS)
def test_start_token_at_reset_and_after_every_autoreset(env_id):
    env = make_batched(env_id, 3)
    obs = env.reset(seed=0)
    assert index_seen(obs) == [[START, START]] * 3
    assert env.global_state().argmax(-1).tolist() == [START] * 3
    g = torch.Generator().manual_seed(1)
    for k in range(1, 36):
        out = env.step(torch.randint(0, 2, (3, 2), generator=g))
        if k % 10 == 0:
            assert index_seen(out.obs) == [[START, START]] * 3, k
            assert START not in sum(index_seen(out.final_obs), [])
        else:
            assert START not in sum(index_seen(out.obs), []), k


@pytest.mark.parametrize("env_id", MATRIX_IDS)
def test_truncation_at_the_default_ten_rounds(env_id):
    env = make_batched(env_id, 2)
    assert env.spec.max_steps == 10
    env.reset(seed=0)
    flags = [env.step(torch.zeros(2, 2, dtype=torch.long)) for _ in range(30)]
    assert [bool(o.truncated.all()) for o in flags] == [k % 10 == 9 for k in range(30)]
    assert not any(bool(o.terminated.any()) for o in flags)
    assert not any(bool(o.truncated[0] != o.truncated[1]) for o in flags)


@pytest.mark.parametrize("max_steps", [1, 3, 7])
def test_truncation_is_configurable(max_steps):
    env = make_batched("IPD-v0", 1, max_steps=max_steps)
    assert env.spec.max_steps == max_steps and env.game.max_steps == max_steps
    env.reset(seed=0)
    trunc = [bool(env.step(torch.tensor([[D, C]])).truncated) for _ in range(3 * max_steps)]
    assert trunc == [(k + 1) % max_steps == 0 for k in range(3 * max_steps)]


def test_one_round_episodes_always_show_the_start_token():
    env = make_batched("IPD-v0", 1, max_steps=1)
    env.reset(seed=0)
    for joint, seen in [((C, D), [[CD, DC]]), ((D, D), [[DD, DD]])]:
        out = env.step(torch.tensor([joint]))
        assert out.truncated.item() and index_seen(out.obs) == [[START, START]]
        assert index_seen(out.final_obs) == seen


def test_a_round_depends_only_on_the_last_joint_action():
    env = make_batched("IPD-v0", 1)
    env.reset(seed=0)
    seq = [(C, C), (C, D), (D, D), (D, C), (C, C)]
    want = [[[CC, CC]], [[CD, DC]], [[DD, DD]], [[DC, CD]], [[CC, CC]]]
    for joint, w in zip(seq, want):
        assert index_seen(env.step(torch.tensor([joint])).obs) == w


def test_spec():
    spec = make_game("IPD-v0").spec
    assert (spec.name, spec.num_agents, spec.num_actions, spec.obs_shape, spec.state_shape) == (
        "IPD-v0",
        2,
        2,
        (5,),
        (5,),
    )
    assert (spec.obs_low, spec.obs_high, spec.action_meanings) == (0.0, 1.0, ("cooperate", "defect"))
    assert make_game("IteratedStagHunt-v0").spec.name == "IteratedStagHunt-v0"


def test_render_ansi():
    game = make_game("IPD-v0")
    state, _ = game.reset(torch.arange(2))
    assert game.render_ansi(state, 1) == "IPD-v0 round 0/10: start\n"
    state, _ = game.step(state, torch.tensor([[C, D], [D, D]]))
    assert game.render_ansi(state, 0) == "IPD-v0 round 1/10: player_0 cooperate, player_1 defect -> rewards (-1, 2)\n"
    assert game.render_ansi(state, 1) == "IPD-v0 round 1/10: player_0 defect, player_1 defect -> rewards (0, 0)\n"


def test_render_modes(capsys):
    game = make_game("IPD-v0")
    state, _ = game.reset(torch.arange(2))
    assert game.render(state, "ansi", 1) == game.render_ansi(state, 1)
    assert game.render(state, "human") is None
    assert capsys.readouterr().out == game.render_ansi(state, 0)
    assert game.render(state, "rgb_array").shape == (144, 96, 3)
    with pytest.raises(ValueError, match="render mode must be 'rgb_array', 'ansi' or 'human', got 'svg'"):
        game.render(state, "svg")


def test_rgb_picture_marks_the_last_joint_action_and_the_clock():
    from social_dilemmas.envs.grid_render import AGENT_COLOURS
    from social_dilemmas.envs.matrix_game import CELL_PX, CLOCK, HIGHLIGHT

    game = make_game("IPD-v0", max_steps=4)
    state, _ = game.reset(torch.arange(4))
    img = game.render_rgb(state, 0)
    assert img.dtype == np.uint8 and img.shape == (3 * CELL_PX, 2 * CELL_PX, 3)
    assert not (img == HIGHLIGHT).all(-1).any() and not (img == CLOCK).all(-1).any()  # round 0: nothing played
    # game i: player_0 plays i // 2, player_1 plays i % 2; two rounds of the same joint action
    acts = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    for _ in range(2):
        state, _ = game.step(state, acts, autoreset=False)
    for i, (a0, a1) in enumerate(acts.tolist()):
        img = game.render_rgb(state, i)
        px = CELL_PX
        cells = [[img[r * px:(r + 1) * px, c * px:(c + 1) * px] for c in range(2)] for r in range(2)]
        for r in range(2):
            for c in range(2):
                marked = (r, c) == (a0, a1)
                assert (cells[r][c] == HIGHLIGHT).all(-1).any() == marked
                for colour in AGENT_COLOURS:
                    assert (cells[r][c] == colour).all(-1).any() == marked
        clock = (img[2 * CELL_PX:] == CLOCK).all(-1).any(0)  # columns painted by the clock
        assert clock.sum() == img.shape[1] // 2 and clock[0]  # 2 of 4 rounds, from the left


def test_symmetric_games_swap_rewards_when_players_swap():
    for name, table in GAMES.items():
        if not table.symmetric:
            continue
        game = IteratedMatrixGame(name)
        state, _ = game.reset(torch.arange(4))
        joints = torch.tensor([[C, C], [C, D], [D, C], [D, D]])
        _, out = game.step(state, joints)
        _, swapped = game.step(state, joints.flip(1))
        assert torch.equal(out.reward, swapped.reward.flip(1)), name
        assert torch.equal(out.obs, swapped.obs.flip(1)), name


# ---------------------------------------------------------------------- the reference match
def test_built_in_games_match_the_reference_on_random_actions():
    for name, table in GAMES.items():
        for max_steps in (1, 4, 10):
            game = IteratedMatrixGame(name, max_steps=max_steps)
            check_reference_match(game, lambda t=table, m=max_steps: MatrixGameReference(t.payoffs, m), batch_size=5)


def test_the_matrix_games_pass_check_game():
    for name in GAMES:
        check_game(IteratedMatrixGame(name, max_steps=3), batch_size=5)


finite = st.floats(-100, 100, allow_nan=False, width=32)


@given(
    table=st.one_of(
        st.sampled_from(sorted(GAMES)),
        st.lists(finite, min_size=8, max_size=8).map(lambda v: [[v[0:2], v[2:4]], [v[4:6], v[6:8]]]),
    ),
    max_steps=st.integers(1, 6),
    data=st.data(),
)
def test_core_matches_reference_on_hypothesis_action_sequences(table, max_steps, data):
    batch = data.draw(st.integers(1, 4), label="batch")
    steps = data.draw(st.integers(1, 3 * max_steps + 2), label="steps")  # crosses episode ends
    actions = data.draw(
        st.lists(
            st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=batch, max_size=batch),
            min_size=steps,
            max_size=steps,
        ),
        label="actions",
    )
    payoffs = GAMES[table].payoffs if isinstance(table, str) else PayoffTable("custom", table).payoffs
    game = IteratedMatrixGame(table, max_steps=max_steps)
    check_reference_match(game, lambda: MatrixGameReference(payoffs, max_steps), batch_size=batch, actions=actions)


@given(seed=st.integers(0, 2**62), steps=st.integers(1, 40))
def test_reference_match_on_seeded_random_actions(seed, steps):
    check_reference_match(
        "IPD-v0", lambda: MatrixGameReference(GAMES["prisoners_dilemma"].payoffs), batch_size=3, steps=steps, seed=seed
    )


def test_a_user_table_reaches_the_core_exactly():
    # float32 payoffs survive unchanged.
    table = [[[0.1, -0.1], [1e-3, 7.5]], [[-2.25, 3.0], [1e6, -1e6]]]
    game = IteratedMatrixGame(table)
    state, _ = game.reset(torch.arange(4))
    _, out = game.step(state, torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]))
    want = torch.tensor([table[0][0], table[0][1], table[1][0], table[1][1]], dtype=torch.float32)
    assert torch.equal(out.reward, want)


def test_matrix_games_are_deterministic_given_actions():
    assert IteratedMatrixGame.stochastic is False

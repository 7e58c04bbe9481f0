"""Fixed co-player strategies: textbook match scores played through the batched core, ZD maths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from social_dilemmas import make_batched
from social_dilemmas.coplayers.base import CoPlayer
from social_dilemmas.coplayers.fixed import (
    ALIASES,
    NAMED_MEMORY1,
    Memory1Strategy,
    UniformRandom,
    make_strategy,
    zd_strategy,
)
from social_dilemmas.core.game import COPLAYER_STREAM
from social_dilemmas.core.rng import sample_categorical

LETTER = "CD"


def play(s0, s1, *, rounds=10, episodes=1, env_id="IPD-v0", batch=1, seed=0):
    """Play ``s0`` (player 0) against ``s1`` (player 1) through the batched core.

    Returns per-episode reward totals ``[episodes, batch, 2]`` and, for sub-env 0, the moves
    as strings like ``"CD"`` (player 0's move first).
    """
    env = make_batched(env_id, batch, max_steps=rounds)
    obs = env.reset(seed=seed)
    totals = torch.zeros(episodes, batch, 2)
    moves = []
    for k in range(rounds * episodes):
        rng = env.state.rng
        p0, _ = s0.action_probs(obs[:, 0], None)
        p1, _ = s1.action_probs(obs[:, 1], None)
        a = torch.stack(
            (
                sample_categorical(p0, rng.uniform(COPLAYER_STREAM)),
                sample_categorical(p1, rng.uniform(COPLAYER_STREAM + 1)),
            ),
            dim=1,
        )
        out = env.step(a)
        totals[k // rounds] += out.reward
        moves.append(LETTER[a[0, 0]] + LETTER[a[0, 1]])
        obs = out.obs
    return totals, moves


S = {name: make_strategy(name) for name in NAMED_MEMORY1}
ALLC, ALLD, TFT, GRIM, WSLS = (
    S[k] for k in ["always_cooperate", "always_defect", "tit_for_tat", "grim_trigger", "win_stay_lose_shift"]
)
STFT = Memory1Strategy([0, 1, 0, 1, 0], name="suspicious_tit_for_tat")  # defect first, then copy

# IPD payoffs: CC (1, 1), CD (-1, 2), DC (2, -1), DD (0, 0). Each expected sequence below is
# worked out by hand from the strategy definitions (own move first in what each sees).
MATCHES = [
    # TFT opens C, ALLD always D -> CD; TFT then copies D forever -> DD x 9.
    ("TFT vs ALLD", TFT, ALLD, ["CD"] + ["DD"] * 9, (-1, 2)),
    # Both open C and copy C forever.
    ("TFT vs TFT", TFT, TFT, ["CC"] * 10, (10, 10)),
    ("ALLC vs ALLD", ALLC, ALLD, ["CD"] * 10, (-10, 20)),
    ("ALLD vs ALLC", ALLD, ALLC, ["DC"] * 10, (20, -10)),
    ("ALLD vs ALLD", ALLD, ALLD, ["DD"] * 10, (0, 0)),
    # Grim and WSLS both open C; after CC both cooperate again, forever.
    ("GRIM vs WSLS", GRIM, WSLS, ["CC"] * 10, (10, 10)),
    # Grim: C, then D forever once the other defected (it sees CD, then DD).
    ("GRIM vs ALLD", GRIM, ALLD, ["CD"] + ["DD"] * 9, (-1, 2)),
    # WSLS vs ALLD: CD (lose: shift to D), DD (lose: shift to C), CD, ... alternating.
    ("WSLS vs ALLD", WSLS, ALLD, ["CD", "DD"] * 5, (-5, 10)),
    # WSLS vs ALLC: CC (win: stay C) forever.
    ("WSLS vs ALLC", WSLS, ALLC, ["CC"] * 10, (10, 10)),
    # TFT vs suspicious TFT: each copies the other's previous move, so CD and DC alternate:
    # 5 x (-1, 2) + 5 x (2, -1).
    ("TFT vs STFT", TFT, STFT, ["CD", "DC"] * 5, (5, 5)),
    # WSLS vs STFT: CD -> WSLS lost (shift to D), STFT copies C -> DC -> WSLS won (stay D),
    # STFT copies D -> DD -> WSLS lost (shift to C), STFT copies D -> CD ... period 3:
    # (-1, 2) + (2, -1) + (0, 0) = (1, 1) per cycle; 3 cycles + one CD = (2, 5).
    ("WSLS vs STFT", WSLS, STFT, ["CD", "DC", "DD"] * 3 + ["CD"], (2, 5)),
    # Grim vs STFT: CD -> grim triggers (D forever), STFT copies C -> DC -> DD forever.
    ("GRIM vs STFT", GRIM, STFT, ["CD", "DC"] + ["DD"] * 8, (1, 1)),
]


@pytest.mark.parametrize("label, s0, s1, moves, score", MATCHES, ids=[m[0] for m in MATCHES])
def test_textbook_match_scores_over_ten_rounds(label, s0, s1, moves, score):
    totals, played = play(s0, s1)
    assert played == moves
    assert totals[0, 0].tolist() == list(map(float, score))
    # The same match with the seats swapped gives the swapped score.
    swapped, played_swapped = play(s1, s0)
    assert swapped[0, 0].tolist() == list(map(float, score[::-1]))
    assert played_swapped == [m[::-1] for m in moves]


def test_the_start_token_restarts_strategies_every_episode():
    # Three 10-round episodes of TFT vs ALLD: each opens with TFT's C again.
    totals, moves = play(TFT, ALLD, episodes=3)
    assert totals[:, 0].tolist() == [[-1.0, 2.0]] * 3
    assert moves == (["CD"] + ["DD"] * 9) * 3


def test_shorter_matches():
    # T = 3: TFT vs ALLD = CD, DD, DD.
    totals, moves = play(TFT, ALLD, rounds=3)
    assert moves == ["CD", "DD", "DD"] and totals[0, 0].tolist() == [-1.0, 2.0]


def test_stag_hunt_tft_vs_alld():
    # Stag hunt (stag = 0): (stag, hare) pays (0, 3), (hare, hare) (2, 2): 0 + 9 * 2 = 18, 3 + 9 * 2 = 21.
    totals, moves = play(TFT, ALLD, env_id="IteratedStagHunt-v0")
    assert moves == ["CD"] + ["DD"] * 9 and totals[0, 0].tolist() == [18.0, 21.0]


def test_random_strategies_play_their_probabilities():
    n = 8192
    totals, _ = play(Memory1Strategy([0.3] * 5), ALLC, rounds=1, batch=n)
    # Player 0 cooperates w.p. 0.3: reward 1 (C) or 2 (D) against ALLC.
    frac_c = float((totals[0, :, 0] == 1.0).double().mean())
    assert abs(frac_c - 0.3) < 6 * math.sqrt(0.21 / n)
    totals, _ = play(S["random"], S["random"], rounds=1, batch=n)
    joint = torch.tensor([1.0, -1.0, 2.0, 0.0])  # player 0's reward identifies the joint action
    freq = (totals[0, :, 0].unsqueeze(1) == joint).double().mean(0)
    assert torch.allclose(freq, torch.full((4,), 0.25, dtype=torch.float64), atol=6 * math.sqrt(0.1875 / n))


def test_sub_envs_draw_independently():
    totals, _ = play(S["random"], S["random"], rounds=10, batch=2048)
    # Different sub-envs play different random matches, and the same seed replays them.
    assert len({tuple(t) for t in totals[0].tolist()}) > 20
    again, _ = play(S["random"], S["random"], rounds=10, batch=2048)
    assert torch.equal(totals, again)
    small, _ = play(S["random"], S["random"], rounds=10, batch=5)
    assert torch.equal(small[0], totals[0, :5])


# ---------------------------------------------------------------------- the named table
def test_named_strategies():
    assert NAMED_MEMORY1 == {
        "always_cooperate": (1, 1, 1, 1, 1),
        "always_defect": (0, 0, 0, 0, 0),
        "random": (0.5,) * 5,
        "tit_for_tat": (1, 1, 0, 1, 0),
        "grim_trigger": (1, 1, 0, 0, 0),
        "win_stay_lose_shift": (1, 1, 0, 0, 1),
    }
    for alias, name in ALIASES.items():
        assert make_strategy(alias).p_cooperate.tolist() == list(NAMED_MEMORY1[name])


def test_action_probs():
    eye = torch.eye(5)
    probs, memory = TFT.action_probs(eye)
    assert memory is None and probs.tolist() == [[1, 0], [1, 0], [0, 1], [1, 0], [0, 1]]
    assert torch.allclose(probs.sum(-1), torch.ones(5))


def test_strategies_follow_the_coplayer_protocol():
    for s in [TFT, UniformRandom(4), zd_strategy(2.0, 0.1)]:
        assert isinstance(s, CoPlayer)
        assert s.initial_memory(3, torch.device("cpu")) is None
        assert s.reset_memory(None, torch.ones(3, dtype=torch.bool)) is None and s.resets_at_inner_boundary


def test_make_strategy_resolves_names_lists_and_objects():
    assert isinstance(make_strategy([0.1, 0.2, 0.3, 0.4, 0.5]), Memory1Strategy)
    assert isinstance(make_strategy(torch.full((5,), 0.5)), Memory1Strategy)
    assert make_strategy(TFT) is TFT
    r = make_strategy("random", num_actions=5, obs_dim=30)
    assert isinstance(r, UniformRandom)
    assert torch.allclose(r.action_probs(torch.zeros(3, 30))[0], torch.full((3, 5), 0.2))
    assert "Memory1Strategy(tit_for_tat" in repr(TFT) and repr(r) == "UniformRandom(5)"


@pytest.mark.parametrize(
    "spec, kwargs, error, pattern",
    [
        ("TFT", {}, ValueError, r"opponent must be one of 'always_cooperate', .*'pavlov'; got 'TFT'"),
        ("nice", {}, ValueError, r"opponent must be one of .*'tit_for_tat'.*; got 'nice'"),
        (
            "tit_for_tat",
            {"num_actions": 5, "obs_dim": 30},
            ValueError,
            r"opponent must be one of 'random'; got 'tit_for_tat'",
        ),
        (3.5, {}, TypeError, r"opponent must be a strategy name \(always_cooperate, .*\), 5 cooperation probabilities"),
    ],
)
def test_make_strategy_errors(spec, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        make_strategy(spec, **kwargs)


@pytest.mark.parametrize(
    "p, pattern",
    [
        ([1, 1, 1, 1], r"p_cooperate must hold 5 probabilities \(start, CC, CD, DC, DD\), got 4"),
        ([1, 1, 1, 1, 1, 1], r"p_cooperate must hold 5 probabilities .* got 6"),
        ([1, 1, 1.5, 1, 1], r"p_cooperate\[2\] must be a probability in \[0, 1\], got 1.5"),
        ([1, -0.1, 1, 1, 1], r"p_cooperate\[1\] must be a probability in \[0, 1\]"),
        ([1, 1, 1, 1, math.nan], r"p_cooperate\[4\] must be a probability in \[0, 1\], got nan"),
    ],
)
def test_memory1_rejects_bad_probabilities(p, pattern):
    with pytest.raises(ValueError, match=pattern):
        Memory1Strategy(p)
    with pytest.raises(ValueError, match=pattern):
        make_strategy(p)


def test_memory1_needs_matrix_game_observations():
    with pytest.raises(ValueError, match=r"memory-1 strategy of a 2x2 game: it needs 5-dim one-hot obs, got \[3, 7\]"):
        TFT.action_probs(torch.zeros(3, 7))


def test_uniform_random_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"num_actions must be a positive integer \(>= 1\), got 0"):
        UniformRandom(0)


# ---------------------------------------------------------------------- zero-determinant strategies
def test_zd_with_chi_1_and_the_largest_phi_is_tit_for_tat():
    # chi = 1, phi = (P - S) / ((P - S) + (T - P)) = 1/3 in the paper's IPD: p = (1, 1 - 3 phi, 3 phi, 0).
    assert zd_strategy(1.0, 1 / 3).p_cooperate.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert torch.allclose(zd_strategy(1.0, 0.1).p_cooperate, torch.tensor([1.0, 1.0, 0.7, 0.3, 0.0]))
    totals, moves = play(zd_strategy(1.0, 1 / 3), ALLD)
    assert moves == ["CD"] + ["DD"] * 9 and totals[0, 0].tolist() == [-1.0, 2.0]


@pytest.mark.parametrize("chi", [1.0, 1.5, 2.0, 3.0, 10.0, 100.0])
def test_zd_probabilities_are_valid(chi):
    phi_max = 1 / (1 + 2 * chi)  # (P - S) / ((P - S) + chi (T - P)) with (T, R, P, S) = (2, 1, 0, -1)
    for phi in np.linspace(phi_max / 100, phi_max, 9):
        p = zd_strategy(chi, float(phi)).p_cooperate
        assert ((p >= 0) & (p <= 1)).all() and p[4] == 0 and p[0] == 1


def _stationary_payoffs(p, q, trps):
    """Long-run payoffs of memory-1 strategies p (player X) and q (player Y), own-first.

    Markov chain over (CC, CD, DC, DD) written from X's side; Y sees CD and DC swapped.
    """
    T, R, P, S = trps
    px, qy = p[1:], [q[1], q[3], q[2], q[4]]
    m = np.zeros((4, 4))
    for s in range(4):
        for ax in range(2):
            for ay in range(2):
                prob_x = px[s] if ax == 0 else 1 - px[s]
                prob_y = qy[s] if ay == 0 else 1 - qy[s]
                m[s, 2 * ax + ay] = prob_x * prob_y
    w, v = np.linalg.eig(m.T)
    pi = np.real(v[:, np.argmin(abs(w - 1))])
    pi /= pi.sum()
    return pi @ np.array([R, S, T, P]), pi @ np.array([R, T, S, P])


@pytest.mark.parametrize("trps", [(2.0, 1.0, 0.0, -1.0), (5.0, 3.0, 1.0, 0.0)])
@pytest.mark.parametrize("chi, phi_frac", [(1.0, 0.5), (2.0, 0.3), (3.0, 0.9), (7.5, 0.5)])
def test_zd_enforces_the_linear_payoff_relation(trps, chi, phi_frac):
    # Press & Dyson: against ANY memory-1 co-player, s_X - P = chi (s_Y - P).
    T, R, P, S = trps
    phi = phi_frac * (P - S) / ((P - S) + chi * (T - P))
    p = zd_strategy(chi, phi, trps=trps).p_cooperate.double().tolist()
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = [1.0] + list(rng.uniform(0.05, 0.95, 4))
        sx, sy = _stationary_payoffs(p, q, trps)
        assert sx - P == pytest.approx(chi * (sy - P), abs=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"chi": 0.5, "phi": 0.1}, ValueError, r"chi must be >= 1 \(extortion factor\), got 0.5"),
        ({"chi": math.nan, "phi": 0.1}, ValueError, r"chi must be finite, got nan"),
        ({"chi": math.inf, "phi": 0.1}, ValueError, r"chi must be finite"),
        ({"chi": None, "phi": 0.1}, TypeError, r"chi must be a finite number, got None"),
        ({"chi": 2.0, "phi": 0.0}, ValueError, r"phi must lie in \(0, 0.2\] for chi=2.0, got 0.0"),
        ({"chi": 2.0, "phi": -0.1}, ValueError, r"phi must lie in \(0, 0.2\]"),
        ({"chi": 2.0, "phi": 0.25}, ValueError, r"phi must lie in \(0, 0.2\] for chi=2.0, got 0.25"),
        ({"chi": 2.0, "phi": math.nan}, ValueError, r"phi must be finite, got nan"),
        ({"chi": 2.0, "phi": 0.1, "p_start": 1.5}, ValueError, r"p_start must be a probability in \[0, 1\], got 1.5"),
        ({"chi": 2.0, "phi": 0.1, "trps": (1, 2, 0, -1)}, ValueError, r"trps must satisfy T > R > P > S"),
        ({"chi": 2.0, "phi": 0.1, "trps": (2, 1, 0)}, ValueError, r"trps must be the 4 payoffs \(T, R, P, S\)"),
    ],
)
def test_zd_rejects_bad_parameters(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        zd_strategy(**kwargs)

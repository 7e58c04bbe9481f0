"""The batched lambda returns (paper Algorithm 1) against brute force and plain references."""

from __future__ import annotations

import time

import pytest
import torch

from social_dilemmas.baselines.estimators import (
    ESTIMATOR_FLAGS,
    advantages,
    batch_lambda_returns,
    estimator_gradient_ratio,
    td_errors,
    value_targets,
)

F64 = torch.float64


# --------------------------------------------------------------------------- references
def algorithm1_loop(r, v, discount, lam, avg, normalize, T, init_acc=None):
    """A direct transcription of the paper's Algorithm 1 on ``[B, L]`` (App. A.3)."""
    B, L = r.shape
    norm = B if normalize else 1.0
    acc = v[:, -1].clone() if init_acc is None else torch.as_tensor(init_acc, dtype=r.dtype).expand(B).clone()
    global_acc = acc.mean()
    out = torch.empty_like(r)
    for t in reversed(range(L)):
        if avg and t % T == T - 1:
            acc = global_acc.expand(B)
        acc = r[:, t] / norm + discount * ((1 - lam) * v[:, t] + lam * acc)
        global_acc = (r[:, t] + discount * ((1 - lam) * v[:, t] + lam * global_acc)).mean()
        out[:, t] = acc
    return out


def plain_gae(rewards, values, gamma, lam):
    """Ordinary GAE over one long trajectory ``[L]``, terminal at the end, no dones."""
    L = rewards.shape[-1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(L)):
        nv = values[..., t + 1] if t + 1 < L else torch.zeros_like(values[..., 0])
        delta = rewards[..., t] + gamma * nv - values[..., t]
        last = delta + gamma * lam * last
        adv[..., t] = last
    return adv


def plain_td_lambda(rewards, values, gamma, lam):
    """Ordinary TD(lambda) returns ``G_t = r_t + gamma((1-lam) V_{t+1} + lam G_{t+1})``, G_L = 0."""
    L = rewards.shape[-1]
    out = torch.zeros_like(rewards)
    g_next = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(L)):
        nv = values[..., t + 1] if t + 1 < L else torch.zeros_like(values[..., 0])
        g_next = rewards[..., t] + gamma * ((1 - lam) * nv + lam * g_next)
        out[..., t] = g_next
    return out


def brute_force_eq14(rewards, values, T):
    """Paper Eq. 13-14 with gamma = lambda = 1, element by element, on ``[B, L]``.

    A(h^b_l) = 1/B sum_{k=l}^{T m_l} R^b_k + 1/B sum_b' sum_{k > T m_l} R^b'_k
               - 1/B V(h^b_l) - 1/B sum_{b' != b} V(h^b'_{T m_l + 1})
    (0-based here: the current episode of step l ends at e = (l // T + 1) * T - 1; V beyond the
    meta-trajectory is 0.)
    """
    B, L = rewards.shape
    out = torch.zeros_like(rewards)
    for b in range(B):
        for l in range(L):
            e = (l // T + 1) * T - 1
            cur = rewards[b, l : e + 1].sum() / B
            fut = sum(rewards[bp, e + 1 :].sum() for bp in range(B)) / B
            v_now = values[b, l] / B
            v_next = sum(values[bp, e + 1] if e + 1 < L else 0.0 for bp in range(B) if bp != b) / B
            out[b, l] = cur + fut - v_now - v_next
    return out


def brute_force_td_form(rewards, values, T, normalize):
    """sum_{k=l}^{e} delta^b_k / (B or 1) + mean_b' sum_{k>e} delta^b'_k (paper App. A.3, Eq. 11-14)."""
    B, L = rewards.shape
    delta = td_errors(rewards, values, 1.0)
    out = torch.zeros_like(rewards)
    for b in range(B):
        for l in range(L):
            e = (l // T + 1) * T - 1
            out[b, l] = delta[b, l : e + 1].sum() / (B if normalize else 1) + delta[:, e + 1 :].sum(-1).mean()
    return out


def _data(shape, seed, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=dtype), torch.randn(shape, generator=g, dtype=dtype)


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("seed", range(3))
def test_coala_equals_brute_force_eq13_14(seed):
    B, M, T = 4, 3, 5
    r, v = _data((B, M * T), seed)
    got = advantages(r, v, estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
    torch.testing.assert_close(got, brute_force_eq14(r, v, T), rtol=0, atol=1e-12)
    torch.testing.assert_close(got, brute_force_td_form(r, v, T, normalize=True), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_mfos_equals_brute_force(seed):
    B, M, T = 3, 4, 2
    r, v = _data((B, M * T), seed)
    got = advantages(r, v, estimator="mfos", gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
    torch.testing.assert_close(got, brute_force_td_form(r, v, T, normalize=False), rtol=0, atol=1e-12)


def test_coala_monte_carlo_form_without_critic():
    """With V = 0 the COALA advantage is 1/B G_cur + batch-mean G_fut (Thm 3.1's weights)."""
    B, M, T = 5, 4, 3
    r, _ = _data((2, B, M * T), 7)
    got = advantages(r, torch.zeros_like(r), estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
    ep = r.reshape(2, B, M, T)
    cur = ep.flip(-1).cumsum(-1).flip(-1) / B  # own rest of the current inner episode
    ep_sums = ep.sum(-1).mean(-2)  # [2, M] batch mean of each episode's return
    fut = ep_sums.flip(-1).cumsum(-1).flip(-1)
    fut = torch.cat([fut[..., 1:], torch.zeros_like(fut[..., :1])], -1)  # episodes after m
    want = cur + fut[:, None, :, None]
    torch.testing.assert_close(got, want.reshape(r.shape), rtol=0, atol=1e-12)


@pytest.mark.parametrize("gamma,lam", [(1.0, 1.0), (0.99, 0.95), (0.9, 0.0), (0.5, 0.3)])
def test_flags_off_is_ordinary_gae(gamma, lam):
    r, v = _data((3, 4, 24), 1)
    got = advantages(r, v, estimator="batch_unaware", gamma=gamma, gae_lambda=lam, inner_episode_length=6)
    torch.testing.assert_close(got, plain_gae(r, v, gamma, lam), rtol=0, atol=1e-12)


@pytest.mark.parametrize("avg", [False, True])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("discount,lam", [(1.0, 1.0), (0.97, 0.8), (0.9, 0.0), (0.6, 1.0), (0.0, 0.5)])
@pytest.mark.parametrize("init", [None, 0.0])
def test_equals_algorithm1_loop(avg, normalize, discount, lam, init):
    B, M, T = 4, 5, 3
    r, v = _data((2, B, M * T), 11)
    got = batch_lambda_returns(
        r, v, discount=discount, lam=lam, inner_episode_length=T,
        average_future_episodes=avg, normalize_current_episode=normalize, init_acc=init,
    )
    want = torch.stack([algorithm1_loop(r[i], v[i], discount, lam, avg, normalize, T, init) for i in range(2)])
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_algorithm1_init_acc_per_trajectory():
    r, v = _data((3, 8), 4)
    init = torch.randn(3, dtype=F64)
    got = batch_lambda_returns(r, v, discount=0.9, lam=0.7, inner_episode_length=4,
                               average_future_episodes=True, normalize_current_episode=True, init_acc=init)
    torch.testing.assert_close(got, algorithm1_loop(r, v, 0.9, 0.7, True, True, 4, init), rtol=0, atol=1e-12)


@pytest.mark.parametrize("gamma,lam", [(1.0, 1.0), (0.99, 0.9), (0.8, 0.0)])
def test_value_targets_are_td_lambda(gamma, lam):
    r, v = _data((2, 3, 20), 5)
    got = value_targets(r, v, gamma=gamma, td_lambda=lam, inner_episode_length=4)
    torch.testing.assert_close(got, plain_td_lambda(r, v, gamma, lam), rtol=0, atol=1e-12)
    # lambda-return minus V is GAE with the same lambda (a classic identity).
    gae = advantages(r, v, estimator="batch_unaware", gamma=gamma, gae_lambda=lam, inner_episode_length=4)
    torch.testing.assert_close(got - v, gae, rtol=0, atol=1e-12)


def test_value_targets_with_gamma_lambda_one_are_returns_to_go():
    r, v = _data((4, 30), 6)
    got = value_targets(r, v, gamma=1.0, td_lambda=1.0, inner_episode_length=10)
    torch.testing.assert_close(got, r.flip(-1).cumsum(-1).flip(-1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("estimator", sorted(ESTIMATOR_FLAGS))
def test_meta_batch_entries_are_independent(estimator):
    r, v = _data((5, 4, 12), 8)
    base = advantages(r, v, estimator=estimator, gamma=0.99, gae_lambda=0.95, inner_episode_length=3)
    r2, v2 = r.clone(), v.clone()
    r2[2] += 100.0
    v2[2] -= 50.0
    pert = advantages(r2, v2, estimator=estimator, gamma=0.99, gae_lambda=0.95, inner_episode_length=3)
    keep = [0, 1, 3, 4]
    torch.testing.assert_close(pert[keep], base[keep], rtol=0, atol=0)
    assert not torch.allclose(pert[2], base[2])
    # and each entry equals the estimator run on that entry alone
    for i in range(5):
        alone = advantages(r[i], v[i], estimator=estimator, gamma=0.99, gae_lambda=0.95, inner_episode_length=3)
        torch.testing.assert_close(base[i], alone, rtol=0, atol=1e-12)


def test_batch_coupling_only_through_future_episodes():
    """Trajectory b' affects b only in earlier episodes (future credit), never b's last episode."""
    B, M, T = 4, 3, 5
    r, v = _data((B, M * T), 9)
    r2 = r.clone()
    r2[1] += 10.0
    for est, coupled in [("batch_unaware", False), ("coala", True), ("mfos", True)]:
        a = advantages(r, v, estimator=est, gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
        b = advantages(r2, v, estimator=est, gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
        other = [0, 2, 3]
        torch.testing.assert_close(a[other, -T:], b[other, -T:], rtol=0, atol=0)
        assert torch.allclose(a[other, : -T], b[other, : -T]) != coupled


def test_leading_dims_and_float32_long_sequence():
    """[mb, B, L] with L = 6400 (CleanUp shaping geometry): fast, float32 close to float64."""
    mb, B, M, T = 2, 8, 100, 64
    r, v = _data((mb, B, M * T), 3)
    r, v = r * 0.1, v * 0.1
    start = time.perf_counter()
    a32 = advantages(r.float(), v.float(), estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
    elapsed = time.perf_counter() - start
    a64 = advantages(r, v, estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=T)
    assert a32.dtype == torch.float32
    torch.testing.assert_close(a32.double(), a64, rtol=1e-4, atol=1e-3)
    assert elapsed < 2.0
    # extra leading dims work the same
    a4 = advantages(r.view(1, mb, B, M * T), v.view(1, mb, B, M * T), estimator="coala", gamma=1.0,
                    gae_lambda=1.0, inner_episode_length=T)
    torch.testing.assert_close(a4[0], a64, rtol=0, atol=1e-10)


def test_small_discount_does_not_overflow():
    r, v = _data((2, 3, 200), 12)
    got = advantages(r, v, estimator="coala", gamma=0.01, gae_lambda=0.5, inner_episode_length=100)
    assert torch.isfinite(got).all()
    want = algorithm1_loop(td_errors(r[0], v[0], 0.01), torch.zeros_like(r[0]), 0.005, 1.0, True, True, 100, 0.0)
    torch.testing.assert_close(got[0], want, rtol=0, atol=1e-12)


def test_nonzero_init_shifts_gae():
    """Paper Algorithm 1: starting the GAE accumulator at v[:, -1] shifts the advantages."""
    r, v = _data((3, 6), 2)
    delta = td_errors(r, v, 1.0)
    a0 = batch_lambda_returns(delta, v, discount=1.0, lam=1.0, inner_episode_length=3,
                              average_future_episodes=False, normalize_current_episode=False, init_acc=0.0)
    a1 = batch_lambda_returns(delta, v, discount=1.0, lam=1.0, inner_episode_length=3,
                              average_future_episodes=False, normalize_current_episode=False)
    torch.testing.assert_close(a1 - a0, v[:, -1:].expand_as(a0), rtol=0, atol=1e-12)


def test_gradient_ratio_coala_is_b_times_mfos():
    B = 8
    r, v = _data((2, B, 40), 13)
    kw = dict(gamma=1.0, gae_lambda=1.0, inner_episode_length=10)
    coala = estimator_gradient_ratio(r, v, estimator="coala", **kw)
    mfos = estimator_gradient_ratio(r, v, estimator="mfos", **kw)
    torch.testing.assert_close(coala, B * mfos, rtol=1e-10, atol=0)


def test_bad_arguments():
    r = torch.zeros(2, 3, 10)
    with pytest.raises(ValueError, match="multiple of inner_episode_length"):
        advantages(r, r, estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=3)
    with pytest.raises(ValueError, match="unknown estimator"):
        advantages(r, r, estimator="lola", gamma=1.0, gae_lambda=1.0, inner_episode_length=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive int"):
        advantages(r, r, estimator="coala", gamma=1.0, gae_lambda=1.0, inner_episode_length=0)
    with pytest.raises(ValueError, match="shape"):
        batch_lambda_returns(r, r[..., :5], discount=1.0, lam=1.0, inner_episode_length=5,
                             average_future_episodes=True, normalize_current_episode=True)
    with pytest.raises(ValueError, match="at least 2 dims"):
        batch_lambda_returns(torch.zeros(10), torch.zeros(10), discount=1.0, lam=1.0, inner_episode_length=5,
                             average_future_episodes=True, normalize_current_episode=True)

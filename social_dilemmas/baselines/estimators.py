"""COALA-PG, batch-unaware and M-FOS advantages, and TD(lambda) value targets (paper Algorithm 1).

Everything here is pure tensor maths on the trainer's layout ``[..., B, L]``: any number of
leading dimensions (normally the meta-batch ``[meta_batch, B, L]``), then the ``B`` parallel
trajectories that share **one** co-player, then the long time axis ``L = M * T`` (``M`` inner
episodes of ``T`` steps each). The batch mean of the COALA estimator runs over dimension ``-2``
only, so meta-batch entries never mix (as in the public pax reimplementation of COALA-PG).

The core is :func:`batch_lambda_returns`, the paper's Algorithm 1 ("batch lambda returns"),
``rlax.lambda_returns`` with two batch flags:

* ``average_future_episodes``: at the end of every inner episode the accumulator is replaced by
  the batch mean of the ordinary lambda-return of the remaining sequence, so each action is
  credited with the future inner episodes *averaged over the B trajectories*;
* ``normalize_current_episode``: the per-step input is divided by ``B``.

Conventions (decided here, see ``docs/coala.md``):

* rlax alignment inside :func:`batch_lambda_returns`: ``v[..., t]`` is the value of the *next*
  state (the state after step ``t``) and ``init_acc`` (default ``v[..., -1]``, as in the paper)
  is the bootstrap of the recursion. The friendlier wrappers below take state values
  ``values[..., t] = V(s_t)`` aligned with the rewards and do the shift themselves.
* Inner-episode ``done`` flags are ignored: the TD error of the last step of an inner episode
  bootstraps from the value of the first state of the *next* inner episode of the same
  trajectory (that is what makes the telescoping of paper Eq. 13-14 work). The end of the
  meta-trajectory is terminal (bootstrap 0) unless a ``bootstrap`` value is passed.
* The GAE call starts its accumulator at 0, not at ``v[..., -1]`` (paper App. A.3, Algorithm 1); a nonzero
  start would shift every advantage by a constant.

Flag table (paper App. A.3, Eq. 11-14):

==============  =========================  ==================================  ============================
estimator       input                      ``average_future_episodes``         ``normalize_current_episode``
==============  =========================  ==================================  ============================
COALA-PG        TD errors, disc. gamma*lam  True                                True
batch-unaware   TD errors, disc. gamma*lam  False                               False
M-FOS           TD errors, disc. gamma*lam  True                                False
value targets   rewards, discount gamma     False                               False
==============  =========================  ==================================  ============================

Vectorisation: the recursion is linear with a constant factor ``g = discount * lam``, so it is
computed segment-wise in closed form: a ``[T, T]`` triangular matrix of powers of ``g`` gives the
within-episode discounted sums of all inner episodes at once, and an ``[M, M]`` matrix carries the
accumulator across episode boundaries. Only non-negative powers of ``g`` appear, so nothing
overflows for small ``g`` or long sequences (unlike a ``g**-t`` cumulative-sum trick). Cost is
``O(L * (T + M))`` per trajectory, no Python loop over steps or episodes.
"""

from __future__ import annotations

from typing import Literal

import torch

Estimator = Literal["coala", "batch_unaware", "mfos"]

#: ``estimator -> (average_future_episodes, normalize_current_episode)`` (paper App. A.3).
ESTIMATOR_FLAGS: dict[str, tuple[bool, bool]] = {
    "coala": (True, True),
    "batch_unaware": (False, False),
    "mfos": (True, False),
}


def _check_geometry(r: torch.Tensor, inner_episode_length: int) -> tuple[int, int, int]:
    if r.dim() < 2:
        raise ValueError(f"expected a tensor [..., B, L] with at least 2 dims, got shape {list(r.shape)}")
    if not isinstance(inner_episode_length, int) or inner_episode_length < 1:
        raise ValueError(f"inner_episode_length must be a positive int, got {inner_episode_length!r}")
    b, length = r.shape[-2], r.shape[-1]
    if length % inner_episode_length != 0:
        raise ValueError(
            f"the sequence length L={length} must be a multiple of inner_episode_length T={inner_episode_length}"
        )
    return b, length // inner_episode_length, inner_episode_length


def _power_matrix(g: float, n: int, like: torch.Tensor) -> torch.Tensor:
    """``W[i, j] = g ** (j - i)`` for ``j >= i`` else 0, shape ``[n, n]`` (``0 ** 0 = 1``)."""
    idx = torch.arange(n, device=like.device)
    expo = (idx.view(1, n) - idx.view(n, 1)).to(like.dtype)
    upper = expo >= 0
    base = torch.full((n, n), float(g), dtype=like.dtype, device=like.device)
    w = torch.where(upper, base.pow(expo.clamp_min(0)), torch.zeros((), dtype=like.dtype, device=like.device))
    return w


def _reverse_scan(x: torch.Tensor, g: float, init: torch.Tensor) -> torch.Tensor:
    """``y[..., i] = sum_{j >= i} g**(j-i) x[..., j] + g**(n-i) init[...]`` along the last dim."""
    n = x.shape[-1]
    w = _power_matrix(g, n, x)  # [n, n]
    y = x @ w.transpose(0, 1)
    tail = torch.full((n,), float(g), dtype=x.dtype, device=x.device).pow(
        torch.arange(n, 0, -1, device=x.device, dtype=x.dtype)
    )
    return y + init.unsqueeze(-1) * tail


def _segment_scan(c: torch.Tensor, g: float, t_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Discounted reverse scan of ``c [..., M, T]`` within each inner episode.

    Returns ``(within [..., M, T], decay [T])`` where ``within[..., m, t] = sum_{k=t}^{T-1}
    g**(k-t) c[..., m, k]`` and ``decay[t] = g**(T-t)`` is the weight of the value entering the
    episode from its right end.
    """
    w = _power_matrix(g, t_len, c)
    within = c @ w.transpose(0, 1)
    decay = torch.full((t_len,), float(g), dtype=c.dtype, device=c.device).pow(
        torch.arange(t_len, 0, -1, device=c.device, dtype=c.dtype)
    )
    return within, decay


def batch_lambda_returns(
    r: torch.Tensor,
    v: torch.Tensor,
    *,
    discount: float,
    lam: float,
    inner_episode_length: int,
    average_future_episodes: bool,
    normalize_current_episode: bool,
    init_acc: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """The paper's Algorithm 1 on ``[..., B, L]`` tensors, vectorised.

    Args:
        r: ``[..., B, L]`` per-step inputs (rewards, or TD errors for the GAE call).
        v: ``[..., B, L]`` values of the *next* state (rlax convention: ``v[..., t]`` is the
            value after step ``t``). Only used when ``lam < 1``.
        discount: the constant per-step discount (``gamma``, or ``gamma * lambda_gae``).
        lam: the lambda of the lambda-return (``lambda_td``; 1.0 for the GAE call).
        inner_episode_length: ``T``; ``L`` must be a multiple of it.
        average_future_episodes: credit future inner episodes with the batch mean (over B).
        normalize_current_episode: divide the current-episode input by ``B``.
        init_acc: the starting accumulator ``[..., B]`` (or a scalar); ``None`` means
            ``v[..., -1]`` as printed in the paper. Pass ``0.0`` for the GAE call.

    Returns:
        ``[..., B, L]``, same dtype as ``r``. Equals the paper's backward loop exactly (up to
        floating-point summation order).
    """
    b, m, t_len = _check_geometry(r, inner_episode_length)
    if v.shape != r.shape:
        raise ValueError(f"v must have the shape of r {list(r.shape)}, got {list(v.shape)}")
    if not r.dtype.is_floating_point:
        raise ValueError(f"r must be a floating-point tensor, got {r.dtype}")
    v = v.to(r.dtype)
    if init_acc is None:
        acc0 = v[..., -1]
    else:
        acc0 = torch.as_tensor(init_acc, dtype=r.dtype, device=r.device).expand(r.shape[:-1])
    g = float(discount) * float(lam)
    norm = float(b) if normalize_current_episode else 1.0
    lead = r.shape[:-1]  # [..., B]

    # Per-step input of the recursion acc_t = c_t + g * acc_{t+1}.
    value_part = float(discount) * (1.0 - float(lam)) * v if lam != 1.0 else torch.zeros_like(r)
    c_norm = r / norm + value_part
    c_plain = r + value_part
    cn = c_norm.reshape(*lead, m, t_len)
    within, decay = _segment_scan(cn, g, t_len)  # [..., B, M, T], [T]
    g_t = g**t_len  # decay over a whole inner episode

    if average_future_episodes:
        # global_acc at the right end of episode m = batch mean of the plain lambda-return at the
        # first step of episode m+1 (the paper's global accumulator, never normalised).
        cp = c_plain.reshape(*lead, m, t_len)
        within_p, _ = _segment_scan(cp, g, t_len)
        starts_p = within_p[..., 0]  # [..., B, M]: within-episode part at each episode start
        # plain return at the start of each episode: scan over episodes with factor g**T.
        plain_start = _reverse_scan_episodes(starts_p, g_t, acc0)  # [..., B, M]
        mean_start = plain_start.mean(dim=-2, keepdim=True)  # [..., 1, M]
        mean_init = acc0.mean(dim=-1, keepdim=True)  # [..., 1]
        # value entering episode m from the right: mean plain return at start of m+1, or init.
        entering = torch.cat([mean_start[..., 1:], mean_init.unsqueeze(-1)], dim=-1)  # [..., 1, M]
        entering = entering.expand(*lead, m)
    else:
        # No averaging: one long scan of c_norm, carried across boundaries episode by episode.
        starts = within[..., 0]  # [..., B, M]
        acc_start = _reverse_scan_episodes(starts, g_t, acc0)  # flagged accumulator at starts
        entering = torch.cat([acc_start[..., 1:], acc0.unsqueeze(-1)], dim=-1)  # [..., B, M]
    out = within + entering.unsqueeze(-1) * decay
    return out.reshape(r.shape)


def _reverse_scan_episodes(starts: torch.Tensor, g_t: float, init: torch.Tensor) -> torch.Tensor:
    """``y[..., m] = sum_{j >= m} g_t**(j-m) starts[..., j] + g_t**(M-m) init``."""
    return _reverse_scan(starts, g_t, init)


# ---------------------------------------------------------------------------------------------
# Friendly wrappers on state-aligned values.


def next_values(values: torch.Tensor, bootstrap: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Shift state values ``V(s_t)`` ``[..., L]`` to next-state values ``V(s_{t+1})``.

    Inner-episode boundaries are ignored on purpose (the next state of the last step of an inner
    episode is the first state of the next one); ``bootstrap`` is ``V(s_L)`` (0: terminal).
    """
    boot = torch.as_tensor(bootstrap, dtype=values.dtype, device=values.device).expand(values.shape[:-1])
    return torch.cat([values[..., 1:], boot.unsqueeze(-1)], dim=-1)


def td_errors(
    rewards: torch.Tensor, values: torch.Tensor, gamma: float, bootstrap: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """``delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)`` with inner-episode dones ignored."""
    return rewards + gamma * next_values(values, bootstrap) - values


def advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    *,
    estimator: Estimator,
    gamma: float,
    gae_lambda: float,
    inner_episode_length: int,
    bootstrap: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    """GAE-style advantages ``[..., B, L]`` of one of the three estimators (paper App. A.3).

    ``values[..., t] = V(s_t)`` is the batch-unaware critic (paper Eq. 10), aligned with
    ``rewards``. With ``estimator="batch_unaware"`` this is ordinary GAE(gamma, lambda) over the
    whole meta-trajectory; ``"coala"`` gives paper Eq. 13-14 (exactly, for gamma = lambda = 1);
    ``"mfos"`` is COALA without the ``1/B`` on the current inner episode (paper Eq. 7).
    """
    if estimator not in ESTIMATOR_FLAGS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {sorted(ESTIMATOR_FLAGS)}")
    avg, norm = ESTIMATOR_FLAGS[estimator]
    delta = td_errors(rewards, values, gamma, bootstrap)
    return batch_lambda_returns(
        delta,
        torch.zeros_like(delta),
        discount=gamma * gae_lambda,
        lam=1.0,
        inner_episode_length=inner_episode_length,
        average_future_episodes=avg,
        normalize_current_episode=norm,
        init_acc=0.0,
    )


def value_targets(
    rewards: torch.Tensor,
    values: torch.Tensor,
    *,
    gamma: float,
    td_lambda: float,
    inner_episode_length: int,
    bootstrap: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    """Batch-unaware TD(lambda) targets of the critic (paper Eq. 10, Algorithm 1 flags off).

    The same targets serve every opponent kind and every estimator (paper App. A.2).
    """
    nv = next_values(values, bootstrap)
    return batch_lambda_returns(
        rewards,
        nv,
        discount=gamma,
        lam=td_lambda,
        inner_episode_length=inner_episode_length,
        average_future_episodes=False,
        normalize_current_episode=False,
        init_acc=nv[..., -1],
    )


def estimator_gradient_ratio(
    rewards: torch.Tensor, values: torch.Tensor, *, estimator: Estimator, gamma: float, gae_lambda: float,
    inner_episode_length: int,
) -> torch.Tensor:
    """Diagnostic of paper Fig. 12: |future-episode part| / |current-episode part| of the advantages.

    Splits the estimator's advantage into the current-inner-episode term (the within-episode
    discounted sum, scaled by ``1/B`` for COALA) and the rest, and returns the ratio of their
    mean absolute values (a scalar tensor).
    """
    avg, norm = ESTIMATOR_FLAGS[estimator]
    b, m, t_len = _check_geometry(rewards, inner_episode_length)
    delta = td_errors(rewards, values, gamma)
    full = advantages(rewards, values, estimator=estimator, gamma=gamma, gae_lambda=gae_lambda,
                      inner_episode_length=inner_episode_length)
    scale = float(b) if norm else 1.0
    cur, _ = _segment_scan((delta / scale).reshape(*delta.shape[:-1], m, t_len), gamma * gae_lambda, t_len)
    cur = cur.reshape(delta.shape)
    fut = full - cur
    return fut.abs().mean() / cur.abs().mean().clamp_min(1e-12)

"""Small functions over policy logits shared by every learner (log-probabilities, entropy, sampling)."""

from __future__ import annotations

import torch
from torch import Tensor


def log_probs_entropy(logits: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
    """Log-probability of ``actions`` and the policy entropy.

    Args:
        logits: ``[..., A]`` unnormalised log-probabilities.
        actions: ``[...]`` integer actions in ``[0, A)``.

    Returns:
        ``(log_prob [...], entropy [...])``.
    """
    if actions.shape != logits.shape[:-1]:
        raise ValueError(
            f"actions must have shape {list(logits.shape[:-1])} (logits without the last dim), "
            f"got {list(actions.shape)}"
        )
    logp = torch.log_softmax(logits, dim=-1)
    log_prob = logp.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    entropy = -(logp.exp() * logp).sum(dim=-1)
    return log_prob, entropy


def probs(logits: Tensor) -> Tensor:
    """Action probabilities ``softmax(logits)`` over the last dim."""
    return torch.softmax(logits, dim=-1)


def sample_actions(logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Sample one action per row of ``logits [..., A]`` -> int64 ``[...]``."""
    p = torch.softmax(logits.detach(), dim=-1)
    flat = p.reshape(-1, p.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(p.shape[:-1])


def sample_actions_from_uniforms(logits: Tensor, u: Tensor) -> Tensor:
    """Inverse-CDF sampling with given uniforms ``u [...]`` in ``[0, 1)`` -> int64 ``[...]``.

    Lets the caller own the randomness (e.g. per-sub-environment counter-based uniforms), so that
    a trajectory does not depend on the batch size or the device.
    """
    cdf = torch.softmax(logits.detach(), dim=-1).cumsum(dim=-1)
    a = (u.unsqueeze(-1).to(cdf.dtype) >= cdf).sum(dim=-1)
    return a.clamp_(max=logits.shape[-1] - 1)

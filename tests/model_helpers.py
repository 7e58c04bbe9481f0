"""Helpers shared by the model tests: random observations, populations with random readouts."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from social_dilemmas.models import MODEL_KINDS, PolicyValueModel, make_model

KINDS = sorted(MODEL_KINDS)
BODY_KINDS = ["gru", "hawk", "mlp"]  # kinds with randomly initialised weights
OBS_DIM, A = 5, 3


def one_hot_obs(p: int, n: int, length: int | None = None, dim: int = OBS_DIM, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = (p, n) if length is None else (p, n, length)
    return F.one_hot(torch.randint(0, dim, shape, generator=g), dim).float()


def random_obs(p: int, n: int, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(p, n, length, OBS_DIM, generator=g)


def build(kind: str, population: int = 3, seed: int = 7, randomize_readouts: bool = True, **kw) -> PolicyValueModel:
    if kind == "tabular":
        kw.setdefault("init_std", 1.0)
    m = make_model(kind, OBS_DIM, A, population=population, seed=seed, **kw)
    if randomize_readouts:
        g = torch.Generator().manual_seed(seed + 1000)
        with torch.no_grad():
            for name, prm in m.named_parameters():
                if name.startswith(("policy_", "value_")) or name == "values":
                    prm.copy_(torch.randn(prm.shape, generator=g) * 0.5)
    return m


def run_steps(m: PolicyValueModel, obs: torch.Tensor, carry, reset: torch.Tensor | None):
    logits, values = [], []
    for t in range(obs.shape[2]):
        if reset is not None:
            carry = m.reset_carry(carry, reset[:, :, t])
        lg, v, carry = m.step(obs[:, :, t], carry)
        logits.append(lg)
        values.append(v)
    return torch.stack(logits, 2), torch.stack(values, 2), carry


def assert_carry_close(c1, c2, atol=1e-5):
    assert len(c1) == len(c2)
    for a, b in zip(c1, c2):
        torch.testing.assert_close(a, b, atol=atol, rtol=1e-5)

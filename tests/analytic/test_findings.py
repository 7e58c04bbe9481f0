"""Small versions of the paper's analytic-IPD findings (§5.1, Fig. 3, 4). Slow: minutes on CPU.

Thresholds are honest margins below what these settings reach (see docs/analytic.md for the
numbers of the full figures); a run that fails them has lost the finding, not a decimal.
"""

from __future__ import annotations

import math

import pytest
import torch

from social_dilemmas.analytic.training import train_lola, train_mixed, train_shaping
from social_dilemmas.analytic.zd import fit_zd

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # (fixture: tests/conftest.py)

SEEDS, LR, GAMMA = 6, 0.03, 0.95


def _init(shape, seed):
    return torch.randn(*shape, 5, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _extortion(steps: int = 400, init=None):
    init = _init((SEEDS,), 0) if init is None else init
    return train_shaping(init, steps, naive_steps=20, naive_batch=8, gamma=GAMMA, lr=LR, seed=1, log_every=50)


def test_extortion_against_naive_learners_is_zd_like():
    h = _extortion()
    meta, naive = h.metrics["meta_return"][-1], h.metrics["naive_return"][-1]
    assert bool((meta > naive + 0.3).all()), (meta, naive)  # unfair: the shaper gets more
    assert bool((naive > 0.1).all())  # ... out of naive learners pushed into (partial) cooperation
    learned = fit_zd(torch.sigmoid(h.final)).loss
    random = fit_zd(torch.rand(64, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)).loss
    assert float(learned.median()) < 0.25 * float(random.median()), (learned, random.median())


def test_shaping_escapes_near_pure_defection():
    init = torch.full((SEEDS, 5), math.log(0.01), dtype=torch.float64)
    h = _extortion(steps=500, init=init)
    # Defecting against fresh random naive learners earns ~0.2 per round at first.
    assert float(h.metrics["meta_return"][0].median()) < 0.35
    assert float(h.metrics["meta_return"][-1].median()) > 0.6
    assert float(torch.sigmoid(h.final[:, 1]).median()) > 0.5  # now cooperates after CC


def test_two_extortion_policies_shaping_each_other_cooperate():
    ext = _extortion().final
    pairs = torch.stack((ext, ext.roll(1, dims=0)), dim=1)
    h = train_mixed(pairs, 0.0, 200, gamma=GAMMA, lr=LR, log_every=50)  # longer runs drift (docs/analytic.md)
    mutual = h.metrics["pair_returns"][..., 0, 1]
    assert float(mutual[-1].median()) > 0.8
    assert float(mutual[-1].median()) > float(mutual[0].median()) + 0.2


def test_mixed_groups_cooperate_and_pure_learning_aware_groups_defect():
    init = _init((SEEDS, 2), 3)
    kw = dict(naive_steps=10, naive_batch=4, gamma=GAMMA, lr=LR, log_every=100)
    pure = train_mixed(init, 0.0, 500, **kw).metrics["pair_returns"][-1, :, 0, 1]
    mixed = train_mixed(init, 0.25, 500, seed=4, **kw).metrics["pair_returns"][-1, :, 0, 1]
    assert float(pure.median()) < 0.2, pure
    assert float(mixed.median()) > 0.6, mixed


def test_lola_few_lookaheads_cooperate_many_extort_partial_gradient_helps():
    init = _init((SEEDS, 2), 5)
    kw = dict(gamma=GAMMA, lr=LR, log_every=100)
    one = train_lola(init, 1, 400, lr_naive=10.0, **kw).metrics["returns"][-1].mean(-1)
    ten = train_lola(init, 10, 400, **kw).metrics["returns"][-1].mean(-1)
    ten_partial = train_lola(init, 10, 400, p_naive=0.6, **kw).metrics["returns"][-1].mean(-1)
    assert float(one.median()) > 0.7, one
    assert float(ten.median()) < 0.4, ten
    assert float(ten_partial.median()) > float(ten.median()) + 0.3, (ten_partial, ten)

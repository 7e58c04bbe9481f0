"""LOLA-DiCE: the DiCE objective's derivatives, the look-ahead, and tiny runs of LOLA and naive baselines."""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.baselines.coala_ppo import evaluate
from social_dilemmas.baselines.dispatch import run
from social_dilemmas.baselines.lola_dice import (
    LolaArgs,
    _initial_opponents,
    dice_objective,
    lookahead_loss,
    magic_box,
)
from social_dilemmas.baselines.presets import preset_args
from social_dilemmas.models import make_model
from social_dilemmas.registration import make_game

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # (fixture: tests/conftest.py)


def test_magic_box():
    x = torch.tensor([0.3, -2.0], requires_grad=True, dtype=torch.float64)
    y = magic_box(x)
    assert torch.equal(y.detach(), torch.ones(2, dtype=torch.float64))
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    assert torch.allclose(g, torch.ones(2, dtype=torch.float64))
    (h,) = torch.autograd.grad(g.sum(), x)
    assert torch.allclose(h, torch.ones(2, dtype=torch.float64))  # every order is magic_box again


def _data(s=2, b=3, t=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    la = torch.randn(s, b, t, generator=g, dtype=torch.float64).requires_grad_(True)
    lb = torch.randn(s, b, t, generator=g, dtype=torch.float64).requires_grad_(True)
    r = torch.randn(s, b, t, generator=g, dtype=torch.float64)
    return la, lb, r


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_dice_first_order_is_reinforce_with_baseline(gamma):
    la, lb, r = _data()
    s, b, t = r.shape
    j = dice_objective(la, lb, r, gamma)
    torch.testing.assert_close(j.detach(), (r * gamma ** torch.arange(t, dtype=r.dtype)).sum(-1).mean(-1))
    (g,) = torch.autograd.grad(j.sum(), la)
    disc = gamma ** torch.arange(t, dtype=r.dtype)
    rtg = (r * disc).flip(-1).cumsum(-1).flip(-1)  # sum_{t >= k} gamma^t r_t
    base = r.mean(1, keepdim=True) * disc
    torch.testing.assert_close(g, (rtg - base) / b)


def test_dice_second_order_cross_term():
    la, lb, r = _data(s=1, b=2, t=3, seed=1)
    gamma = 0.8
    b, t = r.shape[1], r.shape[2]
    j = dice_objective(la, lb, r, gamma).sum()
    (ga,) = torch.autograd.grad(j, la, create_graph=True)
    disc = gamma ** torch.arange(t, dtype=r.dtype)
    base = r.mean(1) * disc  # [1, T]
    for bb in range(b):
        for k in range(t):
            (row,) = torch.autograd.grad(ga[0, bb, k], lb, retain_graph=True)
            for jj in range(t):
                want = (r[0, bb, max(k, jj):] * disc[max(k, jj):]).sum() / b
                if jj == k:
                    want = want - base[0, k] / b
                torch.testing.assert_close(row[0, bb, jj], want)
            others = [x for x in range(b) if x != bb]
            assert row[0, others].abs().max() == 0  # games are independent


def _lola_args(**kw) -> LolaArgs:
    base = dict(game="IPD-v0", meta_batch=3, batch_size=4, num_inner_episodes=2, model="mlp", naive_model="mlp",
                naive_population_size=2, iterations=2, progress=False, tensorboard=False, seed=1,
                learning_rate=0.1, optimizer="sgd", torch_threads=1)
    base.update(kw)
    return LolaArgs(**base)


def _lookahead_grads(args: LolaArgs):
    game = make_game("IPD-v0")
    ego = make_model("mlp", 5, 2, population=1, seed=3)
    naive_init = make_model("mlp", 5, 2, population=2, seed=11)
    gen = torch.Generator().manual_seed(0)
    opp, _ = _initial_opponents(args, ego, naive_init, gen)
    n = args.meta_batch * args.batch_size
    seeds = [torch.arange(n) + 100 * k for k in range(args.lola_lookahead + 1)]
    loss, info = lookahead_loss(args, game, ego, opp, seeds, torch.Generator().manual_seed(5))
    grads = torch.autograd.grad(loss, list(ego.parameters()), allow_unused=True)
    return loss, grads, info


def test_lookahead_zero_is_the_plain_policy_gradient_and_one_adds_shaping():
    loss0, g0, _ = _lookahead_grads(_lola_args(lola_lookahead=0))
    loss1, g1, info = _lookahead_grads(_lola_args(lola_lookahead=1, lola_opponent_lr=5.0))
    assert torch.isfinite(loss0) and torch.isfinite(loss1)
    assert "lola/return_first" in info
    # with K = 0 the first rollout is the same in both, so K = 1 changes the gradient only through psi_1
    diff = sum(float((a - b).abs().sum()) for a, b in zip(g0, g1) if a is not None and b is not None)
    assert diff > 0
    assert all(torch.isfinite(g).all() for g in g1 if g is not None)


def test_opponents_never_copy_oneself():
    args = _lola_args(population_size=3, p_naive=0.0, meta_batch=20)
    ego = make_model("mlp", 5, 2, population=3, seed=0)
    opp, is_naive = _initial_opponents(args, ego, None, torch.Generator().manual_seed(0))
    assert not is_naive.any()
    w = ego.fc1_w.detach()
    ow = opp.fc1_w.detach().view(3, 20, *w.shape[1:])
    for p in range(3):
        for j in range(20):
            src = [q for q in range(3) if torch.equal(ow[p, j], w[q])]
            assert src and p not in src


def test_lola_and_naive_baselines_run(tmp_path):
    res = run(_lola_args(run_dir=str(tmp_path / "lola")))
    m = res.final
    assert res.iterations_done == 2 and (tmp_path / "lola" / "checkpoint.pt").exists()
    for key in ("reward/ego", "reward/vs_naive", "lola/return_first", "loss/policy"):
        assert key in m
    ev = evaluate(tmp_path / "lola", "naive", meta_batch=2)
    assert "reward/ego" in ev
    args = preset_args("ipd-shaping-quick", "naive", iterations=2, meta_batch=2, batch_size=2, num_inner_episodes=2,
                       progress=False, tensorboard=False, torch_threads=1)
    res2 = run(args)
    assert len(res2.history) == 2 and "reward/ego" in res2.final


def test_lola_args_validation():
    with pytest.raises(ValueError, match="lola_lookahead"):
        _lola_args(lola_lookahead=-1)
    with pytest.raises(ValueError, match="lola_objective"):
        _lola_args(lola_objective="best")
    assert isinstance(preset_args("ipd-shaping", "lola-dice"), LolaArgs)


def test_lola_resume_is_bit_for_bit(tmp_path):
    full = run(_lola_args(run_dir=str(tmp_path / "a"), iterations=2, lola_eval_every=5))
    run(_lola_args(run_dir=str(tmp_path / "b"), iterations=1, lola_eval_every=5))
    rest = run(_lola_args(run_dir=str(tmp_path / "b"), iterations=2, lola_eval_every=5, resume=True))
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, rest.model.state_dict()[k]), k

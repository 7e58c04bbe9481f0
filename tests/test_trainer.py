"""Losses and the COALA trainer: centering per opponent kind, PPO/A2C losses, training runs, resume."""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.baselines.losses import (
    a2c_policy_loss,
    batch_scaling_weights,
    center_advantages,
    ppo_policy_loss,
    rescale_rewards,
    value_loss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # (fixture: tests/conftest.py)


# --------------------------------------------------------------------------- losses
def test_center_advantages_separately_per_opponent_kind():
    g = torch.Generator().manual_seed(0)
    adv = torch.randn(2, 6, 3, 4, generator=g, dtype=torch.float64) + 5.0  # [P, mb, B, L]
    is_naive = torch.tensor([[1, 1, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=torch.bool)
    out = center_advantages(adv, is_naive)
    for p in range(2):
        for grp in (is_naive[p], ~is_naive[p]):
            assert abs(out[p][grp].mean().item()) < 1e-12
            # centering only: spread unchanged
            torch.testing.assert_close(out[p][grp] - out[p][grp].mean(), adv[p][grp] - adv[p][grp].mean())
    std = center_advantages(adv, is_naive, normalize_std=True)
    for p in range(2):
        for grp in (is_naive[p], ~is_naive[p]):
            assert abs(std[p][grp].mean().item()) < 1e-12
            assert abs(std[p][grp].std(unbiased=False).item() - 1.0) < 1e-6


def test_center_advantages_agents_and_groups_do_not_mix():
    adv = torch.zeros(2, 4, 2, 3)
    is_naive = torch.tensor([[True, True, False, False]] * 2)
    base = center_advantages(adv, is_naive)
    adv2 = adv.clone()
    adv2[0, 0] += 10.0  # agent 0, a naive slot
    out = center_advantages(adv2, is_naive)
    torch.testing.assert_close(out[1], base[1])  # the other agent
    torch.testing.assert_close(out[0, 2:], base[0, 2:])  # agent slots of the same agent


def test_center_advantages_single_group_and_empty_group():
    adv = torch.randn(3, 2, 5)
    out = center_advantages(adv)  # no mask: one group
    assert abs(out.mean().item()) < 1e-6
    out2 = center_advantages(adv, torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(out, out2)
    with pytest.raises(ValueError, match="is_naive must have shape"):
        center_advantages(adv, torch.ones(4, dtype=torch.bool))


def test_batch_scaling_weights():
    is_naive = torch.tensor([True, False, True])
    assert batch_scaling_weights(is_naive, estimator="coala", batch_size=16, mode="sum").tolist() == [16, 1, 16]
    assert batch_scaling_weights(is_naive, estimator="mfos", batch_size=4, mode="sum").tolist() == [4, 1, 4]
    assert batch_scaling_weights(is_naive, estimator="batch_unaware", batch_size=16, mode="sum").tolist() == [1, 1, 1]
    assert batch_scaling_weights(is_naive, estimator="coala", batch_size=16, mode="mean").tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="batch_scaling"):
        batch_scaling_weights(is_naive, estimator="coala", batch_size=16, mode="max")  # type: ignore[arg-type]


def test_ppo_loss_equals_a2c_gradient_at_ratio_one():
    """At old == new the clipped surrogate has the vanilla policy-gradient gradient."""
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 4, 5, 2, generator=g, requires_grad=True)
    actions = torch.randint(0, 2, (2, 3, 4, 5), generator=g)
    adv = torch.randn(2, 3, 4, 5, generator=g)
    w = torch.tensor([[4.0, 1.0, 4.0], [1.0, 1.0, 1.0]])
    logp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    ppo, stats = ppo_policy_loss(logp, logp.detach(), adv, 0.2, w)
    (g1,) = torch.autograd.grad(ppo, logits, retain_graph=True)
    a2c, _ = a2c_policy_loss(logp, adv, w)
    (g2,) = torch.autograd.grad(a2c, logits)
    torch.testing.assert_close(g1, g2)
    assert stats.clip_fraction.item() == 0.0
    # the loss of each agent is its own mean: agent 1's loss does not depend on agent 0's data
    torch.testing.assert_close(a2c, -(logp * adv * w[..., None, None]).mean((1, 2, 3)).sum())


def test_ppo_clipping_stops_the_gradient():
    logp = torch.full((1, 1, 1, 4), 0.0, requires_grad=True)
    old = torch.log(torch.full((1, 1, 1, 4), 0.5))  # ratio 2 > 1 + eps
    adv = torch.tensor([[[[1.0, 1.0, -1.0, -1.0]]]])
    loss, stats = ppo_policy_loss(logp, old, adv, 0.2)
    (grad,) = torch.autograd.grad(loss, logp)
    # positive advantage & ratio above 1+eps: clipped (no gradient); negative: unclipped min term
    assert grad[..., :2].abs().sum() == 0
    assert (grad[..., 2:] != 0).all()
    assert stats.clip_fraction.item() == 1.0


def test_value_loss_clipping():
    v = torch.tensor([[[[2.0]]]], requires_grad=True)
    old = torch.tensor([[[[0.0]]]])
    tgt = torch.tensor([[[[3.0]]]])
    clipped = value_loss(v, old, tgt, 0.2)  # max((2-3)^2, (0.2-3)^2) = 7.84
    assert abs(clipped.item() - 0.5 * 7.84) < 1e-6
    (grad,) = torch.autograd.grad(clipped, v)
    assert grad.item() == 0.0  # the clipped branch dominates and is flat in v
    assert abs(value_loss(v, old, tgt, None).item() - 0.5) < 1e-6


def test_rescale_rewards():
    assert rescale_rewards(torch.tensor([2.0, -1.0]), 0.05).tolist() == pytest.approx([0.1, -0.05])


# --------------------------------------------------------------------------- the trainer
import os  # noqa: E402
import signal  # noqa: E402

import social_dilemmas.baselines.coala_ppo as coala_ppo  # noqa: E402
from social_dilemmas.baselines import checkpoint as ckpt  # noqa: E402
from social_dilemmas.baselines.coala_ppo import Args, evaluate, train, update_learner  # noqa: E402
from social_dilemmas.baselines.presets import PRESETS, preset_args, preset_values  # noqa: E402
from social_dilemmas.baselines.rollout import Rollout  # noqa: E402
from social_dilemmas.baselines.runlog import read_csv  # noqa: E402


def tiny(**kw) -> Args:
    base = dict(iterations=4, meta_batch=4, batch_size=2, num_inner_episodes=3, naive_population_size=2,
                progress=False, tensorboard=False, checkpoint_every=1, seed=3, learning_rate=3e-3,
                torch_threads=1)
    base.update(kw)
    return Args(**base)


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_train_runs_and_logs(tmp_path):
    res = train(tiny(run_dir=str(tmp_path / "run"), iterations=2))
    assert res.iterations_done == 2 and not res.interrupted
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert [r["iteration"] for r in rows] == [1, 2]
    for key in ("reward/ego", "reward/vs_naive", "ipd/ego_defect_rate", "loss/policy", "loss/value",
                "time/rollout", "time/coplayer_update", "time/learner_update", "perf/steps_per_second"):
        assert key in rows[0], key
    assert (tmp_path / "run" / "args.json").exists()
    state = ckpt.load(tmp_path / "run" / "checkpoint.pt")
    assert state["iteration"] == 2
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_resume_is_bit_for_bit(tmp_path):
    full = train(tiny(run_dir=str(tmp_path / "a")))
    half = train(tiny(run_dir=str(tmp_path / "b"), iterations=2))
    assert half.iterations_done == 2
    rest = train(tiny(run_dir=str(tmp_path / "b"), resume=True))
    assert rest.iterations_done == 4
    pa, pb = _params(full.model), _params(rest.model)
    for k in pa:
        assert torch.equal(pa[k], pb[k]), k
    ra, rb = read_csv(tmp_path / "a" / "metrics.csv"), read_csv(tmp_path / "b" / "metrics.csv")
    assert [r["iteration"] for r in rb] == [1, 2, 3, 4]
    for x, y in zip(ra, rb):
        assert x["reward/ego"] == y["reward/ego"] and x["loss/policy"] == y["loss/policy"]


def test_resume_refuses_changed_settings(tmp_path):
    train(tiny(run_dir=str(tmp_path / "c"), iterations=1))
    with pytest.raises(ValueError, match="cannot resume with different settings: learning_rate"):
        train(tiny(run_dir=str(tmp_path / "c"), resume=True, learning_rate=1.0))
    with pytest.raises(FileNotFoundError, match="resume needs a checkpoint"):
        train(tiny(run_dir=str(tmp_path / "missing"), resume=True))


def test_ctrl_c_stops_after_the_iteration_with_a_usable_checkpoint(tmp_path, monkeypatch):
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT handlers can only be installed in the main thread")
    calls = {"n": 0}
    real = coala_ppo.collect

    def interrupting_collect(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of iteration 2
        return real(*a, **kw)

    monkeypatch.setattr(coala_ppo, "collect", interrupting_collect)
    res = train(tiny(run_dir=str(tmp_path / "i")))
    assert res.interrupted and res.iterations_done == 2
    assert ckpt.load(tmp_path / "i" / "checkpoint.pt")["iteration"] == 2
    monkeypatch.setattr(coala_ppo, "collect", real)
    resumed = train(tiny(run_dir=str(tmp_path / "i"), resume=True))
    straight = train(tiny(run_dir=str(tmp_path / "s")))
    for k, v in _params(straight.model).items():
        assert torch.equal(v, _params(resumed.model)[k]), k


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = coala_ppo.value_loss

    def poisoned(*a, **kw):
        calls["n"] += 1
        out = real(*a, **kw)
        return out * float("nan") if calls["n"] > 16 else out  # 8 minibatch steps per iteration

    monkeypatch.setattr(coala_ppo, "value_loss", poisoned)
    with pytest.raises(ckpt.NonFiniteLossError, match="non-finite loss at iteration 3.*value_loss"):
        train(tiny(run_dir=str(tmp_path / "n")))
    state = ckpt.load(tmp_path / "n" / "checkpoint.pt")
    assert state["iteration"] == 2
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert len(read_csv(tmp_path / "n" / "metrics.csv")) == 2


def test_mixed_pool_population_trains_and_uses_both_estimators(tmp_path):
    res = train(tiny(run_dir=None, iterations=1, population_size=2, p_naive=0.5, meta_batch=6))
    m = res.final
    assert "reward/vs_naive" in m and "reward/vs_agents" in m
    assert 0.0 < m["pool/naive_fraction"] < 1.0
    assert "agent0/reward" in m and "agent1/reward" in m


def _random_rollout(p=2, mb=4, b=3, m=2, t=5, d=5, seed=0, is_naive=None) -> Rollout:
    g = torch.Generator().manual_seed(seed)
    length = m * t
    obs = torch.nn.functional.one_hot(torch.randint(0, d, (p, mb, b, length), generator=g), d).float()
    actions = torch.randint(0, 2, (p, mb, b, length), generator=g)
    return Rollout(
        obs=obs, actions=actions, logp=torch.full((p, mb, b, length), -0.6931471805599453),
        values=torch.zeros(p, mb, b, length), rewards=torch.randn(p, mb, b, length, generator=g),
        coplayer_rewards=torch.zeros(p, mb, b, length), coplayer_actions=None,
        is_naive=torch.ones(p, mb, dtype=torch.bool) if is_naive is None else is_naive, inner_episode_length=t,
    )


def test_agent_estimators_give_each_agent_its_own_estimator():
    """App. H.3 pools: agent 0 learns with COALA-PG, agent 1 with M-FOS, from one rollout."""
    from social_dilemmas.baselines.coala_ppo import compute_targets

    is_naive = torch.tensor([[True, False, True, False], [True, True, False, False]])
    batch = _random_rollout(m=3, is_naive=is_naive)
    kw = dict(population_size=2, p_naive=0.5, batch_scaling="sum", advantage_normalization=True)
    mixed = compute_targets(tiny(agent_estimators=("coala", "mfos"), **kw), batch)
    coala = compute_targets(tiny(estimator="coala", **kw), batch)
    mfos = compute_targets(tiny(estimator="mfos", **kw), batch)
    for got, a, b in zip(mixed, coala, mfos):
        torch.testing.assert_close(got[0], a[0])
        torch.testing.assert_close(got[1], b[1])
    assert not torch.allclose(coala[0][1], mfos[0][1])  # the two estimators differ on this data
    with pytest.raises(ValueError, match="one estimator per agent"):
        tiny(population_size=2, agent_estimators=("coala",))
    with pytest.raises(ValueError, match="agent_estimators"):
        tiny(population_size=2, agent_estimators=("coala", "lola"))


def test_naive_defection_counts_only_the_naive_slots():
    """``ipd/naive_defect_rate_*``: the naive co-players' defection, first and last inner episode."""
    import dataclasses

    from social_dilemmas.baselines.metrics import rollout_metrics

    is_naive = torch.tensor([[True, False, True, False], [False, False, True, False]])
    batch = _random_rollout(m=3, is_naive=is_naive)
    cop = torch.zeros_like(batch.actions)  # agents' slots cooperate ...
    cop[is_naive] = 1  # ... naive slots defect, except in their last inner episode
    cop[..., -5:] = torch.where(is_naive[..., None, None], 0, cop[..., -5:])
    m = rollout_metrics(tiny(population_size=2, p_naive=0.5), dataclasses.replace(batch, coplayer_actions=cop))
    assert m["ipd/naive_defect_rate_first_episode"] == 1.0 and m["ipd/naive_defect_rate_last_episode"] == 0.0
    assert m["ipd/coplayer_defect_rate_first_episode"] == pytest.approx(3 / 8)
    assert "reward/naive_coplayer" in m and "agent1/reward_vs_agents" in m
    pure = rollout_metrics(tiny(population_size=2, p_naive=0.0), dataclasses.replace(batch, coplayer_actions=cop))
    assert "ipd/naive_defect_rate_first_episode" not in pure


@pytest.mark.parametrize(("meta_batch", "nmini"), [(128, 2), (12, 4), (7, 3), (5, 5), (3, 1)])
def test_minibatch_slots_partition_the_slots_and_share_them_evenly_among_aligned_ranks(meta_batch, nmini):
    gen = torch.Generator().manual_seed(3)
    seen = []
    for _ in range(4):  # epochs
        mbs = coala_ppo.minibatch_slots(meta_batch, nmini, gen)
        flat = torch.cat(mbs)
        assert len(mbs) == nmini and sorted(flat.tolist()) == list(range(meta_batch))  # a partition
        assert {len(m) for m in mbs} <= {meta_batch // nmini, -(-meta_batch // nmini)}
        assert all(torch.equal(m, m.sort().values) for m in mbs)
        for g in range(meta_batch // nmini):  # every whole group of nmini slots feeds each minibatch once
            assert sorted(int(((m >= g * nmini) & (m < (g + 1) * nmini)).sum()) for m in mbs) == [1] * nmini
        seen.append([m.tolist() for m in mbs])
    if nmini > 1:
        assert len({str(s) for s in seen}) > 1  # drawn anew each epoch
    again = torch.Generator().manual_seed(3)
    assert [m.tolist() for m in coala_ppo.minibatch_slots(meta_batch, nmini, again)] == seen[0]


@pytest.mark.parametrize("algorithm", ["ppo", "a2c"])
def test_agents_learn_only_from_their_own_rollouts(algorithm):
    args = tiny(population_size=2, p_naive=1.0, algorithm=algorithm, model="gru")
    batch = _random_rollout()
    outs = []
    for perturb in (False, True):
        b = _random_rollout()
        if perturb:
            b.rewards[1] += 5.0  # only agent 1's data changes
            b.obs[1] = b.obs[1].flip(-1)
        model = coala_ppo.build_model(args, 5, 2)
        opt = coala_ppo.make_optimizer(args, model)
        update_learner(args, model, opt, b, torch.Generator().manual_seed(0), 1)
        outs.append(_params(model))
    del batch
    for k in outs[0]:
        assert torch.equal(outs[0][k][0], outs[1][k][0]), k  # agent 0 unchanged
    assert any(not torch.equal(outs[0][k][1], outs[1][k][1]) for k in outs[0])


def test_evaluate_against_naive_and_fixed(tmp_path):
    train(tiny(run_dir=str(tmp_path / "e"), iterations=1))
    m = evaluate(tmp_path / "e", "naive", meta_batch=2)
    assert m["pool/naive_fraction"] == 1.0 and "reward/ego" in m
    m2 = evaluate(tmp_path / "e" / "checkpoint.pt", "always_defect", meta_batch=2)
    # ALLD co-player: the ego's reward is -1 (cooperate) or 0 (defect) every step
    assert -1.0 <= m2["reward/ego"] <= 0.0
    assert m2["ipd/coplayer_defect_rate"] == 1.0


def test_presets_cover_the_paper_tables():
    for name in ("ipd-shaping", "ipd-mixed", "cleanup-shaping", "cleanup-mixed"):
        assert name in PRESETS and f"{name}-quick" in PRESETS
    ipd = preset_values("ipd-shaping", "coala-ppo")
    assert (ipd["meta_batch"], ipd["batch_size"], ipd["num_inner_episodes"], ipd["iterations"]) == (128, 16, 20, 3000)
    assert (ipd["learning_rate"], ipd["reward_rescaling"], ipd["gamma"], ipd["gae_lambda"]) == (3e-4, 0.05, 1.0, 1.0)
    assert ipd["naive_learning_rate"] == 0.005 and ipd["naive_gamma"] == 0.99
    mixed = preset_values("ipd-mixed", "mfos")
    assert (mixed["p_naive"], mixed["population_size"], mixed["estimator"]) == (0.75, 4, "mfos")
    # mixed pools weigh naive-opponent and agent-opponent trajectories alike; pure shaping sums over b
    assert mixed["batch_scaling"] == "mean" and preset_values("cleanup-mixed", "coala")["batch_scaling"] == "mean"
    assert preset_args("ipd-mixed-quick", "coala").batch_scaling == "mean"
    assert preset_args("ipd-shaping", "coala").batch_scaling == "sum"
    assert preset_args("cleanup-shaping-quick", "coala").batch_scaling == "sum"
    cm = preset_values("cleanup-mixed", "coala")
    assert (cm["algorithm"], cm["optimizer"], cm["learning_rate"]) == ("a2c", "sgd", 0.1)
    assert cm["dynamic_naive_agents"]
    assert preset_values("cleanup-mixed", "batch-unaware")["learning_rate"] == 0.03
    assert preset_values("cleanup-shaping", "mfos")["learning_rate"] == 3e-3
    assert preset_values("cleanup-shaping", "coala")["reward_rescaling"] == 0.1
    assert preset_values("cleanup-mixed", "coala-ppo")["algorithm"] == "ppo"
    args = preset_args("ipd-shaping-quick", "batch-unaware", seed=5)
    assert args.estimator == "batch_unaware" and args.seed == 5 and args.preset == "ipd-shaping-quick"
    with pytest.raises(ValueError, match="unknown preset"):
        preset_values("nope")
    with pytest.raises(ValueError, match="unknown algorithm"):
        preset_values("ipd-shaping", "ppo2")


def test_args_validation():
    with pytest.raises(ValueError, match="estimator"):
        Args(estimator="lola")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"population_size \(--population-size\) >= 2"):
        Args(p_naive=0.5, population_size=1)
    with pytest.raises(ValueError, match="meta_batch"):
        Args(meta_batch=0)
    with pytest.raises(TypeError, match="unknown option"):
        Args().replace(nope=1)


# --------------------------------------------------------------------------- slow learning checks
@pytest.mark.slow
def test_coala_beats_batch_unaware_against_naive_learners_on_a_tiny_ipd_budget():
    """Paper Fig. 5A in miniature: COALA-PPO extorts naive learners, batch-unaware falls into defection.

    16 naive learners x 8 games x 10 inner episodes, 30 iterations of the ``ipd-shaping-quick``
    preset (a few minutes on a 2-core CPU). Batch-unaware PPO converges to always-defect
    (about 0.55-0.6 per step: ALLD against a learner that drifts towards defection); COALA keeps
    the naive learners cooperating while defecting itself most of the time (seed 0: 0.75 vs 0.58
    per step over iterations 26-30, co-player defection in the last inner episode 0.74 vs 0.90;
    COALA reaches ~1.0 per step after 60 iterations).
    """
    finals = {}
    for algo in ("coala", "batch-unaware"):
        args = preset_args("ipd-shaping-quick", algo, iterations=30, meta_batch=16, seed=0, progress=False,
                           tensorboard=False, torch_threads=1)
        hist = train(args).history
        last = hist[-5:]
        finals[algo] = {k: sum(h[k] for h in last) / len(last)
                        for k in ("reward/ego", "ipd/coplayer_defect_rate_last_episode")}
    assert finals["coala"]["reward/ego"] > finals["batch-unaware"]["reward/ego"] + 0.1, finals
    # the mechanism: COALA's co-players end the meta-episode cooperating more
    assert (finals["coala"]["ipd/coplayer_defect_rate_last_episode"]
            < finals["batch-unaware"]["ipd/coplayer_defect_rate_last_episode"] - 0.1), finals


@pytest.mark.slow
def test_coala_agents_in_a_mixed_pool_climb_out_of_mutual_defection():
    """Paper Fig. 5C in miniature: COALA agents learn to cooperate with each other.

    ``ipd-mixed-quick`` with 2 agents and 16 co-player slots each, 150 iterations (about 4
    minutes on one core). The agents first fall into mutual defection (they learn to extort the
    naive learners, and each other), then climb out of it: seeds 0, 1, 2 fell to 0.12, 0.03,
    0.01 per step against each other (10-iteration means) and ended at 0.92, 0.87, 0.86 over
    iterations 141-150. With ``batch_scaling="sum"`` the climb is rare (docs/coala.md).
    """
    args = preset_args("ipd-mixed-quick", "coala", population_size=2, meta_batch=16, iterations=150, seed=0,
                       progress=False, tensorboard=False, torch_threads=1)
    assert args.batch_scaling == "mean"
    vs_agents = [h["reward/vs_agents"] for h in train(args).history]
    means = [sum(vs_agents[i:i + 10]) / 10 for i in range(0, 150, 10)]
    assert min(means) < 0.3, means  # it did fall into (near) mutual defection first
    assert means[-1] > 0.6, means  # and cooperates with the other agent at the end
    assert max(range(len(means)), key=means.__getitem__) > means.index(min(means)), means


def test_run_experiment_writes_summary_json_and_plot(tmp_path, monkeypatch):
    import json

    import social_dilemmas.baselines.figures as figures

    def fake_run(job):
        base = {"COALA-PPO": 1.0, "M-FOS": 0.5, "batch-unaware": 0.5, "LOLA-DiCE": 0.8}
        val = base[job["label"]] + job["seed"] * 0.01
        curves = {m: [val] * 12 for m in job["metrics"]}
        if job["label"] == "LOLA-DiCE":
            curves["reward/coplayer"] = [float("nan")] * 12  # a metric a run does not have
        return {**job, "curves": curves, "seconds": 0.0, "iterations_done": 12}

    monkeypatch.setattr(figures, "_one_run", fake_run)
    files = figures.run_experiment("fig5a", tmp_path, quick=True, seeds=2, iterations=12)
    data = json.loads(files[0].read_text())
    assert data["preset"] == "ipd-shaping-quick" and data["seeds"] == 2
    s = data["summary_last_10_iterations"]["COALA-PPO"]["reward/ego"]
    assert s["mean"] == pytest.approx(1.005) and s["per_seed"] == pytest.approx([1.0, 1.01])
    assert any("train coala --preset ipd-shaping-quick --seed 1" in c for c in data["commands"])
    assert "reward/coplayer" not in data["summary_last_10_iterations"]["LOLA-DiCE"]
    pytest.importorskip("matplotlib")
    assert files[1].exists() and files[1].suffix == ".png"
    # re-running one label merges into the existing file
    figures.run_experiment("fig5a", tmp_path, quick=True, seeds=1, iterations=12, labels=["M-FOS"], merge=True,
                           plot=False)
    data = json.loads(files[0].read_text())
    assert data["summary_last_10_iterations"]["M-FOS"]["reward/ego"]["per_seed"] == [0.5]
    assert len(data["summary_last_10_iterations"]["COALA-PPO"]["reward/ego"]["per_seed"]) == 2
    # each run records its command; the replaced M-FOS seed 1 leaves the list, COALA's stay
    assert all(r["command"] in data["commands"] for r in data["runs"])
    assert not any("train mfos" in c and "--seed 1" in c for c in data["commands"])
    assert any("train coala" in c and "--seed 1" in c for c in data["commands"])
    with pytest.raises(ValueError, match="labels must be"):
        figures.run_experiment("fig5a", tmp_path, labels=["COALA"], plot=False)  # not a label of fig5a
    # with run_root every run gets its own run_dir, resumed when a checkpoint is already there
    seen = []
    monkeypatch.setattr(figures, "_one_run", lambda job: seen.append(job["overrides"]) or fake_run(job))
    (tmp_path / "runs" / "m-fos" / "seed0").mkdir(parents=True)
    (tmp_path / "runs" / "m-fos" / "seed0" / "checkpoint.pt").write_bytes(b"")
    figures.run_experiment("fig5a", tmp_path, seeds=2, labels=["M-FOS"], merge=True, plot=False,
                           run_root=tmp_path / "runs")
    assert [(o["run_dir"], o["resume"]) for o in seen] == [
        (str(tmp_path / "runs" / "m-fos" / "seed0"), True), (str(tmp_path / "runs" / "m-fos" / "seed1"), False)]
    assert all("--run-dir" not in c and "--resume" not in c for c in json.loads(files[0].read_text())["commands"])


def test_run_logger_widens_the_csv_for_late_metrics(tmp_path):
    from social_dilemmas.baselines.runlog import RunLogger

    log = RunLogger(tmp_path, tensorboard=False)
    log.log(1, {"a": 1.0})
    log.log(2, {"a": 2.0, "b": 5.0})
    log.close()
    rows = read_csv(tmp_path / "metrics.csv")
    assert rows[1]["b"] == 5.0 and rows[0]["a"] == 1.0
    assert rows[0]["b"] != rows[0]["b"]  # NaN for the row written before "b" existed
    resumed = RunLogger(tmp_path, tensorboard=False, resume_from=1)
    resumed.close()
    assert [r["iteration"] for r in read_csv(tmp_path / "metrics.csv")] == [1]


def test_experiment_run_reads_every_iteration_back_from_its_run_dir_after_a_resume(tmp_path):
    from social_dilemmas.baselines.figures import _one_run

    small = {"meta_batch": 2, "batch_size": 2, "num_inner_episodes": 2, "progress": False, "tensorboard": False,
             "run_dir": str(tmp_path / "run"), "checkpoint_every": 1, "seed": 0}
    job = {"label": "COALA-PPO", "algo": "coala", "preset": "ipd-shaping-quick", "metrics": ["reward/ego"], "seed": 0}
    first = _one_run({**job, "overrides": {**small, "iterations": 2}})
    resumed = _one_run({**job, "overrides": {**small, "iterations": 3, "resume": True}})
    assert len(first["curves"]["reward/ego"]) == 2
    assert len(resumed["curves"]["reward/ego"]) == 3  # the two iterations before the resume are kept
    assert resumed["curves"]["reward/ego"][:2] == first["curves"]["reward/ego"]
    # its time counts all three iterations, not only the one run after the resume
    times = [r["time/iteration"] for r in read_csv(tmp_path / "run" / "metrics.csv")]
    assert len(times) == 3 and resumed["seconds"] == pytest.approx(sum(times))

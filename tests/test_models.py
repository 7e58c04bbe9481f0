"""Population-batched policy networks: shapes, step == sequence, init, members, gradients, errors."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from model_helpers import BODY_KINDS, KINDS, OBS_DIM, A, assert_carry_close, build, one_hot_obs, random_obs, run_steps

from social_dilemmas.models import make_model, model_class
from social_dilemmas.models.functional import log_probs_entropy, sample_actions, sample_actions_from_uniforms

# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("kind", KINDS)
def test_shapes(kind):
    p, n, length = 3, 4, 6
    m = build(kind, population=p)
    assert (m.population, m.obs_dim, m.num_actions, m.kind) == (p, OBS_DIM, A, kind)
    carry = m.initial_carry(n)
    assert isinstance(carry, tuple)
    for c in carry:
        assert c.shape[:2] == (p, n) and c.dtype == torch.float32 and not c.any()
    logits, value, carry2 = m.step(one_hot_obs(p, n), carry)
    assert logits.shape == (p, n, A) and value.shape == (p, n)
    assert [c.shape for c in carry2] == [c.shape for c in carry]
    logits, value, carry3 = m(one_hot_obs(p, n, length))
    assert logits.shape == (p, n, length, A) and value.shape == (p, n, length)
    assert [c.shape for c in carry3] == [c.shape for c in carry]
    for name, prm in m.named_parameters():
        assert prm.shape[0] == p, name
    # empty sequence: nothing computed, carry unchanged
    logits, value, carry4 = m(one_hot_obs(p, n, 0), carry2)
    assert logits.shape == (p, n, 0, A) and value.shape == (p, n, 0)
    assert_carry_close(carry4, carry2, atol=0)


def test_memoryless_carry_is_empty_and_hawk_carry_layout():
    assert build("mlp").initial_carry(2) == ()
    assert build("tabular").initial_carry(2) == ()
    h = build("hawk", population=2)
    shapes = [tuple(c.shape) for c in h.initial_carry(5)]
    assert shapes == [(2, 5, 32), (2, 5, 3, 32), (2, 5, 1)]
    assert [tuple(c.shape) for c in build("gru", population=2).initial_carry(5)] == [(2, 5, 32)]


# ----------------------------------------------------------------------------- step == sequence


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_reset", [False, True])
def test_step_equals_sequence(kind, with_reset):
    p, n, length = 3, 5, 37
    m = build(kind, population=p)
    g = torch.Generator().manual_seed(3)
    obs = random_obs(p, n, length, seed=1)
    reset = (torch.rand(p, n, length, generator=g) < 0.15) if with_reset else None
    if reset is not None:
        reset[0, 0, 0] = True  # a reset on a fresh carry
        reset[1, 1, -1] = True  # a reset on the very last step
        reset[2, 2, 1:3] = True  # consecutive resets
    # a non-trivial carry to start from
    _, _, carry0 = m(random_obs(p, n, 9, seed=2))
    l_seq, v_seq, c_seq = m(obs, carry0, reset)
    l_step, v_step, c_step = run_steps(m, obs, carry0, reset)
    torch.testing.assert_close(l_seq, l_step, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(v_seq, v_step, atol=1e-5, rtol=1e-5)
    assert_carry_close(c_seq, c_step)


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_can_be_split(kind):
    """Running [0, L) equals running [0, k) then [k, L) with the carry passed on."""
    p, n, length = 2, 3, 40
    m = build(kind, population=p)
    obs = random_obs(p, n, length, seed=4)
    reset = torch.rand(p, n, length, generator=torch.Generator().manual_seed(5)) < 0.1
    l_all, v_all, c_all = m(obs, None, reset)
    l1, v1, c1 = m(obs[:, :, :13], None, reset[:, :, :13])
    l2, v2, c2 = m(obs[:, :, 13:], c1, reset[:, :, 13:])
    torch.testing.assert_close(l_all, torch.cat([l1, l2], 2), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(v_all, torch.cat([v1, v2], 2), atol=1e-5, rtol=1e-5)
    assert_carry_close(c_all, c2)


def test_reset_at_start_equals_fresh_carry():
    m = build("hawk")
    obs = random_obs(3, 4, 12)
    _, _, carry = m(random_obs(3, 4, 5, seed=9))
    reset = torch.zeros(3, 4, 12, dtype=torch.bool)
    reset[:, :, 0] = True
    l1, v1, c1 = m(obs, carry, reset)
    l2, v2, c2 = m(obs)
    torch.testing.assert_close(l1, l2, atol=1e-6, rtol=1e-6)
    assert_carry_close(c1, c2, atol=1e-6)
    # zeroing the carry by hand is the same as resetting it
    zeroed = tuple(torch.zeros_like(c) for c in carry)
    assert_carry_close(m.reset_carry(carry, torch.ones(3, 4, dtype=torch.bool)), zeroed, atol=0)


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_sequence_gradients_match_step_loop(kind):
    """Gradients of a sequence-mode loss equal those of the same loss built from step mode."""
    m = build(kind, population=2)
    obs = random_obs(2, 3, 6)
    w = torch.randn(2, 3, 6, A + 1, generator=torch.Generator().manual_seed(1))

    def loss(lg: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return (torch.cat([lg, v.unsqueeze(-1)], -1) * w).sum()

    lg, v, _ = m(obs)
    g_seq = torch.autograd.grad(loss(lg, v), list(m.parameters()))
    lg, v, _ = run_steps(m, obs, m.initial_carry(3), None)
    g_step = torch.autograd.grad(loss(lg, v), list(m.parameters()))
    for a, b in zip(g_seq, g_step):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


# ----------------------------------------------------------------------------- initialisation


@pytest.mark.parametrize("kind", KINDS)
def test_fresh_model_plays_uniformly_with_zero_value(kind):
    m = make_model(kind, OBS_DIM, A, population=4, seed=3)
    logits, value, _ = m(random_obs(4, 6, 20))
    assert torch.all(logits == 0) and torch.all(value == 0)
    probs = torch.softmax(logits, -1)
    torch.testing.assert_close(probs, torch.full_like(probs, 1.0 / A))


@pytest.mark.parametrize("kind", KINDS)
def test_member_init_independent_of_population(kind):
    big = build(kind, population=5, seed=100, randomize_readouts=False)
    small = build(kind, population=2, seed=100, randomize_readouts=False)
    for i in range(2):
        for name, v in small.member_state(i).items():
            torch.testing.assert_close(v, big.member_state(i)[name], atol=0, rtol=0)
    # member i of seed s is member 0 of seed s + i
    single = build(kind, population=1, seed=103, randomize_readouts=False)
    for name, v in single.member_state(0).items():
        torch.testing.assert_close(v, big.member_state(3)[name], atol=0, rtol=0)


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_members_differ(kind):
    m = make_model(kind, OBS_DIM, A, population=3, seed=0)
    s0, s1 = m.member_state(0), m.member_state(1)
    differing = [k for k in s0 if not torch.equal(s0[k], s1[k])]
    assert differing and ("embed_w" in differing or "fc1_w" in differing)


def test_tabular_members_differ_only_with_init_std():
    m = make_model("tabular", OBS_DIM, A, population=2, seed=0, init_std=0.5)
    assert not torch.equal(m.table[0], m.table[1])
    with pytest.raises(ValueError, match="init_std"):
        make_model("tabular", OBS_DIM, A, init_std=-1.0)


def test_generator_reproducible():
    def params(m):
        return torch.cat([p.detach().flatten() for p in m.parameters()])

    m1 = make_model("hawk", OBS_DIM, A, population=2, generator=torch.Generator().manual_seed(5))
    m2 = make_model("hawk", OBS_DIM, A, population=2, generator=torch.Generator().manual_seed(5))
    m3 = make_model("hawk", OBS_DIM, A, population=2, generator=torch.Generator().manual_seed(6))
    assert torch.equal(params(m1), params(m2))
    assert not torch.equal(params(m1), params(m3))
    g = torch.Generator().manual_seed(5)
    a = make_model("gru", OBS_DIM, A, generator=g)
    b = make_model("gru", OBS_DIM, A, generator=g)  # the generator advanced: a different model
    assert not torch.equal(params(a), params(b))
    torch.manual_seed(1)
    c = make_model("mlp", OBS_DIM, A)
    torch.manual_seed(1)
    d = make_model("mlp", OBS_DIM, A)
    assert torch.equal(params(c), params(d))


# ----------------------------------------------------------------------------- member state


@pytest.mark.parametrize("kind", KINDS)
def test_member_state_roundtrip(kind):
    m = build(kind, population=3, seed=1)
    other = build(kind, population=2, seed=50)
    obs = random_obs(3, 4, 10)
    state = other.member_state(1)
    state_copy = {k: v.clone() for k, v in state.items()}
    m.load_member_state(2, state)
    for k, v in m.member_state(2).items():
        assert torch.equal(v, state_copy[k])
    state[next(iter(state))].add_(1.0)  # member_state returned a copy: m is unaffected
    assert torch.equal(m.member_state(2)[next(iter(state))], state_copy[next(iter(state))])
    logits, value, _ = m(obs)
    l_other, v_other, _ = other(obs[1:])  # other's member 1 sees m's member-2 observations
    torch.testing.assert_close(logits[2], l_other[1], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(value[2], v_other[1], atol=1e-6, rtol=1e-6)
    m.copy_member(0, 1)
    for k, v in m.member_state(1).items():
        assert torch.equal(v, m.member_state(0)[k])


def test_member_state_errors():
    m = build("mlp", population=2)
    with pytest.raises(IndexError):
        m.member_state(2)
    with pytest.raises(IndexError):
        m.load_member_state(-1, m.member_state(0))
    bad = m.member_state(0)
    bad.pop("fc1_w")
    with pytest.raises(KeyError, match="fc1_w"):
        m.load_member_state(1, bad)
    bad = m.member_state(0)
    bad["fc1_w"] = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="fc1_w"):
        m.load_member_state(1, bad)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_flow_and_are_independent_across_members(kind):
    m = build(kind, population=3, seed=2)
    obs = random_obs(3, 4, 25)
    reset = torch.rand(3, 4, 25, generator=torch.Generator().manual_seed(0)) < 0.1
    logits, value, _ = m(obs, None, reset)
    loss = (torch.log_softmax(logits[0], -1)[..., 0]).sum() + value[0].pow(2).sum()
    loss.backward()
    n_nonzero = 0
    for name, prm in m.named_parameters():
        assert prm.grad is not None, name
        assert torch.all(torch.isfinite(prm.grad)), name
        assert torch.all(prm.grad[1:] == 0), f"{name}: member 0's loss leaked into other members"
        n_nonzero += bool(prm.grad[0].abs().sum() > 0)
    # everything but the (zero-initialised) biases/scales should move; at least most params do
    assert n_nonzero >= len(list(m.parameters())) // 2


@pytest.mark.parametrize("kind", BODY_KINDS + ["tabular"])
def test_fresh_model_readouts_get_gradients(kind):
    m = make_model(kind, OBS_DIM, A, population=2, seed=0)
    logits, value, _ = m(one_hot_obs(2, 3, 8))
    (logits[..., 0].sum() + value.sum()).backward()
    readout = [p for n, p in m.named_parameters() if n.startswith("policy_w") or n == "table"][0]
    assert readout.grad.abs().sum() > 0


def test_hawk_long_sequence_gradients_finite():
    m = build("hawk", population=1, seed=0)
    with torch.no_grad():
        m.gate_a_b.fill_(-20.0)  # r_t -> 0, a_t -> 1: the sqrt(1 - a^2) derivative must stay bounded
    logits, value, _ = m(random_obs(1, 2, 300))
    (logits.sum() + value.sum()).backward()
    for name, prm in m.named_parameters():
        assert torch.all(torch.isfinite(prm.grad)), name


# ----------------------------------------------------------------------------- tabular / functional


def test_tabular_cooperation_logits():
    m = make_model("tabular", 5, 2, population=2, seed=0)
    theta = torch.tensor([[0.0, 1.0, -2.0, 3.0, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]])
    m.set_cooperation_logits(theta)
    torch.testing.assert_close(m.cooperation_logits(), theta)
    obs = torch.eye(5).expand(2, 5, 5)  # member p, sub-env s observes state s
    logits, _, _ = m.step(obs, ())
    torch.testing.assert_close(torch.softmax(logits, -1)[..., 0], torch.sigmoid(theta))
    torch.testing.assert_close(m.cooperation_probabilities(), torch.sigmoid(theta))
    with pytest.raises(ValueError, match="num_actions"):
        make_model("tabular", 5, 3).cooperation_logits()


def test_log_probs_entropy_matches_categorical():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, A, generator=g)
    actions = torch.randint(0, A, (2, 3, 4), generator=g)
    lp, ent = log_probs_entropy(logits, actions)
    dist = torch.distributions.Categorical(logits=logits)
    torch.testing.assert_close(lp, dist.log_prob(actions))
    torch.testing.assert_close(ent, dist.entropy())
    with pytest.raises(ValueError, match="actions"):
        log_probs_entropy(logits, actions[..., :2])


def test_sampling_helpers():
    logits = torch.tensor([[0.0, -1e9, -1e9], [-1e9, -1e9, 0.0]])
    assert sample_actions(logits, torch.Generator().manual_seed(0)).tolist() == [0, 2]
    u = torch.tensor([0.999, 0.0])
    assert sample_actions_from_uniforms(logits, u).tolist() == [0, 2]
    uniform = torch.zeros(4, 2)
    assert sample_actions_from_uniforms(uniform, torch.tensor([0.1, 0.49, 0.51, 0.99])).tolist() == [0, 0, 1, 1]


# ----------------------------------------------------------------------------- bad arguments


def test_unknown_kind_lists_kinds():
    with pytest.raises(ValueError, match="hawk.*mlp|gru.*hawk"):
        make_model("transformer", OBS_DIM, A)
    with pytest.raises(ValueError, match="unknown model kind"):
        model_class("lstm")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kwargs", [{"population": 0}, {"obs_dim": 0}, {"num_actions": -1}, {"hidden": 0}])
def test_non_positive_sizes_raise(kind, kwargs):
    args = {"obs_dim": OBS_DIM, "num_actions": A, **kwargs}
    with pytest.raises(ValueError, match="must be a positive integer"):
        make_model(kind, **args)


def test_bad_hawk_options_and_seed_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        make_model("hawk", OBS_DIM, A, hidden=30, num_heads=4)
    with pytest.raises(ValueError, match="scan_method"):
        make_model("hawk", OBS_DIM, A, scan_method="fft")
    with pytest.raises(ValueError, match="time_block"):
        make_model("hawk", OBS_DIM, A, time_block=0)
    with pytest.raises(ValueError, match="min_rad"):
        make_model("hawk", OBS_DIM, A, min_rad=0.5, max_rad=1.0)
    with pytest.raises(ValueError, match="seed or generator"):
        make_model("mlp", OBS_DIM, A, seed=1, generator=torch.Generator())
    with pytest.raises(TypeError, match="integer"):
        make_model("mlp", OBS_DIM, A, population=2.0)
    with pytest.raises(TypeError, match="Generator"):
        make_model("mlp", OBS_DIM, A, generator=3)


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_shapes_raise(kind):
    m = build(kind, population=2)
    carry = m.initial_carry(3)
    with pytest.raises(ValueError, match="obs must have shape"):
        m.step(torch.zeros(2, 3, OBS_DIM + 1), carry)
    with pytest.raises(ValueError, match="obs must have shape"):
        m.step(torch.zeros(3, 3, OBS_DIM), carry)  # wrong population
    with pytest.raises(ValueError, match="obs must have shape"):
        m(torch.zeros(2, 3, OBS_DIM))  # sequence mode needs a time dim
    with pytest.raises(ValueError, match="reset"):
        m(torch.zeros(2, 3, 4, OBS_DIM), None, torch.zeros(2, 3, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="obs must be a torch.Tensor"):
        m.step([[0.0] * OBS_DIM], carry)
    with pytest.raises(ValueError, match="batch_size"):
        m.initial_carry(0)
    if carry:
        with pytest.raises(ValueError, match="carry"):
            m.step(torch.zeros(2, 4, OBS_DIM), carry)  # carry for N=3, obs for N=4
        with pytest.raises(ValueError, match="reset mask"):
            m.reset_carry(carry, torch.zeros(2, 4, dtype=torch.bool))
        with pytest.raises(ValueError, match="carry must hold"):
            m.step(torch.zeros(2, 3, OBS_DIM), carry[:-1])


@pytest.mark.parametrize("kind", KINDS)
def test_models_pickle_and_deepcopy(kind):
    m = build(kind, population=2)
    obs = random_obs(2, 3, 6)
    for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        torch.testing.assert_close(clone(obs)[0], m(obs)[0], atol=0, rtol=0)


def test_integer_observations_are_accepted():
    m = build("mlp", population=1)
    obs = torch.zeros(1, 2, OBS_DIM, dtype=torch.int64)
    obs[..., 1] = 1
    logits, _, _ = m.step(obs, ())
    torch.testing.assert_close(logits, m.step(obs.float(), ())[0])


# ----------------------------------------------------------------------------- CUDA


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_matches_cpu(kind):
    m = build(kind, population=3, seed=4)
    obs = random_obs(3, 5, 70)
    reset = torch.rand(3, 5, 70, generator=torch.Generator().manual_seed(0)) < 0.1
    l_cpu, v_cpu, c_cpu = m(obs, None, reset)
    g = make_model(
        kind, OBS_DIM, A, population=3, seed=4, device="cuda", **({"init_std": 1.0} if kind == "tabular" else {})
    )
    g.load_state_dict(m.state_dict())
    assert g.device.type == "cuda"
    l_gpu, v_gpu, c_gpu = g(obs.cuda(), None, reset.cuda())
    torch.testing.assert_close(l_gpu.cpu(), l_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(v_gpu.cpu(), v_cpu, atol=1e-4, rtol=1e-4)
    assert_carry_close(tuple(c.cpu() for c in c_gpu), c_cpu, atol=1e-4)
    l_step, _, _ = run_steps(g, obs.cuda(), g.initial_carry(5), reset.cuda())
    torch.testing.assert_close(l_step, l_gpu, atol=1e-5, rtol=1e-5)


def test_member_view_shares_storage_and_gives_block_gradients():
    from social_dilemmas.models import member_view

    model = make_model("hawk", 3, 2, population=5, hidden=8, seed=0)
    obs = torch.randn(5, 2, 4, 3)
    full = [getattr(model, n) for n in model.param_names()]
    loss = sum(o.pow(2).sum() for o in model(obs)[:2])
    ref = torch.autograd.grad(loss, full, allow_unused=True)
    view = member_view(model, 1, 4)
    assert view.population == 3 and model.population == 5
    sub = [getattr(view, n) for n in view.param_names()]
    loss_v = sum(o.pow(2).sum() for o in view(obs[1:4])[:2])
    got = torch.autograd.grad(loss_v, sub, allow_unused=True)
    for n, g, r in zip(model.param_names(), got, ref):
        if r is None:
            assert g is None
        else:
            torch.testing.assert_close(g, r[1:4], msg=n)
    with torch.no_grad():
        model.embed_w[2].add_(1.0)  # in-place changes show through the view
    assert torch.equal(view.embed_w[1], model.embed_w[2])
    for bad in ((2, 2), (-1, 3), (0, 6)):
        with pytest.raises(IndexError, match="start"):
            member_view(model, *bad)

"""Naive learners: the batched update equals independent per-learner A2C, and they learn in the IPD."""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.coplayers.fixed import NAMED_MEMORY1
from social_dilemmas.coplayers.naive import (
    NAIVE_PRESETS,
    InnerEpisodeBatch,
    NaiveConfig,
    NaiveLearner,
    default_naive_config,
    discounted_returns,
)
from social_dilemmas.core.rng import RNG
from social_dilemmas.models import make_model
from social_dilemmas.wrappers import ShapingMetaEnv

OBS_DIM, A, T = 5, 2, 10


def random_episodes(p: int, b: int, seed: int) -> InnerEpisodeBatch:
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, OBS_DIM, (p, b, T), generator=g)
    obs = torch.nn.functional.one_hot(idx, OBS_DIM).float()
    actions = torch.randint(0, A, (p, b, T), generator=g)
    rewards = torch.randint(-1, 3, (p, b, T), generator=g).float()
    return InnerEpisodeBatch(obs, actions, rewards)


# ----------------------------------------------------------------------------- the slow reference


def reference_loss(model, obs, actions, rewards, cfg: NaiveConfig) -> torch.Tensor:
    """One learner (a population-1 model), written as plainly as possible: step mode, Python loops."""
    b, t = actions.shape
    carry = model.initial_carry(b)
    logits, values = [], []
    for k in range(t):
        lg, v, carry = model.step(obs[None, :, k], carry)
        logits.append(lg[0])
        values.append(v[0])
    logits, values = torch.stack(logits, 1), torch.stack(values, 1)  # [B, T, A], [B, T]
    r = rewards * cfg.reward_rescaling
    returns = torch.zeros_like(r)
    running = torch.zeros(b)
    for k in reversed(range(t)):
        running = r[:, k] + cfg.discount * running
        returns[:, k] = running
    logp = torch.log_softmax(logits, -1).gather(-1, actions[..., None])[..., 0]
    adv = (returns - values).detach()
    if cfg.normalize_advantages:
        adv = (adv - adv.mean()) / (adv.std(correction=0) + 1e-8)
    ent = -(torch.softmax(logits, -1) * torch.log_softmax(logits, -1)).sum(-1).mean()
    return -(logp * adv).mean() + cfg.value_coef * 0.5 * ((values - returns) ** 2).mean() - cfg.entropy_coef * ent


def reference_learners(learner: NaiveLearner):
    """One independent network + torch optimiser per learner, loaded with the learner's parameters."""
    cfg = learner.config
    refs = []
    for j in range(learner.meta_batch):
        m = make_model(cfg.model, OBS_DIM, A, population=1, hidden=cfg.hidden, seed=123, **dict(cfg.model_kwargs))
        m.load_member_state(0, learner.model.member_state(j))
        if cfg.optimizer == "adam":
            opt = torch.optim.Adam(m.parameters(), lr=cfg.learning_rate, eps=cfg.adam_eps, betas=cfg.adam_betas)
        else:
            opt = torch.optim.SGD(m.parameters(), lr=cfg.learning_rate)
        refs.append((m, opt))
    return refs


def reference_update(refs, episodes: InnerEpisodeBatch, cfg: NaiveConfig, active=None) -> None:
    for j, (m, opt) in enumerate(refs):
        if active is not None and not bool(active[j]):
            continue
        opt.zero_grad()
        loss = reference_loss(m, episodes.obs[j], episodes.actions[j], episodes.rewards[j], cfg)
        loss.backward()
        if cfg.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(m.parameters(), cfg.max_grad_norm)
        opt.step()


def assert_same_params(learner: NaiveLearner, refs, atol: float = 2e-5) -> None:
    for j, (m, _) in enumerate(refs):
        ref = m.member_state(0)
        got = learner.model.member_state(j)
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], atol=atol, rtol=1e-4, msg=f"learner {j}, parameter {k}")


@pytest.mark.parametrize(
    "kind,overrides",
    [
        ("hawk", {}),
        ("hawk", {"update_block": 2}),  # forward/backward over learner blocks [0:2], [2:3]
        ("gru", {"update_block": 1}),
        ("gru", {}),
        ("tabular", {}),
        ("mlp", {"optimizer": "sgd", "learning_rate": 0.5}),
        ("mlp", {"normalize_advantages": False, "entropy_coef": 0.01, "max_grad_norm": None, "learning_rate": 0.05}),
        ("mlp", {"max_grad_norm": 0.05, "discount": 1.0}),
    ],
)
def test_batched_update_equals_one_learner_at_a_time_reference(kind, overrides):
    torch.manual_seed(0)
    learner = NaiveLearner(OBS_DIM, A, meta_batch=3, model=kind, population_size=3, **overrides)
    refs = reference_learners(learner)
    for u in range(4):  # several steps: Adam moments and step counts matter
        ep = random_episodes(3, 4, seed=u)
        diag = learner.update(ep)
        reference_update(refs, ep, learner.config)
        assert set(diag) >= {"loss", "policy_loss", "value_loss", "entropy", "grad_norm", "coop_rate"}
        assert all(v.shape == (3,) for v in diag.values())
    assert_same_params(learner, refs)
    # the learners actually moved
    init = learner.init_model
    moved = [not torch.equal(getattr(learner.model, n)[0], getattr(init, n)[0]) for n in learner.model.param_names()]
    assert any(moved)


@pytest.mark.parametrize("update_block", [None, 1])
def test_masked_update_leaves_inactive_learners_and_their_optimiser_untouched(update_block):
    learner = NaiveLearner(OBS_DIM, A, meta_batch=3, model="mlp", population_size=3, update_block=update_block)
    refs = reference_learners(learner)
    before = {n: getattr(learner.model, n)[1].clone() for n in learner.model.param_names()}
    active = torch.tensor([True, False, True])
    for u in range(3):
        ep = random_episodes(3, 4, seed=10 + u)
        learner.update(ep, active=active)
        reference_update(refs, ep, learner.config, active)
    assert_same_params(learner, refs)
    for n, v in before.items():
        assert torch.equal(getattr(learner.model, n)[1], v)
    assert learner.optimizer.step_count.tolist() == [3, 0, 3]
    assert learner.num_updates.tolist() == [3, 0, 3]


def test_discounted_returns_match_a_loop():
    r = torch.randn(2, 3, 7)
    got = discounted_returns(r, 0.9)
    want = torch.zeros_like(r)
    acc = torch.zeros(2, 3)
    for k in reversed(range(7)):
        acc = r[..., k] + 0.9 * acc
        want[..., k] = acc
    torch.testing.assert_close(got, want)


def test_begin_meta_episode_draws_inits_per_slot_and_resets_the_optimiser():
    learner = NaiveLearner(OBS_DIM, A, meta_batch=6, model="mlp", population_size=4)
    learner.update(random_episodes(6, 2, 0))
    assert int(learner.optimizer.step_count.max()) == 1
    rng = RNG.from_seeds(torch.arange(6) * 7)
    learner.begin_meta_episode(rng)
    assert learner.optimizer.step_count.tolist() == [0] * 6
    assert float(learner.optimizer.exp_avg.abs().sum()) == 0 and float(learner.optimizer.exp_avg_sq.abs().sum()) == 0
    for j, k in enumerate(learner.init_choice.tolist()):
        assert 0 <= k < 4
        for n in learner.model.param_names():
            assert torch.equal(getattr(learner.model, n)[j], getattr(learner.init_model, n)[k])
    # the draw is a pure function of the slot's key and counter
    other = NaiveLearner(OBS_DIM, A, meta_batch=6, model="mlp", population_size=4)
    other.begin_meta_episode(rng)
    assert torch.equal(other.init_choice, learner.init_choice)
    # the 4 static inits differ from each other and come from init_seed + i
    fresh = make_model("mlp", OBS_DIM, A, population=1, seed=2).member_state(0)
    for n, v in learner.init_model.member_state(2).items():
        assert torch.equal(v, fresh[n])


def test_dynamic_initial_population_copies_agents():
    agents = make_model("mlp", OBS_DIM, A, population=2, seed=99)
    with torch.no_grad():
        agents.policy_b.add_(torch.tensor([[3.0, 0.0], [0.0, 3.0]]))
    learner = NaiveLearner(OBS_DIM, A, meta_batch=4, model="mlp")
    learner.set_initial_population(agents)
    assert learner.population_size == 2
    learner.begin_meta_episode(RNG.from_seeds(torch.arange(4)))
    for j, k in enumerate(learner.init_choice.tolist()):
        assert torch.equal(learner.model.policy_b[j], agents.policy_b[k])
    with pytest.raises(ValueError, match="architecture"):
        learner.set_initial_population(make_model("tabular", OBS_DIM, A, population=2, seed=0))


def test_config_defaults_are_table_8_and_options_are_checked():
    c = NaiveConfig()
    assert (c.model, c.learning_rate, c.adam_eps, c.discount, c.reward_rescaling, c.value_coef, c.entropy_coef,
            c.max_grad_norm, c.normalize_advantages, c.population_size, c.optimizer) == (
        "hawk", 0.005, 1e-5, 0.99, 0.05, 0.5, 0.0, 1.0, True, 10, "adam")
    assert default_naive_config("CleanUpLite-v0").reward_rescaling == 0.1
    assert default_naive_config("IPD-v0") == NAIVE_PRESETS["ipd"]
    assert NAIVE_PRESETS["cleanup-mixed"].optimizer == "sgd"
    with pytest.raises(TypeError, match="unknown naive-learner option"):
        NaiveLearner(OBS_DIM, A, 2, lr=0.1)
    with pytest.raises(ValueError, match="optimizer"):
        NaiveConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="model"):
        NaiveConfig(model="transformer")
    with pytest.raises(ValueError, match="discount"):
        NaiveConfig(discount=1.5)
    with pytest.raises(ValueError, match="meta_batch"):
        NaiveLearner(OBS_DIM, A, 0)
    assert c.update_block is None
    for bad in (0, -2, "fast", 1.5):
        with pytest.raises((ValueError, TypeError), match="update_block"):
            NaiveConfig(update_block=bad)


def test_update_blocks_follow_the_setting_and_share_the_learners_storage():
    learner = NaiveLearner(OBS_DIM, A, meta_batch=7, model="hawk", population_size=2, update_block=3)
    blocks = learner._update_blocks()
    assert [(a, b) for a, b, _ in blocks] == [(0, 2), (2, 5), (5, 7)]  # balanced, covering all learners
    for a, b, view in blocks:
        assert view.population == b - a
        assert view.embed_w.data_ptr() == learner.model.embed_w[a].data_ptr()
    assert [(a, b) for a, b, _ in NaiveLearner(OBS_DIM, A, 4)._update_blocks()] == [(0, 4)]  # default: one block
    assert [(a, b) for a, b, _ in NaiveLearner(OBS_DIM, A, 4, update_block=9)._update_blocks()] == [(0, 4)]


# ----------------------------------------------------------------------------- learning in the IPD


def _coop_rates(ego: str, *, model: str, meta_batch: int, batch_size: int, m: int, **kw) -> torch.Tensor:
    """Per-inner-episode cooperation rate of naive learners facing a deterministic memory-1 ego."""
    env = ShapingMetaEnv("IPD-v0", "naive", meta_batch=meta_batch, batch_size=batch_size, num_inner_episodes=m,
                         coplayer_kwargs={"model": model, **kw})
    p = torch.tensor(NAMED_MEMORY1[ego])
    obs = env.reset(seed=1)
    for _ in range(env.meta_episode_length):
        obs = env.step((obs @ p < 0.5).long()).obs  # the ego plays the fixed strategy deterministically
    return env.last_meta_episode_stats["coplayer_coop_rate"].mean(1)


def test_naive_learner_learns_within_a_meta_episode_fast_check():
    """Weaker default-suite check (paper hyperparameters, Hawk, M=8 inner episodes, 4 learners)."""
    torch.manual_seed(0)
    alld = _coop_rates("always_defect", model="hawk", meta_batch=4, batch_size=16, m=8)
    tft = _coop_rates("tit_for_tat", model="hawk", meta_batch=4, batch_size=16, m=8)
    assert 0.35 < float(alld[0]) < 0.65 and 0.35 < float(tft[0]) < 0.65  # starts uniform (zero readouts)
    assert float(alld[-1]) < float(alld[0]) - 0.2, alld
    assert float(tft[-1]) > float(tft[0]) + 0.1, tft


@pytest.mark.slow
@pytest.mark.parametrize("model", ["hawk", "gru"])
def test_naive_learner_defects_against_alld_and_cooperates_with_tft(model):
    """Paper scale per co-player (Table 8 defaults, B=16, M=20): a clear outcome in one meta-episode."""
    alld = _coop_rates("always_defect", model=model, meta_batch=8, batch_size=16, m=20)
    tft = _coop_rates("tit_for_tat", model=model, meta_batch=8, batch_size=16, m=20)
    assert float(alld[-1]) < 0.1, alld
    assert float(tft[-1]) > 0.85, tft

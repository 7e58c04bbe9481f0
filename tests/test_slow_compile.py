"""``--torch-compile``: the compiled learner loss, acting step and naive update agree with eager, and
a compiled training run is reproducible (slow: each compiles for tens of seconds on a CPU).

The branches the model takes under the compiler are checked eagerly, without compiling, in
``tests/test_compile_paths.py``.
"""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.baselines.coala_ppo import _compiled_minibatch_losses, minibatch_losses
from social_dilemmas.baselines.presets import preset_args
from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveConfig, NaiveLearner
from social_dilemmas.models import make_model

pytestmark = pytest.mark.slow


def test_compiled_minibatch_losses_match_eager_for_several_minibatch_sizes(one_torch_thread) -> None:
    args = preset_args("ipd-shaping-quick", "coala")
    model = make_model("hawk", 5, 2, hidden=32, seed=1)
    g = torch.Generator().manual_seed(0)
    compiled = _compiled_minibatch_losses()
    for k in (3, 5, 4):  # data-parallel ranks see minibatches of varying size
        b, length = 4, 130
        data = (torch.randn(1, k, b, length, 5, generator=g), torch.randint(0, 2, (1, k, b, length), generator=g),
                -torch.rand(1, k, b, length, generator=g), torch.randn(1, k, b, length, generator=g),
                torch.randn(1, k, b, length, generator=g), torch.randn(1, k, b, length, generator=g),
                torch.ones(1, k))
        grads = []
        terms = []
        for fn in (minibatch_losses, compiled):
            model.zero_grad(set_to_none=True)
            pg, vl, ent, kl, cf = fn(args, model, *data)
            (pg + 0.5 * vl - 0.01 * ent).backward()
            terms.append(torch.stack([pg, vl, ent, kl, cf]).detach())
            grads.append([p.grad.clone() for p in model.parameters()])
        torch.testing.assert_close(terms[1], terms[0], rtol=1e-4, atol=1e-6)
        for a, e in zip(grads[1], grads[0]):
            torch.testing.assert_close(a, e, rtol=1e-3, atol=1e-5)


def test_compiled_naive_update_and_step_match_eager(one_torch_thread) -> None:
    g = torch.Generator().manual_seed(0)
    episodes = InnerEpisodeBatch(torch.randn(6, 4, 10, 5, generator=g), torch.randint(0, 2, (6, 4, 10), generator=g),
                                 torch.rand(6, 4, 10, generator=g))
    learners = [NaiveLearner(5, 2, 6, NaiveConfig(population_size=2, torch_compile=c)) for c in (False, True)]
    assert learners[1].model.compile_step and not learners[0].model.compile_step
    with torch.no_grad():
        obs = torch.randn(6, 4, 5, generator=g)
        out = [nl.model.step(obs, nl.model.initial_carry(4)) for nl in learners]
    torch.testing.assert_close(out[1][0], out[0][0], rtol=1e-5, atol=1e-6)
    diags = [nl.update(episodes) for nl in learners]
    torch.testing.assert_close(diags[1]["loss"], diags[0]["loss"], rtol=1e-4, atol=1e-6)
    for a, e in zip(learners[1].model.parameters(), learners[0].model.parameters()):
        torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-6)


def test_compiled_training_is_reproducible(tmp_path, one_torch_thread) -> None:
    from social_dilemmas.baselines.dispatch import run

    def train() -> list[dict[str, float]]:
        args = preset_args("ipd-shaping-quick", "coala", iterations=2, meta_batch=4, batch_size=2,
                           num_inner_episodes=3, torch_compile=True, progress=False, tensorboard=False)
        return run(args).history

    first, second = train(), train()
    keys = [k for k in first[0] if not k.startswith(("time/", "perf/"))]
    assert keys
    for a, b in zip(first, second):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}

"""The expressions Hawk traces under ``torch.compile`` match the eager custom functions.

Under ``torch.compile`` (``--torch-compile``) the model swaps its hand-written autograd functions
(RMSNorm, the causal conv, the capped-derivative square root) for plain expressions the compiler
can fuse and trace with dynamic shapes, and runs sequences in fixed time blocks. These tests run
those branches eagerly (``torch.compiler.is_compiling`` patched to ``True``) and compare values and
gradients with the eager path, so they cost no compilation; the compiled trainer itself is
checked in ``tests/test_slow_compile.py``.
"""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.models import base, hawk, make_model


@pytest.fixture
def compiling(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)


def _grads(fn, *xs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    xs = [x.detach().clone().requires_grad_(True) for x in xs]
    y = fn(*xs)
    w = torch.linspace(-1.0, 1.0, y.numel()).view_as(y)
    (y * w).sum().backward()
    return y.detach(), [x.grad for x in xs]


def test_rms_norm_plain_expression_matches_custom_function(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(0)
    x, scale = torch.randn(2, 3, 5, 8, generator=g), 0.1 * torch.randn(2, 8, generator=g)
    y_eager, g_eager = _grads(base.rms_norm, x, scale)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    y_plain, g_plain = _grads(base.rms_norm, x, scale)
    torch.testing.assert_close(y_plain, y_eager)
    for a, b in zip(g_plain, g_eager):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_capped_sqrt_keeps_value_and_capped_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    # values below 1/(4 cap^2) exercise the cap (derivative 1000, not 1/(2 sqrt x))
    x = torch.tensor([0.0, 1e-9, 1e-7, 0.01, 0.5, 0.99])
    y_eager, (g_eager,) = _grads(hawk.sqrt_bound_derivative, x)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    y_plain, (g_plain,) = _grads(hawk.sqrt_bound_derivative, x)
    assert torch.equal(y_plain, y_eager)
    torch.testing.assert_close(g_plain, g_eager, rtol=1e-6, atol=0.0)
    assert g_plain[0].abs() == pytest.approx(hawk._MAX_SQRT_GRADIENT * 1.0, rel=1e-6)  # w[0] = -1


@pytest.mark.parametrize("length", [7, 150])
def test_hawk_sequence_under_compile_branches_matches_eager(compiling, length: int, monkeypatch) -> None:
    """The whole network (conv tap loop, plain norms, fixed 64-step blocks): outputs and gradients."""
    model = make_model("hawk", 5, 2, hidden=16, seed=3)
    g = torch.Generator().manual_seed(1)
    obs = torch.randn(1, 6, length, 5, generator=g)

    def run() -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        logits, values, _ = model(obs)
        (logits.square().sum() + values.sum()).backward()
        return torch.cat([logits.flatten(), values.flatten()]).detach(), [p.grad.clone() for p in model.parameters()]

    out_c, grads_c = run()
    assert model._block_length(obs) == hawk._COMPILED_CPU_BLOCK
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: False)
    out_e, grads_e = run()
    torch.testing.assert_close(out_c, out_e, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_c, grads_e):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_compiled_block_length_does_not_depend_on_batch(compiling) -> None:
    model = make_model("hawk", 5, 2, hidden=16)
    lengths = {model._block_length(torch.zeros(1, n, 200, 5)) for n in (3, 31, 33, 512)}
    assert lengths == {hawk._COMPILED_CPU_BLOCK}


def test_torch_compile_without_a_cpp_compiler_is_refused_before_writing(tmp_path, monkeypatch) -> None:
    from social_dilemmas.baselines import runtime
    from social_dilemmas.baselines.presets import preset_args

    monkeypatch.setattr(runtime.shutil, "which", lambda name: None)
    args = preset_args("ipd-shaping-quick", "coala", torch_compile=True, run_dir=str(tmp_path / "run"),
                       progress=False, tensorboard=False)
    with pytest.raises(runtime.RunSetupError, match=r"--torch-compile.*C\+\+ compiler"):
        runtime.init_learner(args)
    assert not (tmp_path / "run").exists()

"""Trainer settings, run directories, resumption and the command line refuse bad input clearly.

Classes: trainer ``Args`` (validated on construction and again when a run starts, before it
writes anything), run directories (never silently overwritten), resume exactness (warned and
recorded), the last good checkpoint after a divergence, and the small command-line cases.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.baselines import coala_ppo
from social_dilemmas.baselines.args import Args, LolaArgs
from social_dilemmas.baselines.coala_ppo import train
from social_dilemmas.baselines.naive_baseline import run_naive
from social_dilemmas.baselines.runtime import ResumeWarning, RunSetupError, args_from_checkpoint
from social_dilemmas.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**kw) -> Args:
    base = dict(iterations=2, meta_batch=2, batch_size=2, num_inner_episodes=2, naive_population_size=2,
                progress=False, tensorboard=False, checkpoint_every=1, seed=3, learning_rate=3e-3, torch_threads=1)
    base.update(kw)
    return Args(**base)


def _snapshot(run_dir):
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file()}


# ====================================================================== 5. trainer settings
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "field, value, exc, words",
    [
        ("clip_eps", -1, ValueError, ["clip_eps (--clip-eps) must be > 0, got -1"]),
        ("clip_eps", 0.0, ValueError, ["--clip-eps", "> 0"]),
        ("max_grad_norm", -1, ValueError, ["--max-grad-norm", "> 0", "None"]),
        ("learning_rate", INF, ValueError, ["--learning-rate", "> 0", "finite"]),
        ("learning_rate", 1e39, ValueError, ["--learning-rate", "float32"]),
        ("learning_rate", 0, ValueError, ["--learning-rate", "> 0"]),
        ("reward_rescaling", NAN, ValueError, ["--reward-rescaling", "finite"]),
        ("reward_rescaling", -0.05, ValueError, ["--reward-rescaling", "> 0"]),
        ("torch_threads", -2, ValueError, ["--torch-threads", "[0, 1024]"]),
        ("torch_threads", 1.5, TypeError, ["--torch-threads", "integer"]),
        ("hidden", 0, ValueError, ["--hidden", "[1, 65536]"]),
        ("p_naive", "0.5", TypeError, ["--p-naive", "[0, 1]"]),
        ("p_naive", 1.5, ValueError, ["--p-naive", "[0, 1]"]),
        ("gamma", 1.01, ValueError, ["--gamma", "[0, 1]"]),
        ("td_lambda", -0.1, ValueError, ["--td-lambda", "[0, 1]"]),
        ("gae_lambda", NAN, ValueError, ["--gae-lambda", "[0, 1]"]),
        ("adam_eps", 0, ValueError, ["--adam-eps", "> 0"]),
        ("value_coef", -1, ValueError, ["--value-coef", ">= 0"]),
        ("entropy_coef", INF, ValueError, ["--entropy-coef", "finite"]),
        ("iterations", 0, ValueError, ["--iterations", "positive"]),
        ("iterations", 2**40, ValueError, ["--iterations", "2147483647"]),
        ("meta_batch", 2**40, ValueError, ["--meta-batch", "2147483647"]),
        ("batch_size", "16", TypeError, ["--batch-size", "integer"]),
        ("num_inner_episodes", True, TypeError, ["--num-inner-episodes", "integer"]),
        ("checkpoint_every", 0, ValueError, ["--checkpoint-every", "positive"]),
        ("seed", -1, ValueError, ["--seed", "[0, 4294967295]"]),
        ("seed", 2**40, ValueError, ["--seed", "[0, 4294967295]"]),
        ("device", "cuda:7", ValueError, ["--device", "this machine has: cpu"]),
        ("device", "meta", ValueError, ["--device", "this machine has"]),
        ("game", "IPD", ValueError, ["--game", "IPD-v0", "CoinGame-v0"]),
        ("game_kwargs", "max_steps=5", TypeError, ["--game-kwargs", "JSON object"]),
        ("history", ("prev_mood",), ValueError, ["--history", "prev_own_action"]),
        ("model", "transformer", ValueError, ["--model", "'hawk'"]),
        ("naive_model", "lstm", ValueError, ["--naive-model", "'gru'"]),
        ("estimator", "lola", ValueError, ["--estimator", "'coala'"]),
        ("algorithm", "dqn", ValueError, ["--algorithm", "'ppo'", "'a2c'"]),
        ("optimizer", "adamw", ValueError, ["--optimizer", "'adam'", "'sgd'", "did you mean 'adam'"]),
        ("naive_optimizer", 1, ValueError, ["--naive-optimizer", "'sgd'"]),
        ("batch_scaling", "max", ValueError, ["--batch-scaling", "'sum'"]),
        ("naive_learning_rate", -1, ValueError, ["--naive-learning-rate", "> 0"]),
        ("naive_gamma", 2, ValueError, ["--naive-gamma", "[0, 1]"]),
        ("naive_reward_rescaling", NAN, ValueError, ["--naive-reward-rescaling", "finite"]),
        ("naive_population_size", 0, ValueError, ["--naive-population-size", "positive"]),
        ("population_size", 0, ValueError, ["--population-size", "positive"]),
        ("ppo_nepochs", 0, ValueError, ["--ppo-nepochs", "positive"]),
        ("clip_value", "yes", TypeError, ["--clip-value", "True or False"]),
        ("resume", 1, TypeError, ["--resume", "True or False"]),
        ("overwrite", "true", TypeError, ["--overwrite", "True or False"]),
        ("tensorboard", "auto", TypeError, ["--tensorboard", "True or False", "None"]),
        ("run_dir", "", ValueError, ["--run-dir", "non-empty"]),
        ("run_dir", 5, TypeError, ["--run-dir", "string"]),
        ("algo", "", ValueError, ["--algo", "non-empty"]),
    ],
)
def test_every_args_field_is_checked_on_construction_and_replace(field, value, exc, words):
    for build in (lambda: Args(**{field: value}), lambda: Args().replace(**{field: value})):
        with pytest.raises(exc) as e:
            build()
        for w in words:
            assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("lola_lookahead", -1, ["--lola-lookahead", "[0, 64]"]),
        ("lola_opponent_lr", 0, ["--lola-opponent-lr", "> 0"]),
        ("lola_objective", "mean", ["--lola-objective", "'final'"]),
        ("lola_eval_every", 0, ["--lola-eval-every", "positive"]),
    ],
)
def test_lola_fields_are_checked_too(field, value, words):
    with pytest.raises(ValueError) as e:
        LolaArgs(**{field: value})
    for w in words:
        assert w in str(e.value)


def test_cross_field_checks_name_both_fields():
    with pytest.raises(ValueError, match=r"resume \(--resume\) and overwrite \(--overwrite\)"):
        Args(resume=True, overwrite=True)
    with pytest.raises(ValueError, match=r"meta_batch \(--meta-batch\) = 1 must be >= ppo_nminibatches"):
        Args(meta_batch=1, ppo_nminibatches=2)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("meta_batch", 0, "meta_batch (--meta-batch)"),
    ("ppo_nminibatches", 5, "ppo_nminibatches"),  # cross-field: above meta_batch 2
    ("learning_rate", NAN, "learning_rate (--learning-rate)"),
])
def test_fields_assigned_after_construction_are_checked_when_the_run_starts(tmp_path, field, value, words):
    args = tiny(run_dir=str(tmp_path / "r"))
    setattr(args, field, value)
    with pytest.raises(ValueError, match=re.escape(words)):
        train(args)
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_lola_fields_assigned_after_construction_are_checked_when_the_run_starts():
    from social_dilemmas.baselines.lola_dice import train_lola  # noqa: PLC0415

    args = LolaArgs(**{**tiny().to_dict(), "history": ()})
    args.lola_lookahead = -1
    with pytest.raises(ValueError, match="lola_lookahead"):
        train_lola(args)


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    a = Args(iterations=np.int64(3), learning_rate=np.float32(0.5), hidden=np.int32(8))
    assert type(a.iterations) is int and type(a.learning_rate) is float and a.hidden == 8
    json.dumps(a.to_dict())  # still serialisable into args.json


def _flat(text: str) -> str:
    """Console text without box drawing and line breaks (tyro frames its errors)."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


@pytest.mark.parametrize("flag, value, words", [
    ("--clip-eps", "-1", ["clip_eps (--clip-eps) must be > 0"]),
    ("--max-grad-norm", "-1", ["--max-grad-norm", "> 0"]),
    ("--torch-threads", "-2", ["--torch-threads", "[0, 1024]"]),
    ("--hidden", "0", ["--hidden", "[1, 65536]"]),
    ("--p-naive", "abc", ["--p-naive"]),
    ("--game-kwargs", "{bad json", ["--game-kwargs"]),
    ("--game-kwargs", "[1, 2]", ["game_kwargs (--game-kwargs)", "JSON object"]),
    ("--run-dir", "", ["--run-dir", "non-empty"]),
    ("--device", "cuda:7", ["--device", "this machine has: cpu"]),
])
def test_the_train_command_refuses_bad_settings_before_writing_anything(tmp_path, capsys, flag, value, words):
    if flag == "--device" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    run_dir = tmp_path / "r"
    argv = ["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--iterations", "1",
            "--no-progress", "--tensorboard", "False", flag, value]
    with pytest.raises(SystemExit) as e:
        main(argv)
    shown = _flat(f"{e.value.code} {capsys.readouterr().err}")
    for w in words:
        assert w in shown, (w, shown)
    assert not run_dir.exists()


# ====================================================================== 6. run directories
def test_an_existing_run_is_refused_without_resume_and_left_intact(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir)))
    before = _snapshot(run_dir)
    with pytest.raises(FileExistsError) as e:
        train(tiny(run_dir=str(run_dir), seed=4))
    msg = str(e.value)
    for w in ("run_dir (--run-dir)", "already holds a run", "iteration 2", "metrics.csv", "--resume", "--overwrite"):
        assert w in msg, w
    assert _snapshot(run_dir) == before


def test_overwrite_replaces_the_run_and_keeps_other_files(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=2))
    (run_dir / "notes.txt").write_text("mine")
    res = train(tiny(run_dir=str(run_dir), iterations=1, overwrite=True))
    assert res.iterations_done == 1
    assert ckpt.load(run_dir)["iteration"] == 1
    assert (run_dir / "notes.txt").read_text() == "mine"
    assert len((run_dir / "metrics.csv").read_text().strip().splitlines()) == 2  # header + iteration 1


def test_a_run_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"run_dir \(--run-dir\) .* is a file"):
        train(tiny(run_dir=str(f)))
    assert f.read_text() == "x"


def test_resuming_to_fewer_iterations_than_the_checkpoint_is_refused_and_rewrites_nothing(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=2))
    before = _snapshot(run_dir)
    with pytest.raises(RunSetupError) as e:
        train(tiny(run_dir=str(run_dir), iterations=1, resume=True))
    for w in ("iterations (--iterations) = 1", "checkpoint", "(2)", "--iterations >= 2"):
        assert w in str(e.value), w
    assert _snapshot(run_dir) == before


def test_the_naive_baseline_refuses_resume_and_existing_runs(tmp_path):
    with pytest.raises(RunSetupError, match=r"resume \(--resume\).*nothing to resume"):
        run_naive(tiny(algo="naive", run_dir=str(tmp_path / "n"), resume=True))
    run_naive(tiny(algo="naive", run_dir=str(tmp_path / "n"), iterations=1))
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_naive(tiny(algo="naive", run_dir=str(tmp_path / "n"), iterations=1))


@pytest.mark.parametrize("argv_tail, words", [
    (["--iterations", "2"], ["already holds a run", "--resume", "--overwrite"]),
    (["--resume", "--iterations", "0"], ["--iterations", "positive"]),
])
def test_the_train_command_surfaces_run_dir_refusals(tmp_path, capsys, argv_tail, words):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=1))
    argv = ["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--meta-batch", "2",
            "--batch-size", "2", "--num-inner-episodes", "2", "--no-progress", "--tensorboard", "False", *argv_tail]
    with pytest.raises(SystemExit) as e:
        main(argv)
    shown = _flat(f"{e.value.code} {capsys.readouterr().err}")
    for w in words:
        assert w in shown, (w, shown)


def test_train_naive_resume_on_the_command_line_is_refused(tmp_path):
    argv = ["train", "naive", "--preset", "ipd-shaping-quick", "--run-dir", str(tmp_path / "n"), "--resume",
            "--no-progress", "--tensorboard", "False"]
    with pytest.raises(SystemExit, match="nothing to resume"):
        main(argv)


# ====================================================================== 7. checkpoints through the trainer
def test_a_checkpoint_from_a_newer_package_names_its_unknown_settings(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=1))
    state = ckpt.load(run_dir)
    state["args"]["warp_factor"] = 9
    state["package_version"] = "9.0.0"
    ckpt.save_atomic(state, run_dir / "checkpoint.pt")
    with pytest.raises(ckpt.CheckpointError) as e:
        coala_ppo.load_model(run_dir)
    for w in (str(run_dir / "checkpoint.pt"), "warp_factor", "9.0.0", "upgrade"):
        assert w in str(e.value), w
    with pytest.raises(ckpt.CheckpointError, match="warp_factor"):
        args_from_checkpoint(state)


@pytest.mark.parametrize("argv_tail, words", [
    (["--device", "cuda:7"], ["device", "this machine has: cpu"]),
    (["--episodes", "0"], ["episodes", "positive"]),
    (["--seed", "-1"], ["seed", "non-negative"]),
])
def test_eval_refuses_bad_options_up_front(tmp_path, argv_tail, words):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=1))
    with pytest.raises(SystemExit) as e:
        main(["eval", str(run_dir), *argv_tail])
    for w in words:
        assert w in str(e.value)


def test_eval_of_a_damaged_checkpoint_names_the_file(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=1))
    path = run_dir / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SystemExit) as e:
        main(["eval", str(run_dir)])
    assert str(path) in str(e.value) and "corrupt or truncated" in str(e.value)


# ====================================================================== 8. last good checkpoint
def test_after_a_divergence_the_last_checkpoint_holds_finite_weights(tmp_path, monkeypatch):
    real = coala_ppo.update_learner
    run_dir = tmp_path / "run"

    def diverging(args, model, optimizer, batch, generator, iteration, *rest, **kw):
        out = real(args, model, optimizer, batch, generator, iteration, *rest, **kw)
        if iteration == 3:  # a step that leaves the weights infinite while its loss was finite
            with torch.no_grad():
                next(model.parameters()).fill_(float("inf"))
        return out

    monkeypatch.setattr(coala_ppo, "update_learner", diverging)
    with pytest.raises(ckpt.NonFiniteLossError) as e:
        train(tiny(run_dir=str(run_dir), iterations=4))
    assert "after iteration 3" in str(e.value) and "last good checkpoint (iteration 2)" in str(e.value)
    state = ckpt.load(run_dir)
    assert state["iteration"] == 2
    assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())
    monkeypatch.setattr(coala_ppo, "update_learner", real)
    assert train(tiny(run_dir=str(run_dir), iterations=4, resume=True)).iterations_done == 4


# ====================================================================== 9. resume exactness
def test_resuming_with_another_thread_count_warns_and_is_recorded(tmp_path):
    run_dir = tmp_path / "run"
    train(tiny(run_dir=str(run_dir), iterations=1, torch_threads=1))
    info = json.loads((run_dir / "run_info.json").read_text())
    assert info["runtime"]["torch_threads"] == 1 and info["resumes"] == []
    with pytest.warns(ResumeWarning, match=r"torch_threads 1 -> 2.*not bit-for-bit"):
        train(tiny(run_dir=str(run_dir), iterations=2, torch_threads=2, resume=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)  # same threads again: exact, no warning
        train(tiny(run_dir=str(run_dir), iterations=3, torch_threads=2, resume=True))
    resumes = json.loads((run_dir / "run_info.json").read_text())["resumes"]
    assert [r["iteration"] for r in resumes] == [1, 2]
    assert resumes[0]["changed"] == {"torch_threads": [1, 2]} and not resumes[0]["bit_exact"]
    assert resumes[1]["changed"] == {} and resumes[1]["bit_exact"]


def test_tensorboard_holds_each_iteration_once_after_a_crash_and_resume(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp_path / "run"
    real = coala_ppo.collect
    calls = {"n": 0}

    def crashing(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("killed")  # after iteration 3 was logged but not checkpointed
        return real(*a, **kw)

    monkeypatch.setattr(coala_ppo, "collect", crashing)
    with pytest.raises(RuntimeError, match="killed"):
        train(tiny(run_dir=str(run_dir), iterations=4, checkpoint_every=2, tensorboard=True))
    monkeypatch.setattr(coala_ppo, "collect", real)
    train(tiny(run_dir=str(run_dir), iterations=4, checkpoint_every=2, tensorboard=True, resume=True))
    acc = EventAccumulator(str(run_dir / "tb"))
    acc.Reload()
    tag = next(t for t in acc.Tags()["scalars"] if t.endswith("iteration"))
    assert [e.value for e in acc.Scalars(tag)] == [1, 2, 3, 4]  # each iteration once, in order


# ====================================================================== 10. small command-line cases
@pytest.mark.parametrize("argv, words", [
    (["demo", "--player0", "titfortat"], ["--player0", "did you mean 'tit_for_tat'"]),
    (["demo", "--player1", "nope"], ["--player1", "'always_defect'"]),
    (["bench", "IPD-v0", "--device", "cuda:7"], ["--device", "this machine has: cpu"]),
    (["bench", "IPD-v0", "--device", "meta"], ["--device", "this machine has: cpu"]),
])
def test_small_command_line_cases_name_the_option(argv, words):
    with pytest.raises(SystemExit) as e:
        main(argv)
    for w in words:
        assert w in str(e.value)


def test_reproduce_refuses_an_out_path_that_is_a_file(tmp_path):
    f = tmp_path / "out.png"
    f.write_text("x")
    with pytest.raises(SystemExit, match=r"--out .* is a file"):
        main(["reproduce", "fig3a", "--out", str(f)])
    assert f.read_text() == "x"

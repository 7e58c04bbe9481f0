"""The social-dilemmas command: list, demo, bench, train, eval, their reports and their errors."""

from __future__ import annotations

import json

import pytest

from social_dilemmas import registered_ids
from social_dilemmas.cli import main


def test_list_prints_every_registered_id_with_a_description(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    for env_id in registered_ids():
        matching = [ln for ln in lines if ln.split()[0] == f"social_dilemmas/{env_id}"]
        assert len(matching) == 1, env_id
        assert len(matching[0].split(maxsplit=1)) == 2, f"{env_id} has no description"


def test_bench_prints_one_json_line_per_batch_size(capsys, tmp_path):
    out = tmp_path / "bench.json"
    argv = ["bench", "IPD-v0", "--batch", "1,16", "--steps", "5", "--repeats", "2", "--out", str(out), "--json"]
    assert main(argv) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [r["batch_size"] for r in lines] == [1, 16]
    for r in lines:
        assert r["env_steps_per_s"] > 0
        assert r["agent_steps_per_s"] == pytest.approx(2 * r["env_steps_per_s"])
        assert r["device"] == "cpu"
    assert json.loads(out.read_text()) == lines


def test_bench_prints_an_aligned_table(capsys):
    assert main(["bench", "IPD-v0", "--batch", "1,16", "--steps", "5", "--repeats", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].split() == ["batch", "env-steps/s", "agent-steps/s", "warm-up", "s"]
    assert set(lines[2]) <= {"-", " "}
    rows = [ln.split() for ln in lines[3:]]
    assert [r[0] for r in rows] == ["1", "16"]
    assert all(float(r[2]) == pytest.approx(2 * float(r[1]), rel=0.01) for r in rows)
    # right-aligned numbers: every row ends at the header's width
    assert len({len(ln) for ln in lines[1:]}) == 1


def test_version(capsys):
    import social_dilemmas

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"social-dilemmas {social_dilemmas.__version__}"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bench", "NoSuchGame-v0"], "unknown env id"),
        (["bench", "IPD-v1"], "did you mean 'IPD-v0'"),
        (["trian"], "did you mean 'train'"),
        (["reproduce", "fig6a"], "did you mean 'fig6'"),
        (["train", "coala", "--preset", "ipd-shaping-quik"], "did you mean 'ipd-shaping-quick'"),
        (["train", "coal", "--preset", "ipd-shaping-quick"], "did you mean 'coala'"),
        (["train", "coala"], "missing --preset"),
        (["bench", "IPD-v0", "--batch", "0,4"], "--batch"),
        (["bench", "IPD-v0", "--batch", "x"], "--batch"),
        (["bench", "IPD-v0", "--device", "tpu"], "--device"),
        (["reproduce", "no-such-figure"], "unknown figure"),
    ],
)
def test_bad_arguments_exit_with_a_message(argv, needle):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert needle in str(e.value)


def test_demo_plays_a_full_match(capsys):
    assert main(["demo", "--player0", "always_cooperate", "--player1", "always_defect"]) == 0
    out = capsys.readouterr().out
    # ALLC vs ALLD over the IPD's 10 rounds: S = -1 and T = 2 every round.
    assert "total: player_0 -10, player_1 +20" in out
    assert "env-steps/s" in out


TINY = ["--iterations", "1", "--meta-batch", "2", "--batch-size", "2", "--num-inner-episodes", "2", "--no-progress",
        "--tensorboard", "False"]


def test_train_then_resume_then_eval(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--json", *TINY]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["iterations_done"] == 1 and (run_dir / "checkpoint.pt").exists()
    resumed = ["--iterations", "2", *TINY[2:]]
    argv = ["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--resume", "--json",
            *resumed]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["iterations_done"] == 2
    assert main(["eval", str(run_dir), "--against", "always_defect", "--json", "--episodes", "2"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    metrics = report["mean"]
    # Against ALLD the co-player never cooperates, so the ego's reward is -1 per cooperation, 0 otherwise.
    assert metrics["ipd/coplayer_defect_rate"] == 1.0 and report["std"]["ipd/coplayer_defect_rate"] == 0.0
    assert metrics["reward/ego"] == pytest.approx(-metrics["coplayer/ego_coop_rate"], abs=1e-5)


def test_train_report_has_a_header_and_an_aligned_summary(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "mfos", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), *TINY[:-2]]) == 0
    out = capsys.readouterr().out
    head, _, tail = out.partition("final iteration:")
    for needle in ("algorithm      mfos (mfos estimator, PPO update)", "preset         ipd-shaping-quick: Scaled-down",
                   "device         cpu, 1 torch thread", f"run directory  {run_dir}",
                   f"TensorBoard    tensorboard --logdir {run_dir}/tb"):
        assert needle in head, needle
    rows = [ln for ln in tail.splitlines() if ln.startswith("  ")]
    keys = [ln.split()[0] for ln in rows]
    assert keys[:2] == ["iterations", "wall"] and "reward/ego" in keys
    # values start in one column
    starts = {len(ln) - len(ln[2:].split("  ", 1)[1].lstrip()) for ln in rows}
    assert len(starts) == 1
    assert f"next: social-dilemmas eval {run_dir}" in tail


def test_eval_prints_mean_and_spread_of_the_headline_metrics(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--json", *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", str(run_dir), "--episodes", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "3 meta-episodes" in lines[0]
    assert lines[1].split() == ["metric", "mean", "std", "min", "max"]
    body = [ln.split() for ln in lines[3:] if not ln.startswith("(")]
    names = [r[0] for r in body]
    assert names[0].startswith("reward/") and "reward/ego" in names
    assert not any(n.startswith("coplayer/") for n in names)  # optimiser internals need --all
    for _, mean, std, lo, hi in body:
        assert float(lo) <= float(mean) <= float(hi) and float(std) >= 0
    assert "--all" in lines[-1]
    assert main(["eval", str(run_dir), "--episodes", "1", "--all"]) == 0
    assert "coplayer/" in capsys.readouterr().out


def test_train_help_lists_every_option_and_the_presets(capsys, monkeypatch):
    import dataclasses

    from social_dilemmas.baselines.args import Args
    from social_dilemmas.baselines.presets import PRESETS

    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as e:
        main(["train", "coala", "--preset", "ipd-shaping-quick", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for f in dataclasses.fields(Args):
        if f.name in ("algo", "preset"):
            continue
        flag = "--" + f.name.replace("_", "-")
        line = next((ln for ln in out.splitlines() if flag + " " in ln or flag + "," in ln), None)
        assert line is not None, f"{flag} missing from train --help"
    for name, preset in PRESETS.items():
        assert f"{name}  " in out and preset["description"] in out
    # defaults are the preset's values: ipd-shaping-quick runs 60 iterations (Args' own default is 3000)
    assert "(default: 60)" in out and "(default: 3000)" not in out


def test_train_rejects_unknown_options_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "coala", "--preset", "ipd-shaping-quick", "--learning-rat", "1e-3"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--learning-rat" in err and "--learning-rate" in err


def test_train_reports_invalid_values_by_name(capsys):
    with pytest.raises(SystemExit):
        main(["train", "coala", "--preset", "ipd-shaping-quick", "--iterations", "0"])
    assert "iterations" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "coala", "--preset", "no-such-preset"], "unknown preset"),
        (["eval", "/no/such/run"], "checkpoint"),
        (["list", "--extra"], "unrecognized"),
    ],
)
def test_train_and_eval_errors(argv, needle):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert needle in str(e.value)


def test_reproduce_help_lists_the_figures_with_their_run_times(capsys):
    from social_dilemmas.reproduce import FIGURES

    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    out = capsys.readouterr().out
    for name, fig in FIGURES.items():
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert fig.quick_time in line and fig.full_time in line


def test_reproduce_never_writes_into_the_documentation(tmp_path, monkeypatch):
    from social_dilemmas.reproduce import check_out_dir, source_root

    root = source_root()
    if root is None:
        pytest.skip("installed without a source checkout")
    for bad in (root / "docs" / "figures", root / "social_dilemmas" / "x"):
        with pytest.raises(SystemExit, match="inside"):
            main(["reproduce", "fig3a", "--quick", "--out", str(bad)])
    with pytest.raises(SystemExit, match="full-setting"):
        main(["reproduce", "fig3a", "--quick", "--docs"])
    assert check_out_dir(tmp_path / "figs") == (tmp_path / "figs").resolve()


def test_reproduce_writes_under_the_current_directory_by_default(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from social_dilemmas.analytic import figures

    tiny = figures.Settings(seeds=2, steps=2, lr=0.03, naive_steps=2, naive_batch=2, log_every=1)
    monkeypatch.setitem(figures.SETTINGS, "fig4", {True: tiny, False: tiny})
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "fig4", "--quick"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "reproduced" / "fig4-quick" / "fig4.png").exists()
    assert "expected ~1 min" in out and "quick" in out.splitlines()[0]


@pytest.mark.parametrize("argv,calls", [(["list"], 1), (["--malloc", "default", "list"], 0)])
def test_malloc_option_decides_whether_freed_memory_is_kept(argv, calls, monkeypatch, capsys):
    import social_dilemmas.core.memory as memory

    seen = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: seen.append(True) or True)
    assert main(argv) == 0
    assert len(seen) == calls
    with pytest.raises(SystemExit):
        main(["--malloc", "sometimes", "list"])
    assert "keep" in capsys.readouterr().err

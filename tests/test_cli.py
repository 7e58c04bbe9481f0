"""The social-dilemmas command: list, demo, bench, reproduce and their errors."""

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
    assert main(["bench", "IPD-v0", "--batch", "1,16", "--steps", "5", "--repeats", "2", "--out", str(out)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [r["batch_size"] for r in lines] == [1, 16]
    for r in lines:
        assert r["env_steps_per_s"] > 0
        assert r["agent_steps_per_s"] == pytest.approx(2 * r["env_steps_per_s"])
        assert r["device"] == "cpu"
    assert json.loads(out.read_text()) == lines


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bench", "NoSuchGame-v0"], "unknown env id"),
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
        "--no-tensorboard"]


def test_train_then_resume_then_eval(capsys, tmp_path):
    run_dir = tmp_path / "run"
    assert main(["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), *TINY]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["iterations_done"] == 1 and (run_dir / "checkpoint.pt").exists()
    resumed = ["--iterations", "2", *TINY[2:]]
    argv = ["train", "coala", "--preset", "ipd-shaping-quick", "--run-dir", str(run_dir), "--resume", *resumed]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["iterations_done"] == 2
    assert main(["eval", str(run_dir), "--against", "always_defect"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Against ALLD the co-player never cooperates, so the ego's reward is -1 per cooperation, 0 otherwise.
    assert metrics["ipd/coplayer_defect_rate"] == 1.0
    assert metrics["reward/ego"] == pytest.approx(-metrics["coplayer/ego_coop_rate"], abs=1e-5)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "coala", "--preset", "no-such-preset"], "unknown preset"),
        (["train", "coala", "--preset", "ipd-shaping-quick", "--bogus", "1"], "unknown option"),
        (["train", "coala", "--preset", "ipd-shaping-quick", "oops"], "--key value"),
        (["eval", "/no/such/run"], "checkpoint"),
        (["list", "--extra"], "unrecognized"),
    ],
)
def test_train_and_eval_errors(argv, needle):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert needle in str(e.value)


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

"""TensorBoard logs the way RL users read them: env steps on x, hparams, the headline groups first."""

from __future__ import annotations

import pytest

from social_dilemmas.baselines.runlog import RunLogger, tensorboard_tag

pytest.importorskip("tensorboard")


def _events(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_use_env_steps_and_hparams_are_logged(tmp_path):
    log = RunLogger(tmp_path, tensorboard=True, hparams={"learning_rate": 0.003, "history": ("prev_action",),
                                                         "preset": None, "seed": 2})
    for it, steps in ((1, 640.0), (2, 1280.0)):
        log.log(it, {"reward/ego": 0.5 * it, "loss/policy": 0.1, "perf/env_steps": steps})
    log.close()
    acc = _events(tmp_path)
    tags = acc.Tags()["scalars"]
    assert [e.step for e in acc.Scalars("1_reward/ego")] == [640, 1280]
    assert [e.value for e in acc.Scalars("progress/iteration")] == [1.0, 2.0]
    assert [e.step for e in acc.Scalars("progress/iteration")] == [640, 1280]
    # TensorBoard sorts tag groups alphabetically: the rewards come first
    assert sorted(tags)[0] == "1_reward/ego"
    plugins = acc.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in plugins and "_hparams_/session_start_info" in plugins
    assert b"learning_rate" in plugins["_hparams_/session_start_info"]
    text = acc.Tensors("args/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "| learning_rate | 0.003 |" in text and "| history | ('prev_action',) |" in text


def test_without_env_steps_the_iteration_is_the_step(tmp_path):
    log = RunLogger(tmp_path, tensorboard=True)
    log.log(3, {"reward/ego": 1.0})
    log.close()
    assert [e.step for e in _events(tmp_path).Scalars("1_reward/ego")] == [3]


@pytest.mark.parametrize(("name", "tag"), [("reward/vs_naive", "1_reward/vs_naive"),
                                           ("ipd/ego_defect_rate", "2_ipd/ego_defect_rate"),
                                           ("loss/value", "loss/value"), ("time/iteration", "time/iteration")])
def test_tag_groups(name, tag):
    assert tensorboard_tag(name) == tag

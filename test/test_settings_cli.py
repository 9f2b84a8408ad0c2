"""The command line's flags come from the settings table (one default, one help text each) and
each of them reaches the frame step: `run` and `bag` are run with every setting of the step
and the pipeline at a value other than its default, and the objects handed to `create_step`
carry each value."""
import argparse
import json

import pytest
import rgbd
from conftest import needs_shared

from pose_estimation_ros.cli.main import TABLE_COMMANDS, build_parser, main
from pose_estimation_ros.settings.cli import help_text
from pose_estimation_ros.settings.table import SETTINGS, for_command


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    ap = build_parser()
    action = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_flag_of_run_bag_bench_demo_eval_is_a_setting_of_the_table():
    parsers = _subparsers()
    for command in TABLE_COMMANDS:
        settings = {s.cli_flag: s for s in for_command(command)}
        options = [a for a in parsers[command]._actions if a.option_strings
                   and a.dest != "help"]
        assert {a.option_strings[0] for a in options} == set(settings), command
        for action in options:
            s = settings[action.option_strings[0]]
            assert action.dest == s.dest
            assert action.default == s.default_for(command), (command, s.name)
            assert action.help == help_text(s, command), (command, s.name)
            assert s.help in action.help  # the node's description is the flag's help
    # no flag twice for a command; every setting offered somewhere
    for command in TABLE_COMMANDS:
        names = [s.name for s in for_command(command)]
        assert len(names) == len(set(names)), command
    assert all(s.node or s.commands for s in SETTINGS)


#: a value other than the default for every flag that configures the step, and where it lands
#: in (PipelineOptions, StepConfig)
REACHES = {
    "--pipeline": ("topdown", lambda o, c: o.pipeline),
    "--variant": ("lite", lambda o, c: o.variant),
    "--detector": ("yolox-nano", lambda o, c: o.detector),
    "--pose": ("movenet-lightning", lambda o, c: o.pose),
    "--provider": ("cuda", lambda o, c: o.runtime.provider),
    "--threads": ("1", lambda o, c: o.runtime.threads),
    "--spin": (None, lambda o, c: o.runtime.spin),
    "--trt-cache-dir": ("/tmp/engines", lambda o, c: o.runtime.trt_cache_dir),
    "--det-score": ("0.37", lambda o, c: o.det_score),
    "--min-tracking-confidence": ("0.61", lambda o, c: o.min_tracking_confidence),
    "--min-person-score": ("0.33", lambda o, c: o.min_person_score),
    "--max-people": ("3", lambda o, c: o.max_people),
    "--no-tracking": (None, lambda o, c: c.tracking),
    "--det-interval": ("7", lambda o, c: c.tracker.det_interval),
    "--no-smoothing": (None, lambda o, c: c.tracker.smoothing),
    "--one-euro-min-cutoff": ("2.5", lambda o, c: c.tracker.one_euro.min_cutoff),
    "--one-euro-beta": ("3.0", lambda o, c: c.tracker.one_euro.beta),
    "--max-missing": ("20", lambda o, c: c.tracker.max_missing),
    "--max-crops-per-frame": ("3", lambda o, c: c.tracker.max_crops_per_frame),
    "--max-refresh-interval": ("5", lambda o, c: c.tracker.max_refresh_interval),
    "--min-depth": ("0.5", lambda o, c: c.depth.min_depth),
    "--max-depth": ("4.0", lambda o, c: c.depth.max_depth),
    "--target-policy": ("largest", lambda o, c: c.target.policy),
    "--target-track-id": ("5", lambda o, c: c.target.track_id),
    "--target-timeout": ("7.5", lambda o, c: c.target.timeout),
    "--depth-tolerance": ("0.05", lambda o, c: c.depth_tolerance),
    "--on-target-lost": ("reselect", lambda o, c: c.target.on_lost),
    "--reid-window": ("4.5", lambda o, c: c.reid.window),
    "--reid-threshold": ("0.3", lambda o, c: c.reid.threshold),
    "--gesture-hold": ("2.5", lambda o, c: c.gestures.hold),
    "--pointing-hold": ("0.8", lambda o, c: c.gestures.pointing_hold),
    "--floor-plane": ("0,-2,0,3", lambda o, c: c.gestures.floor),
    "--hands": (None, lambda o, c: c.hands.enabled),
    "--hand-model": ("lite", lambda o, c: c.hands.variant),
    "--no-hand-recrop": (None, lambda o, c: c.hands.recrop),
    "--hand-min-size": ("30", lambda o, c: c.hands.min_size),
    "--hand-min-presence": ("0.4", lambda o, c: c.hands.min_presence),
}
_EXPECTED = {"--spin": True, "--no-tracking": False, "--no-smoothing": False,
             "--floor-plane": (0.0, -1.0, 0.0, 1.5), "--hands": True, "--no-hand-recrop": False}


class _Built(BaseException):
    """Raised where the step would be made: past every handler of a bag's failure."""


def _captured(monkeypatch, module: str, argv: list[str]):
    """(PipelineOptions, StepConfig) that `argv` hands to `create_step`."""
    seen = {}

    def capture(options, config, pool=None):
        seen.update(options=options, config=config)
        raise _Built

    monkeypatch.setattr(module, capture)
    with pytest.raises(_Built):
        main(argv)
    return seen["options"], seen["config"]


def _its_pipeline(flag: str) -> list[str]:
    """`--pipeline P` for a flag only pipeline P uses (others refuse it)."""
    setting = next(s for s in SETTINGS if s.cli_flag == flag)
    return ["--pipeline", setting.pipelines[0]] if setting.pipelines else []


def _cases(command: str) -> list[str]:
    flags = {s.cli_flag for s in for_command(command)}
    return [flag for flag in REACHES if flag in flags]


@needs_shared
@pytest.mark.parametrize("flag", _cases("run"))
def test_each_run_flag_reaches_the_step(flag, tmp_path, monkeypatch):
    value, where = REACHES[flag]
    argv = ["run", str(rgbd.RGBD / "color"), "--output", str(tmp_path), "--no-progress",
            *_its_pipeline(flag), flag, *([value] if value is not None else [])]
    options, config = _captured(monkeypatch, "pose_estimation_ros.cli.run.create_step", argv)
    want = _EXPECTED.get(flag, type(where(options, config))(value) if value else None)
    assert where(options, config) == want


@needs_shared
@pytest.mark.parametrize("flag", _cases("bag"))
def test_each_bag_flag_reaches_the_step(flag, tmp_path, monkeypatch):
    from test_bags import frames, make_bag

    make_bag(tmp_path / "in", frames(1))
    value, where = REACHES[flag]
    argv = ["bag", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--no-progress",
            *_its_pipeline(flag), flag, *([value] if value is not None else [])]
    # a bag worker keeps its step for the next bag of the same settings: start without one
    monkeypatch.setattr("pose_estimation_ros.bags.worker._STEP",
                        {"key": None, "step": None, "bags": 0})
    options, config = _captured(monkeypatch, "pose_estimation_ros.stream.step.create_step",
                                argv)
    want = _EXPECTED.get(flag, type(where(options, config))(value) if value else None)
    assert where(options, config) == want


def test_every_step_setting_of_run_and_bag_is_covered():
    """A new step setting with a flag must be added to REACHES (the test above)."""
    skip = {s.cli_flag for s in SETTINGS if not s.node} | {
        "--max-image-pixels", "--rep155", "--publish-tf", "--marker-depth",
        "--target-pose-predicted"}  # how the input is read, and outputs (test_bags)
    for command in ("run", "bag"):
        assert {s.cli_flag for s in for_command(command)} - skip <= set(REACHES), command


def test_a_flag_out_of_range_is_refused_naming_the_flag(tmp_path, capsys):
    assert main(["run", "x.jpg", "--output", str(tmp_path), "--det-score", "1.5"]) == 2
    assert capsys.readouterr().err.strip() == \
        "error: --det-score must be in [0.0, 1.0], not 1.5"
    assert main(["run", "x.jpg", "--output", str(tmp_path), "--min-depth", "5",
                 "--max-depth", "4"]) == 2
    assert "min_depth must be below max_depth" in capsys.readouterr().err
    assert main(["run", "x.jpg", "--output", str(tmp_path), "--fps", "nan"]) == 2
    assert capsys.readouterr().err.strip() == "error: --fps must be a finite number, not nan"


@needs_shared
def test_run_max_depth_1m_gives_no_3d_and_counts_every_frame(tmp_path, capsys):
    """The people stand 2.1–2.5 m away: with --max-depth 1.0 no keypoint has depth, and every
    frame says so (before the one settings table, run ignored --max-depth)."""
    assert main(["run", str(rgbd.RGBD / "color"), "--depth", str(rgbd.RGBD / "depth"),
                 "--intrinsics", rgbd.intrinsics_arg(), "--max-depth", "1.0", "--output",
                 str(tmp_path), "--no-progress", *rgbd.PIPELINE]) == 0
    out = capsys.readouterr().out
    assert "depth: 3D on 0 of 40 frames; without: no_valid_depth 40" in out
    records = [json.loads(line) for line in (tmp_path / "keypoints.jsonl").open()]
    assert {r["depth_status"] for r in records} == {"no_valid_depth"}
    assert all(p["position"] is None and all(q is None for q in p["positions"])
               for r in records for p in r["people"])

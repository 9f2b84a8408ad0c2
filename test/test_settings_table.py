"""settings/: the one table of settings, its checks, the generated config files and README
table, the node's parameters and the CLI's flags built from it, and runtime changes reaching a
running step."""
import re

import yaml
from conftest import ROOT, needs_shared

from pose_estimation_ros.settings.build import (
    check_all,
    pipeline_options,
    step_config,
    tracker_config,
)
from pose_estimation_ros.settings.files import CONFIGS, config_yaml, readme_table
from pose_estimation_ros.settings.table import BY_NAME, PARAMS


def test_config_files_are_the_generated_documented_tables():
    for name, overrides in CONFIGS.items():
        path = ROOT / "config" / f"{name}.yaml"
        assert path.read_text() == config_yaml(name, overrides), \
            f"{path} is stale: run python -m pose_estimation_ros.settings"
        values = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
        assert set(values) == set(BY_NAME)
        assert all(BY_NAME[k].check(v) is None for k, v in values.items())
        pipeline_options(values)
        tracker_config(values)


def test_readme_parameter_table_matches_the_code():
    readme = (ROOT / "README.md").read_text()
    assert readme_table() in readme
    for p in PARAMS:
        assert re.search(rf"^\| `{p.name}` \|", readme, re.M)


def test_parameter_checks_give_reasons():
    assert BY_NAME["det_score"].check(1.5) == "det_score must be in [0.0, 1.0], not 1.5"
    assert BY_NAME["det_score"].check(1) is None  # an int where a float is expected is fine
    assert BY_NAME["pipeline"].check("openpose") == (
        "pipeline must be one of blazepose, topdown, rtmpose, movenet, movenet-multipose, "
        "not 'openpose'")
    assert BY_NAME["det_interval"].check("5") == "det_interval must be an integer, not '5' (string)"
    assert BY_NAME["det_score"].coerce(1) == 1.0 and type(BY_NAME["det_score"].coerce(1)) is float
    assert BY_NAME["max_people"].coerce(True) is True  # no bool → int magic
    assert BY_NAME["provider"].read_only and not BY_NAME["det_score"].read_only
    for bad in (float("nan"), float("inf")):  # NaN passes every comparison with the range
        assert BY_NAME["one_euro_min_cutoff"].check(bad) == \
            f"one_euro_min_cutoff must be a finite number, not {bad!r}"
    assert BY_NAME["diagnostics_period"].check(float("nan")) is not None
    assert BY_NAME["min_depth"].check(0.0) is None  # no near limit: zeros are no data anyway
    values = {p.name: p.default for p in PARAMS}
    for min_depth, max_depth in ((5.0, 5.0), (6.0, 5.0)):
        assert check_all(values | {"min_depth": min_depth, "max_depth": max_depth}) == [
            f"min_depth must be below max_depth (and not negative), not min_depth {min_depth}, "
            f"max_depth {max_depth}"]
    assert check_all(values | {"min_depth": 0.0}) == []


@needs_shared
def test_runtime_parameter_changes_reach_the_running_step():
    from pose_estimation_ros.stream.step import create_step

    values = {p.name: p.default for p in PARAMS} | {"pipeline": "topdown"}
    step = create_step(pipeline_options(values), step_config(values))
    values |= {"det_score": 0.8, "max_people": 2, "det_interval": 9, "one_euro_beta": 3.0,
               "smoothing": False, "min_depth": 0.5, "target_policy": "largest",
               "depth_tolerance": 0.05}
    step.apply(pipeline_options(values), step_config(values))
    pipeline = step.pipeline
    assert pipeline.pipeline.detector.config.score_threshold == 0.8
    assert pipeline.pipeline.detector.config.max_people == 2
    assert pipeline.tracker.config.det_interval == 9 and not pipeline.tracker.config.smoothing
    assert pipeline.tracker.config.one_euro.beta == 3.0
    assert step.config.depth.min_depth == 0.5 and step.selector.config.policy == "largest"
    assert step.config.depth_tolerance == 0.05 and step.config.tracker == tracker_config(values)


def test_unknown_parameter_names_get_a_suggestion():
    from pose_estimation_ros.settings.build import unknown_parameters

    assert unknown_parameters(["max_peple", "det_score", "use_sim_time", "zzz"]) == [
        "unknown parameter 'max_peple' is ignored; did you mean 'max_people'?",
        "unknown parameter 'zzz' is ignored"]

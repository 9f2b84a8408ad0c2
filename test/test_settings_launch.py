"""The launch file's argument logic (pose_estimation_ros.settings.launch), tested
without the `launch` package; the launch file itself is tried against a full ROS 2 at acceptance."""
import pytest
from conftest import ROOT

from pose_estimation_ros.settings import launch as launch_config

SHARE = str(ROOT)  # the installed share folder has the same config/ layout


def test_the_parameter_file_decides_unless_an_argument_is_given(tmp_path):
    yaml = tmp_path / "mine.yaml"
    yaml.write_text("/**:\n  ros__parameters:\n    pipeline: movenet\n    provider: cuda\n"
                    "    use_compressed: true\n    autostart: false\n")
    args = {"pipeline": "", "provider": "", "use_compressed": "", "autostart": "",
            "params_file": str(yaml)}
    assert launch_config.params_file("", str(yaml), SHARE) == str(yaml)
    assert launch_config.parameter_overrides(args) == {}  # the YAML's movenet/cuda stay
    assert launch_config.autostart(args, str(yaml)) is False
    given = args | {"pipeline": "topdown", "use_compressed": "False", "autostart": "true"}
    assert launch_config.parameter_overrides(given) == {
        "pipeline": "topdown", "use_compressed": False, "autostart": True}
    assert launch_config.autostart(given, str(yaml)) is True


def test_default_parameter_files_per_pipeline():
    assert launch_config.params_file("rtmpose", "", SHARE).endswith("config/rtmpose.yaml")
    assert launch_config.params_file("topdown", "", SHARE).endswith("config/blazepose.yaml")
    assert launch_config.params_file("", "", SHARE).endswith("config/blazepose.yaml")
    assert launch_config.autostart({}, launch_config.params_file("", "", SHARE)) is True


def test_bad_launch_arguments_fail_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match="provider must be one of cpu, cuda, tensorrt, not 'gpu'"):
        launch_config.parameter_overrides({"provider": "gpu"})
    with pytest.raises(ValueError, match="use_compressed must be true or false, not 'ja'"):
        launch_config.parameter_overrides({"use_compressed": "ja"})
    with pytest.raises(ValueError, match="does not exist"):
        launch_config.params_file("", str(tmp_path / "missing.yaml"), SHARE)


def test_remappings_cover_raw_compressed_and_camera_info():
    assert launch_config.image_remappings("/camera/color/image_raw/", "/camera/color/info") == [
        ("image", "/camera/color/image_raw"),
        ("image/compressed", "/camera/color/image_raw/compressed"),
        ("camera_info", "/camera/color/info")]


def test_following_arguments_and_the_realsense_layout():
    args = {"use_depth": "true", "target_policy": "track_id", "publish_tf": "false",
            "hands": "yes"}
    assert launch_config.parameter_overrides(args) == {
        "use_depth": True, "target_policy": "track_id", "publish_tf": False, "hands": True}
    with pytest.raises(ValueError, match="target_policy must be one of closest"):
        launch_config.parameter_overrides({"target_policy": "nearest"})
    topics = launch_config.realsense_topics("/camera/camera/")
    assert topics == {
        "image_topic": "/camera/camera/color/image_raw",
        "camera_info_topic": "/camera/camera/color/camera_info",
        "depth_image_topic": "/camera/camera/aligned_depth_to_color/image_raw",
        "depth_info_topic": "/camera/camera/aligned_depth_to_color/camera_info"}
    remaps = dict(launch_config.image_remappings(topics["image_topic"],
                                                 topics["camera_info_topic"],
                                                 topics["depth_image_topic"],
                                                 topics["depth_info_topic"]))
    assert remaps["depth/image"] == "/camera/camera/aligned_depth_to_color/image_raw"
    assert remaps["depth/camera_info"] == "/camera/camera/aligned_depth_to_color/camera_info"
    assert "depth/image" not in dict(launch_config.image_remappings("a", "b"))
    assert launch_config.rviz_remappings("/camera/camera/color/image_raw/") == [
        ("image", "/camera/camera/color/image_raw")]


def test_a_node_that_exits_with_an_error_ends_the_launch():
    assert launch_config.exit_error("pose_estimation_node-1", 0) is None
    assert launch_config.exit_error("pose_estimation_node-1", None) is None
    assert launch_config.exit_error("pose_estimation_node-1", 1).startswith(
        "pose_estimation_node-1 exited with code 1: see its FATAL line above")
    assert "exited with signal 11" in launch_config.exit_error("x", -11)
    assert launch_config.node_name("") == "/pose_estimation_node"
    assert launch_config.node_name("/front/") == "/front/pose_estimation_node"


def test_the_launch_files_run_no_ros_node_of_their_own():
    """launch_ros's lifecycle actions start a node (and an executor) inside the launch
    process; with autostart false the node now waits for a lifecycle manager instead."""
    for name in ("pose_estimation.launch.py", "follow.launch.py"):
        text = (ROOT / "launch" / name).read_text()
        assert "LifecycleNode" not in text and "ChangeState" not in text
        assert "OnStateTransition" not in text


def test_the_fastdds_profile_for_raw_images_unless_the_user_names_one(tmp_path):
    shipped = str(ROOT / "config" / "fastdds_large_images.xml")
    env = launch_config.fastdds_environment("", SHARE, environ={})
    assert env == {"FASTRTPS_DEFAULT_PROFILES_FILE": shipped,
                   "FASTDDS_DEFAULT_PROFILES_FILE": shipped}
    # a profile the user's environment names is kept; `none` leaves Fast DDS's defaults
    assert launch_config.fastdds_environment(
        "", SHARE, environ={"FASTRTPS_DEFAULT_PROFILES_FILE": "/etc/mine.xml"}) == {}
    assert launch_config.fastdds_environment("none", SHARE, environ={}) == {}
    mine = tmp_path / "mine.xml"
    mine.write_text("<profiles/>")
    assert set(launch_config.fastdds_environment(str(mine), SHARE).values()) == {str(mine)}
    with pytest.raises(ValueError, match="fastdds_profile: no file"):
        launch_config.fastdds_environment(str(tmp_path / "missing.xml"), SHARE, environ={})


def test_the_shipped_fastdds_profile_holds_two_1080p_frames():
    import xml.etree.ElementTree as ET

    root = ET.parse(ROOT / "config" / "fastdds_large_images.xml").getroot()
    ns = {"f": "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"}
    shm = [d for d in root.iterfind("f:transport_descriptors/f:transport_descriptor", ns)
           if d.findtext("f:type", namespaces=ns) == "SHM"]
    assert len(shm) == 1
    assert int(shm[0].findtext("f:segment_size", namespaces=ns)) >= 2 * 1920 * 1080 * 3
    participant = root.find("f:participant", ns)
    assert participant.get("is_default_profile") == "true"
    used = [t.text for t in participant.iterfind("f:rtps/f:userTransports/f:transport_id", ns)]
    # the same transports as Fast DDS's built-in ones: this machine and the network
    kinds = {d.findtext("f:transport_id", namespaces=ns): d.findtext("f:type", namespaces=ns)
             for d in root.iterfind("f:transport_descriptors/f:transport_descriptor", ns)}
    assert sorted(kinds[t] for t in used) == ["SHM", "UDPv4"]
    assert participant.findtext("f:rtps/f:useBuiltinTransports", namespaces=ns) == "false"


def test_the_launch_arguments_that_override_parameters_are_described_by_the_table():
    import re

    from pose_estimation_ros.settings.table import BY_NAME

    texts = launch_config.argument_descriptions()
    assert tuple(texts) == launch_config.PARAMETER_ARGUMENTS
    for name, text in texts.items():
        setting = BY_NAME[name]
        assert text.startswith(setting.help)
        assert all(choice in text for choice in setting.choices or ())
        default = str(setting.default).lower() if isinstance(setting.default, bool) \
            else setting.default
        assert text.endswith(f"(default: the parameter file's, else {default})")
    assert "gesture" in texts["target_policy"] and "tensorrt" in texts["provider"]
    # the launch file declares the others itself and reads every one
    source = (ROOT / "launch" / "pose_estimation.launch.py").read_text()
    declared = set(re.findall(r'DeclareLaunchArgument\("(\w+)"', source))
    assert not declared & set(texts)
    read = re.search(r"ARGUMENTS = \(([^)]*)\)", source).group(1)
    assert set(re.findall(r'"(\w+)"', read)) == declared | set(texts)


def test_every_launch_argument_the_readme_lists_exists_with_the_stated_default():
    import re

    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Launch arguments (`launch/pose_estimation.launch.py`)")[1]
    table = table.split("\n\n")[1]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", table, re.M))
    source = (ROOT / "launch" / "pose_estimation.launch.py").read_text()
    declared = dict(re.findall(r'DeclareLaunchArgument\("(\w+)", default_value="([^"]*)"',
                               source))
    declared |= {name: "" for name in launch_config.PARAMETER_ARGUMENTS}
    assert set(rows) == set(declared)
    for name, default in declared.items():
        stated = rows[name].strip()
        if name in launch_config.PARAMETER_ARGUMENTS:  # the parameter file's unless given
            assert default == "" and stated.startswith("(the parameter file's"), name
        elif default:
            assert stated == f"`{default}`", name
    # the empty defaults the README states as a value are the values the launch logic uses
    remaps = dict(launch_config.image_remappings("", "", "", ""))
    assert (remaps["image"], remaps["camera_info"]) == ("image", "camera_info")
    assert "depth/image" not in remaps  # the node's own names: `depth/image` stays itself
    assert rows["depth_image_topic"].strip() == "`depth/image`"
    assert rows["depth_info_topic"].strip() == "`depth/camera_info`"
    assert launch_config.params_file("movenet", "", SHARE) == f"{SHARE}/config/movenet.yaml"
    assert rows["params_file"].startswith("`config/<pipeline>.yaml`")
    assert rows["namespace"].strip() == "(none)"

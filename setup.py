"""Core install without ROS: `pip install -e .` (extras: bags, eval, ray; test: all of them).
The ROS 2 build uses CMakeLists.txt."""
from setuptools import find_packages, setup

setup(
    name="pose_estimation_ros",
    version="0.1.0",
    description="Real-time human pose estimation for ROS 2 (BlazePose, RTMPose, MoveNet) "
                "on ONNX Runtime",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["pose_estimation_ros", "pose_estimation_ros.*"]),
    package_data={"pose_estimation_ros": ["data/astronaut.jpg", "data/README.md",
                                          "transport/hri_msgs/*.msg"]},
    # the core: running pipelines, the node, `run`, `demo`, and fetching and converting models
    install_requires=[
        "numpy>=1.21",
        "opencv-python-headless>=4.5,<5",  # OpenCV 5 warps move BlazePose landmarks ~1.3 px
        "onnxruntime>=1.14",
        "onnx>=1.12",
        "tflite>=2.10",
        "scipy>=1.8",
        "tqdm>=4.60",
        "pyyaml>=5.4",
    ],
    extras_require={
        "bags": ["rosbags>=0.9.19"],  # `bag`: reads and writes bags without ROS
        "eval": ["pycocotools>=2.0.6"],  # `eval`: COCO OKS AP
        "ray": ["ray>=2.9"],  # `bag --backend ray`
        "test": ["pytest>=7", "ruff>=0.4", "ai-edge-litert>=1.0", "catkin_pkg>=0.5",
                 "hypothesis>=6.0", "scikit-image>=0.19", "rosbags>=0.9.19",
                 "pycocotools>=2.0.6", "ray>=2.9"],
    },
    entry_points={"console_scripts": [
        "pose-estimation-ros=pose_estimation_ros.cli.program:program"]},
    data_files=[("share/pose_estimation_ros", ["package.xml"]),
                ("share/pose_estimation_ros/msg", [f"msg/{name}.msg" for name in (
                    "Keypoint", "Hand", "PersonPose", "PersonPoseArray", "Skeleton",
                    "FollowTarget", "Gesture", "GestureArray")]),
                ("share/pose_estimation_ros/srv", ["srv/SelectTarget.srv"])],
)

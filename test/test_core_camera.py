"""core/camera.py: camera matrices, the depth intrinsics rule, deprojection."""
import numpy as np
import pytest

from pose_estimation_ros.core.camera import (
    CameraError,
    Intrinsics,
    camera_matrix,
    check_camera_matrix,
    colour_to_depth_pixels,
    deproject,
    depth_intrinsics,
    scaled,
)

K = camera_matrix(600.0, 610.0, 320.0, 240.0)


def test_implausible_camera_matrices_are_refused_with_the_reason():
    for k, reason in (([0.0] * 9, "focal lengths fx=0, fy=0 px: need 10 to 100000 (0 means "
                                  "the camera is not calibrated)"),
                      ([np.inf, 0, 320, 0, 600, 240, 0, 0, 1], "non-finite values"),
                      ([1e6, 0, 320, 0, 600, 240, 0, 0, 1], "fx=1e+06"),
                      ([600, 0, np.nan, 0, 600, 240, 0, 0, 1], "non-finite"),
                      ([1, 2, 3], "must have 9 numbers, not 3")):
        with pytest.raises(CameraError, match=reason.replace("(", r"\(").replace(")", r"\)")
                           .replace("+", r"\+")):
            check_camera_matrix(k)
    assert check_camera_matrix(K.reshape(-1).tolist()).shape == (3, 3)


def test_depth_intrinsics_rule():
    colour = Intrinsics(K, (640, 480))
    assert depth_intrinsics(colour, (640, 480), (640, 480)) is K  # aligned at the colour size
    half = depth_intrinsics(colour, (640, 480), (320, 240))  # no CameraInfo: colour K scaled
    np.testing.assert_allclose(half, scaled(K, (640, 480), (320, 240)))
    np.testing.assert_allclose(half[:2, :], [[300, 0, 160], [0, 305, 120]])
    own = camera_matrix(300.5, 305.5, 161.0, 121.0)
    assert depth_intrinsics(colour, (640, 480), (320, 240), Intrinsics(own, (320, 240))) is own
    # its own CameraInfo for the same picture at another size: scaled, as the colour one
    np.testing.assert_allclose(
        depth_intrinsics(colour, (640, 480), (160, 120), Intrinsics(own, (320, 240))),
        scaled(own, (320, 240), (160, 120)))
    with pytest.raises(CameraError, match="the image is 320×180 but its depth CameraInfo is "
                                          "for 320×240 .another aspect ratio"):
        depth_intrinsics(colour, (640, 480), (320, 180), Intrinsics(own, (320, 240)))
    with pytest.raises(CameraError, match="the image is 320×180 but its colour CameraInfo .the "
                                          "depth image has none. is for 640×480"):
        depth_intrinsics(colour, (640, 480), (320, 180))


def test_a_colour_camera_info_of_another_size_is_scaled_or_refused():
    """A driver reconfigured, a resized republish: K of 640×360 on 320×180 images is the same
    picture halved; on 320×240 images it is another picture."""
    info = Intrinsics(K, (640, 360))
    np.testing.assert_allclose(info.for_size((320, 180)), scaled(K, (640, 360), (320, 180)))
    assert info.for_size((640, 360)) is K and Intrinsics(K).for_size((50, 50)) is K
    np.testing.assert_allclose(info.for_size((424, 240)), scaled(K, (640, 360), (424, 240)))
    with pytest.raises(CameraError, match="the image is 320×240 but its CameraInfo is for "
                                          "640×360"):
        info.for_size((320, 240))


def test_deprojection_and_registered_pixels():
    points = np.array([[320, 240], [920, 240], [320, 850]], float)
    np.testing.assert_allclose(deproject(points, 2.0, K), [[0, 0, 2], [2, 0, 2], [0, 2, 2]])
    assert np.isnan(deproject(points[:1], np.nan, K)).all()
    half = scaled(K, (640, 480), (320, 240))
    np.testing.assert_allclose(colour_to_depth_pixels(points, K, half), points / 2)

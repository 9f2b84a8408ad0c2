"""Human following: 3D keypoints from aligned depth, depth pairing, the target person."""

"""Human following: 3D keypoints from aligned depth and the person to follow (the pairing of
colour and depth frames is `stream.sync`)."""

"""Image decoding, crops and letterbox, NMS and drawing: numpy/OpenCV work on pixels."""

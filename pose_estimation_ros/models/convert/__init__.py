"""Offline converters to ONNX, run once when a model is prepared (`models.store`): TFLite
flatbuffers (`tflite`: the BlazePose and MediaPipe models) and TF.js graph models (`tfjs`, with
`tfjs_graph` reading model.json and its shards, `tfjs_ops` and `tfjs_shape_ops` the ops), both
building an `onnx_graph.Graph`."""

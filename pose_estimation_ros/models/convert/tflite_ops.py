"""The TFLite ops of MediaPipe's hand models beyond the BlazePose set: the landmark model's head
(MEAN as global average pooling, FULLY_CONNECTED) and the hand recrop model's PRELU and
STRIDED_SLICE (its channel padding). A mixin of `tflite._Converter`: each `op_<kind>` returns
(the ONNX name of its output, whether that output is NCHW inside the graph)."""
from __future__ import annotations

import numpy as np

from .onnx_graph import ConversionError

#: NHWC axis → NCHW axis, for tensors the graph keeps in NCHW
_TO_NCHW = (0, 2, 3, 1)
_BIG = np.iinfo(np.int64).max


class HandOps:
    def op_mean(self, op, ins, outs, out):
        o = self.options(op, self.tfl.ReducerOptions)
        rank = len(self.shape(ins[0]))
        axes = sorted(int(a) % rank for a in self.const_of(ins[1]).reshape(-1))
        nchw = ins[0] in self.g.nchw
        if nchw:
            axes = sorted(_TO_NCHW[a] for a in axes)
            if not o.KeepDims() and axes != [2, 3]:  # [N, C] is the same in either layout
                raise self.error("MEAN over other axes than H, W without keep_dims")
        y = self.g.node("ReduceMean", [self.value_name(ins[0])], out, axes=axes,
                        keepdims=int(bool(o.KeepDims())))
        return y, nchw and bool(o.KeepDims())

    def op_fully_connected(self, op, ins, outs, out):
        o = self.options(op, self.tfl.FullyConnectedOptions)
        if len(self.shape(ins[0])) != 2 or ins[0] in self.g.nchw:
            raise self.error("FULLY_CONNECTED on other than a [batch, features] input")
        weight = self.const_of(ins[1]).astype(np.float32)  # [out, in]
        inputs = [self.value_name(ins[0]), self.g.const(weight, "w")]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.g.const(self.const_of(ins[2]).astype(np.float32), "b"))
        y = self.g.node("Gemm", inputs, transB=1)
        return self.activation(y, o.FusedActivationFunction(), out), False

    def op_prelu(self, op, ins, outs, out):
        alpha = self.const_of(ins[1]).astype(np.float32)
        if ins[0] not in self.g.nchw:
            raise self.error("PRELU on a tensor that is not an image")
        slope = alpha.reshape(-1, 1, 1)  # [1, 1, C] per channel → broadcast over N, H, W
        return self.g.node("PRelu", [self.value_name(ins[0]), self.g.const(slope, "alpha")],
                           out), True

    def op_strided_slice(self, op, ins, outs, out):
        o = self.options(op, self.tfl.StridedSliceOptions)
        if o.EllipsisMask() or o.NewAxisMask() or o.ShrinkAxisMask():
            raise self.error("STRIDED_SLICE with ellipsis, new-axis or shrink masks")
        begin, end, strides = (self.const_of(i).astype(np.int64).reshape(-1) for i in ins[1:4])
        shape = self.shape(ins[0])
        nchw = ins[0] in self.g.nchw
        starts, ends, axes, steps = [], [], [], []
        for axis, (b, e, s) in enumerate(zip(begin, end, strides)):
            b = 0 if o.BeginMask() >> axis & 1 else int(b)
            e = _BIG if o.EndMask() >> axis & 1 or e >= shape[axis] else int(e)
            if (b, e, s) == (0, _BIG, 1):
                continue  # the whole axis (the batch axis stays whatever it is at run time)
            starts.append(b)
            ends.append(e)
            axes.append(_TO_NCHW[axis] if nchw else axis)
            steps.append(int(s))
        g = self.g
        y = g.node("Slice", [self.value_name(ins[0]),
                             *(g.const(np.array(v, np.int64), n) for v, n in
                               ((starts, "starts"), (ends, "ends"), (axes, "axes"),
                                (steps, "steps")))], out)
        return y, nchw

    def error(self, text: str) -> Exception:
        return ConversionError(text)

"""The per-stream frame step, transport-free: one colour frame (and its depth partner) in,
people with ids, 3D and the follow target out; the colour–depth synchronisation by stamp, the
latest-frame scheduling, stamp checks and the counts every transport reports."""

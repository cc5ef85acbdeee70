"""The GGUF's 4-bit weights, kept exact in the ONNX model (the default build of onnx_build.py).

The course's model ships as a Q4_1 GGUF: every block of 32 weights along a row is `d * q + m` with
q in 0..15 and a per-block step d and minimum m. The bf16 cache holds those values (rounded to bf16),
and the ONNX builder's float32 model reads 4 bytes for each of them on every token. This pass reads the
blocks back out of the float32 weights (q from m = the block's minimum and d = its range / 15: the
minimum has q = 0 and the maximum q = 15 by construction of Q4_1; then d and m fitted to the block's
32 weights, which undoes most of the bf16 rounding) and stores each projection as

    x @ W  =  MatMulNBits(x, q - 8, d)  +  blocksum(x) @ (m + 8 d)

ONNX Runtime's 4-bit kernel (blocks of 32, symmetric, float32 activations: accuracy_level 1) does the
first term reading half a byte per weight; the second is the per-block offset that a 4-bit zero
point cannot hold exactly (Q4_1's m is not a whole number of steps), a matmul 1/32 the size. Letting
the builder re-quantize instead rounds each m to a whole step: perplexity 37.1 -> 51.9 (rejected).

Int8 activations (accuracy_level 4) are faster still (102 tok/s against 65 here) but change greedy
answers ("L'Etoile, la Marsebeau" for the capital of France), so they are not used. The output
projection (the Q8_0 embedding, transposed) stays float32: ONNX Runtime has no fast 8-bit kernel with
float32 activations.

A weight that does not read back as 4-bit blocks (another model, a float GGUF) keeps its float32
MatMul, so the pass never changes a weight by more than bf16 rounding does.
"""

from __future__ import annotations

from pathlib import Path

VERSION = 2          # bump when the rewrite changes (it names the cache folder)
BLOCK = 32
ACCURACY_LEVEL = 1   # float32 activations (see above)


def q4_blocks(w):
    """(q, d, m) of a float32 [K, N] weight read as Q4_1 blocks of 32 along K, or None if it is not one.

    q: N x K/32 x 32 in 0..15, d and m: N x K/32. A block is accepted when d*q + m gives back every
    weight to within bf16 rounding: the weight's own, and its minimum's and maximum's, which set d and m
    (bf16 keeps 8 significant bits: 3 x 2^-8 of the block's largest magnitude)."""
    import numpy as np

    k, n = w.shape
    if k % BLOCK:
        return None
    blocks = np.ascontiguousarray(w.T).reshape(n, k // BLOCK, BLOCK)
    lo, hi = blocks.min(-1), blocks.max(-1)
    d = (hi - lo) / 15.0
    safe = np.where(d == 0, 1.0, d)
    q = np.clip(np.rint((blocks - lo[..., None]) / safe[..., None]), 0, 15)
    err = np.abs(q * d[..., None] + lo[..., None] - blocks).max(-1)
    scale = np.abs(blocks).max(-1)
    if (err > scale * 3 * 2.0 ** -8 + 1e-12).any():
        return None
    # d and m by least squares over the block's 32 weights, given q: the bf16 rounding of single
    # weights averages out (closer to the GGUF's own d and m than the rounded extremes are)
    qm, wm = q.mean(-1), blocks.mean(-1)
    var = ((q - qm[..., None]) ** 2).sum(-1)
    fit_d = np.where(var > 0, ((q - qm[..., None]) * (blocks - wm[..., None])).sum(-1) / np.where(var > 0, var, 1), d)
    fit_m = wm - fit_d * qm
    return q.astype(np.uint8), fit_d.astype(np.float32), fit_m.astype(np.float32)


def requantize(source: Path, target: Path) -> dict:
    """Write `target`/model.onnx: `source`/model.onnx (float32, from the builder) with exact 4-bit
    projections. Returns counts: {"q4": projections rewritten, "float32": left as they were}."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(Path(source) / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    nodes, drop, added = [], set(), []
    counts = {"q4": 0, "float32": 0}
    for node in model.graph.node:
        weight = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        blocks = q4_blocks(numpy_helper.to_array(inits[weight]).astype(np.float32)) \
            if weight in inits and not weight.startswith("lm_head") else None
        if blocks is None:
            counts["float32"] += weight in inits
            nodes.append(node)
            continue
        q, d, lo = blocks
        n, nblk, _ = q.shape
        k = nblk * BLOCK
        counts["q4"] += 1
        drop.add(weight)
        x, out = node.input[0], node.output[0]
        added += [
            numpy_helper.from_array(q[..., 0::2] | (q[..., 1::2] << 4), weight + ".q4"),
            numpy_helper.from_array(d.reshape(-1), weight + ".q4_scales"),
            numpy_helper.from_array(np.ascontiguousarray((lo + 8 * d).T), weight + ".q4_offsets"),
            numpy_helper.from_array(np.array([0, 0, nblk, BLOCK], np.int64), weight + ".q4_blockshape"),
        ]
        nodes += [
            helper.make_node("MatMulNBits", [x, weight + ".q4", weight + ".q4_scales"], [out + "/q4"],
                             name=node.name + "/Q4", domain="com.microsoft", K=k, N=n, bits=4,
                             block_size=BLOCK, accuracy_level=ACCURACY_LEVEL),
            helper.make_node("Reshape", [x, weight + ".q4_blockshape"], [out + "/blocks"], name=node.name + "/Blocks"),
            helper.make_node("ReduceSum", [out + "/blocks", "llmcourse.last_axis"], [out + "/blocksum"],
                             keepdims=0, name=node.name + "/BlockSum"),
            helper.make_node("MatMul", [out + "/blocksum", weight + ".q4_offsets"], [out + "/offset"],
                             name=node.name + "/Offset"),
            helper.make_node("Add", [out + "/q4", out + "/offset"], [out], name=node.name + "/AddOffset"),
        ]
    if counts["q4"]:
        added.append(numpy_helper.from_array(np.array([-1], np.int64), "llmcourse.last_axis"))
    keep = [i for i in model.graph.initializer if i.name not in drop] + added
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(Path(target) / "model.onnx"), save_as_external_data=True, location="model.onnx.data")
    return counts

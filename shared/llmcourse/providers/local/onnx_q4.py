"""The GGUF's 4-bit weights, kept exact in the ONNX model (the default build of onnx_build.py).

The course's model ships as a Q4_1 GGUF: every block of 32 weights along a row is `d * q + m` with
q in 0..15 and a per-block step d and minimum m. The bf16 cache holds those values (rounded to bf16),
and the ONNX builder's float32 model reads 4 bytes for each of them on every token. This pass reads the
blocks back out of the float32 weights (q from m = the block's minimum and d = its range / 15: the
minimum has q = 0 and the maximum q = 15 by construction of Q4_1; then d and m fitted to the block's
32 weights, which undoes most of the bf16 rounding) and stores each projection as

    x @ W  =  MatMulNBits(x, q - 8, d)  +  blocksum(x) @ (m + 8 d),   blocksum(x) = x @ E

ONNX Runtime's 4-bit kernel (blocks of 32, symmetric, float32 activations: accuracy_level 1) does the
first term reading half a byte per weight; the second is the per-block offset that a 4-bit zero
point cannot hold exactly (Q4_1's m is not a whole number of steps), a matmul 1/32 the size; E is
the K x K/32 block indicator, so the sums are one small matmul. Letting the builder re-quantize
instead rounds each m to a whole step: perplexity 37.1 -> 51.9 (rejected).

Int8 activations (accuracy_level 4) everywhere are faster still (102 tok/s against 65 in one
measurement, 2026-12-03) but change greedy answers ("L'Etoile, la Marsebeau" for the capital of
France), so the projections keep float32 activations. The output head (the GGUF's Q8_0 embedding,
transposed; 49,152 words) is the one place they are used, and only to rank: every word is scored with
8-bit weights and int8 activations, then the best HEAD_TOP are scored again in float32 and put back
(exact_top_head). An unconstrained greedy reply depends only on those; a logits processor that masks
them (the JSON grammar) picks among 8-bit scores, and scoring a word outside them reads its 8-bit
score. A step over 2-8 rows takes 2-5 ms less.

Quality gate (benchmarks/local_quality.py's measures, 2026-12-03): perplexity 37.03 against bf16's
37.08 and float32's 36.99; MMLU cloze on 228 questions 32.0%, as bf16 (the same choice on 224); greedy
replies over 64 tokens equal to bf16's on 9 of 20 prompts, as float32's (the rest part at
rounding-level ties, 8 of 11 at the same token as float32's).

A weight that does not read back as 4-bit blocks (another model, a float GGUF) keeps its float32
MatMul, so the pass never moves a weight by more than about bf16 rounding (3 x 2^-8 of its block's
largest weight, checked for every block).
"""

from __future__ import annotations

from pathlib import Path

VERSION = 7          # bump when the rewrite changes (it names the cache folder)
BLOCK = 32
ACCURACY_LEVEL = 1   # float32 activations (see above)
HEAD_TOP = 64        # output head: 8-bit scores for every word, float32 for the best HEAD_TOP (0: float32)


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
    tolerance = np.abs(blocks).max(-1) * 3 * 2.0 ** -8 + 1e-12
    if (err > tolerance).any():
        return None
    # d and m by least squares over the block's 32 weights, given q: the bf16 rounding of single
    # weights averages out (closer to the GGUF's own d and m than the rounded extremes are)
    qm, wm = q.mean(-1), blocks.mean(-1)
    var = ((q - qm[..., None]) ** 2).sum(-1)
    fit_d = np.where(var > 0, ((q - qm[..., None]) * (blocks - wm[..., None])).sum(-1) / np.where(var > 0, var, 1), d)
    fit_m = wm - fit_d * qm
    fit_err = np.abs(q * fit_d[..., None] + fit_m[..., None] - blocks).max(-1)
    fits = fit_err <= tolerance              # the bound holds for the values returned, block by block
    d, lo = np.where(fits, fit_d, d), np.where(fits, fit_m, lo)
    return q.astype(np.uint8), d.astype(np.float32), lo.astype(np.float32)


def requantize(source: Path, target: Path) -> dict:
    """Write `target`/model.onnx: `source`/model.onnx (float32, from the builder) with exact 4-bit
    projections. Returns counts: {"q4": projections rewritten, "float32": matmuls left as they were,
    "head": how the output head scores, when HEAD_TOP rewrote it}."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(Path(source) / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}

    def weight(node) -> str | None:
        """The name of the constant weight a MatMul node multiplies by, if it has one."""
        w = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        return w if w in inits else None

    blocks = {}                                     # node name -> (q, d, m) of its weight
    for node in model.graph.node:
        if weight(node) and not weight(node).startswith("lm_head"):
            found = q4_blocks(numpy_helper.to_array(inits[weight(node)]).astype(np.float32))
            if found is not None:
                blocks[node.name] = found
    # projections reading the same input (a layer's gate and up) become one wider 4-bit matmul and a
    # Split: fewer, larger kernels (each small op costs ~10 us of a ~15 ms step)
    groups: dict[str, list] = {}
    for node in model.graph.node:
        if node.name in blocks:
            groups.setdefault(node.input[0], []).append(node)
    nodes, drop, added, summers = [], set(), [], {}
    counts = {"q4": 0, "float32": 0}
    for node in model.graph.node:
        if node.name not in blocks:
            counts["float32"] += weight(node) is not None
            nodes.append(node)
            continue
        group = groups[node.input[0]]
        if node is not group[0]:
            continue                                # written with the group's first member
        q, d, lo = (np.concatenate(parts, axis=0) for parts in zip(*(blocks[m.name] for m in group)))
        n, nblk, _ = q.shape
        k = nblk * BLOCK
        counts["q4"] += len(group)
        drop.update(m.input[1] for m in group)
        x = node.input[0]
        name = node.input[1] + (f".with{len(group) - 1}" if len(group) > 1 else "")
        out = node.output[0] if len(group) == 1 else node.output[0] + "/fused"
        added += [
            numpy_helper.from_array(q[..., 0::2] | (q[..., 1::2] << 4), name + ".q4"),
            numpy_helper.from_array(d.reshape(-1), name + ".q4_scales"),
            numpy_helper.from_array(np.ascontiguousarray((lo + 8 * d).T), name + ".q4_offsets"),
        ]
        if k not in summers:      # x @ E sums each block of 32 inputs (one shared per width; 1 op, not 2)
            summers[k] = f"llmcourse.block_sums_{k}"
            added.append(numpy_helper.from_array(np.repeat(np.eye(nblk, dtype=np.float32), BLOCK, axis=0), summers[k]))
        nodes += [
            helper.make_node("MatMulNBits", [x, name + ".q4", name + ".q4_scales"], [out + "/q4"],
                             name=node.name + "/Q4", domain="com.microsoft", K=k, N=n, bits=4,
                             block_size=BLOCK, accuracy_level=ACCURACY_LEVEL),
            helper.make_node("MatMul", [x, summers[k]], [out + "/blocksum"], name=node.name + "/BlockSum"),
            helper.make_node("MatMul", [out + "/blocksum", name + ".q4_offsets"], [out + "/offset"],
                             name=node.name + "/Offset"),
            helper.make_node("Add", [out + "/q4", out + "/offset"], [out], name=node.name + "/AddOffset"),
        ]
        if len(group) > 1:
            sizes = [blocks[m.name][0].shape[0] for m in group]
            added.append(numpy_helper.from_array(np.array(sizes, np.int64), name + ".split"))
            nodes.append(helper.make_node("Split", [out, name + ".split"], [m.output[0] for m in group], axis=-1,
                                          name=node.name + "/Split"))
    head = next((n for n in nodes if n.op_type == "MatMul" and n.input[1].startswith("lm_head")), None)
    if HEAD_TOP and head is not None:
        w = numpy_helper.to_array(inits[head.input[1]]).astype(np.float32)
        nodes[nodes.index(head):nodes.index(head) + 1], head_inits = exact_top_head(head, w)
        added += head_inits
        drop.add(head.input[1])
        counts["float32"] -= 1
        counts["head"] = "8-bit, top exact"
    keep = [i for i in model.graph.initializer if i.name not in drop] + added
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(Path(target) / "model.onnx"), save_as_external_data=True, location="model.onnx.data")
    return counts


def exact_top_head(node, w):
    """The output head `node` (h @ W, W: [hidden, vocab] float32) as nodes that score every word with
    8-bit weights and int8 activations (ONNX Runtime's fast kernel; W is the GGUF's Q8_0 embedding, so its
    8-bit blocks lose only bf16 rounding), then recompute the best HEAD_TOP words in float32 and put them
    back. The words that decide an unconstrained greedy reply, and nearly all of a softmax's mass, get
    float32 scores (to summation-order rounding); the rest are off by int8 rounding of h (~0.4%).
    Returns (nodes, initializers)."""
    import numpy as np
    from onnx import helper, numpy_helper

    k, v = w.shape
    blocks = np.ascontiguousarray(w.T).reshape(v, k // BLOCK, BLOCK)
    d = np.abs(blocks).max(-1) / 127.0
    q = np.rint(blocks / np.where(d == 0, 1.0, d)[..., None]).clip(-127, 127)
    h, out, name = node.input[0], node.output[0], node.input[1]
    inits = [numpy_helper.from_array((q + 128).astype(np.uint8), name + ".q8"),
             numpy_helper.from_array(d.astype(np.float32).reshape(-1), name + ".q8_scales"),
             numpy_helper.from_array(np.ascontiguousarray(w.T), name + ".rows"),          # vocab x hidden
             numpy_helper.from_array(np.array([HEAD_TOP], np.int64), name + ".top"),
             numpy_helper.from_array(np.array([-1], np.int64), name + ".last_axis")]
    nodes = [
        helper.make_node("MatMulNBits", [h, name + ".q8", name + ".q8_scales"], [out + "/all"], name=node.name + "/Q8",
                         domain="com.microsoft", K=k, N=v, bits=8, block_size=BLOCK, accuracy_level=4),
        helper.make_node("TopK", [out + "/all", name + ".top"], [out + "/top_scores", out + "/top"], axis=-1,
                         name=node.name + "/TopK"),
        helper.make_node("Gather", [name + ".rows", out + "/top"], [out + "/top_rows"], axis=0,
                         name=node.name + "/Rows"),                                         # B x 1 x top x hidden
        helper.make_node("Unsqueeze", [h, name + ".last_axis"], [out + "/h_col"], name=node.name + "/Column"),
        helper.make_node("MatMul", [out + "/top_rows", out + "/h_col"], [out + "/exact_col"],
                         name=node.name + "/Exact"),                                        # B x 1 x top x 1
        helper.make_node("Squeeze", [out + "/exact_col", name + ".last_axis"], [out + "/exact"],
                         name=node.name + "/ExactFlat"),
        helper.make_node("ScatterElements", [out + "/all", out + "/top", out + "/exact"], [out], axis=-1,
                         name=node.name + "/PutBack"),
    ]
    return nodes, inits

"""onnx_q4: the GGUF's 4-bit blocks read back out of float32 weights and stored exactly, so the 4-bit
ONNX model computes what the float32 one does (the default local backend's weights)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from llmcourse.providers.local.onnx_q4 import BLOCK, HEAD_TOP, q4_blocks, requantize  # noqa: E402


def q4_1_weight(k: int, n: int, seed: int = 0, exact: bool = False, codes: bool = False) -> np.ndarray:
    """A [K, N] float32 weight built as llama.cpp's Q4_1 builds one: per block of 32 along K, d * q + m,
    with the block's minimum at q = 0 and its maximum at q = 15; then rounded to bf16 like the cache
    (`exact`: not rounded; `codes`: the 4-bit codes q, N x K/32 x 32)."""
    rng = np.random.default_rng(seed)
    nblk = k // BLOCK
    q = rng.integers(0, 16, size=(n, nblk, BLOCK))
    q[..., 0], q[..., 1] = 0, 15
    if codes:
        return q
    d = rng.uniform(0.001, 0.02, size=(n, nblk, 1)).astype(np.float16).astype(np.float32)
    m = (-d * rng.uniform(4, 11, size=(n, nblk, 1))).astype(np.float16).astype(np.float32)
    w = (d * q + m).reshape(n, k).T.astype(np.float32)
    if exact:
        return w
    bits = w.view(np.uint32)                       # round to bf16 (to nearest even), as the bf16 cache holds it
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.view(np.float32)


def test_q4_1_blocks_read_back_and_other_weights_are_refused():
    w = q4_1_weight(64, 48)
    q, d, m = q4_blocks(w)
    assert q.shape == (48, 2, BLOCK)
    assert (q == q4_1_weight(64, 48, codes=True)).all()            # every 4-bit code, exactly
    rebuilt = (q * d[..., None] + m[..., None]).reshape(48, 64).T
    exact = q4_1_weight(64, 48, exact=True)
    assert np.abs(rebuilt - exact).max() < np.abs(w - exact).max()    # nearer the grid than bf16 left it
    noise = np.random.default_rng(1).normal(0, 0.05, size=(64, 48)).astype(np.float32)
    assert q4_blocks(noise) is None                # not on a 4-bit grid: stays float32
    assert q4_blocks(np.zeros((40, 8), np.float32)) is None   # K not a multiple of 32


def one_matmul_model(folder, weights: dict[str, np.ndarray], wide: np.ndarray):
    """A model of MatMuls x @ W (one per weight, all reading x [batch, seq, K]) and one more, `wide`,
    reading another input x2 [batch, seq, K2] alone (as a layer's down projection does); saved like the
    builder's."""
    from onnx import TensorProto, helper, numpy_helper

    k = next(iter(weights.values())).shape[0]
    nodes = [helper.make_node("MatMul", ["x", name], [f"y.{name}"], name=f"/{name}/MatMul") for name in weights]
    nodes.append(helper.make_node("MatMul", ["x2", "wide.weight"], ["y.wide.weight"], name="/wide/MatMul"))
    weights = dict(weights, **{"wide.weight": wide})
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "s", k]),
                     helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["b", "s", wide.shape[0]])],
        [helper.make_tensor_value_info(f"y.{n}", TensorProto.FLOAT, None) for n in weights],
        [numpy_helper.from_array(w, name) for name, w in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, str(folder / "model.onnx"), save_as_external_data=True, location="model.onnx.data")


def run(folder, x, x2):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    return {o.name: v for o, v in zip(sess.get_outputs(), sess.run(None, {"x": x, "x2": x2}))}


def test_the_rewritten_model_computes_what_the_float32_one_does(tmp_path):
    weights = {"proj.weight": q4_1_weight(576, 192, seed=2), "twin.weight": q4_1_weight(576, 96, seed=6),
               "lm_head.weight": np.random.default_rng(3).normal(0, 0.05, (576, 300)).astype(np.float32),
               "other.weight": np.random.default_rng(4).normal(0, 0.05, (576, 32)).astype(np.float32)}
    src, dst = tmp_path / "fp32", tmp_path / "q4x"
    src.mkdir(), dst.mkdir()
    one_matmul_model(src, weights, wide=q4_1_weight(1536, 64, seed=7))
    x = np.random.default_rng(5).normal(0, 1, size=(2, 3, 576)).astype(np.float32)
    x2 = np.random.default_rng(8).normal(0, 1, size=(2, 3, 1536)).astype(np.float32)
    before = run(src, x, x2)

    counts = requantize(src, dst)

    assert counts == {"q4": 3, "float32": 1, "head": "8-bit, top exact"}   # the non-grid weight stays float32
    after = run(dst, x, x2)
    ops = [n.op_type for n in onnx.load(str(dst / "model.onnx"), load_external_data=False).graph.node]
    assert ops.count("MatMulNBits") == 3 and ops.count("Split") == 1   # the two reading x became one (+ x2's, the head)
    # the 4-bit projection computes the GGUF's grid, closer to it than the bf16-rounded float32 weights do ...
    exact = x @ q4_1_weight(576, 192, seed=2, exact=True)
    err_before = np.abs(before["y.proj.weight"] - exact).max()
    err_after = np.abs(after["y.proj.weight"] - exact).max()
    assert err_after < 0.75 * err_before, (err_before, err_after)
    for name, exact in (("y.twin.weight", x @ q4_1_weight(576, 96, seed=6, exact=True)),
                        ("y.wide.weight", x2 @ q4_1_weight(1536, 64, seed=7, exact=True))):
        assert np.abs(after[name] - exact).max() < np.abs(before[name] - exact).max(), name
    # ... the weight left in float32 computes what it did ...
    np.testing.assert_allclose(after["y.other.weight"], before["y.other.weight"], rtol=1e-5, atol=1e-6)
    # ... and the head: its best HEAD_TOP scores are float32's, the rest off by 8-bit rounding only
    head, ref = after["y.lm_head.weight"], before["y.lm_head.weight"]
    top = np.argsort(-ref, axis=-1)[..., :HEAD_TOP // 2]           # well inside the recomputed ones
    np.testing.assert_allclose(np.take_along_axis(head, top, -1), np.take_along_axis(ref, top, -1), rtol=1e-5, atol=1e-5)
    assert (head.argmax(-1) == ref.argmax(-1)).all()
    rest = np.abs(head - ref).max()
    assert 0 < rest < 0.02 * np.abs(ref).max()                       # the others are approximate, closely
    # the 4-bit weights take ~1/6 of their float32 bytes (half a byte a weight + a scale and offset per block)
    model = onnx.load(str(dst / "model.onnx"))
    q4_bytes = sum(i.ByteSize() for i in model.graph.initializer if ".q4" in i.name)
    assert q4_bytes < 0.2 * (weights["proj.weight"].nbytes + weights["twin.weight"].nbytes + 1536 * 64 * 4)

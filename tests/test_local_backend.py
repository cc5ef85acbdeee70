"""The fast local backend (ONNX Runtime, the GGUF's exact 4-bit blocks, batched): the default only when it passes the quality
gate, the provider's features (stream, JSON schema) on it, and batching that decodes concurrent
requests together without changing any of them.

The full gate with more prompts and MMLU questions: benchmarks/local_quality.py.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime_genai", reason="the ONNX backend needs onnxruntime-genai (requirements.txt)")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import local_quality as gate  # noqa: E402

from llmcourse.engine import get_engine  # noqa: E402


@pytest.fixture(scope="module")
def fast():
    return get_engine("onnx")


@pytest.fixture(scope="module")
def ref():
    return get_engine("torch")


def test_the_default_backend_is_the_one_the_quality_gate_passes(fast, ref):
    """The ONNX backend is the default only once it holds the bf16 engine's quality (perplexity within 3%:
    the cheapest of the gate's three measures; benchmarks/local_quality.py prints all three). Measured
    2026-12-02: int4 ONNX 51.9 against bf16 37.1 on the gate's text (rejected); float32 ONNX 37.0 (-0.3%).
    2026-12-03: q4x (the GGUF's own 4-bit blocks, onnx_q4.py) 37.03 (-0.1%): the default."""
    from llmcourse.providers.local import engine as local_engine

    p_ref, p_fast = gate.perplexity_torch(ref), gate.perplexity_fast(fast)
    passes = abs(p_fast - p_ref) <= 0.03 * p_ref
    assert local_engine.DEFAULT_FAST == passes, (
        f"perplexity bf16 {p_ref:.2f}, onnx {p_fast:.2f}: set DEFAULT_FAST = {passes} in providers/local/engine.py")
    assert 5 < p_ref < 200 and 5 < p_fast < 500, (p_ref, p_fast)  # both real language models on real text


def test_the_default_onnx_model_holds_the_gguf_4_bit_blocks(fast):
    """Every projection of the 30 layers (qkv, o, gate, up, down) read back as 4-bit blocks; the output
    head (the GGUF's 8-bit embedding) scores in 8 bits, its best words again in float32."""
    info = json.loads((fast.onnx_dir / "llmcourse.json").read_text())
    assert info["variant"].startswith("q4x")
    assert info["projections"] == {"q4": 30 * 5, "float32": 0, "head": "8-bit, top exact"}


def test_stream_joins_to_generate_and_counts_tokens(fast):
    msgs = [{"role": "user", "content": "Describe the sea in one sentence."}]
    usage: dict = {}
    chunks = list(fast.stream(msgs, max_tokens=30, usage=usage))
    g = fast.generate(msgs, max_tokens=30)
    assert len(chunks) > 3 and "".join(chunks) == g.text
    assert usage == {"input_tokens": g.input_tokens, "output_tokens": g.output_tokens}


def test_concurrent_requests_are_batched_and_each_ends_right(fast):
    prompts = ["Name a planet.", "What is 2 + 2?", "Say hello in Spanish.", "What is the capital of France?"]
    before = fast.decoder.steps
    lengths = [12, 20, 28, 36]
    jobs = [fast.submit(fast.encode_chat([{"role": "user", "content": p}])[0].tolist(), max_tokens=n)
            for p, n in zip(prompts, lengths)]
    outs = [list(j) for j in jobs]
    assert all(1 <= len(o) <= n for o, n in zip(outs, lengths))
    assert all(o[-1] == fast.eos or len(o) == n for o, n in zip(outs, lengths))
    # decoded together: far fewer forward passes than tokens
    assert fast.decoder.steps - before < 0.6 * sum(len(o) for o in outs)
    assert fast.decoder.max_rows_seen >= 3


def test_a_closed_stream_does_not_stall_the_others(fast):
    msgs = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]
    result = {}
    other = threading.Thread(target=lambda: result.update(g=fast.generate(msgs, max_tokens=40)))
    other.start()
    stream = fast.stream(msgs, max_tokens=400)
    next(stream)
    stream.close()                                  # like a client that disconnects
    other.join(timeout=120)
    assert not other.is_alive() and result["g"].output_tokens == 40


def test_seeded_sampling_repeats(fast):
    msgs = [{"role": "user", "content": "Suggest a name for a cat."}]
    a = fast.generate(msgs, max_tokens=12, temperature=0.9, seed=7).text
    b = fast.generate(msgs, max_tokens=12, temperature=0.9, seed=7).text
    assert a == b


def test_chat_on_the_onnx_backend(monkeypatch, fast):
    from llmcourse import chat
    from llmcourse.providers.local import engine as local_engine

    monkeypatch.setattr(local_engine, "default_backend", lambda: "onnx")
    r = chat("What is the capital of France?", model="local", max_tokens=20)
    assert "Paris" in r.text
    js = chat("Give a colour and a number.", model="local",
              schema={"type": "object", "properties": {"colour": {"type": "string", "maxLength": 12},
                                                        "n": {"type": "integer", "minimum": 1, "maximum": 9}},
                      "required": ["colour", "n"]})
    data = json.loads(js.text)
    assert set(data) == {"colour", "n"} and 1 <= data["n"] <= 9


def test_a_prompt_that_begins_like_a_recent_one_reads_only_the_rest_and_answers_the_same(fast):
    """The prefix store: the chat template's system prompt (and a repeated question) is read once; the
    reply is the one a fresh read gives, token for token."""
    store = fast.decoder.prefixes
    question = [{"role": "user", "content": "Name three primary colours."}]
    ids = fast.encode_chat(question)[0].tolist()

    store.clear()
    fresh = list(fast.submit(ids, max_tokens=24))
    assert len(store.entries) == 1                                      # the prompt is kept ...

    store.clear()
    fast.generate([{"role": "user", "content": "Hello, who are you?"}], max_tokens=2)   # another question
    hits, reused = store.hits, store.reused_tokens
    again = list(fast.submit(ids, max_tokens=24))
    shared = next(i for i, (a, b) in enumerate(zip(ids, fast.encode_chat(
        [{"role": "user", "content": "Hello, who are you?"}])[0].tolist())) if a != b)
    assert store.hits == hits + 1 and store.reused_tokens - reused == shared   # ... the system prompt reused
    assert shared >= 20                                                         # (SmolLM2's is ~30 tokens)
    assert again == fresh

    reused = store.reused_tokens                    # the same question again: all but its last token
    assert list(fast.submit(ids, max_tokens=24)) == fresh
    assert store.reused_tokens - reused == len(ids) - 1


def test_the_prefix_store_keeps_recent_prompts_within_its_limit():
    import numpy as np

    from llmcourse.providers.local.batching import PrefixStore

    store = PrefixStore(limit=10)
    kv = lambda n: [np.full((1, n, 2), n, np.float32)]            # noqa: E731  (one buffer, n positions)
    store.add([1, 2, 3, 4], kv(4))
    store.add([1, 2, 3, 4, 5, 6], kv(6))                          # extends the first: replaces it
    assert list(store.entries) == [(1, 2, 3, 4, 5, 6)]
    n, found = store.longest([1, 2, 3, 9])
    assert n == 3 and found[0].shape == (1, 6, 2)
    store.add([7, 8, 9, 10, 11], kv(5))                           # 6 + 5 > 10: the least recent goes
    assert list(store.entries) == [(7, 8, 9, 10, 11)]
    assert store.longest([5, 5])[0] == 0
    store.add(list(range(20)), kv(20))                            # longer than the limit: not kept
    assert (tuple(range(20))) not in store.entries


@pytest.mark.skipif(sys.platform != "linux", reason="the per-thread count goes through libgomp, found in /proc")
def test_torch_on_this_thread_only_changes_that_thread_and_leaves_the_others_every_thread():
    """The worker's torch ops run on its own thread (so they do not fight ONNX Runtime's spinning threads for
    the cores), while the rest of the process keeps torch's full thread count. In a fresh process with two
    threads: this process's tests run with OMP_NUM_THREADS=1, where the two would look alike."""
    import os
    import subprocess

    code = """
import threading, torch
from llmcourse.providers.local.batching import torch_on_this_thread_only
seen = {}
def worker():
    seen["set"] = torch_on_this_thread_only()
    seen["worker"] = torch.get_num_threads()
t = threading.Thread(target=worker); t.start(); t.join()
late = threading.Thread(target=lambda: seen.update(late=torch.get_num_threads())); late.start(); late.join()
print(seen["set"], seen["worker"], torch.get_num_threads(), seen["late"])
"""
    env = dict(os.environ, OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "1", "2", "2"]


def test_the_decoder_worker_keeps_its_torch_ops_on_its_own_thread(monkeypatch):
    """The worker makes the call above on its own thread, before its first job (the call's effect: the test above)."""
    from llmcourse.providers.local import batching

    calls = []
    monkeypatch.setattr(batching, "torch_on_this_thread_only", lambda: calls.append(threading.current_thread().name))
    decoder = batching.BatchDecoder(None, layers=1, kv_heads=1, head_dim=4)   # no session: the job fails, and ends
    job = decoder.submit(batching.Job([1, 2, 3], max_tokens=2, eos=0))
    with pytest.raises(AttributeError):
        list(job)
    assert calls == ["llmcourse-decoder"]

"""The quantization helpers measure real things on the real local model (bf16 only: int8/nf4 are
exercised by notebooks/08_quantization.ipynb)."""

import math

import pytest

from llmcourse.lessons.quantize import load_local, perplexity, tokens_per_second


@pytest.fixture(scope="module")
def bf16():
    return load_local("bf16")


def test_perplexity_prefers_sense_to_noise(bf16):
    model, tok = bf16
    sense = perplexity(model, tok, "The capital of France is Paris. The capital of Germany is Berlin.")
    noise = perplexity(model, tok, "Paris Berlin the of is capital. France The Germany of capital is.")
    assert math.isfinite(sense) and 1 < sense < noise


def test_tokens_per_second_is_positive(bf16):
    model, tok = bf16
    assert tokens_per_second(model, tok, "Once upon a time", new_tokens=4) > 0


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="fp32, bf16, int8, nf4"):
        load_local("fp8")


def test_the_fast_backend_continues_the_same_text_faster(bf16):
    """Notebook 08's last measurement: the GGUF's own 4-bit blocks with ONNX Runtime's kernel against bf16
    transformers, the same prompt, greedy. The first words agree (the weights are the same numbers)."""
    from llmcourse.lessons.quantize import fast_tokens_per_second

    model, tok = bf16
    prompt = "The capital of France is"
    fast, text = fast_tokens_per_second(prompt, new_tokens=16)
    slow = tokens_per_second(model, tok, prompt, new_tokens=16)
    assert fast > slow
    assert text.split()[0].strip(".,") == "Paris"

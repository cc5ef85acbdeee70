"""Mixed precision for week 6: "auto" means bf16 matmuls exactly where the hardware computes bf16 natively."""

from __future__ import annotations

import sys

import pytest

from llmcourse.finetune import precision as P


def test_native_bf16_agrees_with_bitsandbytes_cpu_probe():
    """Two independent readings of this machine's CPU: our /proc/cpuinfo flags and bitsandbytes' own check."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the CPU flags are read on Linux only (elsewhere: float32)")
    from bitsandbytes.functional import has_avx512bf16

    assert P.native_bf16("cpu") == (bool(has_avx512bf16()) or "amx_bf16" in P._cpu_flags())


@pytest.mark.parametrize("flags, native", [({"avx2", "fma"}, False), ({"avx2", "avx512f", "avx512_bf16"}, True),
                                           ({"avx2", "amx_bf16"}, True), (set(), False)])
def test_auto_is_bf16_only_on_cpus_that_compute_it(monkeypatch, flags, native):
    import torch

    monkeypatch.setattr(P, "_cpu_flags", lambda: frozenset(flags))
    layer = torch.nn.Linear(4, 4)
    assert P.native_bf16("cpu") is native
    assert P.resolve(layer, "auto") == ("bf16" if native else "fp32")
    assert P.label(layer, P.resolve(layer, "auto")) == ("bf16 mixed" if native else "float32")
    assert P.resolve(layer, "fp32") == "fp32" and P.resolve(layer, "bf16") == "bf16"   # a choice is kept


@pytest.mark.parametrize("major, native", [(7, False), (8, True), (9, True)])
def test_gpus_compute_bf16_from_ampere_on(monkeypatch, major, native):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, 0))
    assert P.native_bf16("cuda") is native


def test_a_4bit_model_keeps_its_own_compute_dtype_and_bf16_weights_are_named(monkeypatch):
    import torch

    monkeypatch.setattr(P, "_cpu_flags", lambda: frozenset({"avx512_bf16"}))
    quantized = torch.nn.Linear(4, 4)
    quantized.is_loaded_in_4bit = True
    assert P.resolve(quantized, "auto") == "fp32" and P.label(quantized, "fp32") == "4-bit base"
    bf16_weights = torch.nn.Linear(4, 4).to(torch.bfloat16).requires_grad_(False)
    assert P.label(bf16_weights, "bf16") == "bf16 weights"


def test_a_wrong_precision_names_the_choices():
    import torch

    with pytest.raises(ValueError, match="auto, bf16, fp32"):
        P.resolve(torch.nn.Linear(4, 4), "fp16")


def test_autocast_runs_matmuls_in_bf16_only_when_resolved():
    import torch

    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with P.autocast(layer, "bf16"):
        assert layer(x).dtype == torch.bfloat16
    with P.autocast(layer, "fp32"):
        assert layer(x).dtype == torch.float32


def test_using_attention_restores_after_an_error_and_leaves_other_models_alone():
    import torch

    from llmcourse.finetune.lora import using_attention

    class Config:
        _attn_implementation = "sdpa"

    class Model(torch.nn.Module):
        config = Config()

        def set_attn_implementation(self, name):
            self.config._attn_implementation = name

    model = Model()
    with pytest.raises(RuntimeError), using_attention(model, "eager"):
        assert model.config._attn_implementation == "eager"
        raise RuntimeError("training stopped")
    assert model.config._attn_implementation == "sdpa"
    plain = torch.nn.Linear(2, 2)          # not a transformers model: nothing to switch, no error
    with using_attention(plain, "eager") as m:
        assert m is plain

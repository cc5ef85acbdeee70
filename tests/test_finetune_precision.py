"""Mixed precision for week 6: "auto" means bf16 matmuls exactly where the hardware computes bf16 natively."""

from __future__ import annotations

import sys

import pytest

from llmcourse.finetune import precision as P


def test_native_bf16_agrees_with_bitsandbytes_cpu_probe():
    """Two independent readings of the CPU: our /proc/cpuinfo flags and bitsandbytes' own check."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the CPU flags are read on Linux only (elsewhere: float32)")
    from bitsandbytes.functional import has_avx512bf16

    assert P.native_bf16("cpu") == (bool(has_avx512bf16()) or "amx_bf16" in P._cpu_flags())


def test_resolve_follows_the_hardware_and_the_choice():
    import torch

    layer = torch.nn.Linear(4, 4)
    assert P.resolve(layer, "auto") == ("bf16" if P.native_bf16() else "fp32")
    assert P.resolve(layer, "fp32") == "fp32" and P.resolve(layer, "bf16") == "bf16"
    assert P.label(layer, "bf16") == "bf16 mixed" and P.label(layer, "fp32") == "float32"
    with pytest.raises(ValueError, match="auto, bf16, fp32"):
        P.resolve(layer, "fp16")


def test_autocast_runs_matmuls_in_bf16_only_when_resolved():
    import torch

    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with P.autocast(layer, "bf16"):
        assert layer(x).dtype == torch.bfloat16
    with P.autocast(layer, "fp32"):
        assert layer(x).dtype == torch.float32

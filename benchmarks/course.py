"""Course-level figures: import time of the package, venv size, and the whole course run headless
with no keys (every notebook through nbmake, per-notebook seconds). With --fresh, also a fresh set-up:
clone the repository into a temporary folder and time `make setup` with a new venv.

    python benchmarks/course.py [--fresh] [--skip-notebooks]

Targets (2 cores, no GPU): whole course < 10 min, fresh set-up < 3 min, venv < 3 GB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def import_seconds() -> float:
    code = "import time; t=time.perf_counter(); from llmcourse import chat; print(time.perf_counter()-t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return min(runs)


def notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout
    return out.split()


def run_course() -> tuple[float, list[tuple[str, float]], str]:
    env = {k: v for k, v in os.environ.items() if k not in NO_KEYS}
    env.update(HF_HUB_OFFLINE="1", LLMCOURSE_IGNORE_DOTENV="1", GRADIO_ANALYTICS_ENABLED="False")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake",
                        "--nbmake-timeout=600", "--durations=0", *notebooks()], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    total = time.perf_counter() - t
    per = [(m.group(2), float(m.group(1))) for m in
           re.finditer(r"^([\d.]+)s call\s+(\S+\.ipynb)", p.stdout, re.M)]
    return total, per, p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr[-500:]


def fresh_setup() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "clone", "-q", str(ROOT), tmp], check=True)
        t = time.perf_counter()
        subprocess.run(["make", "setup"], cwd=tmp, check=True, capture_output=True)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fresh", action="store_true", help="also time a fresh clone's `make setup`")
    ap.add_argument("--skip-notebooks", action="store_true")
    args = ap.parse_args()
    venv = Path(sys.prefix)
    print(f"import llmcourse + chat: {import_seconds() * 1000:.0f} ms")
    print(f"venv size ({venv}): {du(venv) / 1e9:.2f} GB")
    if args.fresh:
        print(f"fresh set-up (clone + make setup): {fresh_setup():.0f} s")
    if not args.skip_notebooks:
        total, per, summary = run_course()
        for name, secs in sorted(per, key=lambda x: -x[1]):
            print(f"  {secs:7.1f} s  {name}")
        print(f"whole course, headless, no keys: {total / 60:.1f} min ({summary})")
    if shutil.which("nproc"):
        print(f"({os.cpu_count()} CPU cores)")


if __name__ == "__main__":
    main()

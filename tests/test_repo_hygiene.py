"""Committed notebooks carry no outputs and nothing shaped like an API key; the layout is intact."""

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
from llmcourse.settings import KEY_NAMES, KEY_PATTERNS  # noqa: E402

KEY_SHAPE = re.compile("|".join(f"(?:{p})" for p in KEY_PATTERNS.values()))


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


def test_key_patterns_cover_every_provider_in_the_registry():
    import tomllib

    registry = tomllib.loads((ROOT / "shared/llmcourse/models.toml").read_text())
    providers = {m["provider"] for m in registry["models"].values()}
    keyed = {p for p in providers if p in KEY_NAMES}
    assert keyed >= {"openai", "anthropic", "gemini"}, providers
    assert keyed <= set(KEY_PATTERNS), f"no key pattern for {keyed - set(KEY_PATTERNS)}"
    assert providers - keyed <= {"local", "ollama", "vllm", "lmstudio"}, \
        f"providers with neither a key name nor a keyless role: {providers - keyed - {'local', 'ollama'}}"


def test_the_hygiene_pattern_finds_a_key_of_every_provider():
    samples = {  # built at run time, never written out whole
        "openai": "sk-proj-" + "Ab3" * 15, "anthropic": "sk-ant-api03-" + "Zy9x" * 10,
        "gemini": "AIza" + "Q1" * 18, "deepseek": "sk-" + "ab12" * 8, "groq": "gsk_" + "Gq7" * 12,
        "perplexity": "pplx-" + "Pp4" * 12, "openrouter": "sk-or-v1-" + "0f" * 24,
        "cohere": "COHERE_API_KEY=" + "Co3" * 13, "huggingface": "hf_" + "Hf5" * 12, "xai": "xai-" + "Xa6" * 12,
    }
    assert set(samples) == set(KEY_PATTERNS)
    for provider, text in samples.items():
        assert KEY_SHAPE.search(f"x = '{text}'"), provider

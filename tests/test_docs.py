"""The guides name only what exists: make targets and their variables, files, `python -m llmcourse`
commands and flags, script subcommands, environment variables the package reads, and local links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shared" / "llmcourse"
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
GENERATED = ("test-artifacts/", "wheelhouse")  # made by a run, absent from a clean clone
TOP = re.compile(r"^(notebooks/|week\d|shared/|tests/|benchmarks/|scripts/|docs/|\.ci/|Makefile|requirements|"
                 r"pyproject\.toml|\.env\.example|README\.md)")


def _text(doc: Path) -> str:
    return doc.read_text()


def _code_spans(text: str) -> list[str]:
    """Inline code and the lines of fenced code blocks."""
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        spans.extend(block.splitlines())
    return spans


def _makefile() -> str:
    return (ROOT / "Makefile").read_text()


def _source() -> str:
    return "\n".join(p.read_text() for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_make_target_and_variable_exists(doc):
    makefile = _makefile()
    targets = set(re.findall(r"^([\w.-]+):", makefile, re.M))
    used = [m for span in _code_spans(_text(doc)) for m in re.findall(r"\bmake ((?:[\w-]+)(?: [A-Z_]+=\S+)*)", span)]
    assert used, f"{doc.name} names no make command"
    for call in used:
        target, *assigns = call.split()
        assert target in targets, f"{doc.name}: `make {target}` is not a target of the Makefile"
        for var in (a.split("=", 1)[0] for a in assigns):
            assert f"$({var})" in makefile, f"{doc.name}: the Makefile never reads {var} (`make {call}`)"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_named_exists(doc):
    missing = []
    for span in _code_spans(_text(doc)):
        if "<" in span:  # a pattern such as tests/test_<topic>.py
            continue
        for token in re.findall(r"[\w./-]+", span):
            token = token.rstrip(".")
            if not TOP.match(token) or token.startswith(GENERATED):
                continue
            if not any(p.exists() for p in (ROOT / token, PACKAGE / token, ROOT / f"{token}.ipynb")):
                missing.append(token)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _text(doc)):
        if not target.startswith(("http://", "https://", "mailto:")) and not (doc.parent / target).exists():
            missing.append(target)
    assert not missing, f"{doc.name} names paths that do not exist: {sorted(set(missing))}"


def test_package_paths_named_by_the_maintainers_guide_exist():
    text = _text(ROOT / "docs" / "maintainers.md")
    named = set(re.findall(r"`((?:providers|gateway|rag|evaluation|datagen|speech|finetune|lessons)/[\w./]*)`", text))
    assert named, "the maintainers' guide names no package folder"
    assert not [p for p in named if not (PACKAGE / p).exists()], named


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_llmcourse_commands_and_flags_exist(doc):
    main = (PACKAGE / "__main__.py").read_text()
    commands = set(re.findall(r'add_parser\("(\w+)"', main))
    for cmd, rest in re.findall(r"python -m llmcourse (\w+)([^`\n]*)", _text(doc)):
        assert cmd in commands, f"{doc.name}: `python -m llmcourse {cmd}` does not exist ({sorted(commands)})"
        for flag in re.findall(r"(--[\w-]+)", rest):
            assert f'"{flag}"' in main, f"{doc.name}: `python -m llmcourse {cmd} {flag}`: no such flag"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_script_subcommands_exist(doc):
    for script, sub in re.findall(r"(scripts/\w+\.py) (\w+)", _text(doc)):
        code = (ROOT / script).read_text()
        assert f'add_parser("{sub}"' in code, f"{doc.name}: `{script} {sub}` is not a subcommand"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_environment_variables_named_are_read_by_the_package(doc):
    from llmcourse.providers.compat import PRESETS
    from llmcourse.settings import KEY_NAMES

    source, text = _source(), _text(doc)
    keys = {n for names in KEY_NAMES.values() for n in names}
    for var in set(re.findall(r"\b(LLMCOURSE_[A-Z_]+)\b", text)):
        assert f'"{var}"' in source, f"{doc.name}: no module of llmcourse reads {var}"
    for var in set(re.findall(r"\b([A-Z]+_API_KEY)\b", text)):  # or a misspelling the doctor catches
        assert var in keys or var in source, f"{doc.name}: {var} is not a key name llmcourse reads"
    for var in set(re.findall(r"\b([A-Z]+)_BASE_URL\b", text)):
        read = f'"{var}_BASE_URL"' in source or var.lower() in PRESETS
        assert read, f"{doc.name}: nothing in llmcourse reads {var}_BASE_URL"


def test_the_generated_table_has_its_markers():
    spec = __import__("importlib.util").util.spec_from_file_location(
        "notebook_report", ROOT / "scripts" / "notebook_report.py")
    report = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(report)
    text = _text(ROOT / "docs" / "instructors.md")
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1

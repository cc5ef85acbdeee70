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


# -- the generated per-notebook table (scripts/notebook_report.py) ------------------------------------
def _report():
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebook_report", ROOT / "scripts" / "notebook_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calls_are_priced_at_the_model_they_would_reach_with_keys():
    from llmcourse.registry import get_model

    report = _report()
    calls = [{"asked": "(default)", "input_tokens": 1000, "output_tokens": 500},
             {"asked": "(gateway)", "input_tokens": 1000, "output_tokens": 500},
             {"asked": "smart", "input_tokens": 2000, "output_tokens": 0},
             {"asked": "local", "input_tokens": 10**6, "output_tokens": 10**6}]
    fast, smart = (get_model(a, available=lambda p: True) for a in ("fast", "smart"))
    usd, models = report.cost_with_keys(calls)
    assert usd == pytest.approx(2 * fast.cost(1000, 500) + smart.cost(2000, 0)) and usd > 0
    assert models == {fast.name: 2, smart.name: 1}  # the local call costs nothing and reaches nothing


def test_times_come_from_the_suites_junit_xml_or_durations(tmp_path):
    report = _report()
    xml = tmp_path / "junit.xml"
    xml.write_text('<testsuites><testsuite><testcase classname="week5_rag.01_rag_by_hand.ipynb" '
                   'name="01_rag_by_hand.ipynb" time="41.5"/><testcase classname="tests.test_rag" '
                   'name="test_x" time="3"/><testcase classname="notebooks.07_agents.ipynb" name="07_agents.ipynb" '
                   'time="9"><failure message="AssertionError"/></testcase></testsuite></testsuites>')
    assert report.junit_seconds(xml) == {"week5_rag/01_rag_by_hand.ipynb": 41.5, "notebooks/07_agents.ipynb": 9.0}
    assert report.junit_failed(xml) == {"notebooks/07_agents.ipynb"}
    log = "12.50s call     notebooks/00_start_here.ipynb::00_start_here.ipynb\n0.20s setup    tests/test_a.py::t\n"
    assert report.durations_seconds(log) == {"notebooks/00_start_here.ipynb": 12.5}


def test_the_table_replaces_only_the_text_between_its_markers(tmp_path):
    report = _report()
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{report.BEGIN}\nold table\n{report.END}\nafter\n")
    report.write_between_markers(doc, "new table")
    assert doc.read_text() == f"before\n{report.BEGIN}\nnew table\n{report.END}\nafter\n"
    doc.write_text("no markers")
    with pytest.raises(ValueError, match="needs one"):
        report.write_between_markers(doc, "x")


def test_the_spy_records_what_each_call_asked_for_and_changes_no_reply(tmp_path):
    import json
    import os
    import subprocess
    import sys

    report = _report()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(report.spy(tmp_path), LLMCOURSE_IGNORE_DOTENV="1", HF_HUB_OFFLINE="1")
    code = ("from llmcourse import chat\n"
            "a = chat('Name a colour.', max_tokens=4, temperature=0).text\n"
            "b = chat('Name a colour.', model='local', max_tokens=4, temperature=0).text\n"
            "assert a == b, (a, b)\n")
    ipython = Path(sys.executable).with_name("ipython")
    done = subprocess.run([str(ipython), "--no-banner", "-c", code], env=env, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    dumps = list((tmp_path / "calls").glob("*.json"))
    assert len(dumps) == 1
    record = json.loads(dumps[0].read_text())
    assert [c["asked"] for c in record["calls"]] == ["(default)", "local"]
    assert all(c["output_tokens"] > 0 for c in record["calls"])


def test_readme_blocks_are_replaced_by_the_saved_benchmark_output(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_table", ROOT / "benchmarks" / "readme_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    readme, outputs = tmp_path / "README.md", tmp_path / "bench"
    outputs.mkdir()
    readme.write_text("# Figures\n<!-- bench:gateway -->\ntyped 9.99 req/s\n<!-- /bench:gateway -->\n"
                      "<!-- bench:rag -->\nkept\n<!-- /bench:rag -->\nend\n")
    (outputs / "gateway.txt").write_text("Loading: 50%|#####| 1/2 [00:01<00:01, 1.0it/s]\nRESULT{\"x\": 1}\n"
                                         "path   req/s\nsdk     1.23\n")
    (outputs / "speech.txt").write_text("WER 6.5%\n")
    new, missing, unplaced = table.update(readme, outputs)
    assert "typed 9.99" not in new and "path   req/s\nsdk     1.23\n```" in new
    assert "it/s" not in new and "RESULT" not in new
    assert "<!-- bench:rag -->\nkept\n<!-- /bench:rag -->" in new and new.endswith("end\n")
    assert missing == ["rag"] and unplaced == ["speech"]

"""The week 5 RAG app for real: local model, a small real knowledge base, driven by gradio_client and by
headless Chromium that looks at the page. Sources are listed beside the streamed answer as plain text at body
size, with the question's words marked; a status line names the model (screenshot under test-artifacts/)."""

import re
import shutil
from pathlib import Path

import pytest

from browser import load_app

from llmcourse import ui
from llmcourse.ui import history_to_messages, serve

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What is the payload of the Tern T1?"


def load_app_module():
    return load_app("week5_rag")


@pytest.fixture(scope="module")
def app_module():
    return load_app_module()


@pytest.fixture(scope="module")
def small_kb_folder(tmp_path_factory):
    """Products and policies only (19 documents): quick to embed, enough to check sources."""
    folder = tmp_path_factory.mktemp("kb")
    for part in ("products", "policies"):
        shutil.copytree(ROOT / "week5_rag" / "knowledge-base" / part, folder / part)
    return folder


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return tmp_path_factory.mktemp("db") / "chroma_db"


@pytest.fixture(scope="module")
def kb(app_module, small_kb_folder, db):
    return app_module.get_kb(db, small_kb_folder)


@pytest.fixture(scope="module")
def served(app_module, kb):
    with serve(app_module.build_app(kb, model="local", k=3, max_tokens=160)) as s:
        yield s


def test_get_kb_ingests_once(app_module, kb, small_kb_folder, db):
    again = app_module.get_kb(db, small_kb_folder)
    assert again.count() == kb.count() > 0
    assert again.ingest(small_kb_folder, progress=False).unchanged == 19


def test_build_app_does_not_ingest_until_asked(app_module, monkeypatch):
    calls = []
    monkeypatch.setattr(app_module, "get_kb", lambda *a, **k: calls.append(1))
    app_module.build_app()
    assert calls == []


def test_app_binds_loopback_only(served):
    from browser import listening_addresses

    assert listening_addresses(served.port) == {"127.0.0.1"}
    assert served.url == f"http://127.0.0.1:{served.port}/"


def test_format_sources_escapes_markdown_and_marks_the_question(app_module, kb):
    hits = kb.search(QUESTION, k=3)
    html = app_module.format_sources(hits, QUESTION)
    assert "# <mark>Tern</mark> <mark>T1</mark>" in html and "<h1" not in html  # the title stays text
    assert "<mark>Tern</mark> <mark>T1</mark>" in html and re.search(r"<mark>payload</mark>", html, re.I)
    assert html.count('class="llmc-source"') == len(hits) == 3


def test_gradio_client_streams_an_answer_with_its_sources(served):
    from gradio_client import Client

    client = Client(served.url, verbose=False)
    job = client.submit(QUESTION, [], "local", api_name="/ask")
    partials = list(job)
    history, sources, status = job.result()
    answer = history_to_messages(history)[-1]
    assert len(partials) >= 3  # sources first, then a growing answer, then the status line
    assert answer["role"] == "assistant" and "60" in answer["content"]
    assert "products/tern-t1.md" in sources and "[1]" in sources
    assert re.search(r"local/\S+ · \d+ in / \d+ out tokens", status)


def test_question_in_a_real_browser_shows_answer_sources_and_status(served):
    from browser import body_text_size, browser_page, screenshot, text_sizes

    with browser_page() as page:
        page.goto(served.url)
        assert "Small offline model" in page.locator("#frame-banner").inner_text()
        box = page.locator("#question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_function("() => document.querySelector('#sources').innerText.includes('tern-t1.md')",
                               timeout=90_000)
        page.wait_for_function("() => document.querySelector('#frame-status').innerText.includes(' out tokens')",
                               timeout=90_000)
        answer = page.locator("#answer .message.bot, #answer [data-testid='bot']").last.inner_text()
        sources = page.locator("#sources").inner_text()
        status = page.locator("#frame-status").inner_text()
        sizes, body = text_sizes(page, "#sources .llmc-sources"), body_text_size(page)
        marked = page.locator("#sources mark").count()
        screenshot(page, "week5_rag")
    assert "60" in answer
    assert f"local/{ui.default_choice()}" in status
    assert "# Tern T1" in sources  # the document's heading is shown as text...
    assert sizes == {body}, f"source panel text sizes {sizes} px, body text {body} px"  # ...at body size
    assert marked >= 3


def test_the_leave_answer_does_not_loop(served):
    """Issue 17: this question filled the panel with one sentence repeated nine times."""
    from gradio_client import Client

    from llmcourse.providers.local.repeats import first_repeat

    history, sources, status = Client(served.url, verbose=False).predict(
        "How many days of paid annual leave do employees get?", [], "local", api_name="/ask")
    answer = history_to_messages(history)[-1]["content"]
    assert answer.strip() and first_repeat(answer) is None and first_repeat(answer, similarity=0.8) is None
    assert "<mark>leave</mark>" in sources.lower() and "policies/" in sources

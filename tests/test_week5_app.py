"""The week 5 RAG app for real: local model, a small real knowledge base, driven by gradio_client and by
headless Chromium. Sources must be listed beside the streamed answer."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from llmcourse.ui import history_to_messages, serve

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What is the payload of the Tern T1?"


def load_app_module():
    spec = importlib.util.spec_from_file_location("week5_app", ROOT / "week5_rag" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    with serve(app_module.build_app(kb, model="local", k=3, max_tokens=40)) as s:
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


def test_app_binds_loopback(served):
    assert served.url.startswith("http://127.0.0.1:")


def test_gradio_client_streams_an_answer_with_its_sources(served):
    from gradio_client import Client

    client = Client(served.url, verbose=False)
    job = client.submit(QUESTION, [], api_name="/ask")
    partials = list(job)
    history, sources = job.result()
    answer = history_to_messages(history)[-1]
    assert len(partials) >= 3  # sources first, then a growing answer
    assert answer["role"] == "assistant" and "60" in answer["content"]
    assert "products/tern-t1.md" in sources and "[1]" in sources


def test_question_in_a_real_browser_shows_answer_and_sources(served):
    from browser import browser_page

    with browser_page() as page:
        page.goto(served.url)
        box = page.locator("#question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_function("() => document.querySelector('#sources').innerText.includes('tern-t1.md')",
                               timeout=60_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#answer .message.bot, #answer [data-testid=\"bot\"]')]"
            ".some(e => e.innerText.includes('60'))", timeout=60_000)
        assert "Tern" in page.locator("#sources").inner_text()

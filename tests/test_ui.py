"""The course's app frame and the week 1 chat app, for real: the local model behind Gradio, driven by
gradio_client and by a real headless Chromium that looks at the page (and saves a screenshot under
test-artifacts/)."""

import re
import urllib.request
from types import SimpleNamespace

import pytest

from llmcourse import ui
from llmcourse.ui import chat_app, highlight, history_to_messages, serve, sources_html

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def served():
    with serve(chat_app(model="local", title="Course chat", max_tokens=40)) as s:
        yield s


def test_history_formats_are_normalised():
    hist = [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "hello"}]
    assert history_to_messages(hist) == [{"role": "user", "content": "hi"},
                                         {"role": "assistant", "content": "hello"}]


def test_served_url_is_the_bound_loopback_socket(served):
    from browser import listening_addresses

    assert listening_addresses(served.port) == {"127.0.0.1"}  # asked of the OS, not of our own URL
    assert served.url == f"http://127.0.0.1:{served.port}/"
    with urllib.request.urlopen(served.url, timeout=30) as r:
        assert r.status == 200 and b"Course chat" in r.read()


def test_serve_on_a_chosen_port_reports_that_port():
    from browser import listening_addresses

    port = ui.free_port()
    with serve(chat_app(model="local", title="Port check"), port=port) as s:
        assert s.port == port and listening_addresses(port) == {"127.0.0.1"}
    assert listening_addresses(port) == set()  # closed


def test_sources_stay_text_whatever_the_document_holds():
    doc = ("# Leave policy\n\n| Grade | Days |\n|---|---|\n| A | 25 |\n\n- item one\n"
           "<script>alert('x')</script> <h1>big</h1> **bold**")
    out = sources_html([SimpleNamespace(text=doc, source="policies/<leave>.md", score=0.8123)],
                       "How many days of leave?")
    for tag in ("<h1", "<h2", "<table", "<li", "<script", "<strong", "<ul"):
        assert tag not in out
    assert "# <mark>Leave</mark> policy" in out and "&lt;script&gt;" in out and "**bold**" in out
    assert "| A | 25 |" in out and "policies/&lt;leave&gt;.md" in out and "0.81" in out
    assert "white-space: pre-wrap" in out and "font-size: inherit" in out


def test_highlight_marks_question_words_not_stop_words():
    out = highlight("The robots carry 60 kg; what a robot!", "What payload can the robot carry in kg, 60?")
    assert re.findall(r"<mark>(.*?)</mark>", out) == ["robots", "carry", "60", "kg", "robot"]
    assert highlight("a < b & c", "") == "a &lt; b &amp; c"


def test_long_passage_is_cut_around_the_first_match():
    text = "Filler words here. " * 80 + "Employees get 25 days of paid annual leave." + " More." * 50
    out = sources_html([SimpleNamespace(text=text, source="p.md", score=0.5)], "annual leave", max_chars=300)
    passage = re.search(r"<blockquote[^>]*>(.*)</blockquote>", out, re.S).group(1)
    assert "<mark>annual</mark> <mark>leave</mark>" in passage and passage.count("…") == 2
    assert 300 <= len(re.sub(r"<[^>]+>", "", passage)) <= 302  # 300 characters and the two …


def test_no_hits_says_so():
    assert "No relevant passages found." in sources_html([], "anything")


def test_gradio_client_gets_a_streamed_answer(served):
    from gradio_client import Client

    client = Client(served.url, verbose=False)
    answer = client.predict(QUESTION, api_name="/chat")
    assert "Paris" in answer
    job = client.submit(QUESTION, api_name="/chat")
    partials = list(job)
    assert len(partials) >= 2 and partials[-1] == answer  # streamed, growing, greedy = same text
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(partials, partials[1:]))  # as notebook 05 checks


def test_chat_in_a_real_browser_names_the_model_under_the_answer(served):
    from browser import browser_page, screenshot

    local = ui.default_choice()
    with browser_page() as page:
        page.goto(served.url)
        assert "Small offline model" in page.locator("#frame-banner").inner_text()
        box = page.locator("#message textarea")
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_function("() => document.querySelector('#frame-status').innerText.includes(' out tokens')",
                               timeout=90_000)
        answer = page.locator("#chat .message.bot, #chat [data-testid='bot']").last.inner_text()
        status = page.locator("#frame-status").inner_text()
        screenshot(page, "week1_chat")
        assert "Paris" in answer
        assert re.search(rf"local/{re.escape(local)} · \d+ in / \d+ out tokens · \$0\.000000 · [\d.]+ s", status)
        box.fill("And of Italy?")  # the conversation is kept: a second turn adds two messages
        box.press("Enter")
        page.wait_for_function("() => document.querySelectorAll('#chat .message.bot, #chat [data-testid=\"bot\"]')"
                               ".length >= 2 && document.querySelector('#frame-status').innerText.includes('tokens')",
                               timeout=90_000)


def test_an_error_is_one_readable_line_on_the_page():
    from browser import browser_page, screenshot

    with serve(chat_app(model="gpt-4o-mini", title="No key")) as s, browser_page() as page:
        page.goto(s.url)
        assert page.locator("#frame-banner").inner_text().strip() == ""  # not the local model
        box = page.locator("#message textarea")
        box.fill("Hello?")
        box.press("Enter")
        page.wait_for_function("() => document.querySelector('#frame-status').innerText.includes('⚠️')",
                               timeout=60_000)
        status = page.locator("#frame-status").inner_text().strip()
        screenshot(page, "week1_chat_error")
    assert "\n" not in status and "Traceback" not in status and "OPENAI_API_KEY" in status

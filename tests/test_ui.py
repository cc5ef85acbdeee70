"""The shared chat app, for real: the local model behind Gradio, driven by gradio_client and by a
real headless Chromium."""

import pytest

from llmcourse.ui import chat_app, history_to_messages, serve


@pytest.fixture(scope="module")
def served():
    with serve(chat_app(model="local", title="Course chat", max_tokens=40)) as s:
        yield s


def test_history_formats_are_normalised():
    hist = [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "hello"}]
    assert history_to_messages(hist) == [{"role": "user", "content": "hi"},
                                         {"role": "assistant", "content": "hello"}]


def test_app_binds_loopback(served):
    assert served.url.startswith("http://127.0.0.1:")


def test_gradio_client_gets_a_streamed_answer(served):
    from gradio_client import Client

    client = Client(served.url, verbose=False)
    answer = client.predict("What is the capital of France?", api_name="/chat")
    assert "Paris" in answer
    job = client.submit("What is the capital of France?", api_name="/chat")
    partials = list(job)
    assert len(partials) >= 2 and partials[-1] == answer  # streamed, growing, greedy = same text


def test_chat_in_a_real_browser(served):
    from browser import browser_page

    with browser_page() as page:
        page.goto(served.url)
        box = page.get_by_role("textbox").first
        box.fill("What is the capital of France?")
        box.press("Enter")
        bot = page.locator(".message.bot, [data-testid='bot']").last
        bot.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.message.bot, [data-testid=\"bot\"]')]"
            ".some(e => e.innerText.includes('Paris'))", timeout=60_000)
        assert "Paris" in bot.inner_text()

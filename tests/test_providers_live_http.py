"""Every provider over real loopback HTTP, configured as a student configures it: a fake key in the
environment and the provider's documented base-URL variable pointed at a local server. No client is
injected: the SDK clients llmcourse builds itself send real requests over real sockets.

The course's gateway (the real local model behind the OpenAI, Anthropic and Gemini wire formats)
answers the happy paths.
"""

from __future__ import annotations

import gc

import pytest

from llmcourse import chat
from llmcourse.providers import get_provider

pytestmark = pytest.mark.slow

OPENAI_KEY = "sk-proj-" + "F" * 40
GEMINI_KEY = "AIza" + "F" * 35
Q = "What is the capital of France?"


@pytest.fixture(scope="module")
def gateway():
    from llmcourse.gateway import start

    gw = start(port=0)
    yield gw
    gw.stop()


@pytest.fixture
def gemini_env(gateway, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.delenv("GEMINI_BASE_URL", raising=False)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gateway.url)   # google-genai's documented variable
    return gateway


def test_gemini_plain_and_stream_over_real_http(gemini_env):
    reply = chat(Q, model="gemini", max_tokens=12, temperature=0)
    gc.collect()   # the bug: a collected genai.Client closed its connection before the request
    streamed = chat(Q, model="gemini", max_tokens=12, temperature=0, stream=True)
    chunks = list(streamed)
    assert reply.provider == "gemini" and "Paris" in reply.text
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    assert len(chunks) >= 1 and "".join(chunks) == streamed.text == reply.text


def test_one_sdk_client_per_provider_rebuilt_when_key_or_url_changes(gemini_env, monkeypatch):
    p = get_provider("gemini")
    first = p.client()
    chat(Q, model="gemini", max_tokens=4)
    assert p.client() is first                          # reused: one connection pool
    monkeypatch.setenv("GEMINI_API_KEY", "AIza" + "G" * 35)
    second = p.client()
    assert second is not first
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_env.url + "/")
    assert p.client() is not second
    assert "Paris" in chat(Q, model="gemini", max_tokens=12, temperature=0).text


def test_older_gemini_base_url_variable_still_works(gateway, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    monkeypatch.setenv("GEMINI_BASE_URL", gateway.url)
    assert "Paris" in chat(Q, model="gemini", max_tokens=12, temperature=0).text

"""Every provider over real loopback HTTP, configured as a student configures it: a fake key in the
environment and the provider's documented base-URL variable pointed at a local server. No client is
injected: the SDK clients llmcourse builds itself send real requests over real sockets.

Happy paths: the course's gateway (the real local model behind the OpenAI, Anthropic and Gemini wire
formats) answers plain, streamed, JSON-schema and tool calls. Failure paths: a loopback stub plays
401, 429 with Retry-After, and 500 then success.
"""

from __future__ import annotations

import gc
import json
import time

import pytest

from llmcourse import chat
from llmcourse.errors import AuthenticationError
from llmcourse.providers import get_provider

from loopback_stub import Stub

pytestmark = pytest.mark.slow

F = "F" * 40
# provider -> (key variable, a key of the right shape, base-URL variable, path the SDK appends to, model, wire API)
PROVIDERS = {
    "openai": ("OPENAI_API_KEY", "sk-proj-" + F, "OPENAI_BASE_URL", "/v1", "openai", "openai"),
    "anthropic": ("ANTHROPIC_API_KEY", "sk-ant-api03-" + F, "ANTHROPIC_BASE_URL", "", "anthropic", "anthropic"),
    "gemini": ("GEMINI_API_KEY", "AIza" + F[:35], "GOOGLE_GEMINI_BASE_URL", "", "gemini", "gemini"),
    "deepseek": ("DEEPSEEK_API_KEY", "sk-" + F, "DEEPSEEK_BASE_URL", "/v1", "deepseek", "openai"),
    "groq": ("GROQ_API_KEY", "gsk_" + F, "GROQ_BASE_URL", "/v1", "groq", "openai"),
    "perplexity": ("PERPLEXITY_API_KEY", "pplx-" + F, "PERPLEXITY_BASE_URL", "/v1", "perplexity", "openai"),
    "openrouter": ("OPENROUTER_API_KEY", "sk-or-v1-" + F, "OPENROUTER_BASE_URL", "/v1", "openrouter/gpt-4o-mini",
                   "openai"),
    "cohere": ("COHERE_API_KEY", F, "COHERE_BASE_URL", "/v1", "cohere", "openai"),
    "ollama": (None, None, "OLLAMA_BASE_URL", "/v1", "ollama", "openai"),
    "vllm": (None, None, "VLLM_BASE_URL", "/v1", "vllm/gpt-4o-mini", "openai"),
}
Q = "What is the capital of France?"
ANSWER = {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]}


def get_weather(city: str) -> dict:
    """Get the current weather for a city."""
    return {"city": city, "sky": "sunny"}


def configure(monkeypatch, provider: str, url: str) -> str:
    """Set the env as a student would (key + base URL); return the model name to ask for."""
    key_var, key, url_var, suffix, model, _ = PROVIDERS[provider]
    for other in ("GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(other, raising=False)
    if key_var:
        monkeypatch.setenv(key_var, key)
    monkeypatch.setenv(url_var, url + suffix)
    return model


@pytest.fixture(scope="module")
def gateway():
    from llmcourse.gateway import start

    gw = start(port=0)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def stub():
    s = Stub()
    yield s
    s.close()


# -- happy paths through the gateway: provider x {plain, stream, schema, tools} ------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain_stream_schema_and_tools_over_real_http(gateway, monkeypatch, provider):
    model = configure(monkeypatch, provider, gateway.url)
    plain = chat(Q, model=model, max_tokens=12, temperature=0)
    gc.collect()   # a collected SDK client must not close the connection of the next call
    streamed = chat(Q, model=model, max_tokens=12, temperature=0, stream=True)
    chunks = list(streamed)
    assert plain.provider == get_provider(plain.provider).name and "Paris" in plain.text
    assert plain.usage.input_tokens > 0 and plain.usage.output_tokens > 0
    assert chunks and "".join(chunks) == streamed.text == plain.text
    assert streamed.usage.output_tokens == plain.usage.output_tokens
    structured = chat("Is the sky blue?", model=model, schema=ANSWER)
    assert structured.parsed["answer"] in ("yes", "no")
    tooled = chat("Use the get_weather tool to get the weather in Paris.", model=model, tools=[get_weather])
    assert [c.name for c in tooled.tool_calls] == ["get_weather"] and tooled.tool_calls[0].arguments.get("city")


def test_one_sdk_client_per_provider_rebuilt_when_key_or_url_changes(gateway, monkeypatch):
    configure(monkeypatch, "gemini", gateway.url)
    p = get_provider("gemini")
    first = p.client()
    chat(Q, model="gemini", max_tokens=4)
    assert p.client() is first                          # reused: one connection pool
    monkeypatch.setenv("GEMINI_API_KEY", "AIza" + "G" * 35)
    second = p.client()
    assert second is not first
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gateway.url + "/")
    assert p.client() is not second
    assert "Paris" in chat(Q, model="gemini", max_tokens=12, temperature=0).text


def test_older_gemini_base_url_variable_still_works(gateway, monkeypatch):
    configure(monkeypatch, "gemini", gateway.url)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")
    monkeypatch.setenv("GEMINI_BASE_URL", gateway.url)
    assert "Paris" in chat(Q, model="gemini", max_tokens=12, temperature=0).text


# -- failure paths from a stub: 401, 429 + Retry-After, 500 then success ------------------------------
def ok_body(api: str) -> dict:
    if api == "anthropic":
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
                "content": [{"type": "text", "text": "Paris."}], "stop_sequence": None,
                "usage": {"input_tokens": 5, "output_tokens": 2}}
    if api == "gemini":
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris."}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7}}
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris."}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}


def error_body(api: str, status: int, message: str) -> dict:
    if api == "anthropic":
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    if api == "gemini":
        return {"error": {"code": status, "message": message, "status": {401: "UNAUTHENTICATED",
                          429: "RESOURCE_EXHAUSTED"}.get(status, "INTERNAL")}}
    return {"error": {"message": message, "type": "invalid_request_error", "code": None, "param": None}}


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if PROVIDERS[p][0]])
def test_401_is_an_authentication_error_naming_the_key(stub, monkeypatch, provider):
    stub.reset()
    model = configure(monkeypatch, provider, stub.url)
    api = PROVIDERS[provider][5]
    stub.queue((401, error_body(api, 401, "Invalid API key")))
    with pytest.raises(AuthenticationError) as e:
        chat(Q, model=model, max_tokens=5)
    assert len(stub.requests) == 1                                   # not retried
    assert PROVIDERS[provider][0] in str(e.value) and PROVIDERS[provider][1] not in str(e.value)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_429_waits_for_retry_after_then_succeeds(stub, monkeypatch, provider):
    stub.reset()
    model = configure(monkeypatch, provider, stub.url)
    api = PROVIDERS[provider][5]
    stub.queue((429, error_body(api, 429, "Rate limit reached"), {"retry-after": "1"}), (200, ok_body(api)))
    reply = chat(Q, model=model, max_tokens=5)
    assert reply.text == "Paris." and len(stub.requests) == 2
    waited = stub.requests[1][0] - stub.requests[0][0]
    assert 0.95 <= waited < 5, waited                                # the server's 1 s, not the backoff's 0-0.5 s


@pytest.mark.parametrize("provider", PROVIDERS)
def test_500_then_success_is_retried(stub, monkeypatch, provider):
    stub.reset()
    model = configure(monkeypatch, provider, stub.url)
    api = PROVIDERS[provider][5]
    stub.queue((500, error_body(api, 500, "Internal error")), (200, ok_body(api)))
    reply = chat(Q, model=model, max_tokens=5)
    assert reply.text == "Paris." and (reply.usage.input_tokens, reply.usage.output_tokens) == (5, 2)
    assert len(stub.requests) == 2 and stub.requests[0][2] == stub.requests[1][2]

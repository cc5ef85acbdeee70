"""Retries and timeouts (issue 9.3): quota-exhausted 429s and auth errors are never retried, every
provider call carries a timeout, a tool that hangs is stopped by the loop. Provider HTTP is replayed
through the real SDKs."""

from __future__ import annotations

import time

import httpx2
import pytest

from http_replay import Replay
from llmcourse import chat
from llmcourse.errors import AuthenticationError, ProviderError, RateLimitError
from llmcourse.tooldef import tool

QUOTA = {"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                   "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}
RATE = {"error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}


def ok():
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


@pytest.fixture
def openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "Q" * 40)


def test_a_quota_exhausted_429_is_not_retried_and_says_so(openai_key):
    rp = Replay((429, QUOTA), (200, ok())).install("openai")
    with pytest.raises(ProviderError, match="no credit left") as err:
        chat("hi", model="gpt-4o-mini", max_tokens=5)
    assert len(rp.requests) == 1 and not isinstance(err.value, RateLimitError)


def test_a_rate_limit_429_is_retried_after_the_time_it_asks(openai_key):
    waits = []
    rp = Replay((429, RATE, {"retry-after": "3"}), (200, ok())).install("openai")
    from llmcourse.providers import get_provider
    get_provider("openai").sleep = waits.append
    assert chat("hi", model="gpt-4o-mini", max_tokens=5).text == "Hi."
    assert len(rp.requests) == 2 and waits == [3.0]


def test_an_auth_error_is_not_retried(openai_key):
    rp = Replay((401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error",
                                 "param": None, "code": "invalid_api_key"}}), (200, ok())).install("openai")
    with pytest.raises(AuthenticationError):
        chat("hi", model="gpt-4o-mini", max_tokens=5)
    assert len(rp.requests) == 1


@pytest.mark.parametrize("provider, model, env, body", [
    ("openai", "gpt-4o-mini", "OPENAI_API_KEY", ok()),
    ("anthropic", "claude-haiku-4-5", "ANTHROPIC_API_KEY",
     {"id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
      "content": [{"type": "text", "text": "Hi."}], "usage": {"input_tokens": 3, "output_tokens": 1}}),
    ("gemini", "gemini-3.1-flash-lite", "GOOGLE_API_KEY",
     {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi."}]}, "finishReason": "STOP"}],
      "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}),
])
def test_every_provider_call_has_a_timeout(monkeypatch, provider, model, env, body):
    keys = {"OPENAI_API_KEY": "sk-proj-" + "Q" * 40, "ANTHROPIC_API_KEY": "sk-ant-api03-" + "Q" * 40,
            "GOOGLE_API_KEY": "AIza" + "Q" * 35}
    monkeypatch.setenv(env, keys[env])
    seen = []

    def handler(request):
        seen.append(request.extensions.get("timeout"))
        return httpx2.Response(200, json=body)

    from llmcourse.providers import get_provider
    get_provider(provider).http_client = httpx2.Client(transport=httpx2.MockTransport(handler))
    assert chat("hi", model=model, max_tokens=5).text == "Hi."
    timeout = seen[0]
    assert timeout and all(v is not None and 0 < v <= 600 for v in timeout.values()), timeout


def test_a_tool_that_hangs_is_stopped_and_reported(engine):
    from llmcourse import run_tools

    @tool
    def slow_lookup(city: str) -> str:
        """Look up a city's weather.

        Args:
            city: the city
        """
        time.sleep(30)
        return "sunny"

    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match="within 0.5 s"):
        slow_lookup.run({"city": "Paris"}, timeout=0.5)
    assert time.perf_counter() - t0 < 3
    run = run_tools("What is the weather in Paris? Use the tool.", tools=[slow_lookup], model="local",
                    max_steps=2, tool_timeout=0.5, max_tokens=40, tool_choice="required")
    assert run.steps and run.steps[0].error.startswith("TimeoutError") and time.perf_counter() - t0 < 60


def test_a_fast_tool_returns_its_value_and_raises_its_own_errors():
    @tool
    def add(a: int, b: int) -> int:
        """Add.

        Args:
            a: first
            b: second
        """
        if a < 0:
            raise ValueError("negative")
        return a + b

    assert add.run({"a": 2, "b": 3}, timeout=5) == 5
    with pytest.raises(ValueError, match="negative"):
        add.run({"a": -1, "b": 3}, timeout=5)

"""The spend limit fails closed (issue 9.5): bad limit values, unpriced paid models, two calls racing
for the last dollars, and streams that break or are abandoned. Provider HTTP is replayed through the
real openai SDK; nothing here can spend money."""

from __future__ import annotations

import threading
import time

import httpx2
import pytest

from http_replay import Replay, sse
from llmcourse import chat, ledger, set_spend_limit
from llmcourse.cost import _initial_ledger, estimate, parse_limit
from llmcourse.errors import SpendLimitError

KEY = "sk-proj-" + "L1m" * 14
PAID = "gpt-4o-mini"  # a registry model with a price


def completion(text="Hi.", prompt_tokens=12, completion_tokens=3):
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": PAID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def delta(text):
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": PAID,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


@pytest.fixture
def paid(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield
    set_spend_limit(None)
    ledger.limit_error = None


@pytest.mark.parametrize("raw", ["$5", "nan", "NaN", "inf", "-1", "five dollars", "5 USD"])
def test_a_bad_limit_value_is_an_error_that_names_the_fix(raw):
    with pytest.raises(ValueError, match="LLMCOURSE_SPEND_LIMIT=5"):
        parse_limit(raw)


@pytest.mark.parametrize("raw, usd", [("5", 5.0), (" 0.50 ", 0.5), ("0", 0.0), ("", None)])
def test_good_limit_values(raw, usd):
    assert parse_limit(raw) == usd


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.01, "5", True])
def test_set_spend_limit_rejects_what_is_not_a_finite_amount(bad):
    with pytest.raises(ValueError, match="finite number"):
        set_spend_limit(bad)
    assert ledger.limit is None


def test_a_bad_limit_in_the_environment_refuses_paid_calls(paid, monkeypatch):
    monkeypatch.setenv("LLMCOURSE_SPEND_LIMIT", "$5")
    book = _initial_ledger()
    assert book.limit is None and "LLMCOURSE_SPEND_LIMIT='$5'" in book.limit_error
    monkeypatch.setattr(ledger, "limit_error", book.limit_error)
    rp = Replay((200, completion())).install("openai")
    with pytest.raises(SpendLimitError, match=r"no \$ sign"):
        chat("hello", model=PAID, max_tokens=10)
    assert rp.requests == []  # refused before anything was sent


def test_an_unpriced_paid_model_is_refused_while_a_limit_is_set(paid):
    rp = Replay((200, completion()), (200, completion())).install("openai")
    set_spend_limit(5.0)
    with pytest.raises(SpendLimitError, match=r"no price.*models\.toml.*input_price"):
        chat("hello", model="openai/gpt-not-in-the-registry", max_tokens=10)
    assert rp.requests == []
    set_spend_limit(None)  # without a limit it runs (and is counted as $0, as the registry says nothing)
    assert chat("hello", model="openai/gpt-not-in-the-registry", max_tokens=10).text == "Hi."


def test_free_models_ignore_a_limit_of_zero(paid):
    ledger.record(provider="openai", model=PAID, input_tokens=10, output_tokens=10, cost=0.01)
    set_spend_limit(0.0)  # already past it: paid calls are refused, free ones are not
    ledger.limit_error = "bad limit"  # even a broken setting never blocks the local model
    from llmcourse.cost import FREE_PROVIDERS, unpriced
    from llmcourse.registry import get_model

    assert not unpriced(get_model("ollama/phi4")) and "ollama" in FREE_PROVIDERS
    try:
        ledger.check(get_model("local"), 0.0)
        ledger.check(get_model("ollama/phi4"), 0.0)
        ledger.limit_error = None
        with pytest.raises(SpendLimitError):
            ledger.check(get_model(PAID), 0.0)
    finally:
        ledger.entries.pop()


def test_two_threads_cannot_both_slip_under_the_limit(paid):
    """Each call holds the most it can cost while it runs: with room for one call, exactly one goes."""
    lock = threading.Lock()
    sent = []

    def slow(request):
        with lock:
            sent.append(request)
        time.sleep(0.5)  # both calls are in flight at once
        return httpx2.Response(200, json=completion())

    from llmcourse.providers import get_provider
    provider = get_provider("openai")
    provider.http_client = httpx2.Client(transport=httpx2.MockTransport(slow))
    most = estimate("hello", model=PAID, max_tokens=2000).max_cost
    set_spend_limit(ledger.total + most * 1.5)
    results = []

    def call():
        try:
            results.append(chat("hello", model=PAID, max_tokens=2000).text)
        except SpendLimitError as exc:
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(map(type, results), key=str) == sorted([str, SpendLimitError], key=str), results
    assert len(sent) == 1
    assert ledger.reserved == 0  # the hold was given back once the call was recorded


def broken_stream(request):
    def body():
        yield sse([delta("The first "), delta("words of a long answer that ")]).encode()
        raise httpx2.ReadError("connection reset by peer")
    return httpx2.Response(200, content=body(), headers={"content-type": "text/event-stream"})


def test_a_stream_that_breaks_is_recorded_with_the_tokens_it_used(paid):
    from llmcourse.providers import get_provider
    provider = get_provider("openai")
    provider.http_client = httpx2.Client(transport=httpx2.MockTransport(broken_stream))
    provider.sleep = lambda s: None
    before = len(ledger.entries)
    got = []
    with pytest.raises(Exception):
        for chunk in chat("Tell me a long story.", model=PAID, max_tokens=500, stream=True):
            got.append(chunk)
    assert "".join(got).startswith("The first")
    entry = ledger.entries[before]
    assert entry.model == PAID and entry.estimated and entry.output_tokens >= 5 and entry.input_tokens > 0
    assert entry.cost > 0


def test_a_stream_closed_early_is_recorded(paid):
    events = [delta(f"word{i} ") for i in range(50)] + ["[DONE]"]
    Replay((200, sse(events), {"content-type": "text/event-stream"})).install("openai")
    before = len(ledger.entries)
    reply = chat("Count.", model=PAID, max_tokens=500, stream=True)
    it = iter(reply)
    first = [next(it) for _ in range(3)]
    it.close()  # the reader stops: no usage block ever arrives from the provider
    assert first and len(ledger.entries) == before + 1
    entry = ledger.entries[before]
    assert entry.estimated and entry.output_tokens > 0 and entry.cost > 0
    assert ledger.reserved == 0


def test_a_failed_call_with_no_output_records_nothing_and_frees_its_hold(paid):
    rp = Replay(*[(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})]).install("openai")
    set_spend_limit(1.0)
    before = len(ledger.entries)
    with pytest.raises(Exception):
        chat("hello", model=PAID, max_tokens=10)
    assert len(rp.requests) == 1 and len(ledger.entries) == before and ledger.reserved == 0


def test_the_limit_counts_what_was_spent(paid):
    Replay((200, completion(prompt_tokens=1000, completion_tokens=1000))).install("openai")
    set_spend_limit(ledger.total + 1.0)
    reply = chat("hello", model=PAID, max_tokens=1000)
    assert reply.cost > 0 and ledger.entries[-1].cost == reply.cost and not ledger.entries[-1].estimated
    set_spend_limit(ledger.total)  # nothing left
    with pytest.raises(SpendLimitError, match="limit"):
        chat("hello", model=PAID, max_tokens=10)

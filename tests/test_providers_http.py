"""chat() through the official SDKs with their HTTP replayed: request shape, streaming, usage and
cost, retries on 429/5xx, the explanation on 401."""

import pytest

from llmcourse import chat, registry
from llmcourse.errors import AuthenticationError, ProviderError, RateLimitError

from http_replay import Replay, sse

OPENAI_KEY = "sk-proj-" + "T" * 40
ANTHROPIC_KEY = "sk-ant-api03-" + "T" * 40
GEMINI_KEY = "AIza" + "T" * 35
SEE_SSE = {"content-type": "text/event-stream"}


def openai_completion(text="Paris.", pt=12, ct=3):
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


@pytest.fixture
def openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)


def test_default_model_goes_to_openai_when_its_key_is_set(openai_key):
    rp = Replay((200, openai_completion())).install("openai")
    reply = chat("What is the capital of France?", system="Be brief.", temperature=0, max_tokens=20)
    assert reply.provider == "openai" and reply.text == "Paris."
    req = rp.requests[0]
    assert req.url.path.endswith("/chat/completions")
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = rp.body()
    assert body["model"] == registry.get_model("fast").api_id
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "What is the capital of France?"}]
    assert body["temperature"] == 0 and body["max_completion_tokens"] == 20
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 3)
    assert reply.cost == pytest.approx(registry.get_model("fast").cost(12, 3))
    assert reply.cost > 0 and reply.latency > 0


def test_openai_streaming_yields_chunks_and_usage(openai_key):
    events = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
              for piece in ["The ", "capital ", "is Paris."]]
    events.append({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}})
    rp = Replay((200, sse(events + ["[DONE]"]), SEE_SSE)).install("openai")
    reply = chat("Capital of France?", model="fast", stream=True)
    chunks = list(reply)
    assert chunks == ["The ", "capital ", "is Paris."]
    assert reply.text == "The capital is Paris." and reply.usage.output_tokens == 5
    assert rp.body()["stream"] is True and rp.body()["stream_options"] == {"include_usage": True}
    assert reply.time_to_first_token is not None


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried(openai_key, status):
    err = {"error": {"message": "busy", "type": "server_error"}}
    rp = Replay((status, err), (status, err), (200, openai_completion("ok"))).install("openai")
    assert chat("hi", model="fast").text == "ok"
    assert len(rp.requests) == 3


def test_retries_are_bounded_and_name_provider_and_model(openai_key):
    err = {"error": {"message": "Rate limit reached", "type": "rate_limit"}}
    rp = Replay(*[(429, err)] * 4).install("openai")
    with pytest.raises(RateLimitError) as e:
        chat("hi", model="fast")
    assert len(rp.requests) == 4
    msg = str(e.value)
    assert "[openai/" in msg and "429" in msg and registry.get_model("fast").api_id in msg


def test_401_is_explained_with_the_key_to_fix(openai_key):
    Replay((401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})).install("openai")
    with pytest.raises(AuthenticationError) as e:
        chat("hi", model="fast")
    msg = str(e.value)
    assert "OPENAI_API_KEY" in msg and ".env" in msg and "Incorrect API key" in msg
    assert OPENAI_KEY not in msg


def test_400_is_not_retried(openai_key):
    rp = Replay((400, {"error": {"message": "bad param", "type": "invalid_request_error"}})).install("openai")
    with pytest.raises(ProviderError, match="bad param"):
        chat("hi", model="fast")
    assert len(rp.requests) == 1


def test_anthropic_request_shape_usage_and_stream(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    model = next(m for m in registry.models().values() if m.provider == "anthropic")
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": model.api_id,
           "content": [{"type": "text", "text": "Paris."}], "stop_reason": "end_turn",
           "stop_sequence": None, "usage": {"input_tokens": 20, "output_tokens": 4}}
    events = [
        {"type": "message_start", "message": {**msg, "content": [], "usage": {"input_tokens": 20, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Par"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "is."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 4}},
        {"type": "message_stop"},
    ]
    rp = Replay((200, msg), (200, sse(events, named=True), SEE_SSE)).install("anthropic")
    reply = chat([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital?"}],
                 model=model.name)
    assert reply.text == "Paris." and reply.usage.input_tokens == 20
    body = rp.body(0)
    assert body["system"] == "Be brief." and body["messages"] == [{"role": "user", "content": "Capital?"}]
    assert body["max_tokens"] > 0
    h = rp.requests[0].headers
    assert ANTHROPIC_KEY in (h.get("x-api-key", ""), h.get("authorization", "").removeprefix("Bearer "))
    streamed = chat("Capital?", model=model.name, stream=True)
    assert list(streamed) == ["Par", "is."]
    assert (streamed.usage.input_tokens, streamed.usage.output_tokens) == (20, 4)
    assert streamed.cost == pytest.approx(model.cost(20, 4))


def test_gemini_request_shape_and_usage(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", GEMINI_KEY)
    model = next(m for m in registry.models().values() if m.provider == "gemini")
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris."}]},
                              "finishReason": "STOP", "index": 0}],
              "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 2, "totalTokenCount": 9}}
    rp = Replay((200, answer)).install("gemini")
    reply = chat([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                  {"role": "user", "content": "Capital of France?"}],
                 model=model.name, system="Be brief.", temperature=0.2, max_tokens=30)
    assert reply.text == "Paris." and reply.usage.input_tokens == 7 and reply.usage.output_tokens == 2
    req = rp.requests[0]
    assert f"models/{model.api_id}:generateContent" in str(req.url)
    body = rp.body()
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert body["generationConfig"]["maxOutputTokens"] == 30


def test_gemini_401_names_the_key(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    Replay((403, {"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}})).install("gemini")
    with pytest.raises(AuthenticationError, match="GOOGLE_API_KEY"):
        chat("hi", model="gemini")


def test_compat_preset_uses_its_base_url(monkeypatch):
    rp = Replay((200, openai_completion("hi from ollama"))).install("ollama")
    reply = chat("hello", model="ollama/llama3.2", max_tokens=5)
    assert reply.text == "hi from ollama" and reply.cost == 0
    assert str(rp.requests[0].url).startswith("http://localhost:11434/v1/chat/completions")
    assert rp.body()["max_tokens"] == 5


def test_anthropic_temperature_is_dropped_with_a_note_when_the_api_has_none(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    model = next(m for m in registry.models().values() if m.provider == "anthropic")
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": model.api_id,
           "content": [{"type": "text", "text": "Hi."}], "stop_reason": "end_turn",
           "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}
    rp = Replay((200, msg)).install("anthropic")
    from llmcourse.providers.anthropic import _takes_temperature
    if _takes_temperature():
        assert chat("hi", model=model.name, temperature=0.3).text == "Hi."
        assert rp.body()["temperature"] == 0.3
    else:
        with pytest.warns(UserWarning, match="no temperature"):
            assert chat("hi", model=model.name, temperature=0.3).text == "Hi."
        assert "temperature" not in rp.body()


def test_openai_embeddings_go_through_the_provider_layer(openai_key):
    from llmcourse import ledger, set_spend_limit
    from llmcourse.errors import SpendLimitError
    from llmcourse.rag import get_embedder

    body = {"object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 6, "total_tokens": 6},
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate([[3.0, 4.0], [0.0, 2.0]])]}
    rp = Replay((500, {"error": {"message": "busy", "type": "server_error"}}), (200, body)).install("openai")
    before = len(ledger.entries)
    vecs = get_embedder("openai").embed_documents(["a robot", "a cat"])
    assert len(rp.requests) == 2 and rp.body()["input"] == ["a robot", "a cat"]       # retried once
    assert vecs.shape == (2, 2) and abs(vecs[0] @ vecs[0] - 1) < 1e-6                  # normalised
    entry = ledger.entries[before]
    assert (entry.model, entry.input_tokens) == ("text-embedding-3-small", 6) and entry.cost > 0
    set_spend_limit(ledger.total)       # nothing left: the next call is refused before it is sent
    try:
        with pytest.raises(SpendLimitError):
            get_embedder("openai").embed_query("one more")
    finally:
        set_spend_limit(None)
    assert len(rp.requests) == 2

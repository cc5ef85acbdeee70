"""The gateway under load and bad input (issue 9.4): host check, API key, body limit, max_tokens bounds,
schemas the grammar engine cannot compile, admission control, disconnects, in-band stream errors, and
a property-based fuzz test per endpoint (4xx in the API's shape, never 5xx). Real local model."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from llmcourse.errors import LLMCourseError
from llmcourse.gateway import create_app, start
from llmcourse.gateway.guard import GuardConfig, host_allowed
from llmcourse.gateway.server import guard_config

MSGS = [{"role": "user", "content": "Say hi."}]
OPENAI, ANTHROPIC = "/v1/chat/completions", "/v1/messages"
GEMINI = "/v1beta/models/gemini-2.0-flash:generateContent"


def client(config=None) -> TestClient:
    return TestClient(create_app(config), base_url="http://localhost", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def app_client(engine):
    c = client()
    assert c.post(OPENAI, json={"model": "local", "messages": MSGS, "max_tokens": 1}).status_code == 200  # warm
    return c


def shape(api: str, body: dict) -> str:
    """The error message, asserting the body has `api`'s error shape."""
    if api == "anthropic":
        assert body["type"] == "error" and set(body["error"]) >= {"type", "message"}
        return body["error"]["message"]
    assert set(body) == {"error"}
    if api == "gemini":
        assert set(body["error"]) >= {"code", "message", "status"}
    else:
        assert set(body["error"]) >= {"message", "type", "param", "code"}
    return body["error"]["message"]


# ----------------------------------------------------------------------------- host, key, bind
@pytest.mark.parametrize("host, ok", [("localhost", True), ("localhost:8000", True), ("127.0.0.1:1", True),
                                      ("[::1]:8000", True), ("evil.example", False), ("evil.example:80", False),
                                      ("localhost.evil.example", False), ("127.0.0.1.nip.io", False), ("", False)])
def test_host_check_blocks_dns_rebinding(host, ok):
    assert host_allowed(host, ()) is ok
    assert host_allowed(host, ("*",))


def test_a_foreign_host_gets_403_in_each_apis_shape():
    c = client()
    for path, api in (("/v1/models", "openai"), (ANTHROPIC, "anthropic"), (GEMINI, "gemini")):
        r = c.request("GET" if path == "/v1/models" else "POST", path, headers={"host": "attacker.example"},
                      json={} if path != "/v1/models" else None)
        assert r.status_code == 403 and "not allowed" in shape(api, r.json())
    assert client(GuardConfig(allowed_hosts=("course.lan",))).get(
        "/v1/models", headers={"host": "course.lan:8000"}).status_code == 200


def test_binding_beyond_loopback_needs_a_key():
    with pytest.raises(LLMCourseError, match="--api-key"):
        guard_config("0.0.0.0")
    with pytest.raises(LLMCourseError, match="api_key"):
        start(port=0, host="0.0.0.0")
    cfg = guard_config("0.0.0.0", api_key="s3cret-key")
    assert cfg.api_key == "s3cret-key" and cfg.allowed_hosts == ("*",)
    assert guard_config("127.0.0.1").api_key is None


def test_the_key_is_checked_on_every_request_in_every_place():
    c = client(GuardConfig(api_key="s3cret-key"))
    assert c.get("/v1/models").status_code == 401
    r = c.get("/v1/models", headers={"authorization": "Bearer wrong"})
    assert r.status_code == 401 and "s3cret" not in r.text and "wrong" not in r.text
    assert shape("openai", r.json())
    assert c.get("/v1/models", headers={"authorization": "Bearer s3cret-key"}).status_code == 200
    assert c.get("/v1/models", headers={"x-api-key": "s3cret-key", "anthropic-version": "2023-06-01"}).status_code == 200
    assert c.get("/v1beta/models", headers={"x-goog-api-key": "s3cret-key"}).status_code == 200
    assert c.get("/v1beta/models?key=s3cret-key").status_code == 200
    r = c.post(ANTHROPIC, json={}, headers={"x-api-key": "nope"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"


# ----------------------------------------------------------------------------- body size, max_tokens, schemas
def test_a_body_over_the_limit_gets_413_before_parsing():
    c = client(GuardConfig(max_body=10_000))
    big = b'{"model": "local", "messages": [' + b'{"role": "user", "content": "x"},' * 2000 + b"]}"
    r = c.post(OPENAI, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and shape("openai", r.json())

    def chunked():  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 1000

    r = c.post(ANTHROPIC, content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"
    r = c.post(OPENAI, content=b"{}", headers={"content-type": "application/json", "content-length": "99999999"})
    assert r.status_code == 413


TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]


@pytest.mark.parametrize("path, body, api", [
    (OPENAI, {"model": "local", "messages": MSGS, "max_tokens": 10**8}, "openai"),
    (OPENAI, {"model": "local", "messages": MSGS, "max_completion_tokens": 10**6,
              "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
     "openai"),
    (OPENAI, {"model": "local", "messages": MSGS, "max_tokens": 10**6, "tools": TOOLS}, "openai"),
    (ANTHROPIC, {"model": "claude-x", "messages": MSGS, "max_tokens": 10**6}, "anthropic"),
    (GEMINI, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 10**6}},
     "gemini"),
])
def test_max_tokens_is_bounded_on_every_path(app_client, path, body, api):
    r = app_client.post(path, json=body)
    assert r.status_code == 400 and "max_tokens is too large" in shape(api, r.json())


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}},
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 5, "maximum": 1}}},
    {"type": "object", "properties": {"a": {"enum": []}}},
    {"type": "object", "properties": {"a": {"type": "array", "minItems": 5, "maxItems": 1}}},
    {"type": "object", "properties": {"a": "not a schema"}},
    {"$ref": "#/nowhere"},
    {"type": "foo"},
    {"anyOf": []},
])
def test_schemas_the_grammar_engine_cannot_compile_get_400(app_client, schema):
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    r = app_client.post(OPENAI, json={"model": "local", "messages": MSGS, "max_tokens": 5, "response_format": fmt})
    assert r.status_code == 400, r.text
    assert shape("openai", r.json())
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    r = app_client.post(OPENAI, json={"model": "local", "messages": MSGS, "max_tokens": 5, "tools": tools})
    assert r.status_code in (200, 400), r.text  # a tool schema may be usable once wrapped; never a 5xx


# ----------------------------------------------------------------------------- fuzz: 4xx, never 5xx
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=20), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12)
ANY = JSON | st.sampled_from([None, "", 0, -1, 2**70, 1.5, True, [], {}, "x" * 50])
ROLE = st.sampled_from(["user", "assistant", "system", "tool", "developer", "function", "model", "", 7])
CONTENT = st.one_of(st.text(max_size=30), ANY, st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "tool_result", 5]), "text": ANY}), max_size=2))
TINY = st.sampled_from([1, 2, 0, -3, "2", 2.5, None, True, 10**9])  # never a long generation


def maybe(d: dict):
    """Some of the keys of `d`, each with its strategy."""
    return st.fixed_dictionaries({}, optional=d)


OPENAI_BODY = st.one_of(JSON, st.fixed_dictionaries({"max_tokens": TINY}, optional={
    "model": st.sampled_from(["local", "gpt-4o", "nope", "", 3]), "messages": st.lists(
        st.fixed_dictionaries({}, optional={"role": ROLE, "content": CONTENT, "tool_call_id": ANY,
                                            "tool_calls": ANY, "name": ANY}), max_size=3) | ANY,
    "temperature": ANY, "top_p": ANY, "n": ANY, "stream": st.booleans() | ANY, "stop": ANY, "seed": ANY,
    "tools": ANY, "tool_choice": ANY, "response_format": ANY | st.fixed_dictionaries(
        {"type": st.sampled_from(["json_schema", "json_object", "text", "xml"]), "json_schema": ANY}),
    "stream_options": ANY}))
ANTHROPIC_BODY = st.one_of(JSON, st.fixed_dictionaries({"max_tokens": TINY}, optional={
    "model": st.sampled_from(["claude-x", "local", "", 1]),
    "messages": st.lists(st.fixed_dictionaries({}, optional={"role": ROLE, "content": CONTENT}), max_size=3) | ANY,
    "system": ANY, "temperature": ANY, "stream": st.booleans() | ANY, "tools": ANY, "tool_choice": ANY,
    "stop_sequences": ANY, "output_config": ANY, "top_k": ANY}))
GEMINI_BODY = st.one_of(JSON, st.fixed_dictionaries(
    {"generationConfig": st.fixed_dictionaries({"maxOutputTokens": TINY}, optional={
        "temperature": ANY, "responseMimeType": ANY, "responseSchema": ANY, "stopSequences": ANY,
        "candidateCount": ANY})},
    optional={"contents": st.lists(st.fixed_dictionaries({}, optional={
        "role": ROLE, "parts": st.lists(st.fixed_dictionaries({}, optional={"text": ANY, "functionCall": ANY,
                                                                             "inlineData": ANY}), max_size=2) | ANY}),
        max_size=3) | ANY, "systemInstruction": ANY, "tools": ANY, "toolConfig": ANY}))

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _fuzz_one(app_client, path, api, body, raw=None):
    def send():
        start = time.perf_counter()
        if raw is not None:
            r = app_client.post(path, content=raw, headers={"content-type": "application/json"})
        else:
            r = app_client.post(path, json=body)
        return r, time.perf_counter() - start

    r, seconds = send()
    assert r.status_code < 500, (body, raw, r.text)
    if r.status_code >= 400:
        shape(api, r.json())
        if seconds >= 1.0:  # the machine is shared: time the same request once more before judging
            seconds = min(seconds, send()[1])
        assert seconds < 1.0, f"a {r.status_code} took {seconds:.2f} s"


@FUZZ
@given(body=OPENAI_BODY)
def test_fuzz_openai_chat_completions(app_client, body):
    _fuzz_one(app_client, OPENAI, "openai", body)


@FUZZ
@given(body=ANTHROPIC_BODY)
def test_fuzz_anthropic_messages(app_client, body):
    _fuzz_one(app_client, ANTHROPIC, "anthropic", body)


@FUZZ
@given(body=GEMINI_BODY)
def test_fuzz_gemini_generate_content(app_client, body):
    _fuzz_one(app_client, GEMINI, "gemini", body)


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
       path=st.sampled_from([(OPENAI, "openai"), (ANTHROPIC, "anthropic"), (GEMINI, "gemini"),
                             ("/v1/messages/count_tokens", "anthropic")]))
def test_fuzz_raw_bytes_on_every_endpoint(app_client, raw, path):
    _fuzz_one(app_client, path[0], path[1], None, raw=raw)


# ----------------------------------------------------------------------------- load, disconnects, streams
@pytest.fixture
def small_gateway(engine):
    gw = start(port=0, max_active=1, max_queue=1, queue_timeout=120)
    yield gw
    gw.stop()


def post(url, body, timeout=120):
    return httpx.post(url + OPENAI, json=body, timeout=timeout)


def test_admission_control_turns_the_overflow_away_and_models_stays_fast(small_gateway):
    url, results = small_gateway.url, []
    body = {"model": "local", "messages": MSGS, "max_tokens": 24}
    threads = [threading.Thread(target=lambda: results.append(post(url, body))) for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    models = httpx.get(url + "/v1/models", timeout=10)
    models_s = time.perf_counter() - t0
    for t in threads:
        t.join(300)
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) >= 2 and codes.count(429) >= 1 and set(codes) <= {200, 429}, codes
    busy = next(r for r in results if r.status_code == 429)
    assert int(busy.headers["retry-after"]) > 0 and busy.json()["error"]["code"] == "rate_limit_exceeded"
    assert models.status_code == 200 and models_s < 1.0


def _time_small_call(url) -> float:
    t0 = time.perf_counter()
    assert post(url, {"model": "local", "messages": MSGS, "max_tokens": 1}).status_code == 200
    return time.perf_counter() - t0


def test_a_client_that_disconnects_stops_its_generation(small_gateway):
    url = small_gateway.url
    baseline = _time_small_call(url)
    long = {"model": "local", "messages": [{"role": "user", "content": "Write a very long story about robots."}],
            "max_tokens": 1500, "temperature": 0}
    # a stream the client closes after its first chunk
    with httpx.stream("POST", url + OPENAI, json=long | {"stream": True}, timeout=60) as r:
        next(r.iter_lines())
    t0 = time.perf_counter()
    _time_small_call(url)
    after_stream = time.perf_counter() - t0
    # a plain request whose client gives up after a second
    with pytest.raises(httpx.ReadTimeout):
        post(url, long, timeout=1.0)
    t0 = time.perf_counter()
    _time_small_call(url)
    after_plain = time.perf_counter() - t0
    # 1,500 tokens would take minutes on a CPU; a stopped generation frees the model in seconds
    assert after_stream < baseline + 10 and after_plain < baseline + 10, (baseline, after_stream, after_plain)


def test_an_error_mid_stream_is_sent_in_band(small_gateway, monkeypatch):
    import anthropic
    import openai

    from llmcourse.providers.local import engine as engine_mod

    engine_cls = type(engine_mod.get_engine())   # the default backend's engine (ONNX or transformers)
    real_stream = engine_cls.stream

    def failing(self, *a, **kw):  # a real generation that breaks after two chunks (a fault, injected)
        for n, chunk in enumerate(real_stream(self, *a, **kw)):
            if n == 2:
                raise RuntimeError("the GPU caught fire")
            yield chunk

    monkeypatch.setattr(engine_cls, "stream", failing)
    url = small_gateway.url
    oa = openai.OpenAI(base_url=url + "/v1", api_key="local", max_retries=0)
    got = []
    with pytest.raises(openai.APIError, match="GPU caught fire"):
        for ev in oa.chat.completions.create(model="local", messages=MSGS, max_tokens=40, stream=True):
            got.append(ev)
    assert got  # the stream had started: the error came in-band, not as a dropped connection
    an = anthropic.Anthropic(base_url=url, api_key="local", max_retries=0)
    with pytest.raises(anthropic.APIError, match="GPU caught fire"):
        with an.messages.stream(model="claude-x", messages=MSGS, max_tokens=40) as s:
            for _ in s:
                pass
    with httpx.stream("POST", url + "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
                      json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                            "generationConfig": {"maxOutputTokens": 40}}, timeout=60) as r:
        lines = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:")]
    assert r.status_code == 200 and lines[-1]["error"]["status"] == "INTERNAL"
    assert "GPU caught fire" in lines[-1]["error"]["message"]


def test_concurrent_requests_through_a_default_gateway_are_decoded_together(engine):
    """Admission control must not starve the batch: with max_active=2 (before 2026-12-03) four concurrent
    requests never put more than 2 rows in the ONNX decoder's batch."""
    from concurrent.futures import ThreadPoolExecutor

    from llmcourse.providers.local.engine import get_engine

    decoder = getattr(get_engine(), "decoder", None)
    if decoder is None:
        pytest.skip("the default local backend does not batch (LLMCOURSE_LOCAL_BACKEND=torch)")
    from llmcourse.gateway import server

    shared = server._running is not None and server._running.running   # an SDK client's gateway: leave it up
    gw = start(port=0)   # the default limits
    try:
        decoder.max_rows_seen = 0
        body = {"model": "local", "max_tokens": 24,
                "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]}
        with ThreadPoolExecutor(4) as pool:
            codes = [r.status_code for r in pool.map(lambda _: post(gw.url, body), range(4))]
    finally:
        if not shared:
            gw.stop()
    assert codes == [200] * 4
    assert decoder.max_rows_seen >= 3

"""The keyless gateway, driven by the official openai, anthropic and google-genai SDKs, unmodified.

One gateway per module (a background thread on a free port), answered by the real local model with
greedy decoding and small max_tokens.
"""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

pytestmark = pytest.mark.slow

Q = "What is the capital of France?"
SYSTEM = "You are a geography teacher. Answer in one short sentence."
WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"]}
TOOL_PROMPT = "Use the get_weather tool to get the weather in Paris."
PLACE = {"type": "object", "additionalProperties": False, "required": ["city", "country"],
         "properties": {"city": {"type": "string", "maxLength": 20}, "country": {"type": "string", "maxLength": 20}}}
PLACE_PROMPT = "Name the capital of France and its country."
HUGE = "word " * 9000          # > 8192 tokens: over the local model's context window


@pytest.fixture(scope="module")
def gateway():
    from llmcourse.gateway import start

    gw = start(port=0)
    yield gw
    gw.stop()
    assert not gw.running


@pytest.fixture
def oai(gateway):
    import openai
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key="any-key", max_retries=0, timeout=300)


@pytest.fixture
def claude(gateway):
    import anthropic
    return anthropic.Anthropic(base_url=gateway.url, api_key="any-key", max_retries=0, timeout=300)


@pytest.fixture
def gem(gateway):
    from google import genai
    from google.genai import types
    return genai.Client(api_key="any-key", http_options=types.HttpOptions(base_url=gateway.url, timeout=300_000))


# -- the server itself -------------------------------------------------------------------------
def test_binds_loopback_only_and_start_is_idempotent(gateway):
    from llmcourse.gateway import running, start

    assert gateway.host == "127.0.0.1" and gateway.url == f"http://127.0.0.1:{gateway.port}"
    bound = {s.getsockname()[0] for server in gateway._server.servers for s in server.sockets}
    assert bound == {"127.0.0.1"}
    assert start() is gateway and running() is gateway
    assert httpx.get(gateway.url + "/").json()["gateway"] == "llmcourse"


def test_accepted_model_names():
    from llmcourse.gateway.backend import accepts_model

    for name in ("local", "smollm2-135m", "SmolLM2-135M-Instruct", "gpt-4o-mini", "claude-haiku-4-5",
                 "gemini-2.5-flash", "models/gemini-2.5-flash", "fast", "gpt-6-luna"):
        assert accepts_model(name), name
    for name in ("", "no-such-model", "llama-9000", "ollama-typo/x"):
        assert not accepts_model(name), name


# -- OpenAI ------------------------------------------------------------------------------------
def test_openai_plain_and_stream_agree(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": Q}],
                                    max_tokens=12, temperature=0)
    assert r.model == "gpt-4o-mini" and r.object == "chat.completion"
    assert "Paris" in r.choices[0].message.content and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": Q}],
                                              max_tokens=12, temperature=0, stream=True,
                                              stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == r.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == r.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == r.usage.completion_tokens
    assert [m.id for m in oai.models.list()] == ["local", "smollm2-135m", "SmolLM2-135M-Instruct"]


def test_openai_multi_turn_with_system(oai):
    r = oai.chat.completions.create(model="local", max_tokens=8, messages=[
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": Q},
        {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "And of Italy?"}])
    assert r.model == "local" and r.choices[0].message.content.strip()


def test_openai_tool_round_trip(oai):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather "
                                                "for a city", "parameters": WEATHER}}]
    msgs = [{"role": "user", "content": TOOL_PROMPT}]
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=tools)
    assert r.choices[0].finish_reason == "tool_calls" and r.choices[0].message.content is None
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    jsonschema.validate(json.loads(call.function.arguments), WEATHER)
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 18, "sky": "sunny"})}]
    r2 = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, max_tokens=16)   # no tools: answer
    assert r2.choices[0].message.content.strip() and r2.choices[0].finish_reason in ("stop", "length")


def test_openai_json_schema(oai):
    from pydantic import BaseModel, Field

    class Place(BaseModel):
        city: str = Field(max_length=20)
        country: str = Field(max_length=20)

    r = oai.chat.completions.parse(model="gpt-4o-mini", response_format=Place,
                                   messages=[{"role": "user", "content": PLACE_PROMPT}])
    assert isinstance(r.choices[0].message.parsed, Place)
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PLACE_PROMPT}],
                                    response_format={"type": "json_schema",
                                                     "json_schema": {"name": "place", "schema": PLACE}})
    jsonschema.validate(json.loads(r.choices[0].message.content), PLACE)


def test_openai_json_mode_without_schema_returns_an_object(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", response_format={"type": "json_object"},
                                    messages=[{"role": "user", "content": "Describe Paris as JSON."}])
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_openai_stream_in_json_mode_sends_the_whole_object(oai):
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", response_format={"type": "json_object"},
                                              stream=True, messages=[{"role": "user", "content": "Paris as JSON."}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)
    assert chunks[-1].choices[0].finish_reason == "stop"


# -- Anthropic ---------------------------------------------------------------------------------
def test_anthropic_plain_and_stream_agree(claude):
    m = claude.messages.create(model="claude-haiku-4-5", max_tokens=12, messages=[{"role": "user", "content": Q}])
    assert m.model == "claude-haiku-4-5" and m.id.startswith("msg_") and m.stop_reason in ("end_turn", "max_tokens")
    assert "Paris" in m.content[0].text and m.usage.input_tokens > 0 and m.usage.output_tokens > 0
    events = list(claude.messages.create(model="claude-haiku-4-5", max_tokens=12, stream=True,
                                         messages=[{"role": "user", "content": Q}]))
    kinds = [e.type for e in events]     # the SDK drops "ping" events: see the raw stream below
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == m.content[0].text
    assert events[-2].delta.stop_reason == m.stop_reason and events[-2].usage.output_tokens == m.usage.output_tokens
    with claude.messages.stream(model="claude-haiku-4-5", max_tokens=12,
                                messages=[{"role": "user", "content": Q}]) as s:
        assert "".join(s.text_stream) == m.content[0].text
    raw = httpx.post(str(claude.base_url).rstrip("/") + "/v1/messages", timeout=300,
                     json={"model": "claude-haiku-4-5", "max_tokens": 12, "stream": True, "messages": [
                         {"role": "user", "content": Q}]}).text
    names = [line[len("event: "):] for line in raw.splitlines() if line.startswith("event: ")]
    assert names[:3] == ["message_start", "content_block_start", "ping"] and names[-1] == "message_stop"


def test_anthropic_multi_turn_with_system_blocks(claude):
    m = claude.messages.create(model="claude-sonnet-4-5", max_tokens=8, system=[{"type": "text", "text": SYSTEM}],
                               messages=[{"role": "user", "content": Q}, {"role": "assistant", "content": "Paris."},
                                         {"role": "user", "content": [{"type": "text", "text": "And of Italy?"}]}])
    assert m.content[0].type == "text" and m.content[0].text.strip()


def test_anthropic_tool_round_trip(claude):
    tool = {"name": "get_weather", "description": "Get the current weather for a city", "input_schema": WEATHER}
    msgs = [{"role": "user", "content": TOOL_PROMPT}]
    m = claude.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs, tools=[tool])
    assert m.stop_reason == "tool_use"
    use = m.content[0]
    assert use.type == "tool_use" and use.name == "get_weather" and use.id.startswith("toolu_")
    jsonschema.validate(use.input, WEATHER)
    msgs += [{"role": "assistant", "content": [use.model_dump()]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18 C, sunny"}]}]
    m2 = claude.messages.create(model="claude-haiku-4-5", max_tokens=16, messages=msgs)
    assert m2.content[0].type == "text" and m2.content[0].text.strip()


def test_anthropic_json_schema(claude):
    m = claude.messages.create(model="claude-haiku-4-5", max_tokens=64,
                               messages=[{"role": "user", "content": PLACE_PROMPT}],
                               output_config={"format": {"type": "json_schema", "schema": PLACE}})
    jsonschema.validate(json.loads(m.content[0].text), PLACE)


# -- Gemini ------------------------------------------------------------------------------------
def test_gemini_plain_and_stream_agree(gem):
    from google.genai import types

    cfg = types.GenerateContentConfig(temperature=0, max_output_tokens=12)
    r = gem.models.generate_content(model="gemini-2.5-flash", contents=Q, config=cfg)
    assert "Paris" in r.text and r.candidates[0].finish_reason in ("STOP", "MAX_TOKENS")
    assert r.usage_metadata.prompt_token_count > 0 and r.usage_metadata.candidates_token_count > 0
    chunks = list(gem.models.generate_content_stream(model="gemini-2.5-flash", contents=Q, config=cfg))
    assert "".join(c.text or "" for c in chunks) == r.text
    assert chunks[-1].usage_metadata.candidates_token_count == r.usage_metadata.candidates_token_count


def test_gemini_multi_turn_with_system(gem):
    from google.genai import types

    r = gem.models.generate_content(
        model="gemini-2.5-flash", config=types.GenerateContentConfig(system_instruction=SYSTEM, max_output_tokens=8),
        contents=[types.Content(role="user", parts=[types.Part(text=Q)]),
                  types.Content(role="model", parts=[types.Part(text="Paris.")]),
                  types.Content(role="user", parts=[types.Part(text="And of Italy?")])])
    assert r.text.strip()


def test_gemini_tool_round_trip(gem):
    from google.genai import types

    fd = types.FunctionDeclaration(name="get_weather", description="Get the current weather for a city",
                                   parameters_json_schema=WEATHER)
    cfg = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[fd])])
    r = gem.models.generate_content(model="gemini-2.5-flash", contents=TOOL_PROMPT, config=cfg)
    call = r.function_calls[0]
    assert call.name == "get_weather"
    jsonschema.validate(call.args, WEATHER)
    contents = [types.Content(role="user", parts=[types.Part(text=TOOL_PROMPT)]), r.candidates[0].content,
                types.Content(role="user", parts=[types.Part.from_function_response(
                    name="get_weather", response={"temp_c": 18, "sky": "sunny"})])]
    r2 = gem.models.generate_content(model="gemini-2.5-flash", contents=contents,
                                     config=types.GenerateContentConfig(max_output_tokens=16))
    assert r2.text.strip()


def test_gemini_json_schema(gem):
    from google.genai import types

    r = gem.models.generate_content(model="gemini-2.5-flash", contents=PLACE_PROMPT, config=types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=PLACE))
    jsonschema.validate(json.loads(r.text), PLACE)


# -- one route: the gateway answers exactly what chat() answers ----------------------------------
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather "
                                                  "for a city", "parameters": WEATHER}}
KINDS = {"plain": (Q, {}), "json": (PLACE_PROMPT, {"schema": PLACE}), "tools": (TOOL_PROMPT, {"tools": [WEATHER_TOOL]})}


def _via_openai(oai, prompt, kw):
    extra = {}
    if "schema" in kw:
        extra["response_format"] = {"type": "json_schema", "json_schema": {"name": "place", "schema": kw["schema"]}}
    if "tools" in kw:
        extra["tools"] = kw["tools"]
    r = oai.chat.completions.create(model="gpt-4o-mini", max_tokens=40, temperature=0, **extra, messages=[
        {"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}])
    m = r.choices[0].message
    calls = [(c.function.name, json.loads(c.function.arguments)) for c in m.tool_calls or []]
    return m.content, (r.usage.prompt_tokens, r.usage.completion_tokens), calls


def _via_anthropic(claude, prompt, kw):
    extra = {}
    if "schema" in kw:
        extra["extra_body"] = {"output_config": {"format": {"type": "json_schema", "schema": kw["schema"]}}}
    if "tools" in kw:
        f = kw["tools"][0]["function"]
        extra["tools"] = [{"name": f["name"], "description": f["description"], "input_schema": f["parameters"]}]
    m = claude.messages.create(model="claude-haiku-4-5", max_tokens=40, system=SYSTEM, **extra,  # greedy: no temperature
                               messages=[{"role": "user", "content": prompt}])
    text = "".join(b.text for b in m.content if b.type == "text")
    calls = [(b.name, b.input) for b in m.content if b.type == "tool_use"]
    return (text or None), (m.usage.input_tokens, m.usage.output_tokens), calls


def _via_gemini(gem, prompt, kw):
    from google.genai import types

    cfg = {"system_instruction": SYSTEM, "temperature": 0, "max_output_tokens": 40}
    if "schema" in kw:
        cfg |= {"response_mime_type": "application/json", "response_json_schema": kw["schema"]}
    if "tools" in kw:
        f = kw["tools"][0]["function"]
        cfg["tools"] = [types.Tool(function_declarations=[types.FunctionDeclaration(
            name=f["name"], description=f["description"], parameters_json_schema=f["parameters"])])]
    r = gem.models.generate_content(model="gemini-2.5-flash", contents=prompt,
                                    config=types.GenerateContentConfig(**cfg))
    calls = [(c.name, c.args) for c in r.function_calls or []]
    text = "".join(p.text for p in r.candidates[0].content.parts if p.text) or None
    return text, (r.usage_metadata.prompt_token_count, r.usage_metadata.candidates_token_count or 0), calls


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("api", ["openai", "anthropic", "gemini"])
def test_gateway_and_chat_give_the_same_answer_tokens_and_tool_calls(request, api, kind):
    from llmcourse import chat

    prompt, kw = KINDS[kind]
    client = request.getfixturevalue({"openai": "oai", "anthropic": "claude", "gemini": "gem"}[api])
    text, usage, calls = {"openai": _via_openai, "anthropic": _via_anthropic, "gemini": _via_gemini}[api](
        client, prompt, kw)
    c = chat(prompt, model="local", system=SYSTEM, max_tokens=40, temperature=0, **kw)
    assert usage == (c.usage.input_tokens, c.usage.output_tokens)
    assert calls == [(t.name, t.arguments) for t in c.tool_calls]
    assert text == (c.text or None)
    if kind == "tools":
        assert calls and calls[0][0] == "get_weather"      # the example really exercises a tool call
    if kind == "json":
        jsonschema.validate(json.loads(text), PLACE)


def test_gateway_tool_turns_honour_max_tokens_and_temperature(oai):
    def ask(**kw):
        r = oai.chat.completions.create(model="local", tools=[WEATHER_TOOL], messages=[
            {"role": "user", "content": "Tell me a story about a dragon."}], **kw)
        m = r.choices[0].message
        return r, json.dumps([m.content, [(c.function.name, c.function.arguments) for c in m.tool_calls or []]])

    cut, _ = ask(max_tokens=3)
    assert cut.usage.completion_tokens == 3 and cut.choices[0].finish_reason == "length"
    greedy = {ask(max_tokens=30, temperature=0)[1] for _ in range(2)}
    sampled = {ask(max_tokens=30, temperature=1.5, seed=s)[1] for s in range(4)}
    assert len(greedy) == 1 and len(sampled) >= 3          # temperature reaches the model; greedy is greedy
    assert ask(max_tokens=30, temperature=1.5, seed=2)[1] == ask(max_tokens=30, temperature=1.5, seed=2)[1]


# -- bad requests: each provider's status code and error shape, never a traceback -----------------
def _openai_shape(body):
    err = body["error"]
    return set(err) == {"message", "type", "param", "code"} and err["type"] == "invalid_request_error"


def _anthropic_shape(body):
    return body["type"] == "error" and set(body["error"]) == {"type", "message"}


def _gemini_shape(body):
    return set(body["error"]) == {"code", "message", "status"}


MSG = [{"role": "user", "content": "hi"}]
BAD = [
    ("openai", "/v1/chat/completions", {"model": "local", "messages": []}, 400, "messages"),
    ("openai", "/v1/chat/completions", {"model": "local"}, 400, "messages"),
    ("openai", "/v1/chat/completions", {"model": "no-such-model", "messages": MSG}, 404, None),
    ("openai", "/v1/chat/completions", {"model": "local", "messages": "hi"}, 400, "messages"),
    ("openai", "/v1/chat/completions", {"model": "local", "messages": MSG, "max_tokens": "5"}, 400, "max_tokens"),
    ("openai", "/v1/chat/completions", {"model": "local", "messages": [{"role": "user", "content": HUGE}]}, 400,
     "messages"),
    ("anthropic", "/v1/messages", {"model": "claude-haiku-4-5", "max_tokens": 5, "messages": []}, 400, None),
    ("anthropic", "/v1/messages", {"model": "claude-haiku-4-5", "messages": MSG}, 400, None),
    ("anthropic", "/v1/messages", {"model": "no-such-model", "max_tokens": 5, "messages": MSG}, 404, None),
    ("anthropic", "/v1/messages", {"model": "local", "max_tokens": 5, "messages": [{"role": "user", "content": 3}]},
     400, None),
    ("anthropic", "/v1/messages", {"model": "local", "max_tokens": 5, "messages": [{"role": "user", "content": HUGE}]},
     400, None),
    ("gemini", "/v1beta/models/gemini-2.5-flash:generateContent", {"contents": []}, 400, None),
    ("gemini", "/v1beta/models/no-such-model:generateContent", {"contents": [{"parts": [{"text": "hi"}]}]}, 404, None),
    ("gemini", "/v1beta/models/gemini-2.5-flash:generateContent",
     {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"temperature": "hot"}}, 400, None),
    ("gemini", "/v1beta/models/gemini-2.5-flash:generateContent", {"contents": [{"parts": [{"text": HUGE}]}]}, 400, None),
]


@pytest.mark.parametrize("api,path,body,status,param", BAD, ids=lambda v: str(v)[:30] if isinstance(v, str) else None)
def test_bad_requests_get_the_provider_error_shape(gateway, api, path, body, status, param):
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"} if api == "anthropic" else {"authorization": "Bearer k"}
    r = httpx.post(gateway.url + path + "?key=secret-key-123", json=body, headers=headers, timeout=60)
    assert r.status_code == status, r.text
    payload = r.json()
    assert {"openai": _openai_shape, "anthropic": _anthropic_shape, "gemini": _gemini_shape}[api](payload), payload
    assert "Traceback" not in r.text and "secret-key-123" not in r.text
    if api == "openai" and param:
        assert payload["error"]["param"] == param


def test_malformed_json_and_unknown_paths(gateway):
    r = httpx.post(gateway.url + "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and _openai_shape(r.json())
    r = httpx.post(gateway.url + "/v1beta/models/gemini-2.5-flash:embedContent", json={"contents": []})
    assert r.status_code in (400, 404) and _gemini_shape(r.json())
    assert httpx.get(gateway.url + "/v1/nothing").status_code == 404


def test_sdks_raise_their_own_errors(oai, claude, gem):
    import anthropic
    import openai
    from google.genai import errors

    with pytest.raises(openai.NotFoundError) as e:
        oai.chat.completions.create(model="no-such-model", messages=MSG)
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(anthropic.NotFoundError) as e:
        claude.messages.create(model="no-such-model", max_tokens=5, messages=MSG)
    assert e.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="local", max_tokens=5, messages=[{"role": "user", "content": HUGE}])
    with pytest.raises(errors.ClientError) as e:
        gem.models.generate_content(model="no-such-model", contents="hi")
    assert e.value.code == 404 and e.value.status == "NOT_FOUND"


# -- client helpers ----------------------------------------------------------------------------
def test_clients_fall_back_to_the_gateway_without_keys(gateway, capsys):
    from llmcourse.clients import anthropic_client, gemini_client, model_for, openai_client

    from llmcourse.clients import DUMMY_KEY

    assert str(openai_client().base_url).rstrip("/") == gateway.url + "/v1"
    assert str(anthropic_client().base_url).rstrip("/") == gateway.url
    g = gemini_client(http_options={"timeout": 60_000})
    assert g._api_client._http_options.base_url.rstrip("/") == gateway.url
    assert str(openai_client(base_url="http://127.0.0.1:9/v1").base_url).startswith("http://127.0.0.1:9/")
    out = capsys.readouterr().out
    assert out.count("local gateway") == 3 and DUMMY_KEY not in out  # not for the explicit base_url
    assert "GOOGLE_API_KEY or GEMINI_API_KEY" in out
    assert model_for("openai") == model_for("gemini") == "SmolLM2-135M-Instruct"


def test_clients_use_the_real_service_with_a_key(monkeypatch, capsys):
    from llmcourse import settings
    from llmcourse.clients import model_for, openai_client

    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "a" * 40 + "9f2c")
    settings.reload()
    client = openai_client()
    assert "api.openai.com" in str(client.base_url)
    out = capsys.readouterr().out
    assert "real openai API" in out and "a" * 40 not in out
    assert model_for("openai").startswith("gpt-")


def test_wire_tool_turns_become_neutral_turns_with_ids_and_errors():
    from llmcourse.gateway import anthropic_api, gemini_api, openai_api

    a = anthropic_api.to_call(anthropic_api.MessagesRequest(model="local", max_tokens=9, messages=[
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                           "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "no such city",
                                      "is_error": True}]}]))
    assert a["messages"][1]["tool_calls"] == [{"id": "toolu_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]
    assert a["messages"][2] == {"role": "tool", "tool_call_id": "toolu_1", "name": "get_weather",
                                "content": "no such city", "is_error": True}     # an error, not a text prefix
    o = openai_api.to_call(openai_api.ChatRequest(model="local", max_tokens=5, temperature=0.7, messages=[
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "cold"}]))
    assert o["messages"][2] | {} == {"role": "tool", "content": "cold", "tool_call_id": "c1", "name": "get_weather"}
    assert (o["max_tokens"], o["temperature"]) == (5, 0.7)
    g = gemini_api.to_call("gemini-x", gemini_api.GenerateRequest(contents=[
        {"role": "user", "parts": [{"text": "Weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"error": "down"}}}]}]))
    assert g["messages"][2]["is_error"] and g["messages"][2]["content"] == '"down"'

"""The gateway's OpenAI Responses API (/v1/responses), driven by the official openai SDK unmodified:
responses.create (plain, message lists, stream, function tools, previous_response_id), responses.stream,
responses.parse with a pydantic model; malformed bodies and built-in tools get a 4xx in OpenAI's
error shape. Real local model, greedy decoding, small max_output_tokens."""

from __future__ import annotations

import json

import httpx
import jsonschema
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from starlette.testclient import TestClient

from llmcourse.gateway import create_app
from llmcourse.gateway.guard import GuardConfig, is_generation
from llmcourse.gateway.responses_store import STORE, ResponseStore

pytestmark = pytest.mark.slow

Q = "What is the capital of France?"
WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"]}
TOOLS = [{"type": "function", "name": "get_weather", "description": "Get the current weather for a city",
          "parameters": WEATHER}]
TOOL_PROMPT = "Use the get_weather tool to get the weather in Paris."


@pytest.fixture(scope="module")
def gateway():
    from llmcourse.gateway import start

    gw = start(port=0)
    yield gw
    gw.stop()


@pytest.fixture
def oai(gateway):
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key="any-key", max_retries=0, timeout=300)


def bad_request(oai, **body) -> dict:
    """The error object of a request the gateway must refuse with 400 (asserting OpenAI's error shape)."""
    with pytest.raises(openai.BadRequestError) as e:
        oai.responses.create(**body)
    err = e.value.body
    assert e.value.status_code == 400 and set(err) >= {"message", "type", "param", "code"}, err
    assert err["type"] == "invalid_request_error"
    return err


# -- plain ------------------------------------------------------------------------------------------
def test_plain_input_answers_like_chat_completions(oai):
    r = oai.responses.create(model="gpt-4o-mini", input=Q, max_output_tokens=16, temperature=0)
    assert r.object == "response" and r.model == "gpt-4o-mini" and r.id.startswith("resp_")
    assert r.status == "completed" and "Paris" in r.output_text
    assert [item.type for item in r.output] == ["message"] and r.output[0].content[0].type == "output_text"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    cc = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": Q}],
                                     max_tokens=16, temperature=0)
    assert r.output_text == cc.choices[0].message.content                  # one translation, one model
    assert r.usage.input_tokens == cc.usage.prompt_tokens


def test_message_list_with_parts_and_instructions_equals_the_string_form(oai):
    as_text = oai.responses.create(model="local", instructions="Answer in one short sentence.", input=Q,
                                   max_output_tokens=16)
    as_items = oai.responses.create(model="local", max_output_tokens=16, input=[
        {"role": "developer", "content": "Answer in one short sentence."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": Q}]}])
    assert as_items.output_text == as_text.output_text and as_items.usage.input_tokens == as_text.usage.input_tokens
    assert as_text.instructions == "Answer in one short sentence."


def test_max_output_tokens_cuts_the_reply_as_incomplete(oai):
    r = oai.responses.create(model="local", input="Write a long story about a dragon.", max_output_tokens=16)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.usage.output_tokens == 16 and r.output_text


# -- streaming --------------------------------------------------------------------------------------
def test_stream_sends_the_typed_events_in_order(oai):
    plain = oai.responses.create(model="local", input=Q, max_output_tokens=32)
    events = list(oai.responses.create(model="local", input=Q, max_output_tokens=32, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 2 and set(kinds[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert "".join(deltas) == final.output_text == plain.output_text
    assert final.usage.output_tokens == plain.usage.output_tokens and final.id == events[0].response.id


def test_sdk_stream_helper_accumulates_the_final_response(oai):
    with oai.responses.stream(model="local", input=Q, max_output_tokens=32) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text and "Paris" in final.output_text


# -- function tools ---------------------------------------------------------------------------------
def test_function_call_round_trip_with_previous_response_id(oai):
    r = oai.responses.create(model="gpt-4o-mini", input=TOOL_PROMPT, tools=TOOLS)
    calls = [item for item in r.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].call_id.startswith("call_")
    jsonschema.validate(json.loads(calls[0].arguments), WEATHER)
    result = json.dumps({"temp_c": 18, "sky": "sunny"})
    r2 = oai.responses.create(model="gpt-4o-mini", previous_response_id=r.id, max_output_tokens=32,
                              input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": result}])
    assert r2.previous_response_id == r.id and r2.output[0].type == "message" and r2.output_text.strip()
    turns = STORE.turns(r2.id)   # what the model read: the question, its call, the tool's output
    assert [t["role"] for t in turns] == ["user", "assistant", "tool", "assistant"]
    assert turns[1]["tool_calls"][0]["id"] == calls[0].call_id and turns[2]["content"] == result
    assert r2.usage.input_tokens > r.usage.input_tokens


def test_function_call_round_trip_stateless_equals_stored(oai):
    r = oai.responses.create(model="gpt-4o-mini", input=TOOL_PROMPT, tools=TOOLS, store=False)
    call = r.output[0]
    output = {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp_c": 18}'}
    # the SDK's output items go back into the next input as they are (stateless: the whole history)
    stateless = oai.responses.create(model="gpt-4o-mini", max_output_tokens=32, store=False,
                                     input=[{"role": "user", "content": TOOL_PROMPT}, *r.output, output])
    kept = oai.responses.create(model="gpt-4o-mini", input=TOOL_PROMPT, tools=TOOLS)
    stored = oai.responses.create(model="gpt-4o-mini", max_output_tokens=32, previous_response_id=kept.id,
                                  input=[output | {"call_id": kept.output[0].call_id}])
    assert stateless.usage.input_tokens == stored.usage.input_tokens
    assert stateless.output_text == stored.output_text


def test_streamed_function_call(oai):
    with oai.responses.stream(model="gpt-4o-mini", input=TOOL_PROMPT, tools=TOOLS) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and kinds[-1] == "response.completed"
    assert final.output[0].type == "function_call" and final.output[0].name == "get_weather"


def test_tool_choice_none_answers_in_text(oai):
    r = oai.responses.create(model="local", input=TOOL_PROMPT, tools=TOOLS, tool_choice="none", max_output_tokens=16)
    assert [item.type for item in r.output] == ["message"]


# -- previous_response_id and the store -------------------------------------------------------------
def test_previous_response_id_carries_the_conversation(oai):
    first = oai.responses.create(model="local", input="My name is Ada. Say hello to me.", max_output_tokens=24)
    second = oai.responses.create(model="local", input="What is my name?", previous_response_id=first.id,
                                  max_output_tokens=16)
    alone = oai.responses.create(model="local", input="What is my name?", max_output_tokens=16)
    resent = oai.responses.create(model="local", max_output_tokens=16, input=[
        {"role": "user", "content": "My name is Ada. Say hello to me."},
        {"role": "assistant", "content": first.output_text}, {"role": "user", "content": "What is my name?"}])
    assert second.usage.input_tokens == resent.usage.input_tokens > alone.usage.input_tokens
    assert second.output_text == resent.output_text
    assert STORE.turns(second.id)[:2] == [{"role": "user", "content": "My name is Ada. Say hello to me."},
                                          {"role": "assistant", "content": first.output_text}]


def test_store_false_retrieve_and_delete(oai):
    kept = oai.responses.create(model="local", input="Say hi.", max_output_tokens=16)
    assert oai.responses.retrieve(kept.id).output_text == kept.output_text
    unkept = oai.responses.create(model="local", input="Say hi.", max_output_tokens=16, store=False)
    assert unkept.store is False and unkept.id not in STORE
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(unkept.id)
    err = bad_request(oai, model="local", input="Again.", previous_response_id=unkept.id)
    assert err["code"] == "previous_response_not_found" and err["param"] == "previous_response_id"
    oai.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError) as e:
        oai.responses.retrieve(kept.id)
    assert kept.id in e.value.body["message"]


def test_store_is_bounded():
    store = ResponseStore(size=3)
    for n in range(5):
        store.put(f"resp_{n}", {"id": n}, [{"role": "user", "content": str(n)}])
    assert len(store) == 3 and "resp_1" not in store and store.turns("resp_4") == [{"role": "user", "content": "4"}]


# -- structured output ------------------------------------------------------------------------------
class Place(BaseModel):
    city: str = Field(max_length=20)
    country: str = Field(max_length=20)


def test_parse_with_a_pydantic_model(oai):
    r = oai.responses.parse(model="gpt-4o-mini", input="Name the capital of France and its country.",
                            text_format=Place)
    assert isinstance(r.output_parsed, Place) and r.output_parsed.city.strip() and r.output_parsed.country.strip()
    assert r.text.format.type == "json_schema" and r.text.format.name == "Place"


def test_json_schema_format_by_hand(oai):
    schema = {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"],
              "additionalProperties": False}
    r = oai.responses.create(model="local", input="Is Paris in France? Answer yes or no.",
                             text={"format": {"type": "json_schema", "name": "yes_no", "schema": schema}})
    jsonschema.validate(json.loads(r.output_text), schema)


# -- refused: 4xx in OpenAI's error shape -----------------------------------------------------------
@pytest.mark.parametrize("tool", [{"type": "web_search"}, {"type": "web_search_preview"},
                                  {"type": "file_search", "vector_store_ids": ["vs_1"]},
                                  {"type": "code_interpreter", "container": {"type": "auto"}}])
def test_built_in_tools_are_refused_with_the_reason(oai, tool):
    err = bad_request(oai, model="gpt-4o-mini", input="What happened today?", tools=[tool])
    assert err["param"] == "tools[0].type" and "does not offer OpenAI's built-in tool" in err["message"]
    assert "OPENAI_API_KEY" in err["message"]


@pytest.mark.parametrize("body, param, code", [
    ({"input": Q}, "model", "missing_required_parameter"),
    ({"model": "local"}, "input", "missing_required_parameter"),
    ({"model": "local", "input": 42}, "input", None),
    ({"model": "local", "messages": [{"role": "user", "content": Q}]}, "messages", "unsupported_parameter"),
    ({"model": "local", "input": Q, "response_format": {"type": "json_object"}}, "response_format",
     "unsupported_parameter"),
    ({"model": "local", "input": Q, "max_output_tokens": 8}, "max_output_tokens", "integer_below_min_value"),
    ({"model": "local", "input": Q, "max_output_tokens": 10**6}, "max_output_tokens", "invalid_value"),
    ({"model": "local", "input": Q, "temperature": 3}, "temperature", None),
    ({"model": "local", "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
     "input[0].content[0]", "invalid_value"),
    ({"model": "local", "input": [{"role": "robot", "content": Q}]}, "input[0].role", "invalid_value"),
    ({"model": "local", "input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]},
     "input", "invalid_value"),
    ({"model": "local", "input": Q, "text": {"format": {"type": "json_schema", "name": "x"}}},
     "text.format.schema", "missing_required_parameter"),
    ({"model": "local", "input": Q, "text": {"format": {"type": "xml"}}}, "text.format.type", "invalid_value"),
    ({"model": "local", "input": Q, "tools": TOOLS, "tool_choice": {"type": "function", "name": "nope"}},
     "tool_choice", "invalid_value"),
    ({"model": "local", "input": Q, "background": True}, "background", "unsupported_value"),
    ({"model": "local", "input": Q, "conversation": "conv_1"}, "conversation", "unsupported_parameter"),
    ({"model": "local", "input": Q, "previous_response_id": "resp_missing"}, "previous_response_id",
     "previous_response_not_found"),
])
def test_malformed_bodies_get_400_in_openais_shape(gateway, body, param, code):
    r = httpx.post(gateway.url + "/v1/responses", json=body, timeout=60)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert set(r.json()) == {"error"} and err["type"] == "invalid_request_error" and err["message"]
    assert err["param"] == param and (code is None or err["code"] == code), err


def test_unknown_model_is_404_and_bad_json_is_400(gateway):
    r = httpx.post(gateway.url + "/v1/responses", json={"model": "llama-9000", "input": Q})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = httpx.post(gateway.url + "/v1/responses", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["message"]


# -- the guard covers the route like the others -----------------------------------------------------
def test_guard_key_body_limit_and_admission_cover_responses():
    assert is_generation({"method": "POST", "path": "/v1/responses"})
    assert not is_generation({"method": "GET", "path": "/v1/responses/resp_1"})
    c = TestClient(create_app(GuardConfig(api_key="s3cret", max_body=2000)), base_url="http://localhost",
                   raise_server_exceptions=False)
    r = c.post("/v1/responses", json={"model": "local", "input": Q})
    assert r.status_code == 401 and r.json()["error"]["message"]
    r = c.post("/v1/responses", json={"model": "local", "input": "x" * 3000},
               headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 413 and set(r.json()) == {"error"}


# -- fuzz: 4xx, never 5xx ---------------------------------------------------------------------------
ANY = st.sampled_from([None, "", 0, -1, 2**70, 1.5, True, [], {}, "x" * 30, [1], {"a": 1}, ["x"], [{}]])
PART = st.fixed_dictionaries({}, optional={"type": st.sampled_from(["input_text", "output_text", "input_image", 3]),
                                           "text": ANY | st.text(max_size=10)})
ITEM = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["message", "function_call", "function_call_output", "reasoning", "item_reference", 1]),
    "role": st.sampled_from(["user", "assistant", "developer", "system", "tool", 5]),
    "content": st.text(max_size=20) | st.lists(PART, max_size=2) | ANY,
    "call_id": ANY | st.just("call_1"), "name": ANY | st.just("f"), "arguments": ANY | st.just("{}"),
    "output": ANY})
BODY = st.fixed_dictionaries({"max_output_tokens": st.sampled_from([16, 15, 0, -3, "16", 2.5, True, 10**9])},
                             optional={
    "model": st.sampled_from(["local", "gpt-4o", "nope", "", 3]),
    "input": st.text(max_size=20) | st.lists(ITEM, max_size=3) | ANY,
    "instructions": ANY, "temperature": ANY, "top_p": ANY, "stream": st.booleans() | ANY, "store": ANY,
    "tools": st.lists(st.fixed_dictionaries({}, optional={
        "type": st.sampled_from(["function", "web_search", "custom", 2]), "name": ANY | st.just("f"),
        "parameters": ANY, "description": ANY}), max_size=2) | ANY,
    "tool_choice": ANY | st.sampled_from(["auto", "none", "required"]),
    "text": ANY | st.fixed_dictionaries({"format": ANY | st.fixed_dictionaries(
        {"type": st.sampled_from(["json_schema", "json_object", "text", "xml"])},
        optional={"name": ANY, "schema": ANY})}),
    "previous_response_id": ANY, "metadata": ANY, "background": ANY, "conversation": ANY})


@pytest.fixture(scope="module")
def app_client(engine):
    return TestClient(create_app(), base_url="http://localhost", raise_server_exceptions=False)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODY)
def test_fuzz_responses(app_client, body):
    r = app_client.post("/v1/responses", json=body)
    assert r.status_code < 500, (body, r.text)
    if r.status_code >= 400:
        err = r.json()["error"]
        assert set(err) >= {"message", "type", "param", "code"} and err["message"]

"""chat() over OpenAI's Responses API (`api="responses"` or a model's registry field), through the
official openai SDK: request bodies and replies replayed through the SDK's own transport, then over
real loopback HTTP against the course gateway (the real local model behind /v1/responses)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from llmcourse import chat, registry
from llmcourse.errors import ProviderError

from http_replay import Replay, sse

OPENAI_KEY = "sk-proj-" + "T" * 40
SEE_SSE = {"content-type": "text/event-stream"}
Q = "What is the capital of France?"


@pytest.fixture
def openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)


def usage(i: int, o: int) -> dict:
    return {"input_tokens": i, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": o,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": i + o}


def response(output: list, i=12, o=3, status="completed", reason=None) -> dict:
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": status, "model": "m",
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "incomplete_details": {"reason": reason} if reason else None, "usage": usage(i, o)}


def message(text: str) -> dict:
    return {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def function_call(name: str, args: dict, call_id="call_7") -> dict:
    return {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": call_id, "name": name,
            "arguments": json.dumps(args)}


# -- replayed through the SDK's transport -----------------------------------------------------------
def test_plain_call_goes_to_responses_with_the_same_reply_usage_and_cost(openai_key):
    rp = Replay((200, response([message("Paris.")]))).install("openai")
    reply = chat(Q, model="fast", system="Be brief.", temperature=0, max_tokens=20, api="responses")
    assert reply.provider == "openai" and reply.text == "Paris." and reply.finish_reason == "stop"
    assert rp.requests[0].url.path.endswith("/responses")
    assert rp.body() == {"model": registry.get_model("fast").api_id, "instructions": "Be brief.",
                         "input": [{"role": "user", "content": Q}], "temperature": 0, "max_output_tokens": 20,
                         "store": False}
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 3)
    assert reply.cost == pytest.approx(registry.get_model("fast").cost(12, 3)) and reply.cost > 0


def test_streaming_reads_text_deltas_and_usage_from_the_typed_events(openai_key):
    head = {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": "m",
            "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events = [{"type": "response.created", "sequence_number": 0, "response": head},
              {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
               "item": message("") | {"content": [], "status": "in_progress"}},
              {"type": "response.content_part.added", "sequence_number": 2, **where,
               "part": {"type": "output_text", "text": "", "annotations": []}}]
    events += [{"type": "response.output_text.delta", "sequence_number": 3 + n, **where, "delta": d, "logprobs": []}
               for n, d in enumerate(["The ", "capital ", "is Paris."])]
    events.append({"type": "response.completed", "sequence_number": 6,
                   "response": response([message("The capital is Paris.")], 9, 5)})
    rp = Replay((200, sse(events, named=True), SEE_SSE)).install("openai")
    reply = chat(Q, model="fast", stream=True, api="responses")
    assert list(reply) == ["The ", "capital ", "is Paris."]
    assert reply.text == "The capital is Paris." and reply.usage.output_tokens == 5 and reply.usage.input_tokens == 9
    assert rp.body()["stream"] is True and "api" not in rp.body()


def test_tool_calls_and_the_tool_turn_map_to_function_call_items(openai_key):
    def get_weather(city: str) -> dict:
        """Get the current weather for a city."""
        return {"city": city, "sky": "sunny"}

    rp = Replay((200, response([function_call("get_weather", {"city": "Paris"})])),
                (200, response([message("It is sunny in Paris.")]))).install("openai")
    from llmcourse.tools import run_tools

    result = run_tools("Weather in Paris?", tools=[get_weather], model="fast", api="responses")
    first, second = rp.body(0), rp.body(1)
    assert first["tools"] == [{"type": "function", "name": "get_weather", "description": "Get the current weather "
                               "for a city.", "parameters": first["tools"][0]["parameters"], "strict": False}]
    assert second["input"][1:] == [
        {"type": "function_call", "call_id": "call_7", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_7", "output": json.dumps({"city": "Paris", "sky": "sunny"})}]
    assert "sunny" in result.text


def test_schema_goes_in_text_format_and_fills_parsed(openai_key):
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    rp = Replay((200, response([message('{"name": "Paris"}')]))).install("openai")
    reply = chat("Capital of France?", model="fast", schema=City, api="responses")
    fmt = rp.body()["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["strict"] is True and fmt["schema"]["additionalProperties"] is False
    assert reply.parsed == City(name="Paris")


def test_incomplete_is_a_length_finish(openai_key):
    Replay((200, response([message("Once upon")], status="incomplete", reason="max_output_tokens"))).install("openai")
    assert chat("Tell a story", model="fast", max_tokens=16, api="responses").finish_reason == "length"


def test_a_registry_field_chooses_responses_per_model(openai_key, monkeypatch):
    import importlib

    chat_module = importlib.import_module("llmcourse.chat")   # the module (llmcourse.chat is also the function)
    fast = registry.get_model("fast")
    assert fast.api == "chat"                            # the default: Chat Completions
    monkeypatch.setattr(chat_module, "get_model", lambda name: dataclasses.replace(fast, api="responses"))
    rp = Replay((200, response([message("Paris.")]))).install("openai")
    assert chat(Q, model="fast").text == "Paris." and rp.requests[0].url.path.endswith("/responses")
    rp = Replay((200, {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris."}}]})).install("openai")
    assert chat(Q, model="fast", api="chat").text == "Paris." and rp.requests[0].url.path.endswith("/chat/completions")


def test_an_unknown_api_names_the_two_choices(openai_key):
    Replay().install("openai")
    with pytest.raises(ProviderError, match="api='responses'"):
        chat(Q, model="fast", api="assistants")


# -- real loopback HTTP: chat() -> openai SDK -> the course gateway -> the local model ---------------
@pytest.fixture(scope="module")
def gateway():
    from llmcourse.gateway import start

    gw = start(port=0)
    yield gw
    gw.stop()


@pytest.mark.slow
def test_both_apis_give_the_same_reply_over_real_http(gateway, openai_key, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", gateway.url + "/v1")
    by_chat = chat(Q, model="openai", max_tokens=16, temperature=0)
    by_responses = chat(Q, model="openai", max_tokens=16, temperature=0, api="responses")
    streamed = chat(Q, model="openai", max_tokens=16, temperature=0, api="responses", stream=True)
    chunks = list(streamed)
    assert "Paris" in by_responses.text and by_responses.text == by_chat.text == "".join(chunks)
    assert by_responses.usage == by_chat.usage == streamed.usage and by_responses.cost == by_chat.cost > 0
    assert type(by_responses.raw).__name__ == "Response" and type(by_chat.raw).__name__ == "ChatCompletion"


@pytest.mark.slow
def test_schema_and_tools_over_real_http(gateway, openai_key, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", gateway.url + "/v1")
    answer = {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]}
    assert chat("Is the sky blue?", model="openai", schema=answer, api="responses").parsed["answer"] in ("yes", "no")

    def get_weather(city: str) -> dict:
        """Get the current weather for a city."""
        return {"city": city, "sky": "sunny"}

    tooled = chat("Use the get_weather tool to get the weather in Paris.", model="openai", tools=[get_weather],
                  api="responses")
    assert [c.name for c in tooled.tool_calls] == ["get_weather"] and tooled.tool_calls[0].id.startswith("call_")
    assert tooled.finish_reason == "tool_calls"

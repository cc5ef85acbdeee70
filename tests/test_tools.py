"""Tool calling: schemas from functions, the run_tools loop on the real local model, and each
frontier SDK with its HTTP replayed (request shape, normalized tool calls, a two-step round trip)."""

from __future__ import annotations

import enum
import json
from typing import Literal, Optional

import jsonschema
import pytest

from llmcourse import ToolCall, chat, run_tools
from llmcourse.providers.local.tools import local_messages
from llmcourse.tools import Tool, ToolError, tool

from http_replay import Replay

WEATHER_CALLS: list[str] = []


@tool
def get_weather(city: str) -> dict:
    """Get the current weather for a city."""
    WEATHER_CALLS.append(city)
    return {"city": city, "temperature_c": 21, "sky": "sunny"}


@tool
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


def forecast(city: str, days: int = 3, unit: Unit = Unit.C, detail: Literal["short", "long"] = "short",
             country: Optional[str] = None) -> str:
    """Forecast the weather.

    Longer explanation that the model does not need.

    Args:
        city: The city, e.g. Paris.
        days: How many days ahead,
            from 1 to 7.
        unit: Temperature unit.
    """
    return f"{city}: sunny for {days} days"


# -- schemas from functions --------------------------------------------------------------------
def test_schema_from_a_typed_docstringed_function():
    t = Tool.from_function(forecast)
    assert t.name == "forecast" and t.description == "Forecast the weather."
    p = t.parameters
    assert p["type"] == "object" and p["required"] == ["city"]
    props = p["properties"]
    assert props["city"] == {"type": "string", "description": "The city, e.g. Paris."}
    assert props["days"]["type"] == "integer" and props["days"]["default"] == 3
    assert props["days"]["description"] == "How many days ahead, from 1 to 7."
    assert props["detail"]["enum"] == ["short", "long"] and props["detail"]["default"] == "short"
    unit = p["$defs"]["Unit"] if "$ref" in props["unit"] else props["unit"]
    assert unit["enum"] == ["celsius", "fahrenheit"]
    assert {"type": "null"} in props["country"]["anyOf"] and props["country"]["default"] is None
    assert "title" not in json.dumps(p)
    assert t(city="Oslo", days=2) == "Oslo: sunny for 2 days"  # still callable


def test_numpy_docstrings_and_provider_formats():
    def area(width: float, height: float) -> float:
        """Area of a rectangle.

        Parameters
        ----------
        width : float
            Width in metres.
        height : float
            Height in metres.
        """
        return width * height

    t = tool(area)
    assert t.parameters["properties"]["height"]["description"] == "Height in metres."
    assert t.to_openai() == {"type": "function", "function": {
        "name": "area", "description": "Area of a rectangle.", "parameters": t.parameters}}
    assert t.to_anthropic()["input_schema"] is t.parameters
    assert t.to_gemini()["parameters_json_schema"] is t.parameters


def test_bad_functions_get_errors_that_name_the_fix():
    def untyped(city):
        """Weather."""

    def no_doc(city: str):
        pass

    with pytest.raises(ToolError, match=r"Argument 'city' of tool untyped\(\) has no type hint.*city: str"):
        tool(untyped)
    with pytest.raises(ToolError, match="no docstring"):
        tool(no_doc)
    def star(*cities: str):
        """Weather for many cities."""

    with pytest.raises(ToolError, match="takes \\*cities"):
        tool(star)


# -- the local model ---------------------------------------------------------------------------
TOOL_PROMPTS = [("What is the weather in Paris?", "get_weather"), ("What is 12 plus 30?", "add"),
                ("Add 7 and 5.", "add"), ("Is it raining in London right now?", "get_weather"),
                ("What's the temperature in Tokyo?", "get_weather"), ("Compute 3.5 + 4.", "add"),
                ("How warm is it in Berlin today?", "get_weather"), ("What is the sum of 100 and 250?", "add")]


def test_local_calls_have_schema_valid_arguments_and_mostly_the_right_tool(engine):
    tools = {"get_weather": get_weather, "add": add}
    right = 0
    for prompt, want in TOOL_PROMPTS:
        reply = chat(prompt, model="local", tools=list(tools.values()))
        for call in reply.tool_calls:
            assert isinstance(call, ToolCall) and call.name in tools
            jsonschema.validate(call.arguments, tools[call.name].parameters)
        right += bool(reply.tool_calls) and reply.tool_calls[0].name == want
    assert right >= 6, f"right tool for only {right}/{len(TOOL_PROMPTS)} prompts"  # measured: 8/8


def test_local_tool_turns_from_the_wire_are_understood(engine):
    # OpenAI-style tool turns (as a client sends them) and neutral ones: after a result, the model answers
    history = [{"role": "user", "content": "What is 12 plus 30?"},
               {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "add", "arguments": '{"a": 12, "b": 30}'}}]},
               {"role": "tool", "tool_call_id": "c1", "content": "42"}]
    reply = chat(history, model="local", tools=[add.to_openai()])
    assert not reply.tool_calls and reply.text and reply.finish_reason == "stop"


def test_one_tool_turn_wording_for_every_route():
    turns = [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "name": "add",
                                                                   "arguments": {"a": 1, "b": 2}}]},
             {"role": "tool", "tool_call_id": "c1", "name": "add", "content": "3"},
             {"role": "tool", "tool_call_id": "c2", "name": "add", "content": "boom", "is_error": True}]
    out = local_messages(turns)
    assert json.loads(out[0]["content"]) == {"tool": "add", "arguments": {"a": 1, "b": 2}}
    assert out[1]["content"].startswith("Tool result: 3\n") and out[2]["content"].startswith("Tool error: boom\n")
    # the wire's OpenAI shape becomes the same text
    wire = [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
             "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}]
    assert local_messages(wire)[0] == out[0]
    # and chat() without tools reads the history the same way (one wording, not two)
    from llmcourse.providers import get_provider
    from llmcourse.registry import get_model
    from llmcourse.types import Request

    req = Request(model=get_model("local"), messages=[{"role": "user", "content": "1+2?"}, *turns])
    assert get_provider("local").prompt(req)[0] == [{"role": "user", "content": "1+2?"}, *out]


def test_local_loop_runs_the_tool_and_ends_within_its_steps(engine):
    WEATHER_CALLS.clear()
    run = run_tools("What is the weather in Paris?", tools=[get_weather, add], model="local", max_steps=3)
    assert run.steps and run.steps[0].name == "get_weather" and run.steps[0].error is None
    assert WEATHER_CALLS and len(run.steps) <= 3
    assert run.finished and run.text
    roles = [m["role"] for m in run.messages]
    assert roles[:3] == ["user", "assistant", "tool"] and roles[-1] == "assistant"
    assert "get_weather" in run._repr_markdown_()


def test_a_tool_that_raises_is_fed_back_not_raised(engine):
    @tool
    def get_weather(city: str) -> dict:
        """Get the current weather for a city."""
        raise ConnectionError("weather service is down")

    run = run_tools("What is the weather in Rome?", tools=[get_weather], model="local", max_steps=2)
    assert run.steps and run.steps[0].error == "ConnectionError: weather service is down"
    fed = [m for m in run.messages if m["role"] == "tool"]
    assert fed and fed[0]["is_error"] and "weather service is down" in fed[0]["content"]
    assert "**error:**" in run._repr_markdown_()


# -- frontier providers, HTTP replayed ---------------------------------------------------------
def _openai_msg(message, pt=20, ct=10):
    return {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", **message}}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}


def _openai_call(id_, name, args):
    return _openai_msg({"content": None, "tool_calls": [
        {"id": id_, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]})


def test_openai_tools_round_trip(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    rp = Replay((200, _openai_call("call_abc", "get_weather", {"city": "Paris"})),
                (200, _openai_msg({"content": "It is sunny and 21 °C in Paris."}))).install("openai")
    run = run_tools("Weather in Paris?", tools=[get_weather, add], model="openai", system="Be brief.")
    assert run.finished and run.text == "It is sunny and 21 °C in Paris."
    assert [(s.name, s.arguments, s.result["temperature_c"]) for s in run.steps] == [
        ("get_weather", {"city": "Paris"}, 21)]
    first, second = rp.body(0), rp.body(1)
    assert first["tools"] == [get_weather.to_openai(), add.to_openai()]
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert second["messages"][2]["tool_calls"][0] == {
        "id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    assert second["messages"][3]["role"] == "tool" and second["messages"][3]["tool_call_id"] == "call_abc"
    assert json.loads(second["messages"][3]["content"])["sky"] == "sunny"


def test_openai_reply_tool_calls_are_normalized(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    Replay((200, _openai_call("call_1", "add", {"a": 2, "b": 3}))).install("openai")
    reply = chat("2+3?", model="openai", tools=[add])
    assert reply.tool_calls == [ToolCall(id="call_1", name="add", arguments={"a": 2, "b": 3})]


def test_runaway_loop_stops_at_max_steps(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    rp = Replay(*[(200, _openai_call(f"call_{i}", "add", {"a": i, "b": 1})) for i in range(3)]).install("openai")
    run = run_tools("Keep adding.", tools=[add], model="openai", max_steps=3)
    assert not run.finished and len(run.steps) == 3 and len(rp.requests) == 3
    assert [s.result for s in run.steps] == [1, 2, 3]
    assert "stopped at max_steps" in run._repr_markdown_()


def test_invalid_arguments_and_unknown_tools_are_fed_back(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    bad = _openai_msg({"content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": "two"}'}},
        {"id": "c2", "type": "function", "function": {"name": "delete_db", "arguments": "{}"}}]})
    rp = Replay((200, bad), (200, _openai_msg({"content": "Sorry."}))).install("openai")
    run = run_tools("Add two.", tools=[add], model="openai")
    assert run.finished and [s.error is not None for s in run.steps] == [True, True]
    assert "invalid arguments for add" in run.steps[0].error and "no tool named 'delete_db'" in run.steps[1].error
    assert [m["tool_call_id"] for m in rp.body(1)["messages"] if m["role"] == "tool"] == ["c1", "c2"]


def _anthropic(content, stop="end_turn"):
    return {"id": "msg", "type": "message", "role": "assistant", "model": "m", "content": content,
            "stop_reason": stop, "usage": {"input_tokens": 30, "output_tokens": 15}}


def test_anthropic_tools_round_trip(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-" + "T" * 24)
    rp = Replay((200, _anthropic([{"type": "text", "text": "Let me check."},
                                  {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                   "input": {"city": "Paris"}}], "tool_use")),
                (200, _anthropic([{"type": "text", "text": "Sunny, 21 °C."}]))).install("anthropic")
    run = run_tools("Weather in Paris?", tools=[get_weather], model="anthropic", system="Be brief.")
    assert run.text == "Sunny, 21 °C." and run.steps[0].arguments == {"city": "Paris"}
    first, second = rp.body(0), rp.body(1)
    assert first["tools"] == [get_weather.to_anthropic()] and first["system"] == "Be brief."
    assert "tool_choice" not in first
    assert second["messages"][1] == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]}
    result = second["messages"][2]
    assert result["role"] == "user" and result["content"][0]["type"] == "tool_result"
    assert result["content"][0]["tool_use_id"] == "toolu_1" and result["content"][0]["is_error"] is False


def _gemini(parts):
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 6}}


def test_gemini_tools_round_trip(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza" + "T" * 35)
    rp = Replay((200, _gemini([{"functionCall": {"name": "add", "args": {"a": 2, "b": 40}},
                                "thoughtSignature": "c2lnbmF0dXJl"}])),
                (200, _gemini([{"text": "2 + 40 = 42."}]))).install("gemini")
    run = run_tools("What is 2 + 40?", tools=[add, get_weather], model="gemini")
    assert run.text == "2 + 40 = 42." and run.steps[0].result == 42
    first, second = rp.body(0), rp.body(1)
    decls = first["tools"][0]["functionDeclarations"]
    assert [d["name"] for d in decls] == ["add", "get_weather"]
    sent = decls[0].get("parametersJsonSchema", decls[0].get("parameters_json_schema"))  # SDK's spelling
    assert sent == add.parameters
    call_turn, result_turn = second["contents"][1], second["contents"][2]
    assert call_turn["role"] == "model"
    assert call_turn["parts"][0]["functionCall"] == {"name": "add", "args": {"a": 2, "b": 40}}
    assert call_turn["parts"][0]["thoughtSignature"] == "c2lnbmF0dXJl"  # sent back as Gemini 3 requires
    assert result_turn["parts"][0]["functionResponse"] == {"name": "add", "response": {"result": "42"}}


from typing import Annotated  # noqa: E402

from pydantic import Field  # noqa: E402


def test_annotated_constraints_reach_the_schema():
    from llmcourse.tools import Tool

    def book(day: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")], hours: Annotated[int, Field(ge=1, le=8)] = 1):
        """Book a room for a day."""

    props = Tool.from_function(book).parameters["properties"]
    assert props["day"]["pattern"] == r"^\d{4}-\d{2}-\d{2}$"
    assert (props["hours"]["minimum"], props["hours"]["maximum"], props["hours"]["default"]) == (1, 8, 1)

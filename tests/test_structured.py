"""Structured output: the real local model under xgrammar, and each frontier SDK with HTTP replayed."""

from __future__ import annotations

import json
from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from llmcourse import chat, registry
from llmcourse.providers.local.constrained import local_schema, token_budget
from llmcourse.structured import StructuredOutputError, as_spec, strict_schema

from http_replay import Replay


class Address(BaseModel):
    city: str = Field(max_length=30)
    country: str = Field(max_length=30)


class Person(BaseModel):  # nested objects and an integer range
    name: str = Field(max_length=30)
    age: int = Field(ge=0, le=120)
    address: Address


class Recipe(BaseModel):  # an enum, a list; title and items lack maxLength (the local path adds one)
    title: str
    difficulty: Literal["easy", "medium", "hard"]
    minutes: int = Field(ge=1, le=600)
    ingredients: list[str] = Field(min_length=1, max_length=4)


SENTIMENT = {  # a plain JSON schema: `.parsed` is a dict
    "title": "sentiment", "type": "object",
    "properties": {"sentiment": {"enum": ["positive", "negative", "neutral"]},
                   "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                   "keywords": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3}},
    "required": ["sentiment", "confidence", "keywords"],
}

CASES = [(Person, p) for p in [
    "Invent a person who lives in Paris.", "Describe a retired teacher from Japan.",
    "Make up a young footballer from Brazil.", "Create a profile for a baker in Rome.",
    "Who is a famous scientist? Give their details.", "A child living in Canada.",
    "An old fisherman from Norway."]] + [(SENTIMENT, p) for p in [
    "I loved this movie, the acting was wonderful!", "The service was slow and the food was cold.",
    "The package arrived on Tuesday.", "Absolutely terrible experience, never again.",
    "It's fine, nothing special.", "Best purchase I've made this year!",
    "The battery died after two days."]] + [(Recipe, p) for p in [
    "Give me a recipe for pancakes.", "A quick tomato pasta recipe.", "How do I make a green salad?",
    "A recipe for chocolate cake.", "Simple scrambled eggs.", "A hearty beef stew.",
    "Lemonade for a hot day."]]


def test_local_replies_always_parse_and_validate(engine):
    """21 prompts over 3 schemas: every constrained reply is valid (nested, enums, ranges, lists)."""
    failures = []
    for schema, prompt in CASES:
        reply = chat(prompt, model="local", schema=schema)
        try:
            if isinstance(schema, dict):
                jsonschema.validate(reply.parsed, schema)
                assert reply.parsed == json.loads(reply.text)
            else:
                assert isinstance(reply.parsed, schema)
                assert reply.parsed == schema.model_validate_json(reply.text)
        except Exception as exc:  # collect, so one run reports the validity rate
            failures.append((prompt, reply.text, exc))
        assert reply.usage.output_tokens > 0 and reply.provider == "local"
    assert not failures, f"{len(failures)}/{len(CASES)} invalid: {failures[:3]}"


def test_local_json_counts_and_any_object_mode(engine):
    reply = chat([{"role": "user", "content": "Is the sky blue?"}], model="local",
                 schema={"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]})
    assert reply.parsed["answer"] in ("yes", "no") and json.loads(reply.text) == reply.parsed
    assert reply.usage.input_tokens > 0 and 0 < reply.usage.output_tokens < 20
    person = chat("Invent a person from Spain.", model="local", schema=Person).parsed
    assert isinstance(person, Person)
    # JSON mode without a schema ({"type": "object"}): a small flat object that always closes
    free = chat("Describe Paris as JSON.", model="local", schema={"type": "object"})
    assert isinstance(free.parsed, dict) and free.finish_reason == "stop"


def test_a_reply_cut_short_raises_a_clear_error(engine):
    with pytest.raises(StructuredOutputError) as e:
        chat("Invent a person.", model="local", schema=Person, max_tokens=4)
    msg = str(e.value)
    assert "[local/" in msg and "Person" in msg and "raise max_tokens" in msg


def test_local_schema_bounds_every_free_string_and_list():
    js = local_schema(Recipe.model_json_schema(), max_length=50, max_items=6)
    assert js["properties"]["title"]["maxLength"] == 50
    assert js["properties"]["ingredients"]["items"]["maxLength"] == 50
    assert js["properties"]["ingredients"]["maxItems"] == 4  # its own bound is kept
    assert "maxLength" not in js["properties"]["difficulty"]  # an enum is not free text
    assert "maxLength" not in Recipe.model_json_schema()["properties"]["title"]  # input untouched
    nested = local_schema(Person.model_json_schema())
    assert nested["$defs"]["Address"]["properties"]["city"]["maxLength"] == 30


def test_token_budget_grows_with_the_schema():
    small = token_budget(local_schema(SENTIMENT))
    assert small >= 3 * 22  # three keywords of up to 20 characters each fit
    assert token_budget(local_schema(Person.model_json_schema())) > 60  # follows the $ref
    assert token_budget({"type": "string", "maxLength": 10}) == 12


def test_strict_schema_closes_objects_and_requires_everything():
    class Opt(BaseModel):
        a: int
        b: str | None = None
        inner: Address

    s = strict_schema(Opt.model_json_schema())
    assert s["additionalProperties"] is False and s["required"] == ["a", "b", "inner"]
    assert "default" not in s["properties"]["b"]
    assert s["$defs"]["Address"]["additionalProperties"] is False


def test_bad_schema_arguments_name_the_fix():
    with pytest.raises(TypeError, match="pydantic BaseModel class or a JSON-schema dict"):
        as_spec("Person")
    with pytest.raises(TypeError, match="JSON schema of an object"):
        as_spec({"type": "string"})
    with pytest.raises(TypeError, match="JSON schema of an object"):
        as_spec({"required": ["a"]})
    with pytest.raises(ValueError, match="drop stream=True"):
        chat("hi", model="local", schema=Person, stream=True)


# -- frontier providers, HTTP replayed ---------------------------------------------------------
def _openai_reply(content):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32}}


def test_openai_sends_a_strict_json_schema(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    person = {"name": "Ada", "age": 36, "address": {"city": "London", "country": "UK"}}
    rp = Replay((200, _openai_reply(json.dumps(person)))).install("openai")
    reply = chat("Invent a person.", model="openai", schema=Person)
    assert reply.parsed == Person(**person)
    rf = rp.body()["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "Person"
    assert rf["json_schema"]["strict"] is True
    sch = rf["json_schema"]["schema"]
    assert sch["additionalProperties"] is False and set(sch["required"]) == {"name", "age", "address"}
    assert sch["$defs"]["Address"]["additionalProperties"] is False
    assert "maxLength" not in json.dumps(rf).replace('"maxLength": 30', "")  # no local-only bounds added


def test_openai_compat_preset_uses_the_same_response_format():
    rp = Replay((200, _openai_reply('{"sentiment": "positive", "confidence": 0.9, "keywords": []}')))
    rp.install("ollama")
    reply = chat("Great!", model="ollama/llama3.2", schema=SENTIMENT)
    assert reply.parsed["sentiment"] == "positive"
    assert rp.body()["response_format"]["json_schema"]["name"] == "sentiment"


def test_an_invalid_reply_names_provider_model_and_problem(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "T" * 24)
    Replay((200, _openai_reply('{"sentiment": "angry", "confidence": 2, "keywords": []}'))).install("openai")
    with pytest.raises(StructuredOutputError) as e:
        chat("Meh.", model="openai", schema=SENTIMENT)
    msg = str(e.value)
    assert f"[openai/{registry.get_model('openai').api_id}]" in msg
    assert "'angry' is not one of" in msg


def test_anthropic_forces_one_tool_whose_input_is_the_reply(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-" + "T" * 24)
    person = {"name": "Grace", "age": 85, "address": {"city": "New York", "country": "USA"}}
    rp = Replay((200, {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                       "content": [{"type": "tool_use", "id": "toolu_1", "name": "Person", "input": person}],
                       "stop_reason": "tool_use", "usage": {"input_tokens": 30, "output_tokens": 20}})
                ).install("anthropic")
    reply = chat("Invent a person.", model="anthropic", schema=Person)
    assert reply.parsed == Person(**person) and reply.tool_calls == []
    body = rp.body()
    assert body["tool_choice"] == {"type": "tool", "name": "Person"}
    assert [t["name"] for t in body["tools"]] == ["Person"]
    assert body["tools"][0]["input_schema"]["properties"]["age"] == {"maximum": 120, "minimum": 0,
                                                                     "title": "Age", "type": "integer"}


def test_gemini_sends_mime_type_and_json_schema(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza" + "T" * 35)
    text = '{"sentiment": "negative", "confidence": 0.8, "keywords": ["cold"]}'
    rp = Replay((200, {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                       "finishReason": "STOP"}],
                       "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 9}})).install("gemini")
    reply = chat("The food was cold.", model="gemini", schema=SENTIMENT)
    assert reply.parsed == json.loads(text)
    cfg = rp.body()["generationConfig"]
    assert cfg["responseMimeType"] == "application/json"
    assert cfg["responseJsonSchema"]["properties"]["sentiment"] == SENTIMENT["properties"]["sentiment"]

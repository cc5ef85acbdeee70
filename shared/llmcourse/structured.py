"""Structured output: `chat(..., schema=...)` returns a Reply whose `.parsed` is validated.

`schema` is a pydantic model class (`.parsed` is an instance of it) or a JSON-schema dict
(`.parsed` is a dict, checked with `jsonschema`). Each provider gets its native mechanism:

- OpenAI and OpenAI-compatible endpoints: `response_format={"type": "json_schema", ...,
  "strict": True}` with a strict-compatible copy of the schema (see `strict_schema`).
- Gemini: `response_mime_type="application/json"` and `response_json_schema`.
- Anthropic: one forced tool whose `input_schema` is the schema; its input is the reply.
- The local model: constrained decoding with xgrammar (see llmcourse.providers.local.constrained).

Each provider sets `parsed`, checked here by `SchemaSpec.parse`.

>>> from pydantic import BaseModel
>>> from llmcourse import chat
>>> class City(BaseModel):
...     name: str
...     country: str
>>> reply = chat("Name a big city in France.", model="local", schema=City)
>>> isinstance(reply.parsed, City)
True
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

from .errors import ProviderError

_CHILD_DICTS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_CHILD_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


class StructuredOutputError(ProviderError):
    """A reply did not parse or validate against the requested schema; `.text` is the reply."""

    text: str = ""


@dataclass
class SchemaSpec:
    """A requested output schema: its `name`, the JSON `json_schema`, and the pydantic class if any."""

    name: str
    json_schema: dict
    model: type | None = None

    def parse(self, text: str, *, provider: str, model: str):
        """Parse and validate `text`: a pydantic instance, or a dict for a JSON schema."""
        where = dict(provider=provider, model=model)
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            cut = " The reply looks cut off: raise max_tokens." if text and not text.rstrip().endswith("}") else ""
            raise _with_text(StructuredOutputError(f"The reply is not valid JSON for schema {self.name!r} "
                                                   f"({exc}).{cut} Reply began: {str(text)[:120]!r}",
                                                   **where), text) from exc
        if self.model is not None:
            import pydantic

            try:
                return self.model.model_validate(data)
            except pydantic.ValidationError as exc:
                raise _with_text(StructuredOutputError(f"The reply does not match {self.name}: "
                                                       f"{_first_lines(exc)}. Reply: {str(text)[:120]!r}",
                                                       **where), text) from exc
        import jsonschema

        validator = jsonschema.validators.validator_for(self.json_schema)(self.json_schema)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            problems = "; ".join(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                                 for e in errors[:3])
            raise _with_text(StructuredOutputError(f"The reply does not match schema {self.name!r} "
                                                   f"{problems}. Reply: {str(text)[:120]!r}", **where), text)
        return data


def as_spec(schema) -> SchemaSpec:
    """A SchemaSpec from a pydantic model class, a JSON-schema dict, or a SchemaSpec."""
    if isinstance(schema, SchemaSpec):
        return schema
    if isinstance(schema, dict):
        if schema.get("type") != "object" and not (schema.get("type") is None and (
                schema.get("properties") or schema.get("anyOf") or schema.get("$ref"))):
            raise TypeError("schema= needs a JSON schema of an object, e.g. {'type': 'object', "
                            "'properties': {'name': {'type': 'string'}}, 'required': ['name']}")
        return SchemaSpec(_safe_name(schema.get("title") or "reply"), copy.deepcopy(schema))
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return SchemaSpec(_safe_name(schema.__name__), schema.model_json_schema(), schema)
    raise TypeError(f"schema= takes a pydantic BaseModel class or a JSON-schema dict, not {schema!r:.80}")


def _with_text(exc: StructuredOutputError, text) -> StructuredOutputError:
    exc.text = str(text or "")
    return exc


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:64] or "reply"


def _first_lines(exc) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:3])


def walk(schema: dict, fn) -> dict:
    """A deep copy of `schema` with `fn(subschema)` applied (in place) to every subschema."""
    schema = copy.deepcopy(schema)

    def visit(s):
        if not isinstance(s, dict):
            return
        fn(s)
        for key in ("properties", "$defs", "definitions", "patternProperties"):
            for sub in (s.get(key) or {}).values():
                visit(sub)
        for key in _CHILD_DICTS:
            visit(s.get(key))
        for key in _CHILD_LISTS:
            for sub in s.get(key) or []:
                visit(sub)

    visit(schema)
    return schema


def strict_schema(schema: dict) -> dict:
    """A copy that OpenAI's strict mode accepts: every object closed, every property required.

    >>> strict_schema({"type": "object", "properties": {"a": {"type": "string", "default": None}}})
    {'type': 'object', 'properties': {'a': {'type': 'string'}}, 'additionalProperties': False, 'required': ['a']}
    """
    def fix(s):
        if s.get("type") == "object" or "properties" in s:
            s["additionalProperties"] = False
            s["required"] = list(s.get("properties") or {})
        if "default" in s:
            del s["default"]  # strict mode rejects defaults; the model always fills the field

    return walk(schema, fix)

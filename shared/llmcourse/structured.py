"""Structured output: `chat(..., schema=...)` returns a Reply whose `.parsed` is validated.

`schema` is a pydantic model class (`.parsed` is an instance of it) or a JSON-schema dict
(`.parsed` is a dict, checked with `jsonschema`). Each provider gets its native mechanism:

- OpenAI and OpenAI-compatible endpoints: `response_format={"type": "json_schema", ...,
  "strict": True}` with a strict-compatible copy of the schema (see `strict_schema`).
- Gemini: `response_mime_type="application/json"` and `response_json_schema`.
- Anthropic: one forced tool whose `input_schema` is the schema; its input is the reply.
- The local model: constrained decoding with xgrammar. At every step a logits processor masks
  the tokens that would break the schema, so even a 135M model writes valid JSON.

Why xgrammar (measured with SmolLM2-135M on CPU, see the course's offline-stack guide): it
enforces enums, number ranges and list sizes, costs about 3% per token and streams. outlines
does not enforce integer ranges and triggers a 10-15 s torch.compile on CPU; lm-format-enforcer
stalls on transformers 5. Unconstrained, the model wrote valid JSON for 2 prompts out of 20.

A grammar guarantees the shape, not that the reply ends: a string may run until `max_tokens`
cuts it. So for the local model every free-text string (list items too) gets a `maxLength` and
every list a `maxItems` when it has none (`local_schema`), and `max_tokens` is sized from the
schema (`token_budget`) so the reply always closes.

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

DEFAULT_MAX_LENGTH = 200   # characters, for a local-model string that has no maxLength
DEFAULT_MAX_ITEMS = 8      # for a local-model list that has no maxItems
_CHILD_DICTS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_CHILD_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


class StructuredOutputError(ProviderError):
    """A reply did not parse or validate against the requested schema."""


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
            raise StructuredOutputError(f"The reply is not valid JSON for schema {self.name!r} ({exc}).{cut} "
                                        f"Reply began: {str(text)[:120]!r}", **where) from exc
        if self.model is not None:
            import pydantic

            try:
                return self.model.model_validate(data)
            except pydantic.ValidationError as exc:
                raise StructuredOutputError(f"The reply does not match {self.name}: {_first_lines(exc)}. "
                                            f"Reply: {str(text)[:120]!r}", **where) from exc
        import jsonschema

        validator = jsonschema.validators.validator_for(self.json_schema)(self.json_schema)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            problems = "; ".join(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                                 for e in errors[:3])
            raise StructuredOutputError(f"The reply does not match schema {self.name!r} {problems}. "
                                        f"Reply: {str(text)[:120]!r}", **where)
        return data


def as_spec(schema) -> SchemaSpec:
    """A SchemaSpec from a pydantic model class, a JSON-schema dict, or a SchemaSpec."""
    if isinstance(schema, SchemaSpec):
        return schema
    if isinstance(schema, dict):
        if schema.get("type") not in ("object", None) or not (schema.get("properties") or schema.get("anyOf")
                                                              or schema.get("$ref")
                                                              or isinstance(schema.get("additionalProperties"), dict)):
            raise TypeError("schema= needs a JSON schema of an object, e.g. {'type': 'object', "
                            "'properties': {'name': {'type': 'string'}}, 'required': ['name']}")
        return SchemaSpec(_safe_name(schema.get("title") or "reply"), copy.deepcopy(schema))
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return SchemaSpec(_safe_name(schema.__name__), schema.model_json_schema(), schema)
    raise TypeError(f"schema= takes a pydantic BaseModel class or a JSON-schema dict, not {schema!r:.80}")


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


def local_schema(schema: dict, *, max_length: int = DEFAULT_MAX_LENGTH, max_items: int = DEFAULT_MAX_ITEMS) -> dict:
    """A copy for constrained decoding: free-text strings get `maxLength`, lists `maxItems`.

    >>> local_schema({"type": "array", "items": {"type": "string"}}, max_length=50, max_items=3)
    {'type': 'array', 'items': {'type': 'string', 'maxLength': 50}, 'maxItems': 3}
    """
    def fix(s):
        types = s.get("type") if isinstance(s.get("type"), list) else [s.get("type")]
        free = not any(k in s for k in ("enum", "const", "pattern", "format", "maxLength"))
        if "string" in types and free:
            s["maxLength"] = max_length
        if "array" in types and "maxItems" not in s:
            s["maxItems"] = max(max_items, s.get("minItems", 0))

    return walk(schema, fix)


def token_budget(schema: dict, root: dict | None = None, _depth: int = 0) -> int:
    """An upper bound on the tokens a reply to `schema` can take (a token has >= 1 character).

    >>> token_budget({"type": "object", "properties": {"ok": {"type": "boolean"}}})
    13
    """
    root = root if root is not None else schema
    if _depth > 20 or not isinstance(schema, dict):
        return 64
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if part else target
        return token_budget(target, root, _depth + 1)
    if "const" in schema:
        return len(json.dumps(schema["const"])) + 1
    if "enum" in schema:
        return max(len(json.dumps(v)) for v in schema["enum"]) + 1
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return max(token_budget(s, root, _depth + 1) for s in schema[key])
    if schema.get("allOf"):
        return sum(token_budget(s, root, _depth + 1) for s in schema["allOf"])
    types = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    sizes = []
    for t in types:
        if t == "object":
            props = schema.get("properties") or {}
            sizes.append(2 + sum(len(json.dumps(k)) + 2 + token_budget(v, root, _depth + 1)
                                 for k, v in props.items()))
        elif t == "array":
            n = schema.get("maxItems", DEFAULT_MAX_ITEMS)
            sizes.append(2 + n * (token_budget(schema.get("items", {}), root, _depth + 1) + 1))
        elif t == "string":
            sizes.append(schema.get("maxLength", 64) + 2)
        elif t in ("integer", "number"):
            sizes.append(24)
        elif t in ("boolean", "null"):
            sizes.append(5)
        else:
            sizes.append(64)
    return max(sizes)


def local_generate(messages: list[dict], json_schema: dict, *, max_tokens: int | None = None,
                   temperature: float | None = None, any_whitespace: bool = False,
                   max_whitespace_cnt: int | None = None, **kw):
    """Generate with the local engine under `json_schema` (taken as is: see `local_schema`).

    Returns the engine's Generation (text, input_tokens, output_tokens).
    """
    import xgrammar as xgr

    from .engine import get_engine

    engine = get_engine()
    grammar = engine.grammar_compiler().compile_json_schema(
        json.dumps(json_schema), any_whitespace=any_whitespace, max_whitespace_cnt=max_whitespace_cnt)
    if max_tokens is None:
        max_tokens = int(token_budget(json_schema) * 1.1) + 8
    processor = xgr.contrib.hf.LogitsProcessor(grammar)  # single use: a new one per call
    return engine.generate(messages, max_tokens=max_tokens, temperature=temperature,
                           logits_processor=processor, **kw)


def schema_hint(json_schema: dict) -> str:
    """The system-prompt line that tells the local model which JSON to write."""
    return f"Reply only with JSON matching this schema: {json.dumps(json_schema, separators=(',', ':'))}"


def with_hint(messages: list[dict], hint: str) -> list[dict]:
    """`messages` with `hint` appended to (or added as) the system message."""
    if messages and messages[0].get("role") == "system":
        return [{"role": "system", "content": f"{messages[0].get('content') or ''}\n\n{hint}".strip()},
                *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def local_json(messages, schema, *, max_tokens: int | None = None, temperature: float | None = None):
    """Constrained JSON from the local model: `(parsed, generation)`.

    `messages`: a prompt string or chat messages; `schema`: a pydantic class or JSON-schema dict.
    `parsed` is validated (a pydantic instance, or a dict); `generation` has `text`,
    `input_tokens`, `output_tokens`. Raises StructuredOutputError if the reply does not validate
    (e.g. `max_tokens` too small to close it).

    >>> obj, gen = local_json("Is the sky blue?", {"type": "object",
    ...     "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]})
    >>> obj["answer"] in ("yes", "no") and gen.output_tokens > 0
    True
    """
    spec = as_spec(schema)
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    js = local_schema(spec.json_schema)
    gen = local_generate(with_hint(list(messages), schema_hint(js)), js, max_tokens=max_tokens,
                         temperature=temperature)
    return spec.parse(gen.text, provider="local", model="smollm2-135m"), gen

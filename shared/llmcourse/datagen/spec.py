"""What a dataset looks like: a row schema, a brief in plain language, seed examples, an attribute grid.

>>> Ticket = {"type": "object", "required": ["text", "label"], "properties": {
...     "text": {"type": "string", "maxLength": 300, "description": "the customer's message"},
...     "label": {"enum": ["billing", "technical"]}}}
>>> spec = DatasetSpec(Ticket, brief="Support tickets from customers of an online shop.",
...                    grid={"label": ["billing", "technical"], "tone": ["polite", "angry"]})
>>> spec.fixed_fields        # grid keys that are also fields: set from the grid, not by the model
['label']
>>> spec.validate({"text": "My card was charged twice.", "label": "billing"})
({'text': 'My card was charged twice.', 'label': 'billing'}, None)
>>> spec.validate({"text": "", "label": "billing"})[1]
'empty field: text'
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_MAX_LENGTH = 200  # characters, for a free-text string the schema leaves unbounded
TYPES = {"text": "string", "string": "string", "str": "string", "integer": "integer", "int": "integer",
         "number": "number", "float": "number", "boolean": "boolean", "bool": "boolean",
         "choice": "enum", "enum": "enum"}


class SpecError(ValueError):
    """A schema, a brief or a grid that cannot describe a dataset. The message says what to change."""


def _row_json_schema(schema) -> tuple[dict, type | None]:
    if isinstance(schema, dict):
        if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), dict) \
                or not schema["properties"]:
            raise SpecError("The row schema must be a JSON Schema object with at least one property, e.g. "
                            '{"type": "object", "properties": {"text": {"type": "string", "maxLength": 300}}, '
                            '"required": ["text"]}')
        return copy.deepcopy(schema), None
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return schema.model_json_schema(), schema
    raise SpecError(f"schema must be a pydantic BaseModel class or a JSON Schema dict, not {schema!r:.80}")


def _map_schema(schema: dict, fix) -> dict:
    """A deep copy of `schema` with `fix(node)` applied to every object (dict) in it, outermost first."""
    def visit(s):
        if isinstance(s, dict):
            fix(s)
            for v in s.values():
                visit(v)
        elif isinstance(s, list):
            for v in s:
                visit(v)

    schema = copy.deepcopy(schema)
    visit(schema)
    return schema


def bounded(schema: dict, max_length: int = DEFAULT_MAX_LENGTH) -> dict:
    """A copy in which every free-text string has a `maxLength` (so a constrained reply always closes)."""
    def fix(s):
        types = s.get("type") if isinstance(s.get("type"), list) else [s.get("type")]
        if "string" in types and not any(k in s for k in ("enum", "const", "pattern", "format", "maxLength")):
            s["maxLength"] = max_length

    return _map_schema(schema, fix)


@dataclass
class DatasetSpec:
    """A dataset described by a row `schema` (pydantic class or JSON Schema), a `brief`, seed `examples`
    and an attribute `grid` ({attribute: [values]}) whose combinations steer diversity.

    A grid key that is also a field of the schema is *fixed*: the generator sets it from the grid cell and
    the model writes only the other fields (so a label is exactly the one asked for). `checks` are extra
    functions row -> None or a reason to reject it.
    """

    schema: Any
    brief: str
    examples: list[dict] = field(default_factory=list)
    grid: dict[str, list] = field(default_factory=dict)
    checks: list[Callable[[dict], str | None]] = field(default_factory=list)
    name: str = ""

    def __post_init__(self):
        self.row_schema, self.model = _row_json_schema(self.schema)
        if not isinstance(self.brief, str) or len(self.brief.strip()) < 10:
            raise SpecError("The brief is empty or too short: describe the rows in a sentence or two, e.g. "
                            "'Support tickets written by customers of an online shop.'")
        for key, values in self.grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise SpecError(f"grid[{key!r}] must be a non-empty list of values, got {values!r:.60}")
        props = self.row_schema["properties"]
        for key in self.fixed_fields:
            allowed = props[key].get("enum")
            bad = [v for v in self.grid[key] if allowed is not None and v not in allowed]
            if bad:
                raise SpecError(f"grid[{key!r}] has {bad} which the schema's field {key!r} does not allow "
                                f"(allowed: {allowed})")
        if not self.model_fields:
            raise SpecError("Every field is fixed by the grid: leave at least one field for the model to write")
        for i, ex in enumerate(self.examples):
            _, reason = self.validate(ex)
            if reason:
                raise SpecError(f"examples[{i}] does not fit the schema ({reason}): fix or remove it")
        self.name = self.name or self.row_schema.get("title") or "rows"

    @property
    def fields(self) -> list[str]:
        return list(self.row_schema["properties"])

    @property
    def fixed_fields(self) -> list[str]:
        return [k for k in self.grid if k in self.row_schema["properties"]]

    @property
    def model_fields(self) -> list[str]:
        return [k for k in self.fields if k not in self.fixed_fields]

    @property
    def text_fields(self) -> list[str]:
        """Free-text fields (strings without enum/const): what duplicates and diversity are measured on."""
        props = self.row_schema["properties"]
        return [k for k in self.fields if _is_free_text(props[k], self.row_schema)]

    def model_schema(self) -> dict:
        """The JSON Schema of the part of a row the model writes (fixed fields removed, strings bounded)."""
        s = bounded(self.row_schema)
        s["properties"] = {k: v for k, v in s["properties"].items() if k not in self.fixed_fields}
        s["required"] = [k for k in s.get("required", []) if k not in self.fixed_fields]
        s.pop("$defs", None), s.pop("definitions", None), s.pop("title", None)
        return s

    def batch_schema(self, n: int, *, loose: bool = False) -> dict:
        """The schema of one call's reply: {"rows": [exactly n rows]}.

        loose=True drops the value constraints (minLength, minimum, pattern, ...) and keeps the shape, so a
        provider that is not held to the schema token by token cannot sink a whole batch with one short
        row: each row is then validated on its own (`validate`)."""
        row = _loosen(self.model_schema()) if loose else self.model_schema()
        out = {"type": "object", "title": f"{self.name}_batch", "additionalProperties": False,
               "properties": {"rows": {"type": "array", "items": row, "minItems": n, "maxItems": n}},
               "required": ["rows"]}
        for key in ("$defs", "definitions"):
            if key in self.row_schema:
                out[key] = bounded(self.row_schema[key])
        return out

    def cells(self, seed: int = 0) -> list[dict]:
        """Every combination of the grid's values, in a shuffled but reproducible order ([{}] if no grid)."""
        keys = list(self.grid)
        combos = [dict(zip(keys, values)) for values in itertools.product(*(self.grid[k] for k in keys))]
        random.Random(seed).shuffle(combos)
        return combos or [{}]

    def validate(self, row) -> tuple[dict | None, str | None]:
        """(clean row, None) when `row` fits the schema and the checks, else (None, reason)."""
        if not isinstance(row, dict):
            return None, f"not an object: {str(row)[:60]!r}"
        for k in self.text_fields:
            if isinstance(row.get(k), str) and not row[k].strip():
                return None, f"empty field: {k}"
        clean, reason = self._schema_check(row)
        if reason:
            return None, reason
        for check in self.checks:
            reason = check(clean)
            if reason:
                return None, f"check {getattr(check, '__name__', 'check')}: {reason}"
        return clean, None

    def _schema_check(self, row: dict) -> tuple[dict | None, str | None]:
        if self.model is not None:
            import pydantic

            try:
                return self.model.model_validate(row).model_dump(mode="json"), None
            except pydantic.ValidationError as exc:
                e = exc.errors()[0]
                return None, f"invalid {'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}"
        import jsonschema

        validator = jsonschema.validators.validator_for(self.row_schema)(self.row_schema)
        err = next(iter(sorted(validator.iter_errors(row), key=lambda e: list(e.absolute_path))), None)
        if err is not None:
            return None, f"invalid {'/'.join(map(str, err.absolute_path)) or 'row'}: {err.message[:120]}"
        return dict(row), None

    def messages(self, attributes: dict, n: int) -> list[dict]:
        """The chat messages that ask for `n` rows with these grid `attributes` (short and concrete:
        a 135M model copies instructions it does not understand into its rows)."""
        props = self.model_schema()["properties"]
        about = "; ".join(f"{k}: {v}" for k, v in attributes.items())
        parts = [f"Write {n} new, different example{'s' if n > 1 else ''}"
                 + (f" with {about}." if about else ".")]
        described = [f"{k} is {v['description']}" for k, v in props.items() if v.get("description")]
        if described:
            parts.append("In each, " + "; ".join(described) + ".")
        if self.examples:
            ranked = sorted(self.examples, key=lambda ex: -sum(ex.get(k) == v for k, v in attributes.items()))
            shown = [{k: v for k, v in ex.items() if k in props} for ex in ranked[:2]]
            parts.append("Examples:\n" + "\n".join(json.dumps({"rows": [ex]}, ensure_ascii=False) for ex in shown))
        return [{"role": "system", "content": self.brief.strip()},
                {"role": "user", "content": "\n".join(parts)}]


LOOSE_DROP = ("minLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
              "multipleOf", "minItems", "uniqueItems")


def _loosen(schema: dict) -> dict:
    def fix(s):
        for k in LOOSE_DROP:
            if not isinstance(s.get(k), dict):  # a property named like a keyword stays
                s.pop(k, None)

    return _map_schema(schema, fix)


def _is_free_text(prop: dict, root: dict) -> bool:
    if "$ref" in prop:
        prop = root.get("$defs", {}).get(prop["$ref"].split("/")[-1], {})
    if "anyOf" in prop:  # Optional[str]
        return any(_is_free_text(p, root) for p in prop["anyOf"])
    return prop.get("type") == "string" and not any(k in prop for k in ("enum", "const", "format"))


def schema_from_fields(fields: list[dict], title: str = "Row") -> dict:
    """A JSON Schema from a simple form of fields: [{"name", "type", "description", "choices", "max_length"}].

    type: text/string, integer, number, boolean, or choice (then `choices`: a list or "a, b, c").

    >>> schema_from_fields([{"name": "text", "type": "text", "max_length": 120},
    ...                     {"name": "label", "type": "choice", "choices": "spam, ham"}])["properties"]["label"]
    {'type': 'string', 'enum': ['spam', 'ham']}
    """
    props, required = {}, []
    for i, f in enumerate(fields):
        name = str(f.get("name") or "").strip()
        if not name:
            continue
        if not name.isidentifier():
            raise SpecError(f"Field {i + 1}: name {name!r} must be a simple identifier (letters, digits, _)")
        kind = TYPES.get(str(f.get("type") or "text").strip().lower())
        if kind is None:
            raise SpecError(f"Field {name!r}: unknown type {f.get('type')!r}; use one of text, integer, number, "
                            f"boolean, choice")
        if kind == "enum":
            choices = f.get("choices") or []
            choices = [c.strip() for c in choices.split(",")] if isinstance(choices, str) else list(choices)
            choices = [c for c in choices if c]
            if len(choices) < 2:
                raise SpecError(f"Field {name!r} is a choice: give at least two choices, e.g. 'spam, ham'")
            prop = {"type": "string", "enum": choices}
        else:
            prop = {"type": kind}
            if kind == "string":
                prop["maxLength"] = int(f.get("max_length") or DEFAULT_MAX_LENGTH)
        if f.get("description"):
            prop["description"] = str(f["description"])
        props[name] = prop
        required.append(name)
    if not props:
        raise SpecError("The schema has no fields: add at least one field with a name")
    return {"title": title, "type": "object", "properties": props, "required": required}


def parse_schema(text: str) -> dict:
    """A JSON Schema typed as text (e.g. in the app), with an error that says where it breaks."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"The JSON Schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    _row_json_schema(schema)
    return schema


def no_repetition(row: dict, *, min_distinct: float = 0.5, min_words: int = 4) -> str | None:
    """A check for `DatasetSpec(checks=[...])`: rejects a row whose free text loops ("I will visit Mars.
    I will visit Mars. ...") or is only a few words. Returns None when the row is fine, else the reason.

    >>> no_repetition({"text": "Mars. " * 10})
    'text repeats itself (10% distinct words)'
    """
    for key, value in row.items():
        if isinstance(value, str) and len(value) > 40:
            words = value.lower().split()
            ratio = len(set(words)) / len(words)
            if ratio < min_distinct:
                return f"{key} repeats itself ({ratio:.0%} distinct words)"
        if isinstance(value, str) and key in ("text",) and len(value.split()) < min_words:
            return f"{key} has fewer than {min_words} words"
    return None

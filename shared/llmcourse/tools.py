"""Tool calling everywhere: describe Python functions once, let any model call them.

`tool(fn)` reads a typed, docstring'd function: its name, the first paragraph of its
docstring, a JSON schema of its parameters from the type hints (Literal and Enum become enums,
defaults and Optional are kept) and per-argument descriptions from an "Args:" (Google) or
"Parameters" (numpy) section. `run_tools` is the loop: call the model with the tools, run what
it asks for, feed the results back, repeat, at most `max_steps` times. A tool that raises is
reported back to the model as an error; it never stops the loop.

The local model has no tool calling of its own: it gets the tools described in its system
prompt and writes `{"tool": <name>, "arguments": {...}}` or `{"tool": "none", "answer": ...}`
under an xgrammar grammar, so the call always parses and its arguments match the schema.
Which tool a 135M model picks is another matter: the mechanism is exact, its judgement is not.

>>> from llmcourse.tools import tool, run_tools
>>> @tool
... def add(a: float, b: float) -> float:
...     '''Add two numbers.'''
...     return a + b
>>> add.to_openai()["function"]["parameters"]["required"]
['a', 'b']
>>> run = run_tools("What is 2 + 3? Use the add tool.", tools=[add], model="local")
>>> len(run.steps) <= 5
True
"""

from __future__ import annotations

import html
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import LLMCourseError

ANSWER_MAX_LENGTH = 400


class ToolError(LLMCourseError, TypeError):
    """A function cannot become a tool (e.g. an argument without a type hint)."""


@dataclass
class ToolCall:
    """One call a model asked for: `id`, tool `name`, `arguments` (a dict), the same for every provider."""

    id: str
    name: str
    arguments: dict
    meta: dict = field(default_factory=dict, repr=False)  # provider data to send back (Gemini signatures)

    def to_dict(self) -> dict:
        d = {"id": self.id, "name": self.name, "arguments": self.arguments}
        return d | ({"meta": self.meta} if self.meta else {})


@dataclass
class Tool:
    """A callable tool: `name`, `description`, JSON-schema `parameters`, and the Python `fn`."""

    name: str
    description: str
    parameters: dict
    fn: Callable | None = None

    @classmethod
    def from_function(cls, fn: Callable) -> "Tool":
        """Build a Tool from a function with type hints and a docstring."""
        import pydantic

        name = getattr(fn, "__name__", "")
        doc = inspect.getdoc(fn) or ""
        if not doc.strip():
            raise ToolError(f"Tool {name}() has no docstring: add one saying what it does (the model "
                            f"reads it to decide when to call the tool).")
        hints = _type_hints(fn)
        arg_docs = _arg_docs(doc)
        fields = {}
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ToolError(f"Tool {name}() takes *{p.name}: a tool needs named, typed arguments "
                                f"(e.g. `def {name}(city: str)`).")
            if p.name not in hints:
                raise ToolError(f"Argument {p.name!r} of tool {name}() has no type hint: write e.g. "
                                f"`{p.name}: str` so the model knows what to pass.")
            default = ... if p.default is p.empty else p.default
            fields[p.name] = (hints[p.name], pydantic.Field(default, description=arg_docs.get(p.name)))
        model = pydantic.create_model(f"{name}_arguments", **fields)
        schema = _drop_titles(model.model_json_schema())
        schema.setdefault("properties", {})
        schema.setdefault("required", [])
        return cls(name=name, description=doc.split("\n\n")[0].replace("\n", " ").strip(),
                   parameters=schema, fn=fn)

    @classmethod
    def from_dict(cls, spec: dict) -> "Tool":
        """A Tool (without a function) from an OpenAI-style `{"type": "function", "function": {...}}`."""
        f = spec.get("function", spec)
        if "name" not in f:
            raise ToolError(f"A tool schema needs a 'name': got {spec!r:.100}")
        return cls(name=f["name"], description=f.get("description", ""),
                   parameters=f.get("parameters") or {"type": "object", "properties": {}})

    # provider formats ------------------------------------------------------------------------
    def to_openai(self) -> dict:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def to_anthropic(self) -> dict:
        return {"name": self.name, "description": self.description, "input_schema": self.parameters}

    def to_gemini(self) -> dict:
        return {"name": self.name, "description": self.description,
                "parameters_json_schema": self.parameters}

    def signature(self) -> str:
        """`name(a: number, unit: "c" | "f" = "c")`: how the local model's prompt shows the tool."""
        req, out = set(self.parameters.get("required", [])), []
        for k, v in self.parameters.get("properties", {}).items():
            kind = " | ".join(json.dumps(e) for e in v["enum"]) if "enum" in v else v.get("type", "any")
            out.append(f"{k}: {kind}" + ("" if k in req else f" = {json.dumps(v.get('default'))}"))
        return f"{self.name}({', '.join(out)})"

    def __call__(self, *args, **kwargs):
        if self.fn is None:
            raise ToolError(f"Tool {self.name!r} was built from a schema and has no Python function to run.")
        return self.fn(*args, **kwargs)

    def run(self, arguments: dict):
        """Validate `arguments` against the parameters schema, then call the function."""
        import jsonschema

        try:
            jsonschema.validate(arguments, self.parameters)
        except jsonschema.ValidationError as exc:
            at = "/".join(map(str, exc.absolute_path)) or "arguments"
            raise ValueError(f"invalid arguments for {self.name} at {at}: {exc.message}") from None
        return self(**arguments)


def tool(fn: Callable) -> Tool:
    """Decorator: turn a typed, docstring'd function into a Tool (still callable as before)."""
    return Tool.from_function(fn)


def as_tool(t) -> Tool:
    """A Tool from a Tool, a function, or an OpenAI-style schema dict."""
    if isinstance(t, Tool):
        return t
    if isinstance(t, dict):
        return Tool.from_dict(t)
    if callable(t):
        return Tool.from_function(t)
    raise ToolError(f"tools= takes functions, Tools or OpenAI-style dicts, not {t!r:.80}")


def _type_hints(fn) -> dict:
    import typing

    try:
        return typing.get_type_hints(fn, include_extras=True)  # keep Annotated[..., Field(...)]
    except Exception as exc:
        raise ToolError(f"Cannot read the type hints of {getattr(fn, '__name__', fn)}(): {exc}") from exc


def _arg_docs(doc: str) -> dict[str, str]:
    """Per-argument descriptions from a Google ("Args:") or numpy ("Parameters\\n----") docstring."""
    out: dict[str, str] = {}
    google = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.*\n?|\s*\n)+)", doc, re.M)
    numpy = re.search(r"^Parameters\s*\n-{3,}\s*\n((?:.*\n?)+?)(?:\n\s*\n|\Z)", doc, re.M)
    if google:
        name = None
        for line in google.group(1).splitlines():
            m = re.match(r"^\s{0,8}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", line)
            if m and (name is None or len(line) - len(line.lstrip()) <= indent):
                name, indent = m.group(1), len(line) - len(line.lstrip())
                out[name] = m.group(2).strip()
            elif name and line.strip():
                out[name] = f"{out[name]} {line.strip()}".strip()
    elif numpy:
        name = None
        for line in numpy.group(1).splitlines():
            m = re.match(r"^(\w+)\s*(?::.*)?$", line)
            if m and not line.startswith((" ", "\t")):
                name = m.group(1)
                out[name] = ""
            elif name and line.strip():
                out[name] = f"{out[name]} {line.strip()}".strip()
    return {k: v for k, v in out.items() if v}


def _drop_titles(schema):
    if isinstance(schema, dict):
        return {k: _drop_titles(v) for k, v in schema.items()
                if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_drop_titles(v) for v in schema]
    return schema


# -- the loop ---------------------------------------------------------------------------------
@dataclass
class Step:
    """One executed tool call: its name, arguments, and result or error (a string)."""

    name: str
    arguments: dict
    result: Any = None
    error: str | None = None
    id: str = ""


@dataclass
class ToolRun:
    """What `run_tools` did: the final `text`, the `steps` trace, the `messages`, and whether it finished."""

    text: str
    steps: list[Step]
    messages: list[dict]
    finished: bool = True
    model: str = ""

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        rows = ["| # | tool | arguments | result |", "|---|---|---|---|"]
        for i, s in enumerate(self.steps, 1):
            res = f"**error:** {s.error}" if s.error else json.dumps(s.result, default=str)
            cells = [s.name, json.dumps(s.arguments), res]
            rows.append(f"| {i} | " + " | ".join(html.escape(c[:120]).replace("|", "\\|") for c in cells) + " |")
        table = "\n".join(rows) if self.steps else "_no tool calls_"
        end = "" if self.finished else "\n\n_stopped at max_steps before a final answer_"
        return f"{table}\n\n**Answer** ({self.model}): {html.escape(self.text)}{end}"


def _result_text(value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def run_tools(prompt_or_messages, *, tools: list, model: str | None = None, max_steps: int = 5,
              system: str | None = None, **options) -> ToolRun:
    """Let a model call `tools` until it answers, at most `max_steps` model calls.

    Tool exceptions and invalid arguments are fed back to the model as error results.
    Returns a ToolRun (`.text`, `.steps`, `.messages`, `.finished`).
    """
    from .chat import chat, normalize_messages

    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    toolset = [as_tool(t) for t in tools]
    by_name = {t.name: t for t in toolset}
    messages, system = normalize_messages(prompt_or_messages, system)
    steps: list[Step] = []
    text, name = "", ""
    for _ in range(max_steps):
        reply = chat(messages, model=model, system=system, tools=toolset, **options)
        text, name = reply.text, f"{reply.provider}/{reply.model}"
        if not reply.tool_calls:
            messages.append({"role": "assistant", "content": text})
            return ToolRun(text=text, steps=steps, messages=messages, finished=True, model=name)
        messages.append({"role": "assistant", "content": text or None,
                         "tool_calls": [c.to_dict() for c in reply.tool_calls]})
        for call in reply.tool_calls:
            step = Step(name=call.name, arguments=call.arguments, id=call.id)
            try:
                if call.name not in by_name:
                    raise LookupError(f"no tool named {call.name!r}; tools: {', '.join(by_name)}")
                step.result = by_name[call.name].run(call.arguments)
                content = _result_text(step.result)
            except Exception as exc:  # fed back to the model, never raised
                step.error = f"{type(exc).__name__}: {exc}"
                content = f"Error: {step.error}"
            steps.append(step)
            messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                             "content": content, "is_error": step.error is not None})
    return ToolRun(text=text, steps=steps, messages=messages, finished=False, model=name)


# -- the local model --------------------------------------------------------------------------
def local_tool_schema(tools: list[Tool]) -> dict:
    """One anyOf branch per tool ({"tool": name, "arguments": {...}}) plus {"tool": "none", "answer"}."""
    from .structured import local_schema

    defs, branches = {}, []
    for t in tools:
        params = local_schema(t.parameters)
        defs.update(params.pop("$defs", {}))
        params.setdefault("type", "object")
        params.setdefault("properties", {})
        branches.append({"type": "object", "properties": {"tool": {"const": t.name}, "arguments": params},
                         "required": ["tool", "arguments"], "additionalProperties": False})
    branches.append({"type": "object", "properties": {"tool": {"const": "none"},
                     "answer": {"type": "string", "minLength": 1, "maxLength": ANSWER_MAX_LENGTH}},
                     "required": ["tool", "answer"], "additionalProperties": False})
    return {"anyOf": branches} | ({"$defs": defs} if defs else {})


def _example_call(t: Tool) -> str:
    def value(s):
        if "enum" in s:
            return s["enum"][0]
        return {"string": "...", "integer": 0, "number": 0, "boolean": False,
                "array": [], "object": {}}.get(s.get("type"), "...")
    args = {k: value(v) for k, v in t.parameters.get("properties", {}).items()}
    return json.dumps({"tool": t.name, "arguments": args})


def local_tool_prompt(tools: list[Tool]) -> str:
    """The system prompt that shows the local model its tools, each with an example call.

    The example call matters: with it SmolLM2-135M picked the right tool for 11 of 12 test prompts,
    without it 4 of 12 (it answered "none" almost always).
    """
    lines = ["You can call these tools:"]
    for t in tools:
        lines += [f"- {t.signature()}: {t.description}", f"  To call it, reply {_example_call(t)}"]
    lines.append('If no tool fits, reply {"tool": "none", "answer": "..."}')
    return "\n".join(lines)


def local_messages(messages: list[dict]) -> list[dict]:
    """Tool turns (neutral or OpenAI style) rewritten as plain user/assistant turns for the local model."""
    out = []
    for m in messages:
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                f = c.get("function", c)
                args = f.get("arguments") or {}
                args = json.loads(args) if isinstance(args, str) else args
                calls.append(json.dumps({"tool": f.get("name"), "arguments": args}))
            out.append({"role": "assistant", "content": "\n".join(calls)})
        elif role == "tool":
            # Measured wording: with it the 135M model answered after the result in 3 of 3 trials;
            # "Use this to answer my question." made it call the same tool again.
            kind = "Tool error" if m.get("is_error") else "Tool result"
            out.append({"role": "user", "content": f"{kind}: {m.get('content')}\n"
                                                   'Now write the answer to my question ("tool": "none").'})
        else:
            out.append({"role": role, "content": m.get("content") or ""})
    return out


def _local_call(messages: list[dict], toolset: list[Tool], *, max_tokens=None, temperature=None):
    from .structured import local_generate, with_hint

    schema = local_tool_schema(toolset)
    msgs = with_hint(local_messages(messages), local_tool_prompt(toolset))
    gen = local_generate(msgs, schema, max_tokens=max_tokens, temperature=temperature)
    return json.loads(gen.text), gen


def local_tool_call(messages, tools: list[dict], *, max_tokens: int | None = None,
                    temperature: float | None = None) -> dict:
    """One constrained local decision: `{"tool": name, "arguments": {...}}` or `{"tool": "none", "answer": ...}`.

    `tools` are OpenAI-style function schemas; `messages` may hold OpenAI-style tool turns.

    >>> weather = {"type": "function", "function": {"name": "get_weather", "description":
    ...     "Weather for a city", "parameters": {"type": "object", "properties":
    ...     {"city": {"type": "string"}}, "required": ["city"]}}}
    >>> local_tool_call("What's the weather in Paris?", [weather])["tool"] in ("get_weather", "none")
    True
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    obj, _ = _local_call(list(messages), [as_tool(t) for t in tools], max_tokens=max_tokens,
                         temperature=temperature)
    return obj

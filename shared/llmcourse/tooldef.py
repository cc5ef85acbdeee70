"""Tools as data: describe a typed, docstring'd Python function once, for every provider.

`tool(fn)` reads the function's name, the first paragraph of its docstring, a JSON schema of its
parameters from the type hints (Literal and Enum become enums, defaults and Optional are kept) and
per-argument descriptions from an "Args:" (Google) or "Parameters" (numpy) section. The loop that
runs tools is `llmcourse.tools.run_tools`; the local model's tool emulation is in
`llmcourse.providers.local.tools`.

>>> @tool
... def add(a: float, b: float) -> float:
...     '''Add two numbers.'''
...     return a + b
>>> add.to_openai()["function"]["parameters"]["required"]
['a', 'b']
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from typing import Callable

from .errors import LLMCourseError


TOOL_TIMEOUT = 30.0  # seconds a tool function may run in run_tools / Agent before it counts as failed


class ToolError(LLMCourseError, TypeError):
    """A function cannot become a tool (e.g. an argument without a type hint)."""


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

    def run(self, arguments: dict, *, timeout: float | None = TOOL_TIMEOUT):
        """Validate `arguments` against the parameters schema, then call the function.

        With a `timeout` (seconds) the function runs in a worker thread; past it, TimeoutError is
        raised (and fed back to the model by the tool loops). Python cannot kill a thread: a tool
        that never returns keeps running in the background, so give slow tools their own timeouts.
        """
        import jsonschema

        try:
            jsonschema.validate(arguments, self.parameters)
        except jsonschema.ValidationError as exc:
            at = "/".join(map(str, exc.absolute_path)) or "arguments"
            raise ValueError(f"invalid arguments for {self.name} at {at}: {exc.message}") from None
        if timeout is None:
            return self(**arguments)
        return _with_timeout(lambda: self(**arguments), timeout, self.name)


def _with_timeout(call: Callable, timeout: float, name: str):
    import threading

    box: dict = {}

    def work():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name=f"llmcourse-tool-{name}")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"tool {name} did not return within {timeout:g} s (it was abandoned); make it "
                           f"faster or raise the tool timeout")
    if "error" in box:
        raise box["error"]
    return box.get("value")


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

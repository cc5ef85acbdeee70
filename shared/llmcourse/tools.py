"""Tool calling everywhere: `run_tools` lets any model call Python functions until it answers.

Describe functions with `tool` (see llmcourse.tooldef); `run_tools` is the loop: call the model
with the tools, run what it asks for, feed the results back, repeat, at most `max_steps` times. A
tool that raises is reported back to the model as an error; it never stops the loop.

The local model has no tool calling of its own: it gets the tools described in its system prompt
and writes `{"tool": <name>, "arguments": {...}}` or `{"tool": "none", "answer": ...}` under an
xgrammar grammar, so the call always parses and its arguments match the schema (see
llmcourse.providers.local.tools). Which tool a 135M model picks is another matter: the mechanism is
exact, its judgement is not.

>>> from llmcourse.tools import tool, run_tools
>>> @tool
... def add(a: float, b: float) -> float:
...     '''Add two numbers.'''
...     return a + b
>>> run = run_tools("What is 2 + 3? Use the add tool.", tools=[add], model="local")
>>> len(run.steps) <= 5
True
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from .chat import chat
from .tooldef import TOOL_TIMEOUT, Tool, ToolError, as_tool, tool
from .types import ToolCall, normalize_messages

__all__ = ["Step", "Tool", "ToolCall", "ToolError", "ToolRun", "as_tool", "run_tools", "tool"]


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
              system: str | None = None, tool_timeout: float | None = TOOL_TIMEOUT, **options) -> ToolRun:
    """Let a model call `tools` until it answers, at most `max_steps` model calls.

    Tool exceptions, invalid arguments and tools that run past `tool_timeout` seconds are fed back
    to the model as error results.
    Returns a ToolRun (`.text`, `.steps`, `.messages`, `.finished`).
    """
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
                step.result = by_name[call.name].run(call.arguments, timeout=tool_timeout)
                content = _result_text(step.result)
            except Exception as exc:  # fed back to the model, never raised
                step.error = f"{type(exc).__name__}: {exc}"
                content = f"Error: {step.error}"
            steps.append(step)
            messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                             "content": content, "is_error": step.error is not None})
    return ToolRun(text=text, steps=steps, messages=messages, finished=False, model=name)

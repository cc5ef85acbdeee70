"""The neutral shapes every layer shares: messages, a Request, the Response a provider fills.

A conversation is a list of `{"role", "content"}` dicts (roles user, assistant, tool; the system
prompt travels apart). An assistant turn may carry `tool_calls` (`ToolCall.to_dict()`), a tool turn
`tool_call_id`, `name` and `is_error`. Providers translate this shape into their SDK's; the gateway
translates wire formats into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("system", "user", "assistant", "tool")


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


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
class Request:
    """One call, provider-neutral. `messages` hold only user/assistant/tool turns."""

    model: object                 # a registry.ModelInfo
    messages: list[dict]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    options: dict = field(default_factory=dict)
    schema: object = None         # a structured.SchemaSpec: the reply must be JSON of this schema
    tools: list | None = None     # tooldef.Tool objects the model may call
    stream: bool = False          # whether the caller reads chunks as they come


@dataclass
class Response:
    """What a provider fills while it yields text: usage, tool calls, parsed output, finish reason."""

    usage: Usage = field(default_factory=Usage)
    tool_calls: list = field(default_factory=list)
    parsed: object = None
    finish_reason: str = "stop"   # "stop", "length" or "tool_calls"
    raw: object = None


def normalize_messages(prompt_or_messages, system: str | None = None) -> tuple[list[dict], str | None]:
    """Split a prompt or message list into (turns, system). Raises on a malformed message,
    naming its index."""
    if isinstance(prompt_or_messages, str):
        return [{"role": "user", "content": prompt_or_messages}], system
    if not isinstance(prompt_or_messages, (list, tuple)) or not prompt_or_messages:
        raise TypeError("chat() takes a prompt string or a non-empty list of "
                        "{'role': ..., 'content': ...} messages")
    turns, systems = [], [system] if system else []
    for i, m in enumerate(prompt_or_messages):
        if not isinstance(m, dict) or "role" not in m:
            raise ValueError(f"Message {i} must be a dict with 'role' and 'content', got {m!r:.80}")
        if m["role"] not in ROLES:
            raise ValueError(f"Message {i} has role {m['role']!r}; use one of {', '.join(ROLES)}")
        if m["role"] == "system":
            systems.append(str(m.get("content") or ""))
            continue
        if not isinstance(m.get("content"), str) and not m.get("tool_calls"):
            raise ValueError(f"Message {i} ({m['role']}) needs 'content' as a string")
        turns.append(dict(m))
    if not turns:
        raise ValueError("The messages hold only a system prompt: add a user message")
    return turns, "\n\n".join(systems) or None

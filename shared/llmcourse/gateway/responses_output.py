"""A Reply in the Responses API's shape: output items, the response object, the typed event stream.

Output items: one `message` item (`output_text` content) for text and JSON, or one `function_call`
item per tool call (`call_id` is what the next request's `function_call_output` answers).

A stream is a sequence of named server-sent events, each with a `sequence_number`:
response.created, response.in_progress, then per item output_item.added, (content_part.added,
output_text.delta..., output_text.done, content_part.done | function_call_arguments.delta/.done),
output_item.done, and finally response.completed (or response.incomplete when max_output_tokens cut
the reply). As in OpenAI's API there is no `[DONE]` line.
"""

from __future__ import annotations

import itertools
import json
import time

from ..chat import Reply
from . import backend


def usage(r: Reply) -> dict:
    i, o = r.usage.input_tokens, r.usage.output_tokens
    return {"input_tokens": i, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": o, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": i + o}


def status_of(r: Reply) -> str:
    return "incomplete" if r.finish_reason == "length" else "completed"


def text_part(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str) -> dict:
    content = [] if text is None else [text_part(text)]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def output_items(r: Reply) -> list[dict]:
    """The response's `output`: function_call items for tool calls, else one message item."""
    if r.tool_calls:
        return [{"id": backend.new_id("fc_"), "type": "function_call", "status": "completed",
                 "call_id": backend.new_id("call_"), "name": c.name, "arguments": json.dumps(c.arguments)}
                for c in r.tool_calls]
    return [message_item(backend.new_id("msg_"), r.text, status_of(r))]


def output_turns(items: list[dict]) -> list[dict]:
    """The output items as chat()'s neutral assistant turn (what a stored conversation continues)."""
    calls = [{"id": i["call_id"], "name": i["name"], "arguments": json.loads(i["arguments"])}
             for i in items if i["type"] == "function_call"]
    if calls:
        return [{"role": "assistant", "content": "", "tool_calls": calls}]
    text = "".join(p["text"] for i in items if i["type"] == "message" for p in i["content"])
    return [{"role": "assistant", "content": text}]


def response_object(shell: dict, *, status: str, output: list[dict], r: Reply | None = None) -> dict:
    """The whole response: `shell` (id, model and the request's echoed settings) plus its outcome."""
    done = status in ("completed", "incomplete")
    return shell | {"status": status, "output": output, "completed_at": backend.now() if done else None,
                    "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
                    "usage": usage(r) if r is not None and done else None}


def events(shell: dict, r: Reply, *, whole: bool, on_done):
    """The typed SSE stream for `r`. `whole`: the reply was computed before the stream (tool calls,
    JSON), so its text goes out as one delta; otherwise each chunk is a delta as the model writes it.
    `on_done(response)` runs before the final event (it stores the response)."""
    seq = itertools.count()

    def event(kind: str, **fields) -> str:
        body = {"type": kind, "sequence_number": next(seq)} | fields
        return f"event: {kind}\ndata: {json.dumps(body)}\n\n"

    started = response_object(shell, status="in_progress", output=[])
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    if whole and r.tool_calls:
        items = output_items(r)
        for n, item in enumerate(items):
            yield event("response.output_item.added", output_index=n,
                        item=item | {"status": "in_progress", "arguments": ""})
            yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=n,
                        delta=item["arguments"])
            yield event("response.function_call_arguments.done", item_id=item["id"], output_index=n,
                        name=item["name"], arguments=item["arguments"])
            yield event("response.output_item.done", output_index=n, item=item)
    else:
        item_id, pieces = backend.new_id("msg_"), []
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        yield event("response.output_item.added", output_index=0, item=message_item(item_id, None, "in_progress"))
        yield event("response.content_part.added", **where, part=text_part(""))
        for piece in ([r.text] if whole else r):
            if piece:
                pieces.append(piece)
                yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
        text = "".join(pieces)
        yield event("response.output_text.done", **where, text=text, logprobs=[])
        yield event("response.content_part.done", **where, part=text_part(text))
        items = [message_item(item_id, text, status_of(r))]
        yield event("response.output_item.done", output_index=0, item=items[0])
    final = response_object(shell, status=status_of(r), output=items, r=r)
    on_done(final)
    yield event(f"response.{final['status']}", response=final)


def created_at() -> float:
    return round(time.time(), 3)

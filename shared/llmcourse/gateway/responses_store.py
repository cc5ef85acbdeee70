"""The Responses API's server-side state, kept in memory: what `previous_response_id` continues.

OpenAI stores every response (`store: true` is the default) so that the next request can say
`previous_response_id="resp_..."` instead of sending the conversation again. The local gateway does
the same within one process: each stored response keeps the conversation up to and including its
output (chat()'s neutral turns) and the response object (for GET /v1/responses/{id}). The store is
bounded: past `MAX_STORED` responses the oldest is forgotten, and continuing from it gets OpenAI's
400 `previous_response_not_found`. Nothing is written to disk; a restarted gateway remembers nothing.

>>> from llmcourse.gateway.responses_store import STORE
>>> STORE.put("resp_1", {"id": "resp_1"}, [{"role": "user", "content": "Hi"}])
>>> STORE.turns("resp_1")
[{'role': 'user', 'content': 'Hi'}]
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict

MAX_STORED = 200   # responses kept; each holds at most one request body's worth of text (guard.max_body)


class ResponseStore:
    """A bounded, thread-safe map: response id -> (response object, conversation turns)."""

    def __init__(self, size: int = MAX_STORED):
        self.size = size
        self._items: OrderedDict[str, tuple[dict, list[dict]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, response_id: str, response: dict, turns: list[dict]) -> None:
        with self._lock:
            self._items[response_id] = (copy.deepcopy(response), copy.deepcopy(turns))
            self._items.move_to_end(response_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def response(self, response_id: str) -> dict | None:
        """The stored response object, or None."""
        with self._lock:
            item = self._items.get(response_id)
        return copy.deepcopy(item[0]) if item else None

    def turns(self, response_id: str) -> list[dict] | None:
        """The conversation a response ended (its input history and its output), or None."""
        with self._lock:
            item = self._items.get(response_id)
        return copy.deepcopy(item[1]) if item else None

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._items.pop(response_id, None) is not None

    def __contains__(self, response_id: str) -> bool:
        with self._lock:
            return response_id in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


STORE = ResponseStore()

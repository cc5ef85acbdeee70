"""Continuous batching for the ONNX backend: every request in flight is decoded in the same forward
pass, so 4 concurrent chats read the weights once per token instead of 4 times.

One worker thread owns the ONNX Runtime session and the KV cache. A request (`Job`) waits in a queue;
at the next step boundary the worker reads its prompt alone (prefill, into a free row of the cache),
then the request joins the batch. Reading a prompt is the costly part (a 40-token prompt takes about
as long as 4 decoding steps: every token goes through every weight), and most prompts start alike (the
chat template's system prompt, the same question with 4 answer choices), so the keys and values of
recent prompts are kept (`PrefixStore`) and a new prompt reads only what follows its longest shared
beginning. Then each step feeds every row's last token, one forward pass for all.
A row leaves when it ends (end-of-turn token, `max_tokens`, or cancelled: a closed stream or a
disconnected client), and the last row moves into its place. Tokens go to each job's own unbounded
queue, so a slow reader never holds the batch up.

The KV cache is one buffer per layer (keys, values) of shape rows x kv_heads x capacity x head_dim,
passed to the model as both the past and the present (GroupQueryAttention writes the new position
in place); rows are right-padded: the attention mask's row sums tell the model each row's length.
Logits processors (xgrammar's JSON grammar, the repetition penalty) run per row on that row's
ids, exactly as in transformers' `generate`.
"""

from __future__ import annotations

import collections
import queue
import threading
from dataclasses import dataclass, field

import numpy as np

MAX_BATCH = 8          # rows decoded together; more requests wait for a free row
MIN_CAPACITY = 256     # positions per row in the KV buffers at first (doubled as needed)
PREFIX_TOKENS = 2048   # positions of recent prompts kept for reuse, in all (46 KB each for this model)
MIN_SHARED = 8         # shorter shared beginnings are read again (copying them saves too little)


@dataclass
class Job:
    """One generation: a prompt, how to pick tokens, and where the tokens go."""

    prompt: list[int]
    max_tokens: int
    eos: int
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    processors: list = field(default_factory=list)
    tokens: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)   # ints, then None
    cancelled: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    generated: int = 0

    def __post_init__(self):
        import torch

        self._ids = torch.zeros((1, len(self.prompt) + self.max_tokens), dtype=torch.long)
        self._ids[0, :len(self.prompt)] = torch.tensor(self.prompt, dtype=torch.long)
        self._rng = None
        if self.sampled and self.seed is not None:
            self._rng = torch.Generator().manual_seed(int(self.seed))

    @property
    def sampled(self) -> bool:
        return bool(self.temperature) and self.temperature > 0

    def cancel(self) -> None:
        """Stop generating (takes effect at the next step; the batch goes on without this row)."""
        self.cancelled.set()

    def __iter__(self):
        """The generated token ids as they come (the end-of-turn token included, if reached)."""
        while True:
            tok = self.tokens.get()
            if tok is None:
                if self.error is not None:
                    raise self.error
                return
            yield tok

    # -- called by the worker ------------------------------------------------------------------
    def choose(self, logits: np.ndarray) -> int:
        """The next token from this row's last-position logits (1 x vocab), after the processors."""
        import torch

        scores = torch.from_numpy(logits)
        if self.processors:
            ids = self._ids[:, :len(self.prompt) + self.generated]
            for proc in self.processors:
                scores = proc(ids, scores)
        if not self.sampled:
            return int(scores[0].argmax())
        probs = torch.softmax(scores[0].float() / float(self.temperature), dim=-1)
        if self.top_p is not None and self.top_p < 1.0:
            sorted_p, order = probs.sort(descending=True)
            drop = sorted_p.cumsum(0) - sorted_p > self.top_p   # keep the smallest set reaching top_p
            probs = probs.clone()
            probs[order[drop]] = 0.0
        return int(torch.multinomial(probs, 1, generator=self._rng))

    def push(self, tok: int) -> bool:
        """Record a generated token; True when the job is finished."""
        self._ids[0, len(self.prompt) + self.generated] = tok
        self.generated += 1
        self.tokens.put(tok)
        return tok == self.eos or self.generated >= self.max_tokens or self.cancelled.is_set()

    def finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self.tokens.put(None)


def openmp_runtimes() -> list[str]:
    """The OpenMP runtimes loaded in this process (GNU libgomp in pip's torch, Intel's or LLVM's elsewhere),
    once torch is imported; [] where /proc is not there to tell (macOS, Windows)."""
    import torch  # noqa: F401  (loads torch's runtime)

    try:
        with open("/proc/self/maps") as maps:
            found = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return []
    return sorted(p for p in found if p.rsplit("/", 1)[-1].startswith(("libgomp", "libiomp", "libomp")))


def torch_on_this_thread_only() -> bool:
    """Make torch's ops on the calling thread run on that thread alone (True if it could).

    The worker picks each token with torch (the logits processors, argmax, sampling) between two ONNX
    Runtime passes, whose threads spin for work meanwhile (onnx_engine.py). torch's own OpenMP threads would
    wake for each 49,152-wide op and fight them for the cores: one client of the gateway got 45 tokens/s
    instead of 80 (2 cores, 2026-12-04). OpenMP keeps the thread count per thread, so it is set to 1 for this
    thread only, in the runtime torch loaded; the student's own torch work keeps every core."""
    import ctypes

    import torch

    torch.get_num_threads()   # torch sets a thread's count on its first use there: let it, then change it
    runtimes = openmp_runtimes()
    try:
        for path in runtimes:
            ctypes.CDLL(path).omp_set_num_threads(1)
    except (OSError, AttributeError):
        return False
    return bool(runtimes) and torch.get_num_threads() == 1


class KVCache:
    """Per-layer key and value buffers, rows x kv_heads x capacity x head_dim, grown on demand."""

    def __init__(self, layers: int, heads: int, head_dim: int):
        self.layers, self.heads, self.head_dim = layers, heads, head_dim
        self.rows, self.capacity = 0, 0
        self.buffers: list[np.ndarray] = []
        self._values: dict = {}

    def ensure(self, rows: int, length: int) -> None:
        """Room for `rows` rows of `length` positions (keeps what the first rows hold)."""
        if rows <= self.rows and length <= self.capacity:
            return
        new_rows = max(rows, self.rows)
        new_cap = max(self.capacity, MIN_CAPACITY)
        while new_cap < length:
            new_cap *= 2
        fresh = [np.zeros((new_rows, self.heads, new_cap, self.head_dim), np.float32)
                 for _ in range(2 * self.layers)]
        for old, new in zip(self.buffers, fresh):
            new[:self.rows, :, :self.capacity] = old
        self.buffers, self.rows, self.capacity, self._values = fresh, new_rows, new_cap, {}

    def release(self) -> None:
        """Free the buffers (when no request is in flight)."""
        self.buffers, self.rows, self.capacity, self._values = [], 0, 0, {}

    def values(self, start: int, stop: int) -> list:
        """OrtValues over rows start:stop of every buffer (views: the model writes in place)."""
        key = (start, stop)
        if key not in self._values:
            from onnxruntime import OrtValue

            self._values[key] = [OrtValue.ortvalue_from_numpy(b[start:stop]) for b in self.buffers]
        return self._values[key]

    def move(self, src: int, dst: int, length: int) -> None:
        for b in self.buffers:
            b[dst, :, :length] = b[src, :, :length]

    def read(self, row: int, length: int) -> list[np.ndarray]:
        """Copies of the first `length` positions of `row` in every buffer."""
        return [b[row, :, :length].copy() for b in self.buffers]

    def write(self, row: int, saved: list[np.ndarray], length: int) -> None:
        """Put the first `length` positions of `saved` (from `read`) into `row`."""
        for b, v in zip(self.buffers, saved):
            b[row, :, :length] = v[:, :length]


class PrefixStore:
    """The keys and values of recent prompts, so a prompt that begins like one of them skips that part.

    Least recently used first out, `limit` positions in all. A prompt's keys and values depend only on
    its tokens (causal attention), so reusing them gives what reading the prompt again would."""

    def __init__(self, limit: int = PREFIX_TOKENS):
        self.limit = limit
        self.entries: collections.OrderedDict[tuple, list[np.ndarray]] = collections.OrderedDict()
        self.hits = self.reused_tokens = 0     # for tests and benchmarks

    def longest(self, prompt: list[int]) -> tuple[int, list[np.ndarray] | None]:
        """(length of the longest stored beginning of `prompt`, its keys and values)."""
        best, found, key = 0, None, None
        for tokens, kv in self.entries.items():
            n = 0
            for a, b in zip(tokens, prompt):
                if a != b:
                    break
                n += 1
            if n > best:
                best, found, key = n, kv, tokens
        if key is not None:
            self.entries.move_to_end(key)
        return best, found

    def add(self, prompt: list[int], kv: list[np.ndarray]) -> None:
        key = tuple(prompt)
        if len(key) > self.limit:
            return
        self.entries.pop(key, None)
        for tokens in list(self.entries):      # a stored prompt this one extends is redundant
            if key[:len(tokens)] == tokens:
                del self.entries[tokens]
        self.entries[key] = kv
        while sum(len(t) for t in self.entries) > self.limit:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()


class BatchDecoder:
    """Decodes every submitted job together, one token per job per step, on one worker thread."""

    def __init__(self, session, *, layers: int, kv_heads: int, head_dim: int, max_batch: int = MAX_BATCH):
        self.session, self.max_batch = session, max_batch
        self.cache = KVCache(layers, kv_heads, head_dim)
        self.prefixes = PrefixStore()
        self._names = [(f"past_key_values.{i}.{kv}", f"present.{i}.{kv}")
                       for i in range(layers) for kv in ("key", "value")]
        self._pending: collections.deque[Job] = collections.deque()
        self._active: list[Job] = []
        self._lengths: list[int] = []          # positions each active row holds in the cache
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.steps = 0                         # forward passes so far (for tests and benchmarks)
        self.max_rows_seen = 0

    def submit(self, job: Job) -> Job:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True, name="llmcourse-decoder")
                self._thread.start()
            self._pending.append(job)
            self._cond.notify()
        return job

    # -- worker --------------------------------------------------------------------------------
    def _loop(self) -> None:
        torch_on_this_thread_only()
        while True:
            with self._cond:
                while not self._pending and not self._active:
                    self.cache.release()
                    self._cond.wait()
                joining = []
                while self._pending and len(self._active) + len(joining) < self.max_batch:
                    joining.append(self._pending.popleft())
            for job in joining:
                self._admit(job)
            if self._active:
                try:
                    self._step()
                except BaseException as exc:  # a failed pass fails the rows in it, not the worker
                    for job in self._active:
                        job.finish(exc)
                    self._active, self._lengths = [], []

    def _admit(self, job: Job) -> None:
        if job.cancelled.is_set():
            job.finish()
            return
        row, n = len(self._active), len(job.prompt)
        try:
            self.cache.ensure(row + 1, n + 1)
            shared, kv = self.prefixes.longest(job.prompt)
            shared = min(shared, n - 1)          # the last token is read to get the next one's logits
            if shared >= MIN_SHARED:
                self.cache.write(row, kv, shared)
                self.prefixes.hits += 1
                self.prefixes.reused_tokens += shared
            else:
                shared = 0
            ids = np.asarray([job.prompt[shared:]], np.int64)
            logits = self._run(ids, np.ones((1, n), np.int64), row, row + 1)
            self.prefixes.add(job.prompt, self.cache.read(row, n))
            done = job.push(job.choose(logits[:, -1]))
        except BaseException as exc:
            job.finish(exc)
            return
        if done:
            job.finish()
        else:
            self._active.append(job)
            self._lengths.append(n)

    def _step(self) -> None:
        rows = len(self._active)
        self.max_rows_seen = max(self.max_rows_seen, rows)
        width = max(self._lengths) + 1
        self.cache.ensure(rows, width)
        ids = np.asarray([[int(j._ids[0, len(j.prompt) + j.generated - 1])] for j in self._active], np.int64)
        mask = np.zeros((rows, width), np.int64)
        for r, n in enumerate(self._lengths):
            mask[r, :n + 1] = 1
        logits = self._run(ids, mask, 0, rows)
        finished = []
        for r, job in enumerate(self._active):
            self._lengths[r] += 1
            try:
                done = job.push(job.choose(logits[r:r + 1, -1]))
            except BaseException as exc:   # a processor failed: this row ends with the error
                job.finish(exc)
                finished.append(r)
                continue
            if done:
                job.finish()
                finished.append(r)
        for r in reversed(finished):       # the last row fills the gap
            last = len(self._active) - 1
            if r != last:
                self.cache.move(last, r, self._lengths[last])
                self._active[r], self._lengths[r] = self._active[last], self._lengths[last]
            self._active.pop()
            self._lengths.pop()

    def _run(self, ids: np.ndarray, mask: np.ndarray, start: int, stop: int) -> np.ndarray:
        """One forward pass over cache rows start:stop; returns the logits (rows x 1 x vocab)."""
        io = self.session.io_binding()
        io.bind_output("logits")
        for (past, present), value in zip(self._names, self.cache.values(start, stop)):
            io.bind_ortvalue_input(past, value)
            io.bind_ortvalue_output(present, value)
        io.bind_cpu_input("input_ids", ids)         # ids and mask stay referenced until the run ends
        io.bind_cpu_input("attention_mask", mask)
        self.session.run_with_iobinding(io)
        self.steps += 1
        return io.get_outputs()[0].numpy()

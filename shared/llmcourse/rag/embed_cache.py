"""A persistent cache of local embeddings: the same text through the same model is embedded once.

Week 5's notebooks embed the same knowledge base again and again (by hand, then into Chroma, then at
three chunk sizes, in the exercises, on every rerun of a cell) and week 3 embeds the same candidates to
find duplicates. all-MiniLM-L6-v2 is deterministic, so a vector computed once can be kept: ingesting the
285 chunks of week 5's knowledge base took 17 s on one CPU thread and 0.5 s from the cache
(2026-12-03). It is what LangChain's `CacheBackedEmbeddings` does, in one SQLite file. A cached vector
equals a fresh one to within float rounding (~1e-7: a text embedded in a different batch is padded
differently), far below anything a similarity score shows.

The key is the SHA-256 of the model's fingerprint (its folder and the size and time of its weight files)
and the text, so a changed model never reads old vectors (the tokenizer and pooling files come with the
weights in one pinned package). A cache that cannot be opened or written (a read-only disk, a locked
file) is skipped with one warning: it only ever saves time, it never fails a call.

>>> import tempfile, numpy as np
>>> cache = EmbeddingCache(tempfile.mkdtemp() + "/e.sqlite", model="demo")
>>> cache.get(["a", "b"])
[None, None]
>>> cache.put(["a"], np.ones((1, 3), dtype=np.float32))
>>> [None if v is None else v.tolist() for v in cache.get(["a", "b"])]
[[1.0, 1.0, 1.0], None]
"""

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from contextlib import closing
from pathlib import Path
from typing import Sequence

import numpy as np

_BATCH = 500  # keys per SELECT (SQLite allows 32,766 parameters; small batches keep each query quick)


def fingerprint(folder: str | Path) -> str:
    """The model folder and the name, size and modification time of each weight file in it."""
    folder = Path(folder)
    parts = [str(folder.resolve())]
    for f in sorted(folder.rglob("*")):
        if f.suffix in (".safetensors", ".bin", ".onnx") and f.is_file():
            st = f.stat()
            parts.append(f"{f.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


class EmbeddingCache:
    """text -> float32 vector for one model, in a SQLite file shared by every process."""

    def __init__(self, path: str | Path, *, model: str):
        self.path, self.model = Path(path), model
        self._salt = hashlib.sha256(model.encode()).digest()
        self._broken = False
        self.hits = self.misses = 0

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(self._salt + text.encode("utf-8", "surrogatepass")).digest()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER, vec BLOB)")
        except sqlite3.Error:
            con.close()
            raise
        return con

    def _give_up(self, error: Exception) -> None:
        self._broken = True
        warnings.warn(f"embedding cache {self.path} not used ({type(error).__name__}: {error}); embeddings "
                      f"are computed every time. Set LLMCOURSE_CACHE to a writable folder to keep them.",
                      RuntimeWarning, stacklevel=3)

    def get(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each text, None where there is none."""
        if self._broken or not texts:
            return [None] * len(texts)
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        try:
            with closing(self._connect()) as con:
                for i in range(0, len(keys), _BATCH):
                    chunk = keys[i:i + _BATCH]
                    rows = con.execute(f"SELECT key, dim, vec FROM vectors WHERE key IN "
                                       f"({','.join('?' * len(chunk))})", chunk).fetchall()
                    for key, dim, vec in rows:
                        if isinstance(vec, bytes) and isinstance(dim, int) and dim > 0 and len(vec) == 4 * dim:
                            found[key] = np.frombuffer(vec, dtype=np.float32).copy()   # else: damaged, recompute
        except (sqlite3.Error, OSError) as e:
            self._give_up(e)
            return [None] * len(texts)
        out = [found.get(k) for k in keys]
        self.hits += sum(v is not None for v in out)
        self.misses += sum(v is None for v in out)
        return out

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        if self._broken or not len(texts):
            return
        rows = [(self._key(t), int(v.size), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                for t, v in zip(texts, vectors)]
        try:
            with closing(self._connect()) as con, con:
                con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        except (sqlite3.Error, OSError) as e:
            self._give_up(e)

    def __repr__(self) -> str:
        return f"<EmbeddingCache {self.path} ({self.hits} hits, {self.misses} misses)>"

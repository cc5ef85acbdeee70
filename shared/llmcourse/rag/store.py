"""`KnowledgeBase`: a Chroma collection of embedded chunks, kept in step with a folder.

Chroma runs embedded by default (`chromadb.PersistentClient` at a path), or as a server
(`chroma run --path DIR --port 8000`) that you reach with `KnowledgeBase("http://localhost:8000")`
or `KnowledgeBase(host=..., port=...)`. Everything after opening the client is the same code.

Ingestion is idempotent: each chunk stores its document's hash, so running `ingest` again adds
nothing, a changed file is re-embedded, and a file deleted from the folder leaves the store.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "tern.md").write_text("# Tern T1\\n\\nThe Tern T1 carries 60 kg.")
>>> _ = (folder / "leave.md").write_text("# Leave\\n\\nStaff get 28 days of paid leave.")
>>> kb = KnowledgeBase(tempfile.mkdtemp())                    # embedded Chroma, local embeddings
>>> print(kb.ingest(folder, progress=False))                  # doctest: +ELLIPSIS
2 added, 0 updated, 0 removed, 0 unchanged documents (2 chunks embedded, 0 deleted) in ... s
>>> kb.ingest(folder, progress=False).unchanged               # idempotent
2
>>> kb.search("How many holidays do I get?", k=1)[0].source
'leave.md'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .chunk import chunk_documents
from .embed import Embedder, get_embedder
from .load import MAX_BYTES, load_documents

DEFAULT_COLLECTION = "knowledge_base"
BATCH = 128  # chunks embedded and written per step


@dataclass
class IngestSummary:
    """What one `ingest` did, counted in documents (and chunks written/deleted)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{self.unchanged} unchanged documents ({self.chunks_added} chunks embedded, "
                f"{self.chunks_removed} deleted) in {self.seconds:.1f} s")


def make_client(path: str | Path | None = None, *, host: str | None = None, port: int | None = None):
    """A Chroma client: a server if `host`/`port` or an http:// URL is given, else embedded at `path`."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        url = urlparse(path)
        host, port = url.hostname, url.port or (443 if url.scheme == "https" else 8000)
        return chromadb.HttpClient(host=host, port=port, ssl=url.scheme == "https", settings=settings)
    if host or port:
        return chromadb.HttpClient(host=host or "localhost", port=port or 8000, settings=settings)
    if path is None:
        from ..settings import cache_dir

        path = cache_dir("rag", "chroma")
    return chromadb.PersistentClient(path=str(path), settings=settings)


class KnowledgeBase:
    """A folder of documents, chunked, embedded and stored in a Chroma collection.

    `KnowledgeBase(path)` stores under `path` (default: the llmcourse cache folder);
    `KnowledgeBase("http://host:port")` or `host=`/`port=` uses a Chroma server; `client=` takes
    any chromadb client. `embedder` is "local" (default), "openai" or an Embedder object.
    """

    def __init__(self, path: str | Path | None = None, *, collection: str = DEFAULT_COLLECTION,
                 embedder: str | Embedder | None = None, host: str | None = None,
                 port: int | None = None, client=None):
        self.client = client or make_client(path, host=host, port=port)
        self.embedder = get_embedder(embedder)
        self.collection_name = collection
        if len(collection) < 3:
            raise ValueError(f"Chroma collection names need at least 3 characters, got {collection!r}")
        # embedding_function=None: Chroma must never fall back to its downloading default.
        self.collection = self.client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder.name})
        stored = (self.collection.metadata or {}).get("embedder")
        if stored and stored != self.embedder.name:
            raise ValueError(f"Collection {collection!r} was built with embedder {stored!r}, not "
                             f"{self.embedder.name!r}: vectors from different models cannot be "
                             f"compared. Pass embedder={stored!r}, another collection name, or call "
                             f"kb.reset() first.")

    def __repr__(self) -> str:
        return f"<KnowledgeBase {self.collection_name!r}: {self.count()} chunks, {self.embedder.name}>"

    def count(self) -> int:
        """How many chunks the collection holds."""
        return self.collection.count()

    def sources(self) -> dict[str, str]:
        """source -> document hash, for every document in the store."""
        return {m["source"]: m["doc_hash"] for m in self._all_metadata().values()}

    def _all_metadata(self) -> dict[str, dict]:
        got = self.collection.get(include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"]))

    def reset(self) -> None:
        """Delete the collection and start empty (same name, same embedder)."""
        self.client.delete_collection(self.collection_name)
        self.__init__(client=self.client, collection=self.collection_name, embedder=self.embedder)

    def ingest(self, folder: str | Path, *, chunk_size: int = 600, chunk_overlap: int = 100,
               add_title: bool = True, max_bytes: int = MAX_BYTES, progress: bool = True) -> IngestSummary:
        """Bring the store in step with `folder`: add new files, re-embed changed ones, drop deleted.

        A document also counts as changed when it was chunked with other settings before.
        """
        start = time.perf_counter()
        docs = load_documents(folder, max_bytes=max_bytes)
        chunking = f"{chunk_size}/{chunk_overlap}/{int(add_title)}"
        stored = self._stored()
        summary = IngestSummary()
        to_embed, stale = [], []
        for doc in docs:
            old = stored.pop(doc.source, None)
            if old and old["hashes"] == {doc.hash} and old["chunkings"] == {chunking} \
                    and old["ns"] == {len(old["ids"])}:  # an interrupted ingest leaves these mixed or short
                summary.unchanged += 1
                continue
            summary.updated += bool(old)
            summary.added += not old
            stale += old["ids"] if old else []
            to_embed.append(doc)
        for gone in stored.values():  # in the store, no longer in the folder
            summary.removed += 1
            stale += gone["ids"]
        chunks = chunk_documents(to_embed, chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                 add_title=add_title)
        # New chunks first, stale ones after: an interruption leaves a document's old chunks (and maybe
        # some new ones) in the store, never a document missing; the next run finishes the job.
        self._add(chunks, chunking, progress)
        fresh = {c.id for c in chunks}
        stale = [cid for cid in stale if cid not in fresh]  # unchanged chunks keep their id
        for i in range(0, len(stale), 1000):
            self.collection.delete(ids=stale[i:i + 1000])
        summary.chunks_added, summary.chunks_removed = len(chunks), len(stale)
        summary.seconds = time.perf_counter() - start
        return summary

    def _stored(self) -> dict[str, dict]:
        """source -> the hashes, chunkings and chunk counts its stored chunks carry, and their ids."""
        stored: dict[str, dict] = {}
        for cid, meta in self._all_metadata().items():
            entry = stored.setdefault(meta["source"], {"hashes": set(), "chunkings": set(), "ns": set(), "ids": []})
            entry["hashes"].add(meta.get("doc_hash"))
            entry["chunkings"].add(meta.get("chunking"))
            entry["ns"].add(meta.get("n_chunks"))
            entry["ids"].append(cid)
        return stored

    def _add(self, chunks, chunking: str, progress: bool) -> None:
        from collections import Counter

        from tqdm.auto import tqdm

        per_doc = Counter(c.source for c in chunks)
        with tqdm(total=len(chunks), desc="Embedding chunks", unit="chunk",
                  disable=not progress or not chunks) as bar:
            for i in range(0, len(chunks), BATCH):
                batch = chunks[i:i + BATCH]
                vectors = self.embedder.embed_documents([c.text for c in batch])
                self.collection.upsert(ids=[c.id for c in batch], documents=[c.text for c in batch],
                                    embeddings=vectors, metadatas=[c.metadata(chunking=chunking, n_chunks=per_doc[c.source])
                                               for c in batch])
                bar.update(len(batch))

    def search(self, query: str, *, k: int = 4, threshold: float | None = None, mmr: bool = False,
               fetch_k: int = 20, lambda_mult: float = 0.5, rewrite: str | None = None, where: dict | None = None,
               vector=None):
        """The `k` chunks most similar to `query`, as `Hit`s (see `llmcourse.rag.retrieve.search`)."""
        from .retrieve import search

        return search(self, query, k=k, threshold=threshold, mmr=mmr, fetch_k=fetch_k,
                      lambda_mult=lambda_mult, rewrite=rewrite, where=where, vector=vector)

    def answer(self, question: str, *, model: str | None = "local", k: int = 4, stream: bool = False, **kw):
        """Answer `question` from the retrieved chunks with any model (see `llmcourse.rag.answer`)."""
        from .answer import answer

        return answer(self, question, model=model, k=k, stream=stream, **kw)

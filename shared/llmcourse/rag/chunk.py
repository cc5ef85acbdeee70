"""Split documents into overlapping chunks with LangChain's recursive splitter.

The splitter tries markdown headings first, then paragraphs, lines, words and characters, so a
chunk is a section or paragraph whenever one fits in `chunk_size` characters. Each chunk keeps
its document's source, type, title and hash, and gets an id made from source + index + a hash of
its text: the same file chunked the same way always gives the same ids.

With `add_title=True` (the default) a chunk that does not start with the document's title gets it
as a first line, so "Pricing: $28,500" still says *which* product it is about. On the week 5
knowledge base (600/100) it lifts MRR 0.910 -> 0.922 and recall@1 0.784 -> 0.802; recall@5 stays
~0.94. Try `add_title=False` and compare.

>>> from llmcourse.rag.load import Document, content_hash
>>> text = "# Tern T2\\n\\n" + "The Tern T2 carries totes. " * 40
>>> doc = Document(text=text, source="products/tern-t2.md", doc_type="products", hash=content_hash(text),
...                title="Tern T2")
>>> chunks = chunk_documents([doc], chunk_size=300, chunk_overlap=50)
>>> len(chunks), chunks[1].text.splitlines()[0], chunks[0].id.startswith("products/tern-t2.md#0:")
(5, 'Tern T2', True)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

from .load import Document

SEPARATORS = ["\n## ", "\n### ", "\n#### ", "\n\n", "\n", ". ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: `id`, `text`, `source`, `doc_type`, `title`, `index`, `doc_hash`."""

    id: str
    text: str
    source: str
    doc_type: str
    title: str
    index: int
    doc_hash: str

    def metadata(self, **extra) -> dict:
        """The metadata stored beside the chunk in the vector store."""
        return {"source": self.source, "doc_type": self.doc_type, "title": self.title,
                "chunk_index": self.index, "doc_hash": self.doc_hash, **extra}


def chunk_id(source: str, index: int, text: str) -> str:
    """A deterministic, readable id: `products/tern-t2.md#3:1a2b3c4d` (source, index, text hash)."""
    return f"{source}#{index}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def make_splitter(chunk_size: int = 600, chunk_overlap: int = 100):
    """The LangChain RecursiveCharacterTextSplitter we use, markdown headings first."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError(f"chunk_overlap ({chunk_overlap}) must be >= 0 and smaller than "
                         f"chunk_size ({chunk_size})")
    return RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                          separators=SEPARATORS, strip_whitespace=True)


def chunk_documents(docs: Iterable[Document], *, chunk_size: int = 600, chunk_overlap: int = 100,
                    add_title: bool = True) -> list[Chunk]:
    """Split each document into chunks of at most ~`chunk_size` characters (plus the title line)."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    out = []
    for doc in docs:
        pieces = [p for p in splitter.split_text(doc.text) if p.strip()]
        for i, piece in enumerate(pieces):
            if add_title and doc.title and not piece.lstrip("# ").startswith(doc.title):
                piece = f"{doc.title}\n{piece}"
            out.append(Chunk(id=chunk_id(doc.source, i, piece), text=piece, source=doc.source,
                             doc_type=doc.doc_type, title=doc.title, index=i, doc_hash=doc.hash))
    return out

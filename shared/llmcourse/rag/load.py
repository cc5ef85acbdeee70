"""Load a folder of documents: markdown and text (PDF when `pypdf` is installed).

Each file becomes a `Document` with its text, its `source` (the path relative to the folder),
its `doc_type` (the top-level folder it sits in) and a content hash. Files that cannot be
used (empty, binary, enormous, not UTF-8, unsupported type) are skipped with a warning that
names the file and says why, so one bad file never stops an ingestion.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "products").mkdir()
>>> _ = (root / "products" / "tern.md").write_text("# Tern T2\\n\\nCarries totes.")
>>> docs = load_documents(root)
>>> docs[0].source, docs[0].doc_type, docs[0].title
('products/tern.md', 'products', 'Tern T2')
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
PDF_SUFFIXES = (".pdf",)
MAX_BYTES = 2 * 1024 * 1024  # files larger than this are skipped (pass max_bytes= to change it)


@dataclass(frozen=True)
class Document:
    """One source file: `text`, `source` (relative path), `doc_type` (top folder), `hash` (sha256)."""

    text: str
    source: str
    doc_type: str
    hash: str
    title: str = ""
    metadata: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Document {self.source} ({self.doc_type}, {len(self.text)} chars, {self.hash[:8]})>"


def content_hash(text: str) -> str:
    """The sha256 of the text (hex): ingestion compares it to spot changed files."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def title_of(text: str, fallback: str) -> str:
    """The first markdown H1 (`# Title`), else `fallback` (the file's stem, made readable)."""
    for line in text.splitlines()[:20]:
        if line.startswith("# "):
            return line[2:].strip()
    return fallback.replace("-", " ").replace("_", " ").strip().capitalize()


def _skip(path: Path, why: str) -> None:
    warnings.warn(f"Skipped {path}: {why}", stacklevel=4)


def read_text_file(path: Path, *, max_bytes: int = MAX_BYTES) -> str | None:
    """The file's text, or None (with a warning naming the file and the reason) if unusable."""
    size = path.stat().st_size
    if size > max_bytes:
        _skip(path, f"too large ({size:,} bytes > max_bytes={max_bytes:,}); split it or raise max_bytes")
        return None
    data = path.read_bytes()
    if not data.strip():
        _skip(path, "empty file")
        return None
    if b"\x00" in data[:8192]:
        _skip(path, "binary content (NUL bytes), not text")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        _skip(path, f"not UTF-8 ({e.reason} at byte {e.start}); re-save it as UTF-8")
        return None
    return text.lstrip("\ufeff").replace("\r\n", "\n")


def read_pdf(path: Path, *, max_bytes: int = MAX_BYTES) -> str | None:
    """The text of a PDF with pypdf, or None with a warning (pypdf absent, too large, no text)."""
    if importlib.util.find_spec("pypdf") is None:
        _skip(path, "PDF support needs pypdf (pip install pypdf)")
        return None
    size = path.stat().st_size
    if size > max_bytes:
        _skip(path, f"too large ({size:,} bytes > max_bytes={max_bytes:,})")
        return None
    from pypdf import PdfReader

    try:
        text = "\n\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    except Exception as e:  # a damaged PDF must not stop the whole folder
        _skip(path, f"unreadable PDF ({type(e).__name__}: {e})")
        return None
    if not text.strip():
        _skip(path, "PDF has no extractable text (scanned images?)")
        return None
    return text


def load_documents(folder: str | Path, *, max_bytes: int = MAX_BYTES,
                   suffixes: tuple[str, ...] = TEXT_SUFFIXES + PDF_SUFFIXES) -> list[Document]:
    """Every usable file under `folder` (recursively, sorted by path) as a `Document`.

    Hidden files and folders (starting with ".") are ignored silently; links that lead outside
    `folder` (a link to a `.env` must never reach the store) and everything else that cannot be
    loaded are skipped with a `warnings.warn` naming the file and why.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"No folder at {root.resolve()}: pass the knowledge-base folder "
                                f"(e.g. week5_rag/knowledge-base)")
    docs, real_root = [], root.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(real_root):  # e.g. notes.md -> ../.env: never ingested
            _skip(path, f"a link to {path.resolve()}, outside the folder; copy the file in if you mean it")
            continue
        suffix = path.suffix.lower()
        if suffix not in suffixes:
            _skip(path, f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(suffixes)}")
            continue
        text = (read_pdf if suffix in PDF_SUFFIXES else read_text_file)(path, max_bytes=max_bytes)
        if text is None:
            continue
        doc_type = rel.parts[0] if len(rel.parts) > 1 else "root"
        docs.append(Document(text=text, source=rel.as_posix(), doc_type=doc_type,
                             hash=content_hash(text), title=title_of(text, path.stem)))
    return docs

"""RAG ingestion never shows a document as missing: real interruptions (an exception raised in the
middle of a batch), links out of the folder, and an empty query rewrite. Real MiniLM and Chroma."""

from __future__ import annotations

import os

import pytest

from llmcourse.rag import KnowledgeBase, load_documents
from llmcourse.rag import store as rag_store
from llmcourse.rag.retrieve import clean_rewrite


class Interrupted(RuntimeError):
    pass


class FailingEmbedder:
    """The real embedder, except that call number `fail_on` of embed_documents raises."""

    def __init__(self, real, fail_on: int):
        self.real, self.fail_on, self.calls = real, fail_on, 0
        self.name = real.name

    def embed_documents(self, texts):
        self.calls += 1
        if self.calls == self.fail_on:
            raise Interrupted(f"power cut during batch {self.calls}")
        return self.real.embed_documents(texts)

    def embed_query(self, text):
        return self.real.embed_query(text)


def facts(version: int, n: int = 40) -> str:
    return "# Robots\n\n" + "\n\n".join(f"Fact {i}: robot R{i} lifts {i * version} kg in version {version}."
                                        for i in range(n))


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(rag_store, "BATCH", 4)


def chunk_state(kb):
    got = kb.collection.get(include=["metadatas", "documents"])
    return sorted(zip(got["ids"], got["documents"], (m["doc_hash"] for m in got["metadatas"])))


def test_an_update_interrupted_mid_batch_keeps_the_document_and_finishes_next_run(tmp_path, small_batches):
    corpus = tmp_path / "kb"
    corpus.mkdir()
    (corpus / "robots.md").write_text(facts(1))
    (corpus / "other.md").write_text("# Leave\n\nStaff get 28 days of paid leave.\n")
    kb = KnowledgeBase(tmp_path / "chroma", collection="interrupt_update")
    kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    before = kb.count()

    (corpus / "robots.md").write_text(facts(2))
    real = kb.embedder
    kb.embedder = FailingEmbedder(real, fail_on=3)
    with pytest.raises(Interrupted):
        kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert kb.embedder.calls == 3  # it really died part-way, after two batches were written
    # nothing went missing: every old chunk is still there, next to the new ones written so far
    assert set(kb.sources()) == {"robots.md", "other.md"}
    assert kb.count() >= before
    assert kb.search("robot R5 lifts", k=1)[0].source == "robots.md"

    kb.embedder = real
    again = kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert (again.updated, again.unchanged) == (1, 1)
    fresh = KnowledgeBase(tmp_path / "chroma_fresh", collection="interrupt_ref")
    fresh.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert chunk_state(kb) == chunk_state(fresh)  # exactly the clean result: no stale chunk left
    assert kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False).unchanged == 2


def test_a_first_ingest_interrupted_mid_batch_is_completed(tmp_path, small_batches):
    corpus = tmp_path / "kb"
    corpus.mkdir()
    (corpus / "robots.md").write_text(facts(1))
    kb = KnowledgeBase(tmp_path / "chroma", collection="interrupt_new")
    real = kb.embedder
    kb.embedder = FailingEmbedder(real, fail_on=2)
    with pytest.raises(Interrupted):
        kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    partial = kb.count()
    assert 0 < partial
    kb.embedder = real
    again = kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert again.updated == 1 and kb.count() > partial
    assert kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False).unchanged == 1


def test_a_store_failure_mid_batch_keeps_the_document(tmp_path, small_batches, monkeypatch):
    corpus = tmp_path / "kb"
    corpus.mkdir()
    (corpus / "robots.md").write_text(facts(1))
    kb = KnowledgeBase(tmp_path / "chroma", collection="interrupt_store")
    kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    old_ids = set(kb.collection.get(include=[])["ids"])
    (corpus / "robots.md").write_text(facts(3))
    real_upsert, calls = kb.collection.upsert, []

    def flaky_upsert(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise Interrupted("disk full")
        return real_upsert(**kw)

    monkeypatch.setattr(kb.collection, "upsert", flaky_upsert)
    with pytest.raises(Interrupted):
        kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert old_ids <= set(kb.collection.get(include=[])["ids"])
    monkeypatch.setattr(kb.collection, "upsert", real_upsert)
    kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert not old_ids & set(kb.collection.get(include=[])["ids"])  # every fact changed: all old ids gone


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_links_out_of_the_folder_are_skipped_links_inside_are_kept(tmp_path):
    secret = tmp_path / ".env"
    secret.write_text("OPENAI_API_KEY=sk-proj-" + "S" * 40 + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.md").write_text("# Private\n\nNot for the knowledge base.\n")
    corpus = tmp_path / "kb"
    (corpus / "docs").mkdir(parents=True)
    (corpus / "docs" / "real.md").write_text("# Real\n\nA real document.\n")
    (corpus / "notes.md").symlink_to(secret)
    (corpus / "linked_dir").symlink_to(outside, target_is_directory=True)
    (corpus / "alias.md").symlink_to(corpus / "docs" / "real.md")
    with pytest.warns(UserWarning, match="outside the folder") as caught:
        docs = load_documents(corpus)
    assert {d.source for d in docs} == {"docs/real.md", "alias.md"}
    assert all("sk-proj-" not in d.text for d in docs)
    assert any("notes.md" in str(w.message) for w in caught)


@pytest.mark.parametrize("reply", ["", "   \n  ", '""', "''\n", "```\n```", "Query:", "\n\n"])
def test_an_empty_rewrite_falls_back_to_the_question(reply):
    assert clean_rewrite(reply, "Who leads engineering?") == "Who leads engineering?"


@pytest.mark.parametrize("reply, expected", [
    ('"Tern T1 payload"', "Tern T1 payload"),
    ("\nQuery: Tern T1 payload\nThis query keeps the product name.", "Tern T1 payload"),
])
def test_a_rewrite_is_cleaned_to_its_first_real_line(reply, expected):
    assert clean_rewrite(reply, "What does the Tern T1 carry?") == expected

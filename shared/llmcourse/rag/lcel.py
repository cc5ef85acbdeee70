"""The same knowledge base through LangChain: a Chroma retriever and an LCEL chain.

It opens the very collection `KnowledgeBase` wrote, with the same embedding model
(`HuggingFaceEmbeddings` from the bundled all-MiniLM-L6-v2 folder), so for the same query the
retriever returns the same chunks as `kb.search` (tests/test_rag.py checks it).

>>> retriever = langchain_retriever(kb, k=4)                                  # doctest: +SKIP
>>> [d.metadata["source"] for d in retriever.invoke("Tern T1 payload")]       # doctest: +SKIP
['products/tern-t1.md', ...]
>>> chain = langchain_chain(kb, model="local")                                # doctest: +SKIP
>>> chain.invoke("What is the payload of the Tern T1?")                       # doctest: +SKIP
'The Tern T1 carries up to 60 kg [1].'

The chain is `{"context": retriever | format_docs, "question": passthrough} | prompt | model | parser`;
the model step calls `llmcourse.chat`, so any course model works, local by default.
"""

from __future__ import annotations

from functools import lru_cache

from ..quiet import quiet_loading
from .answer import SYSTEM
from .embed import LocalEmbedder


def langchain_embeddings(kb):
    """LangChain embeddings equal to `kb.embedder`: HuggingFaceEmbeddings for the local model."""
    from langchain_core.embeddings import Embeddings

    if isinstance(kb.embedder, LocalEmbedder):
        return _hf_embeddings(kb.embedder.path)

    class _Adapter(Embeddings):  # any other Embedder (OpenAI, your own) wrapped as-is
        def embed_documents(self, texts):
            return kb.embedder.embed_documents(texts).tolist()

        def embed_query(self, text):
            return kb.embedder.embed_query(text).tolist()

    return _Adapter()


@lru_cache(maxsize=None)
def _hf_embeddings(path: str):
    """LangChain's HuggingFaceEmbeddings over the folder at `path`, loaded once per process (it keeps
    its own copy of the model beside KnowledgeBase's)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    with quiet_loading():
        return HuggingFaceEmbeddings(model_name=path, model_kwargs={"device": "cpu"},
                                     encode_kwargs={"normalize_embeddings": True})


def langchain_vectorstore(kb, embeddings=None):
    """A `langchain_chroma.Chroma` over `kb`'s client and collection."""
    from langchain_chroma import Chroma

    return Chroma(client=kb.client, collection_name=kb.collection_name,
                  embedding_function=embeddings or langchain_embeddings(kb),
                  collection_configuration={"hnsw": {"space": "cosine"}})


def langchain_retriever(kb, *, k: int = 4, mmr: bool = False, fetch_k: int = 20, embeddings=None):
    """A LangChain retriever over `kb` (similarity, or MMR with `mmr=True`)."""
    store = langchain_vectorstore(kb, embeddings)
    if mmr:
        return store.as_retriever(search_type="mmr", search_kwargs={"k": k, "fetch_k": fetch_k})
    return store.as_retriever(search_kwargs={"k": k})


def format_docs(docs) -> str:
    """Numbered context blocks with sources, the same layout as `build_prompt`."""
    return "\n\n".join(f"[{i}] (source: {d.metadata.get('source', '?')})\n{d.page_content}"
                       for i, d in enumerate(docs, 1))


def langchain_chain(kb, *, model: str | None = "local", k: int = 4, max_tokens: int = 256, retriever=None):
    """An LCEL chain: question in, answer text out, through `llmcourse.chat` with `model`."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from ..chat import chat

    prompt = ChatPromptTemplate.from_messages([
        ("system", SYSTEM), ("human", "Context:\n{context}\n\nQuestion: {question}")])
    roles = {"human": "user", "ai": "assistant", "system": "system"}

    def call_model(value) -> str:
        msgs = [{"role": roles.get(m.type, m.type), "content": m.content} for m in value.to_messages()]
        return chat(msgs, model=model, max_tokens=max_tokens).text

    retriever = retriever or langchain_retriever(kb, k=k)
    return ({"context": retriever | format_docs, "question": RunnablePassthrough()}
            | prompt | RunnableLambda(call_model) | StrOutputParser())

"""Retrieval-augmented generation over a folder of documents (week 5).

>>> from llmcourse.rag import KnowledgeBase, evaluate_retrieval     # doctest: +SKIP
>>> kb = KnowledgeBase("week5_rag/.chroma")                         # doctest: +SKIP
>>> print(kb.ingest("week5_rag/knowledge-base"))                    # doctest: +SKIP
60 added, 0 updated, 0 removed, 0 unchanged documents (...)
>>> kb.search("Tern T1 payload", k=3)                              # doctest: +SKIP
>>> print(kb.answer("What is the payload of the Tern T1?").with_sources())   # doctest: +SKIP
>>> print(evaluate_retrieval(kb))                                   # doctest: +SKIP

Modules: `load` (files -> Documents), `chunk` (Documents -> Chunks), `embed` (local MiniLM or
OpenAI), `store` (KnowledgeBase over Chroma, idempotent ingest), `retrieve` (k, threshold, MMR,
query rewriting), `answer` (prompt with numbered sources, streaming), `lcel` (the LangChain path),
`eval` (MRR, recall@k, nDCG@k, keyword coverage, LLM judge).
"""

from __future__ import annotations

from .answer import Answer, answer, build_prompt
from .chunk import Chunk, chunk_documents
from .embed import Embedder, LocalEmbedder, OpenAIEmbedder, get_embedder
from .eval import (RetrievalReport, evaluate_answers, evaluate_retrieval, keyword_coverage, llm_judge,
                   load_questions)
from .lcel import langchain_chain, langchain_retriever, langchain_vectorstore
from .load import Document, load_documents
from .retrieve import Hit, mmr_select, rewrite_query
from .store import IngestSummary, KnowledgeBase

__all__ = ["Answer", "Chunk", "Document", "Embedder", "Hit", "IngestSummary", "KnowledgeBase",
           "LocalEmbedder", "OpenAIEmbedder", "RetrievalReport", "answer", "build_prompt",
           "chunk_documents", "evaluate_answers", "evaluate_retrieval", "get_embedder", "keyword_coverage",
           "langchain_chain", "langchain_retriever", "langchain_vectorstore", "llm_judge", "load_documents",
           "load_questions", "mmr_select", "rewrite_query"]

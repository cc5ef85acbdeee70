"""Synthetic datasets from a schema and a brief (week 3).

>>> from pydantic import BaseModel, Field                                   # doctest: +SKIP
>>> from llmcourse.datagen import DatasetSpec, generate, report              # doctest: +SKIP
>>> class Ticket(BaseModel):                                                 # doctest: +SKIP
...     text: str = Field(max_length=300)
...     label: Literal["billing", "shipping"]
>>> spec = DatasetSpec(Ticket, brief="Support tickets from shop customers.",
...                    grid={"label": ["billing", "shipping"], "tone": ["calm", "angry"]})   # doctest: +SKIP
>>> ds = generate(spec, 20, model="local", batch_size=2, out="data/tickets")  # doctest: +SKIP
>>> report(ds).figure()                                                      # doctest: +SKIP
>>> ds.to_parquet("tickets.parquet")                                         # doctest: +SKIP

Modules: `spec` (schema, brief, examples, attribute grid, validation), `generate` (batches through
structured output, resumable JSONL), `dedupe` (exact/near duplicates, leakage), `dataset` (a run read
back: rates, tokens, cost), `export` (JSONL, CSV, Parquet, `datasets`, Hub), `report` (quality report,
comparison of models).
"""

from __future__ import annotations

from .dataset import Dataset, reason_kind
from .dedupe import Deduper, dedupe, duplicate_rate, jaccard, leakage, ngrams, normalize
from .export import push_to_hub, read_jsonl, read_rows, to_csv, to_hf_dataset, to_jsonl, to_parquet
from .generate import generate, iter_generate, openai_sdk_backend, plan
from .report import Report, compare, compare_figure, distinct_n, embedding_spread, report
from .spec import DatasetSpec, SpecError, bounded, no_repetition, parse_schema, schema_from_fields

__all__ = ["Dataset", "DatasetSpec", "Deduper", "Report", "SpecError", "bounded", "compare", "compare_figure",
           "dedupe", "distinct_n", "duplicate_rate", "embedding_spread", "generate", "iter_generate", "jaccard",
           "leakage", "ngrams", "no_repetition", "normalize", "openai_sdk_backend", "parse_schema", "plan", "push_to_hub",
           "read_jsonl", "read_rows", "reason_kind", "report", "schema_from_fields", "to_csv", "to_hf_dataset",
           "to_jsonl", "to_parquet"]

from .presets import TICKET_LABELS, eval_texts, ticket_schema, ticket_spec, write_training_file  # noqa: E402

__all__ += ["TICKET_LABELS", "eval_texts", "ticket_schema", "ticket_spec", "write_training_file"]

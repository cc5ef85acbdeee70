"""The quality report of a generated dataset: counts, rejection reasons, duplicates, diversity, field
distributions, lengths (as plots), samples, and an optional LLM-as-judge score per row.

Diversity, two ways:
- distinct-n (Li et al., 2016): distinct word n-grams / all word n-grams across the rows (1.0: no
  n-gram repeats; a model that writes the same sentence again and again falls towards 0);
- embedding spread: the mean cosine distance between every two rows' MiniLM vectors (0: all the same).

>>> r = report(Dataset.from_rows([{"text": "the parcel is late", "label": "shipping"},
...                               {"text": "refund my order please", "label": "returns"}]), spread=False)
>>> r.distinct["distinct_1"], r.fields["label"]["shipping"]
(1.0, 1)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .dataset import Dataset
from .dedupe import normalize, row_text

DATA_JUDGE_PROMPT = """You check one row of a synthetic dataset.

The dataset: {question}
Row: {answer}

Score the row from 1 to 5: 5 = realistic, fits the description and every field agrees with the others;
3 = usable but odd or off-topic in part; 1 = nonsense, empty, or contradicts the description.
Reply with JSON: {{"score": <1-5>, "reason": "<one sentence>"}}"""


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct word n-grams / all word n-grams in `texts` (0 when there are none)."""
    grams = [tuple(w[i:i + n]) for w in (normalize(t).split() for t in texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def embedding_spread(texts: list[str], embedder=None) -> float:
    """Mean cosine distance between every two texts (MiniLM by default)."""
    if len(texts) < 2:
        return 0.0
    if embedder is None:
        from ..rag import get_embedder

        embedder = get_embedder("local")
    v = embedder.embed_documents(list(texts))
    sims = v @ v.T
    n = len(texts)
    return float(1 - (sims.sum() - sims.trace()) / (n * (n - 1)))


def _split_fields(rows: list[dict], spec) -> tuple[list[str], list[str]]:
    """(free-text fields, categorical fields)."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if spec is not None:
        text = [k for k in spec.text_fields if k in keys]
    else:
        text = [k for k in keys if rows and all(isinstance(r.get(k), str) for r in rows)
                and sum(len(r[k].split()) for r in rows) / len(rows) >= 3]  # sentences, not labels
    cat = [k for k in keys if k not in text and all(isinstance(r.get(k), (str, bool, int, type(None))) for r in rows)]
    return text, cat


@dataclass
class Report:
    """What `report()` measured. `figure()` draws it; in a notebook it displays as a table."""

    summary: dict
    reasons: dict
    distinct: dict
    spread: float | None
    fields: dict[str, Counter]
    lengths: dict[str, list[int]]
    samples: list[dict]
    judged: list[dict] | None = None
    attributes: dict[str, Counter] = field(default_factory=dict)

    @property
    def judge_mean(self) -> float | None:
        return sum(j["score"] for j in self.judged) / len(self.judged) if self.judged else None

    def table(self):
        """One row of figures (pandas): the summary plus diversity and the judge's mean score."""
        import pandas as pd

        return pd.DataFrame([self.flat()])

    def flat(self) -> dict:
        extra = {**self.distinct, "embedding_spread": None if self.spread is None else round(self.spread, 3)}
        if self.judged:
            extra["judge_mean"] = round(self.judge_mean, 2)
        return {**self.summary, **extra}

    def figure(self):
        """Length histograms, field distributions and rejection reasons, side by side (matplotlib)."""
        import matplotlib.pyplot as plt

        panels = [("len", k) for k in self.lengths] + [("field", k) for k in self.fields] + \
                 ([("reasons", None)] if self.reasons else [])
        fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(4 * max(len(panels), 1), 3), squeeze=False)
        for ax, (kind, key) in zip(axes[0], panels):
            if kind == "len":
                ax.hist(self.lengths[key], bins=min(20, max(3, len(self.lengths[key]))), color="#4C72B0")
                ax.set(title=f"length of {key} (characters)", ylabel="rows")
            else:
                counts = self.reasons if kind == "reasons" else self.fields[key]
                labels = [str(k) for k in counts]
                ax.barh(labels, list(counts.values()), color="#DD8452" if kind == "reasons" else "#55A868")
                ax.set(title="rejections" if kind == "reasons" else f"{key}", xlabel="rows")
        fig.tight_layout()
        return fig

    def _repr_markdown_(self) -> str:
        lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in self.flat().items()]
        if self.reasons:
            lines.append(f"\nRejections: {dict(self.reasons)}")
        return "\n".join(lines)


def report(dataset, *, spec=None, spread: bool = True, embedder=None, samples: int = 5,
           judge: str | None = None, judge_rows: int = 10) -> Report:
    """Measure a `Dataset` (or a list of rows). judge: a model name to score up to `judge_rows` rows
    1-5 through `llmcourse.evaluation.judge` (off by default: it costs a call per row)."""
    ds = dataset if isinstance(dataset, Dataset) else Dataset.from_rows(list(dataset))
    spec = spec or ds.spec
    rows = ds.rows
    text_fields, cat_fields = _split_fields(rows, spec)
    texts = [row_text(r, text_fields) for r in rows] if text_fields else [str(r) for r in rows]
    attrs: dict[str, Counter] = {}
    for rec in ds.records:
        for k, v in (rec.get("attributes") or {}).items():
            if k not in cat_fields:
                attrs.setdefault(k, Counter())[str(v)] += 1
    return Report(
        summary=ds.summary(), reasons=dict(ds.reasons()),
        distinct={"distinct_1": round(distinct_n(texts, 1), 3), "distinct_2": round(distinct_n(texts, 2), 3)},
        spread=embedding_spread(texts, embedder) if spread and len(texts) > 1 else None,
        fields={k: Counter(r.get(k) for r in rows) for k in cat_fields},
        lengths={k: [len(str(r.get(k, ""))) for r in rows] for k in text_fields},
        samples=rows[:samples], attributes=attrs,
        judged=_judge(rows[:judge_rows], spec, judge) if judge else None)


def _judge(rows: list[dict], spec, model: str) -> list[dict]:
    import json

    from ..evaluation import judge

    about = spec.brief if spec is not None else "a synthetic dataset"
    out = []
    for row in rows:
        v = judge(about, json.dumps(row, ensure_ascii=False), model=model, prompt=DATA_JUDGE_PROMPT)
        out.append({"row": row, "score": v.score, "reason": v.reason, "cost": v.cost})
    return out


def compare(datasets: dict, *, spread: bool = True, embedder=None):
    """A table (pandas) with one row per named dataset: validity, duplicates, diversity, cost, time."""
    import pandas as pd

    rows = []
    for name, ds in datasets.items():
        rows.append({"name": name, **report(ds, spread=spread, embedder=embedder).flat()})
    return pd.DataFrame(rows).set_index("name")


def compare_figure(table, measures=("validity_rate", "distinct_2", "embedding_spread", "rows_per_minute")):
    """Bar charts of `compare()`'s table, one panel per measure."""
    import matplotlib.pyplot as plt

    measures = [m for m in measures if m in table and table[m].notna().any()]
    fig, axes = plt.subplots(1, len(measures), figsize=(3.2 * len(measures), 2.8), squeeze=False)
    for ax, m in zip(axes[0], measures):
        ax.bar([str(i) for i in table.index], table[m].fillna(0), color=["#4C72B0", "#DD8452", "#55A868", "#C44E52"])
        ax.set(title=m)
        ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return fig

"""Non-LLM baselines with scikit-learn: the bar any LLM solution has to clear.

>>> from llmcourse.finetune.baselines import baselines                     # doctest: +SKIP
>>> baselines(data.train, data.test)                                       # doctest: +SKIP
{'majority class': 0.2, 'TF-IDF + logistic regression': 0.9, 'TF-IDF + random forest': 0.85}
"""

from __future__ import annotations


def make_pipelines(seed: int = 0) -> dict:
    """name -> an unfitted scikit-learn pipeline from text to label."""
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    def tfidf():
        return TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)

    return {
        "majority class": make_pipeline(tfidf(), DummyClassifier(strategy="most_frequent")),
        "TF-IDF + logistic regression": make_pipeline(tfidf(), LogisticRegression(max_iter=2000, C=10)),
        "TF-IDF + random forest": make_pipeline(tfidf(), RandomForestClassifier(n_estimators=300, random_state=seed)),
    }


def baselines(train: list[dict], test: list[dict], *, seed: int = 0) -> dict[str, float]:
    """Accuracy on `test` of each baseline fitted on `train` ({"text","label"} rows)."""
    x, y = [r["text"] for r in train], [r["label"] for r in train]
    out = {}
    for name, pipe in make_pipelines(seed).items():
        pipe.fit(x, y)
        pred = pipe.predict([r["text"] for r in test])
        out[name] = sum(p == r["label"] for p, r in zip(pred, test)) / len(test)
    return out


def retrieval_shots(train: list[dict], *, k: int = 5):
    """RAG for classification: a function text -> the k most similar training tickets (TF-IDF cosine),
    to use as in-context examples (`score(..., shots=retrieval_shots(train))`)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    matrix = vec.fit_transform([r["text"] for r in train])

    def nearest(text: str) -> list[dict]:
        sims = (matrix @ vec.transform([text]).T).toarray().ravel()
        return [train[i] for i in sims.argsort()[::-1][:k]][::-1]  # most similar last, next to the question

    return nearest

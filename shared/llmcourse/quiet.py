"""Quiet model loading: no per-tensor "Loading weights" bars in a student's notebook.

transformers 5 draws a progress bar for every `from_pretrained`, including the ones that
sentence-transformers and LangChain make for us. A lesson's output should show what the student
did, not what a library does while it reads a file, so every load inside llmcourse is wrapped
(and one bitsandbytes warning about a Hub download the course never makes is filtered, below):

>>> with quiet_loading():
...     pass
"""

from __future__ import annotations

import logging
import threading

# bitsandbytes (imported by peft, which transformers and sentence-transformers import) tries, on AVX512-BF16 CPUs,
# to fetch a faster 4-bit kernel from the Hugging Face Hub through the optional `kernels` package, and warns when
# it cannot. The course never downloads at run time and bitsandbytes falls back to its bundled kernel, so that one
# warning (in every notebook that loads a model: weeks 1, 5 and 6) is hidden.
logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(lambda record: "kernels-community" not in str(record.msg))
_depth = 0
_lock = threading.Lock()


class quiet_loading:
    """Hide transformers' and huggingface_hub's progress bars while a model loads (re-entrant)."""

    def __enter__(self):
        global _depth
        with _lock:
            _depth += 1
            if _depth == 1:
                _set_bars(False)
        return self

    def __exit__(self, *exc):
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set_bars(True)


def _set_bars(on: bool) -> None:
    from transformers.utils import logging as hf_logging

    (hf_logging.enable_progress_bar if on else hf_logging.disable_progress_bar)()
    try:
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars
    except ImportError:  # pragma: no cover - huggingface_hub always comes with transformers
        return
    (enable_progress_bars if on else disable_progress_bars)()

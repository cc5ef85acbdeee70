"""What every local backend shares: the registry row, the chat template, token counting, the
context-window check and the grammar compiler. The backends (engine.py: transformers;
onnx_engine.py: ONNX Runtime) only differ in how they run the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ContextWindowError
from ...registry import ModelInfo, get_model


def model_info() -> ModelInfo:
    """The local model's registry row (models.toml): its name, api_id, context window and output limit."""
    return get_model("local")


@dataclass
class Generation:
    """What one local generation produced."""

    text: str
    input_tokens: int
    output_tokens: int


class ChatEngineBase:
    """The tokenizer side of a local engine; subclasses set `self.tokenizer` and `vocab_size`."""

    tokenizer = None
    backend = "?"

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    # -- prompts -------------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict], *, add_generation_prompt: bool = True):
        """Token ids (1 x n tensor) of `messages` rendered with the model's chat template."""
        msgs = [{"role": m["role"], "content": m.get("content") or ""} for m in messages]
        text = self.tokenizer.apply_chat_template(msgs, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)
        return self.tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]

    def grammar_compiler(self):
        """The xgrammar GrammarCompiler for this tokenizer (built once; see llmcourse.structured)."""
        if getattr(self, "_grammar_compiler", None) is None:
            import xgrammar as xgr

            info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.vocab_size)
            self._grammar_compiler = xgr.GrammarCompiler(info)
        return self._grammar_compiler

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def model_name(self) -> str:
        return model_info().name

    @property
    def context_window(self) -> int:
        return model_info().context_window

    @property
    def max_output(self) -> int:
        return model_info().max_output

    def _fit(self, ids, max_tokens: int):
        """Refuse a prompt that, with `max_tokens` more, would not fit the context window."""
        n, info = int(ids.shape[1]), model_info()
        if n + max_tokens > info.context_window:
            raise ContextWindowError(
                f"[local/{info.name}] The prompt is {n} tokens and max_tokens is {max_tokens}: together more "
                f"than the model's {info.context_window}-token context window. Shorten the conversation "
                f"(llmcourse.trim_history) or lower max_tokens.", prompt_tokens=n, window=info.context_window)
        return ids

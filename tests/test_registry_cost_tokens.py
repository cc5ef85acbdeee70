import pytest

from llmcourse import registry
from llmcourse.cost import Ledger, set_spend_limit, ledger
from llmcourse.errors import SpendLimitError, UnknownModelError
from llmcourse.tokens import count_tokens, encoding_name_for

REQUIRED = ["provider", "api_id", "family", "context_window", "max_output", "input_price",
            "output_price", "weights", "license", "parameters", "training_tokens",
            "knowledge_cutoff", "release_date"]


def test_registry_rows_are_complete_and_sane():
    models = registry.models()
    assert len(models) >= 20
    families = {m.family for m in models.values()}
    for fam in ["GPT", "Claude", "Gemini", "Llama", "Qwen", "Gemma", "SmolLM2"]:
        assert fam in families, fam
    providers = {m.provider for m in models.values()}
    assert {"openai", "anthropic", "gemini", "cohere", "perplexity", "ollama", "local"} <= providers
    for m in models.values():
        assert m.weights in ("open", "closed"), m.name
        assert m.input_price >= 0 and m.output_price >= 0
        if m.kind == "chat":
            assert m.context_window > 0 and m.max_output > 0, m.name
    assert registry.checked_on()


def test_aliases_resolve_by_available_keys():
    no_keys = registry.get_model("fast", available=lambda p: p == "local")
    assert no_keys.provider == "local"
    with_openai = registry.get_model("fast", available=lambda p: p in ("openai", "local"))
    assert with_openai.provider == "openai"
    assert registry.get_model("local").name == "smollm2-135m"


def test_unknown_model_suggests_close_names():
    with pytest.raises(UnknownModelError, match="Did you mean"):
        registry.get_model("smollm2-135")


def test_provider_slash_id_for_unlisted_models():
    m = registry.get_model("ollama/phi4")
    assert (m.provider, m.api_id, m.input_price) == ("ollama", "phi4", 0.0)


def test_cost_uses_per_million_prices():
    m = next(m for m in registry.models().values() if m.input_price > 0)
    assert m.cost(1_000_000, 0) == pytest.approx(m.input_price)
    assert m.cost(0, 2_000_000) == pytest.approx(2 * m.output_price)


def test_models_table_has_a_row_per_chat_model():
    df = registry.models_table()
    assert "smollm2-135m" in df.index and "input_price" in df.columns


def test_ledger_totals_and_spend_limit():
    book = Ledger(limit=0.01)
    m = next(m for m in registry.models().values() if m.input_price > 0)
    book.record(provider=m.provider, model=m.name, input_tokens=100, output_tokens=50, cost=0.004)
    book.record(provider=m.provider, model=m.name, input_tokens=100, output_tokens=50, cost=0.004)
    assert book.total == pytest.approx(0.008)
    book.check(m, 0.001)
    with pytest.raises(SpendLimitError, match=r"\$0\.0080 of its \$0\.01"):
        book.check(m, 0.003)
    assert book.summary().loc[(m.provider, m.name), "calls"] == 2


def test_spend_limit_refuses_a_paid_call_before_it_is_sent(monkeypatch):
    from llmcourse import chat

    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "t" * 40)
    set_spend_limit(0.0)
    try:
        with pytest.raises(SpendLimitError):
            chat("hello", model="fast", max_tokens=100)  # refused before any HTTP
    finally:
        set_spend_limit(None)


def test_tiktoken_offline_counts():
    assert count_tokens("Hello, world!", model="o200k_base") == 4
    assert count_tokens("Hello, world!", model="cl100k_base") == 4
    assert encoding_name_for("gpt-4-turbo") == "cl100k_base"
    assert encoding_name_for("gpt-4o-mini") == "o200k_base"
    long = "The quick brown fox jumps over the lazy dog. " * 20
    assert 150 < count_tokens(long, model="o200k_base") < 250


def test_local_tokenizer_and_message_overhead():
    n = count_tokens("Hello, world!", model="local")
    assert 2 <= n <= 6
    msgs = [{"role": "user", "content": "Hello, world!"}]
    assert count_tokens(msgs, model="local") == n + 6


def test_estimate_before_a_call_counts_prompt_and_caps_output():
    from llmcourse import estimate

    m = next(m for m in registry.models().values() if m.provider == "openai" and m.input_price > 0)
    e = estimate("Hello, world!", model=m.name, system="Be brief.", max_tokens=100)
    assert e.input_tokens == count_tokens([{"content": "Be brief."}, {"content": "Hello, world!"}], m.name)
    assert e.max_output_tokens == 100
    assert e.max_cost == pytest.approx(m.cost(e.input_tokens, 100))
    assert m.name in str(e) and "$" in str(e)

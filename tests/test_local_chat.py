"""The local engine, for real: no stand-in model."""

import pytest

from llmcourse import chat, ledger
from llmcourse.chat import normalize_messages


def test_no_key_default_is_the_local_model_and_it_knows_paris(capsys):
    reply = chat("What is the capital of France?", max_tokens=30)
    assert reply.provider == "local"
    assert "Paris" in reply.text
    assert reply.usage.input_tokens > 5 and 0 < reply.usage.output_tokens <= 30
    assert reply.cost == 0.0


def test_streaming_equals_greedy_text_and_fills_usage():
    prompt = "Name three primary colors."
    whole = chat(prompt, model="local", max_tokens=40).text
    reply = chat(prompt, model="local", max_tokens=40, stream=True)
    chunks = list(reply)
    assert len(chunks) > 1
    assert "".join(chunks) == whole == reply.text
    assert reply.time_to_first_token < reply.latency
    assert reply.usage.output_tokens > 0


def test_seeded_sampling_is_reproducible():
    a = chat("Write a word.", model="local", temperature=1.0, seed=1, max_tokens=15).text
    b = chat("Write a word.", model="local", temperature=1.0, seed=1, max_tokens=15).text
    assert a == b


def test_max_tokens_caps_output():
    r = chat("Tell me a long story about a dragon.", model="local", max_tokens=8)
    assert r.usage.output_tokens <= 8


def test_system_prompt_changes_the_answer():
    plain = chat("Who are you?", model="local", max_tokens=30).text
    pirate = chat("Who are you?", model="local", system="You are Captain Hook, a pirate.",
                  max_tokens=30).text
    assert plain != pirate


def test_ledger_records_calls():
    n = len(ledger.entries)
    chat("Hi", model="local", max_tokens=3)
    assert len(ledger.entries) == n + 1 and ledger.entries[-1].provider == "local"


@pytest.mark.parametrize("bad, match", [
    ([], "non-empty"),
    ([{"content": "x"}], "Message 0"),
    ([{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}], "Message 1 has role 'robot'"),
    ([{"role": "system", "content": "only system"}], "add a user message"),
])
def test_malformed_messages_are_named(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        normalize_messages(bad)


def test_unknown_option_for_local_model_is_refused():
    with pytest.raises(TypeError, match="does not take option"):
        chat("hi", model="local", frequency_penality=1)


def test_missing_key_for_a_frontier_model_is_a_key_problem_not_a_provider_error():
    from llmcourse.errors import KeyProblem
    with pytest.raises(KeyProblem, match="OPENAI_API_KEY"):
        chat("hi", model="openai/gpt-4o-mini")


def test_prompt_longer_than_the_context_window_is_refused_clearly():
    from llmcourse.errors import LLMCourseError
    with pytest.raises(LLMCourseError, match="context window"):
        chat("word " * 9000, model="local", max_tokens=10)


def test_converting_the_gguf_parses_it_once_and_puts_gguf_back(tmp_path):
    """prepare() memoises gguf's reader and tensor-name map while transformers converts the GGUF (it would
    parse the file three times), and hands gguf its own functions back afterwards, after an error too."""
    import gguf

    from llmcourse.providers.local.engine import _gguf_parsed_once

    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(2)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    before = (gguf.GGUFReader, gguf.get_tensor_name_map)
    with pytest.raises(RuntimeError):
        with _gguf_parsed_once():
            first = gguf.GGUFReader(path)
            assert gguf.GGUFReader(str(path)) is first and first.fields["llama.block_count"].contents() == 2
            assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2) is gguf.get_tensor_name_map(
                gguf.MODEL_ARCH.LLAMA, 2)
            raise RuntimeError("conversion failed")
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == before
    assert gguf.GGUFReader(path) is not first

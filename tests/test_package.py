"""The public surface: names importable from `llmcourse`, and a light import."""

import subprocess
import sys

import llmcourse


def test_every_export_resolves():
    for name in llmcourse.__all__:
        assert getattr(llmcourse, name) is not None, name


def test_chat_is_the_function_even_after_submodules_load():
    code = ("import llmcourse.chat, llmcourse.rag; from llmcourse import chat; "
            "import llmcourse; assert callable(chat) and chat.__name__ == 'chat', chat; "
            "assert llmcourse.chat is chat")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_does_not_load_heavy_libraries():
    code = ("import sys; from llmcourse import chat, count_tokens, ledger, models_table; "
            "heavy = [m for m in ('torch', 'transformers', 'gradio', 'chromadb', 'openai', 'anthropic', "
            "'google.genai', 'pandas', 'sentence_transformers') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)

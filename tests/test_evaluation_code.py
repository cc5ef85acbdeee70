"""Code evaluation: pass@k against its closed form, HumanEval through the sandbox, escapes scored as failures."""

from __future__ import annotations

import itertools

import pytest

from llmcourse.evaluation import evaluate_code, extract_code, load_humaneval, pass_at_k

PROBLEMS = load_humaneval()


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 1, 1), (5, 2, 3), (6, 3, 2), (8, 1, 8), (7, 6, 1), (4, 4, 2)])
def test_pass_at_k_equals_counting_every_k_subset(n, c, k):
    """pass@k is the share of k-sample subsets with at least one pass: count them all."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    counted = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(counted)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="at least 5 samples"):
        pass_at_k(3, 1, 5)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(3, 4, 1)


def test_canonical_solutions_pass_and_wrong_ones_fail():
    probs = PROBLEMS[:4]
    samples = {p["task_id"]: [p["prompt"] + p["canonical_solution"], p["prompt"] + "    return None\n"]
               for p in probs}
    res = evaluate_code(probs, samples)
    assert [r["c"] for r in res.rows] == [1, 1, 1, 1]
    assert res.pass_at(1) == 0.5 and res.pass_at(2) == 1.0


def test_extract_code_from_a_chat_reply():
    p = PROBLEMS[0]
    reply = f"Here you go:\n```python\ndef {p['entry_point']}(numbers, threshold):\n    return False\n```\nDone."
    program = extract_code(reply, p)
    assert program.startswith("from typing import List") and "return False" in program and "Here" not in program
    assert extract_code("    return True\n", p) == p["prompt"] + "    return True\n"   # a bare body continues the prompt


ESCAPES = {
    # exits with status 0 before the tests run: the classic way to "pass" a naive harness
    "exit_early": "import sys\nsys.exit(0)\n",
    # phones home for the answer: no network in the sandbox
    "network": "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=3)\n",
    # never returns
    "loop": "while True:\n    pass\n",
    # replaces the tests' assert helpers by killing the checker's process group
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    # forges a result file in the working directory, then exits
    "forge": "open('result.json', 'w').write('{\"passed\": true}')\nimport os\nos._exit(0)\n",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_model_code_that_tries_to_escape_is_contained_and_fails(name):
    p = PROBLEMS[0]
    program = ESCAPES[name] + p["prompt"] + p["canonical_solution"]   # right answer after the attempt
    res = evaluate_code([p], {p["task_id"]: [program]}, timeout=5)
    row = res.rows[0]
    print(f"\n{name}: {row['reasons'][0]}: {row['messages'][0]}")
    assert row["c"] == 0 and res.pass_at(1) == 0


def test_multipl_e_javascript_runs_with_node_in_the_sandbox():
    import shutil

    from llmcourse.evaluation import JS_ADD_PROMPT, JS_ADD_TESTS, run_javascript

    if not shutil.which("node"):
        pytest.skip("node is not installed: apt-get install -y nodejs")
    assert run_javascript(JS_ADD_PROMPT + "  return x + y;\n}\n", JS_ADD_TESTS).passed
    wrong = run_javascript(JS_ADD_PROMPT + "  return x - y;\n}\n", JS_ADD_TESTS)
    assert not wrong.passed and "AssertionError" in wrong.stdout + wrong.stderr

"""Code evaluation: HumanEval-style functional correctness and the unbiased pass@k estimator.

Model-written code runs only in `llmcourse.sandbox.run_python` (a separate, locked-down process
with no network, time and memory limits): a completion passes when the problem's unit tests run to
the end. Anything else (an exception, a timeout, an escape attempt the sandbox stops) is a failure.

pass@k (Chen et al. 2021, the HumanEval paper): draw n >= k samples per problem, count the c that
pass, and estimate the chance that at least one of k random samples passes as
1 - C(n-c, k) / C(n, k). Taking the best of k samples directly would be biased for k < n.

>>> round(pass_at_k(10, 3, 1), 3), round(pass_at_k(10, 3, 5), 3), pass_at_k(10, 0, 5), pass_at_k(3, 1, 3)
(0.3, 0.917, 0.0, 1.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CODE_PROMPT = ("Complete the following Python function. Reply with the complete function "
               "(signature and body) in one ```python code block.\n\n{prompt}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with `c` passing samples out of `n` (numerically stable form)."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k >= 1 (got n={n}, c={c}, k={k})")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem; only n={n} were drawn")
    if n - c < k:
        return 1.0
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


def test_program(problem: dict) -> str:
    """The problem's unit tests and the call that runs them (HumanEval's `check(entry_point)`)."""
    return f"{problem['test']}\ncheck({problem['entry_point']})\n"


def extract_code(reply: str, problem: dict) -> str:
    """A runnable program from a model's reply: the code block (or the whole reply) and, when the
    reply only continues the function body, the problem's prompt in front of it."""
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", reply, re.S)
    code = blocks[0] if blocks else reply
    if re.search(rf"def\s+{re.escape(problem['entry_point'])}\s*\(", code):
        header = problem["prompt"].split("def ")[0]          # the prompt's imports and helpers
        return header + code
    return problem["prompt"] + code


def check_completion(problem: dict, program: str, *, timeout: float = 10.0, memory_mb: int = 512):
    """Run `program` and the problem's tests in the sandbox; returns the SandboxResult."""
    from ..sandbox import run_python

    return run_python(program, tests=test_program(problem), timeout=timeout, memory_mb=memory_mb)


@dataclass
class CodeResult:
    """Per-problem `n` samples and `c` passes; `pass_at(k)` is the mean unbiased pass@k."""

    rows: list[dict] = field(default_factory=list)

    def pass_at(self, k: int) -> float:
        if not self.rows:
            raise ValueError("no problems were evaluated")
        return sum(pass_at_k(r["n"], r["c"], k) for r in self.rows) / len(self.rows)

    def __str__(self) -> str:
        n = min((r["n"] for r in self.rows), default=0)
        ks = [k for k in (1, 10, 100) if k <= n]
        return f"{len(self.rows)} problems, {n} samples each: " + ", ".join(
            f"pass@{k} {self.pass_at(k):.1%}" for k in ks)


def evaluate_code(problems: list[dict], samples: dict[str, list[str]], *, timeout: float = 10.0,
                  progress: bool = False) -> CodeResult:
    """Run every sample program (task_id -> list of programs) against its problem's tests."""
    by_id = {p["task_id"]: p for p in problems}
    missing = [t for t in samples if t not in by_id]
    if missing:
        raise ValueError(f"samples for unknown task_id(s) {missing[:3]}: pass the problems they belong to")
    items = list(samples.items())
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc="running tests", unit="problem")
    rows = []
    for task_id, programs in items:
        results = [check_completion(by_id[task_id], p, timeout=timeout) for p in programs]
        rows.append({"task_id": task_id, "n": len(results), "c": sum(r.passed for r in results),
                     "reasons": [r.reason for r in results], "messages": [r.message for r in results]})
    return CodeResult(rows)


def generate_solutions(problems: list[dict], *, model: str | None = "local", n: int = 1,
                       temperature: float = 0.0, max_tokens: int = 300, progress: bool = False) -> dict:
    """`n` programs per problem written by `model` (task_id -> list of programs, ready to run)."""
    from ..chat import chat

    if n > 1 and not temperature:
        raise ValueError("n > 1 samples at temperature 0 would all be the same: pass temperature=0.8")
    todo = problems
    if progress:
        from tqdm.auto import tqdm
        todo = tqdm(problems, desc="writing code", unit="problem")
    out = {}
    for p in todo:
        replies = [chat(CODE_PROMPT.format(prompt=p["prompt"]), model=model, temperature=temperature,
                        max_tokens=max_tokens).text for _ in range(n)]
        out[p["task_id"]] = [extract_code(r, p) for r in replies]
    return out


# One HumanEval problem as MultiPL-E translates it to JavaScript (HumanEval/53, `add`): the docstring
# becomes a comment and the tests become `assert` calls. Written for this course in MultiPL-E's layout.
JS_ADD_PROMPT = """//Add two numbers x and y
// >>> add(2, 3)
// 5
// >>> add(5, 7)
// 12
function add(x, y) {
"""
JS_ADD_TESTS = """const assert = require('node:assert');
function test() {
  let candidate = add;
  assert.deepEqual(candidate(0, 1), 1);
  assert.deepEqual(candidate(1, 0), 1);
  assert.deepEqual(candidate(2, 3), 5);
  assert.deepEqual(candidate(5, 7), 12);
  assert.deepEqual(candidate(7, 5), 12);
}
test();
"""


def run_javascript(program: str, tests: str, *, timeout: float = 20.0):
    """Run a JavaScript program and its tests with node, inside the Python sandbox (no network, limits).

    Returns the SandboxResult; raises if node is not installed (apt-get install nodejs).
    """
    import json
    import shutil

    from ..sandbox import run_python

    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: `apt-get install -y nodejs` to run MultiPL-E's JavaScript")
    driver = (f"import subprocess\nopen('main.js', 'w').write({json.dumps(program + chr(10) + tests)})\n"
              f"r = subprocess.run([{node!r}, 'main.js'], capture_output=True, text=True, timeout={timeout})\n"
              f"print(r.stdout); print(r.stderr[-2000:])\nassert r.returncode == 0, 'the JavaScript tests failed'\n")
    return run_python(driver, timeout=timeout + 5, memory_mb=2048)

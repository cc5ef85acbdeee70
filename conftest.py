# The suite's checks on every notebook nbmake runs (no library warnings in a clean run).
pytest_plugins = ("tests.nbmake_checks",)

from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
# Tests that run a week's notebooks themselves: they share that week's folders with its notebooks.
RUNS_NOTEBOOKS = {"tests/test_notebook_state.py": "week5_rag"}


def xdist_group(path: Path) -> str:
    """Which items must run on one worker, in order, when `make test` runs the suite on two (pytest-xdist):
    a week's notebooks share caches and folders (week 6's comparison reads what its earlier notebooks
    trained), so each week folder is one group (week 1's solutions a second one: they build their own
    state); a test file is one group, so its module fixtures are built once."""
    rel = path.resolve().relative_to(ROOT).as_posix()
    if rel in RUNS_NOTEBOOKS:
        return RUNS_NOTEBOOKS[rel]
    if rel.endswith(".ipynb"):
        parts = rel.split("/")
        return "notebooks/solutions" if parts[:2] == ["notebooks", "solutions"] else parts[0]
    return rel


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist (`make test`): schedule by `xdist_group()` above. (The `xdist_group` marker is not honoured
    under pytest 9: xdist 3.8 renames the item's node id, which pytest 9 no longer reads back.)"""
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    class ByWeek(LoadScopeScheduling):
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(ROOT / nodeid.split("::", 1)[0])

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:   # longest groups first, so none starts last and runs alone (LPT)
                self.workqueue = OrderedDict(sorted(self.workqueue.items(), key=lambda kv: -estimated_seconds(kv[1])))
                self.ordered = True
            super()._assign_work_unit(node)

    return ByWeek(config, log)


# Test files that train or run notebooks themselves: minutes, not seconds (clean-clone make test, 2026-12-03:
# test_finetune_train.py 200 s). Estimated as 2 s a test, the training file was queued among the short tests and
# ran alone at the end while the other worker sat idle.
SLOW_TEST_FILES = {"tests/test_finetune_train.py": 200}


def estimated_seconds(nodeids) -> float:
    """A rough cost for a group, to order the queue: a notebook ~90 s (week 6's, which train, ~150 s), a slow
    test file what SLOW_TEST_FILES says, any other test ~2 s. Measured in a clean-clone make test
    (2026-12-03): notebooks 1-411 s, most unit tests under 2 s."""
    nodeids = list(nodeids)
    files = {n.split("::", 1)[0] for n in nodeids}
    slow = sum(SLOW_TEST_FILES.get(f, 0) for f in files)
    return slow + sum(150 if n.startswith("week6_finetune") and ".ipynb" in n else 90 if ".ipynb" in n else
                      0 if n.split("::", 1)[0] in SLOW_TEST_FILES else 2 for n in nodeids)

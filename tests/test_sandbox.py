"""The sandbox for model-written code: every escape is contained and reported as a failure, never a
hang or a crash of the caller. Each test really attempts the escape."""

import os
import secrets
import socket
import sys
import textwrap
import time

import pytest

from llmcourse import SandboxResult, run_python
from llmcourse.sandbox import isolation

ISO = isolation()
needs_namespaces = pytest.mark.skipif(not ISO["network"], reason="; ".join(ISO["notes"]) or "no namespaces")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="limits checked on Linux")


def run(code, **kw):
    kw.setdefault("timeout", 5)
    start = time.monotonic()
    result = run_python(textwrap.dedent(code), **kw)
    assert isinstance(result, SandboxResult)
    assert time.monotonic() - start < kw["timeout"] + 8, "the caller waited far past the timeout"
    return result


def test_correct_code_passes_its_tests_and_output_comes_back():
    r = run("def add(a, b):\n    print('adding')\n    return a + b", tests=["assert add(2, 3) == 5"])
    assert (r.passed, r.reason) == (True, "ok"), r
    assert r.stdout == "adding\n"


def test_wrong_code_fails_with_the_assertion_named():
    r = run("def add(a, b):\n    return a - b", tests="assert add(2, 3) == 5, 'add is wrong'")
    assert (r.passed, r.reason) == (False, "error")
    assert r.error == "AssertionError: add is wrong"
    assert "sandbox.py" not in r.stderr  # the traceback starts at the code, not at our runner


def test_a_syntax_error_is_an_error_not_a_crash():
    r = run("def f(:\n  pass", tests="assert f()")
    assert (r.passed, r.reason) == (False, "error") and "SyntaxError" in r.error


def test_humaneval_style_check_function():
    r = run("def inc(x):\n    return x + 1",
            tests="def check(candidate):\n    assert candidate(1) == 2\n\ncheck(inc)")
    assert r.passed, r


def test_infinite_loop_times_out():
    r = run("while True:\n    pass", timeout=2)
    assert (r.passed, r.reason) == (False, "timeout"), r
    assert r.duration < 6


def test_sleeping_forever_times_out():
    r = run("import time\ntime.sleep(3600)", timeout=1.5)
    assert (r.passed, r.reason) == (False, "timeout"), r


@linux_only
def test_runaway_memory_is_stopped():
    r = run("chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))", memory_mb=256)
    assert (r.passed, r.reason) == (False, "memory"), r


def test_huge_output_is_capped_and_stopped():
    r = run("while True:\n    print('x' * 1000)", max_output=20_000)
    assert (r.passed, r.reason) == (False, "killed"), r
    assert 20_000 <= len(r.stdout) < 20_100 and r.stdout.endswith("bytes]")


def test_exiting_early_does_not_skip_the_tests():
    for exit_call in ("import os\nos._exit(0)", "import sys\nsys.exit(0)", "raise SystemExit"):
        r = run(exit_call, tests="assert False, 'never reached'")
        assert not r.passed and r.reason == "error", (exit_call, r)


def test_forging_the_status_line_does_not_pass(tmp_path):
    code = """
    import json, os
    for fd in range(3, 64):
        try:
            os.write(fd, (json.dumps({"nonce": "guess", "outcome": "ok"}) + "\\n").encode())
        except OSError:
            pass
    os._exit(0)
    """
    assert not run(code, tests="assert False").passed


def test_no_keys_in_the_childs_environment_or_readable_from_ours(monkeypatch):
    key = "sk-proj-" + secrets.token_hex(24)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    code = """
    import os, glob
    print(dict(os.environ))
    for path in glob.glob('/proc/*/environ'):
        try:
            print(open(path, 'rb').read().decode('utf-8', 'replace'))
        except OSError:
            pass
    """
    if not ISO["process_tree"]:  # without a pid namespace a same-user child can read /proc/<ours>/environ
        code = code.split("for path")[0]
    r = run(code)
    assert "OPENAI_API_KEY" not in r.stdout and key not in r.stdout and key not in r.stderr
    if ISO["process_tree"]:  # its own /proc: no environment of ours (pytest sets this one) is visible
        assert "PYTEST_CURRENT_TEST" in os.environ and "PYTEST_CURRENT_TEST" not in r.stdout


@needs_namespaces
def test_the_course_env_file_is_hidden(tmp_path, monkeypatch):
    key = "sk-ant-api03-" + secrets.token_hex(24)
    env_file = tmp_path / "keys.env"
    env_file.write_text(f"ANTHROPIC_API_KEY={key}\n")
    monkeypatch.setenv("LLMCOURSE_ENV_FILE", str(env_file))
    r = run(f"print(repr(open({str(env_file)!r}).read()))")
    assert key not in r.stdout and r.passed and r.stdout.strip() == "''"


@needs_namespaces
def test_network_is_unreachable_even_on_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        code = f"""
        import socket
        for host in ("127.0.0.1", "192.0.2.1"):
            try:
                socket.create_connection((host, {port}), timeout=1).close()
                print("connected", host)
            except OSError as exc:
                print("refused", host, exc.errno)
        """
        r = run(code)
        assert r.network_isolated
        assert "connected" not in r.stdout and r.stdout.count("refused") == 2, r.stdout
        server.settimeout(0.2)
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


def test_network_isolation_is_reported_truthfully():
    r = run("pass")
    assert r.network_isolated == ISO["network"]
    if not r.network_isolated:
        assert any("network" in note for note in ISO["notes"])


@needs_namespaces
def test_writing_outside_its_folder_fails_and_leaves_nothing(tmp_path):
    target = tmp_path / "escaped.txt"
    r = run(f"open({str(target)!r}, 'w').write('x')")
    assert not r.passed and "Read-only file system" in r.error
    assert not target.exists()


def test_writing_inside_its_folder_works_and_is_cleaned_up():
    r = run("import os\nopen('notes.txt', 'w').write('hi')\nprint(os.getcwd())")
    assert r.passed, r
    assert not os.path.exists(r.stdout.strip())


@linux_only
def test_a_huge_file_is_refused():
    r = run("open('big.bin', 'wb').write(b'x' * (40 * 1024 * 1024))", max_file_mb=8)
    assert not r.passed and "File too large" in r.stderr, r


@pytest.mark.skipif(not ISO["processes"], reason="; ".join(ISO["notes"]) or "process limit unavailable")
def test_fork_bomb_is_capped_and_leaves_no_process_behind():
    marker = f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    code = f"""
    import os
    forked = 0
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.execv("/bin/sleep", ["sleep", "{marker}"])
        forked += 1
    print(forked)
    """
    r = run(code, max_processes=16)
    assert r.passed and int(r.stdout) < 20, r
    time.sleep(0.5)
    left = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).endswith(marker)]
    assert left == [], "processes outlived the sandbox"


@pytest.mark.skipif(not ISO["processes"], reason="; ".join(ISO["notes"]) or "process limit unavailable")
def test_classic_fork_bomb_ends_in_time():
    r = run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass", timeout=2)
    assert not r.passed and r.reason == "timeout"


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def test_parallel_runs_from_threads_stay_separate():
    from concurrent.futures import ThreadPoolExecutor

    codes = [f"import os\nopen('mine.txt', 'w').write('{i}')\nprint(open('mine.txt').read(), len(os.listdir('.')))"
             for i in range(6)]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda c: run_python(c, timeout=20), codes))
    assert [r.stdout.split() for r in results] == [[str(i), "1"] for i in range(6)], results

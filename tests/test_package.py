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


# -- the shape of the package: no import cycles, no imports from a higher layer -------------------
def _import_graph() -> dict[str, set[str]]:
    """module -> llmcourse modules it imports (module-level and deferred imports alike)."""
    import ast
    from pathlib import Path

    root = Path(llmcourse.__file__).parent
    mods = {}
    for f in root.rglob("*.py"):
        parts = f.relative_to(root.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    graph = {}
    for m, f in mods.items():
        base = m.split(".") if f.name == "__init__.py" else m.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                pkg = base[:len(base) - node.level + 1] if node.level else []
                t = ".".join(pkg + ([node.module] if node.module else []))
                names = [f"{t}.{a.name}" for a in node.names] + [t]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for t in names:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != m and t != "llmcourse" and not m.startswith(t + "."):
                    targets.add(t)
        graph[m] = targets
    return graph


def test_no_import_cycles():
    graph, cycles = _import_graph(), []
    index, low, stack, on, counter = {}, {}, [], set(), [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(sorted(scc))

    for v in graph:
        if v not in index:
            visit(v)
    assert len(graph) > 30 and not cycles, cycles


LOWER = ("llmcourse.types", "llmcourse.errors", "llmcourse.settings", "llmcourse.quiet", "llmcourse.registry", "llmcourse.retry",
         "llmcourse.cost", "llmcourse.tokens", "llmcourse.structured", "llmcourse.tooldef", "llmcourse.providers")
HIGHER = ("llmcourse.chat", "llmcourse.embeddings", "llmcourse.tools", "llmcourse.agents", "llmcourse.rag", "llmcourse.ui",
          "llmcourse.gateway", "llmcourse.clients", "llmcourse.doctor", "llmcourse.lessons", "llmcourse.evaluation",
          "llmcourse.datagen", "llmcourse.speech", "llmcourse.finetune", "llmcourse.__main__")


def test_lower_layers_never_import_higher_ones():
    graph = _import_graph()
    upward = {(m, t) for m, targets in graph.items() if m.startswith(LOWER)
              for t in targets if t.startswith(HIGHER)}
    assert not upward, sorted(upward)
    gateway_knows = {t for m, ts in graph.items() if m.startswith("llmcourse.gateway") for t in ts}
    assert not any(t.startswith(("llmcourse.providers", "llmcourse.engine")) for t in gateway_knows - {
        "llmcourse.providers"}), "the gateway translates; engines, grammars and tool emulation are the providers'"

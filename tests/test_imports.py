"""The import graph of maildaemon, read from the source: every `import` and `from ... import`
statement, those inside functions (lazy imports) and under `if TYPE_CHECKING:` included (a cycle
hidden from the interpreter is still one a reader walks). Arrows point one way: no cycle, and
nothing outside the command line (`maildaemon/cli/`) imports it, `python -m maildaemon` aside."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "maildaemon"
ENTRY_POINT = "maildaemon.__main__"          # `python -m maildaemon` is the console script


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def statements(tree: ast.AST):
    """Every node of `tree`."""
    return ast.walk(tree)


def imported(name: str, path: Path, known) -> set[str]:
    """The maildaemon modules that `name` (at `path`) imports anywhere in its source: `from X
    import Y` is an edge to X (Python runs X first) and to X.Y when that is a module; `import X.Y`
    names X.Y only."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in statements(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return {m for m in out if m in known and m != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_the_source():
    edges = graph()
    assert "maildaemon.cli.context" in edges["maildaemon.cli"]       # from maildaemon.cli.context import ...
    assert "maildaemon.cli.stream" in edges["maildaemon.cli"]        # a lazy import, inside a function
    assert "maildaemon.ingest" in edges["maildaemon.cli.stream"]


def test_imports_for_annotations_and_inside_functions_count():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\n"
                     "def f():\n    import c\n")
    assert sorted(alias.name for node in statements(tree) if isinstance(node, ast.Import)
                  for alias in node.names) == ["a", "b", "c"]


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_lazy_imports_included():
    assert cycles(graph()) == []


def test_only_the_command_line_imports_the_command_line():
    outside = {name: sorted(m for m in targets if m == "maildaemon.cli" or m.startswith("maildaemon.cli."))
               for name, targets in graph().items()
               if not (name == "maildaemon.cli" or name.startswith("maildaemon.cli.")) and name != ENTRY_POINT}
    assert {name: found for name, found in outside.items() if found} == {}


# Modules a duty command's start must not load: each is paid by every `remind`, `handoff`,
# `tickets` and `status` (issue 14: under half a second at 50,000 messages, start included), and
# only some commands need them (SMTP and TLS to send, `regex` for a team's own systems, difflib
# for a misspelt setting, the agenda for its command).
NOT_AT_START = ("ssl", "smtplib", "regex", "difflib", "statistics", "maildaemon.agenda", "maildaemon.outbox")


def test_a_duty_command_starts_without_what_it_does_not_use():
    import subprocess
    import sys
    code = ("import sys, maildaemon.cli, maildaemon.cli.duty_mail, maildaemon.dispatch, maildaemon.handoff; "
            f"print(' '.join(m for m in {NOT_AT_START!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent).stdout.split()
    assert loaded == []


def attributes_missing(paths) -> list[str]:
    """`module.name` uses, in `paths`, of a maildaemon module that has no such name (nor submodule):
    what a module that moved a function leaves behind in the modules that reach it by its old home."""
    import importlib
    known = modules()
    missing = []
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        aliases = {}
        for node in statements(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("maildaemon"):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in known:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("maildaemon") and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in statements(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                name = aliases[node.value.id]
                if not hasattr(importlib.import_module(name), node.attr):
                    try:
                        importlib.import_module(f"{name}.{node.attr}")
                    except ImportError:
                        missing.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return missing


def test_every_module_attribute_used_exists(tmp_path):
    assert attributes_missing(modules().values()) == []
    stale = tmp_path / "stale.py"                   # the agenda asked the handoff for a moved function
    stale.write_text("from maildaemon import handoff as handoff_policy\nhandoff_policy.status_at(None, None)\n")
    assert attributes_missing([stale]) == ["stale.py:2: handoff_policy.status_at"]

"""Dependencies run one way: no import circle anywhere in gru_debugger/.

The graph is read from the source with `ast`, so an import inside a function
counts as much as one at the top of a module (it runs the first time the
function does, and a circle closed that way is still a circle); imports under
`if TYPE_CHECKING:` never run and do not count.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gru_debugger"
EXAMPLES = ROOT / "resources" / "examples"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """Every import statement under `node`, anywhere but the body of an `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for sub in child.orelse:
                yield from _import_nodes_of(sub)
            continue
        yield from _import_nodes_of(child)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
          and isinstance(node.args[0].value, str)
          and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
               or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
        yield node
    yield from _import_nodes(node)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports (relative and `from pkg import module` resolved)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]

    def target(dotted: str) -> str | None:
        # `import a.b.c` binds a module that must exist; fall back to the nearest package for names.
        parts = dotted.split(".")
        while parts:
            candidate = ".".join(parts)
            if candidate in modules:
                return candidate
            parts.pop()
        return None

    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(t for alias in node.names if (t := target(alias.name)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules:  # `from package import module`
                    found.add(sub)
                elif (t := target(source)):
                    found.add(t)
        else:  # importlib.import_module("gru_debugger.x") with a constant name
            if (t := target(node.args[0].value)):
                found.add(t)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (a self-import is dropped when built)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def shortest_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest circle through the component's first module, written start -> ... -> start."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v] & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start] + path[::-1][1:] + [start]
            if w not in came_from:
                came_from[w] = v
                queue.append(w)
    raise AssertionError(f"{component} is not a circle")


def describe_circles(graph: dict[str, set[str]], what: str = "modules") -> list[str]:
    return [" -> ".join(shortest_circle(graph, c)) + f"   ({len(c)} {what} in this knot: {', '.join(c)})"
            for c in strongly_connected(graph)]


def package_graph(graph: dict[str, set[str]], modules: dict[str, Path]) -> dict[str, set[str]]:
    """The same imports between folders: a module counts as its package (ui.views, ui.cells,
    core, ...), so views -> cells -> views is a circle even when no one module closes it. The
    package's top-level modules (the command line, the developer tools) stay apart: they are
    entry points, not a layer."""
    def folder(name: str) -> str:
        if modules[name].name == "__init__.py" or name.count(".") == 1:
            return name
        return name.rsplit(".", 1)[0]

    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        out.setdefault(folder(name), set()).update(folder(t) for t in targets)
    for name, targets in out.items():
        targets.discard(name)
    return out


# --- the checker itself ---------------------------------------------------------------------------

def _graph_of(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    modules = module_files(tmp_path / "pkg")
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_checker_sees_relative_function_level_and_from_package_imports(tmp_path):
    graph = _graph_of(tmp_path, {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/a.py": "from . import b\n",
        "core/b.py": "def f():\n    from ..core.c import thing\n",
        "core/c.py": "import pkg.core.a as a\n",
        "core/d.py": "import importlib\ndef f():\n    return importlib.import_module('pkg.core.b')\n",
        "ui/__init__.py": "",
        "ui/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.ui import y\n",
        "ui/y.py": "from pkg.ui import x\nfrom pkg.core import nothing_here\n",
    })
    assert graph["pkg.core.a"] == {"pkg.core.b"}
    assert graph["pkg.core.b"] == {"pkg.core.c"}
    assert graph["pkg.core.c"] == {"pkg.core.a"}
    assert graph["pkg.core.d"] == {"pkg.core.b"}  # a module named by its dotted name
    assert graph["pkg.ui.x"] == set()  # TYPE_CHECKING only
    assert graph["pkg.ui.y"] == {"pkg.ui.x", "pkg.core"}
    [circle] = describe_circles(graph)
    assert circle.startswith("pkg.core.a -> pkg.core.b -> pkg.core.c -> pkg.core.a")


def test_the_folder_graph_sees_a_circle_no_module_closes(tmp_path):
    files = {"__init__.py": "", "ui/__init__.py": "", "ui/views/__init__.py": "", "ui/cells/__init__.py": "",
             "ui/views/fmt.py": "", "ui/views/diagram.py": "from ..cells import gru\n",
             "ui/cells/gru.py": "from ..views.fmt import x\n", "cli.py": "from .ui.views import diagram\n"}
    graph = _graph_of(tmp_path, files)
    assert describe_circles(graph) == []
    [circle] = describe_circles(package_graph(graph, module_files(tmp_path / "pkg")))
    assert circle.startswith("pkg.ui.cells -> pkg.ui.views -> pkg.ui.cells")


def test_the_checker_reads_every_module_of_the_package():
    graph = import_graph()
    assert len(graph) > 100
    assert "gru_debugger.core.base.config" in graph and "gru_debugger.ui.main_window" in graph
    # a lazy import inside a function is an edge: the main window imports its menus' modules late
    assert any(graph[m] for m in graph)


# --- the package ------------------------------------------------------------------------------------

def test_no_import_circle_in_the_package():
    circles = describe_circles(import_graph())
    assert circles == [], "import circles (break each at its root):\n" + "\n".join(circles)


def test_no_import_circle_between_the_packages_folders():
    """ui's folders and core's stack one way: e.g. the cells' UI modules and the views share their
    formatting through widgets, and the main window reaches export_view without going back to docs."""
    graph = import_graph()
    circles = describe_circles(package_graph(graph, module_files()), "folders")
    assert circles == [], "import circles between folders:\n" + "\n".join(circles)


def test_only_the_command_line_imports_the_composition_root():
    """ui/app.py makes the controller and the window; the screenshots and the benchmark set Qt up
    through ui/qt_setup.py instead of reaching up to it."""
    graph = import_graph()
    assert {m for m, targets in graph.items() if "gru_debugger.ui.app" in targets} == {"gru_debugger.cli"}


# Below config: errors, file reading, value checks, the init schemes' table, and the registry of cells
# (a cell declares what config validation checks; the cells import nothing else of core).
LOW_LEVEL = {"gru_debugger.core.base.errors", "gru_debugger.core.base.bundled", "gru_debugger.core.base.regular_files",
             "gru_debugger.core.base.texts", "gru_debugger.core.base.validation", "gru_debugger.core.base.init_schemes"}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_config_sits_at_the_bottom_of_core():
    """The config module imports nothing of the engine: only low-level helpers, directly or not."""
    graph = import_graph()
    reached = _reachable(graph, "gru_debugger.core.base.config")
    engine = {m for m in reached - LOW_LEVEL if not m.startswith("gru_debugger.core.model.cells")}
    assert engine == set()


HEAVY = ("gru_debugger.core.text.tokenizer", "gru_debugger.core.text.bpe_train", "gru_debugger.core.text.bpe_encode",
         "gru_debugger.core.text.data", "gru_debugger.core.model.engine", "gru_debugger.core.model.init",
         "gru_debugger.core.model.edits", "gru_debugger.core.control.controller")


def _examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "index.json")


def test_validating_a_config_does_not_tokenize_or_reach_the_engine():
    """Reading and validating a config (the default, and every shipped example) imports neither
    the tokenizer nor the engine: no corpus is tokenized to check a config's values. One fresh
    interpreter; each config names what it loaded that was not loaded before."""
    examples = _examples()
    assert len(examples) >= 5
    code = (
        "import json, sys\n"
        "from gru_debugger.core.base.config import Config, read_config, validate\n"
        f"heavy = {list(HEAVY)!r}\n"
        "seen = {}\n"
        f"for path in [None] + {[str(EXAMPLES / e) for e in examples]!r}:\n"
        "    cfg = Config() if path is None else read_config(path)\n"
        "    validate(cfg)\n"
        "    cfg.with_changes(hidden_size=3, cell='lstm', init={'x2g.weight': {'scheme': 'normal'}})\n"
        "    seen[str(path)] = [m for m in heavy if m in sys.modules]\n"
        "print(json.dumps(seen))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(seen) == len(examples) + 1
    assert {path: loaded for path, loaded in seen.items() if loaded} == {}


def test_loading_a_config_to_run_still_checks_it_against_its_corpus(tmp_path):
    """load_config (the CLI's and the window's) refuses, naming the file, a batch past the corpus's end."""
    from gru_debugger.core.base.config import ConfigError, read_config
    from gru_debugger.core.storage.config_load import load_config

    path = tmp_path / "late.json"
    path.write_text(json.dumps({"position": 10**6}), encoding="utf-8")
    assert read_config(path).position == 10**6            # its values are fine on their own
    with pytest.raises(ConfigError, match=rf"config {path}: position 1000000 is too late"):
        load_config(path)


def test_every_name_imported_from_the_package_exists():
    """`from .x import name` inside a function runs only when the function does: a name that was
    moved or renamed would reach a user as a traceback (every such import is checked here)."""
    import importlib
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    modules = module_files()
    missing = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            if not base.startswith("gru_debugger"):
                continue
            target = importlib.import_module(base)
            for alias in node.names:
                if alias.name != "*" and not hasattr(target, alias.name) and f"{base}.{alias.name}" not in modules:
                    missing.append(f"{name}:{node.lineno} imports {alias.name} from {base}")
    assert missing == []

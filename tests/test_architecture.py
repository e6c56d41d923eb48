"""The layout holds: steps import only the steps below them, the front door stays light, and no
module or answer-flow function grows past what a reader can take in (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tandem"

# Bottom to top: a folder (or root module) may import only what is listed before it.
LAYERS = [
    "version",
    "lazy",
    "errors",
    "config",
    "documents",
    "encode",
    "storage",
    "index",
    "route",
    "guard",
    "ingest",
    "retrieve",
    "converse",
    "answer",
    "select",
    "generate",
    "verify",
    "trace",
    "pipeline",
    "evaluate",
    "server",
    "cli",
    "tandem",  # the package's __init__: the public API, loaded lazily
]
MODEL_LIBRARIES = ("torch", "onnxruntime", "llama_cpp", "sqlalchemy", "transformers", "sentence_transformers")
MAX_MODULE_LINES = 400
MAX_FLOW_FUNCTION_LINES = 50


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "tandem"


def _imports(path: Path, module: str) -> set[str]:
    """Every tandem module that `path` (module `module`) imports, at the top or inside a function."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "tandem")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if module.split(".")[0] == "tandem":
                found.add(module)
    return found


def _layer_graph() -> dict[str, dict[str, set[str]]]:
    """layer -> imported layer -> the modules that import it."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        for imported in _imports(path, module):
            if _layer(imported) != _layer(module):
                graph[_layer(module)][_layer(imported)].add(module)
    return graph


def test_every_folder_has_a_place_in_the_layers() -> None:
    layers = {_layer(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert layers <= set(LAYERS), f"place {sorted(layers - set(LAYERS))} in LAYERS and docs/architecture.md"


def test_no_step_imports_a_step_above_it() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"{sorted(modules)} ({layer}) imports {imported}"
        for layer, targets in _layer_graph().items()
        for imported, modules in targets.items()
        if rank[imported] > rank[layer]
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_folder_level_import_cycle() -> None:
    graph = {layer: set(targets) for layer, targets in _layer_graph().items()}
    state: dict[str, str] = {}

    def visit(layer: str, path: list[str]) -> list[str] | None:
        state[layer] = "open"
        for nxt in sorted(graph.get(layer, ())):
            if state.get(nxt) == "open":
                return [*path, layer, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, layer])):
                return cycle
        state[layer] = "done"
        return None

    for layer in sorted(graph):
        if layer not in state and (cycle := visit(layer, [])):
            pytest.fail("folder-level import cycle: " + " -> ".join(cycle))


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The graph reads relative and function-level imports too (so the checks above can fail)."""
    module = tmp_path / "probe.py"
    lines = [
        "from ..select import units",
        "def f():",
        "    from tandem.pipeline import Tandem",
        "    import tandem.cli.app",
    ]
    module.write_text("\n".join(lines) + "\n")
    imported = _imports(module, "tandem.verify.probe")
    assert imported == {"tandem.select", "tandem.pipeline", "tandem.cli.app"}


def test_no_module_is_too_long_to_read() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


def test_answer_flow_functions_fit_on_a_screen() -> None:
    long = {}
    for path in (PACKAGE / "pipeline").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FLOW_FUNCTION_LINES:
                    long[f"{path.name}:{node.name}"] = lines
    assert not long, f"break these up (over {MAX_FLOW_FUNCTION_LINES} lines): {long}"


@pytest.mark.parametrize(
    "statement",
    ["import tandem.errors", "import tandem", "from tandem import __version__", "import tandem.cli.app"],
)
def test_the_front_door_loads_no_model_library(statement: str) -> None:
    """`tandem --help` and error handling must not pay for torch, onnxruntime, llama.cpp or SQL."""
    code = f"{statement}\nimport sys\nprint(','.join(m for m in {MODEL_LIBRARIES!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "", f"{statement} loads {loaded.stdout.strip()}"


def test_public_names_load_on_first_use() -> None:
    code = (
        "import sys, tandem\n"
        "assert 'tandem.pipeline.tandem' not in sys.modules\n"
        "from tandem import Tandem, Answer, Citation, SearchFilters, Settings, TandemError\n"
        "assert Tandem.__module__ == 'tandem.pipeline.tandem'\n"
        "print(sorted(tandem.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Tandem" in out.stdout and "__version__" in out.stdout

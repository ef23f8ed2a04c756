"""`care` stays pure: only the standard library and itself, no clock reads, I/O only to load its data."""

import ast
import sys
from pathlib import Path

import pytest

import care

CARE_DIR = Path(care.__file__).parent
MODULES = sorted(CARE_DIR.glob("*.py"))
ALLOWED_ROOTS = set(sys.stdlib_module_names) | {"care"}
CLOCK_READS = {"now", "utcnow", "today", "time_ns", "monotonic", "perf_counter"}
IO_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "urlopen", "connect", "system"}


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _calls(tree: ast.AST) -> list[tuple[str, int]]:
    """Returns (name, line) for every call, by the called name or attribute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((name, node.lineno))
    return found


def _enclosing_function(tree: ast.AST, line: int) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno):
            return node.name
    return "<module>"


def test_care_has_modules_to_check() -> None:
    assert {"dose_schedule.py", "plan.py", "clock.py", "message_schedule.py"} <= {m.name for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_care_imports_only_the_standard_library_and_itself(module: Path) -> None:
    roots = _imported_roots(ast.parse(module.read_text(encoding="utf-8")))
    assert roots <= ALLOWED_ROOTS, f"{module.name} imports {sorted(roots - ALLOWED_ROOTS)}"


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_care_reads_the_clock_only_in_the_system_clock(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    reads = [
        (name, line, _enclosing_function(tree, line)) for name, line in _calls(tree) if name in CLOCK_READS
    ]
    allowed = [("now", "now")] if module.name == "clock.py" else []
    assert [(name, where) for name, _, where in reads] == allowed * len(reads), reads


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_care_does_io_only_in_its_loaders(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    io = [(name, _enclosing_function(tree, line)) for name, line in _calls(tree) if name in IO_CALLS]
    loaders = {"plan.py": "load_plan", "triage.py": "load_policy", "library.py": "load_library"}
    allowed = {("read_text", loaders[module.name])} if module.name in loaders else set()
    assert set(io) <= allowed, io

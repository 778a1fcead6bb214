"""The shape a newcomer can rely on: small modules, short functions, no import cycles inside an app."""

import ast
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every Django app of the project (a folder with apps.py), and the project package.
APPS = sorted({path.parent.name for path in ROOT.glob("*/apps.py")} | {"config"})
# The pose kernel is unrolled for numba; its numpy reference sits beside it for the tests to compare.
LONG_MODULES_ALLOWED = {"analyses/analyzers/pose/kernels.py", "analyses/analyzers/pose/kernels_numpy.py"}
# The styleguide's wiring: services start tasks, tasks call services (imported inside the task).
CYCLES_ALLOWED = {frozenset({"analyses.services.pipeline", "analyses.tasks"})}


def app_modules(app: str) -> dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of the same app imported at module level (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_it_keeps_every_module_in_analyses_under_400_lines():
    long = [
        f"{path.relative_to(ROOT)}: {len(path.read_text().splitlines())}"
        for path in app_modules("analyses").values()
        if len(path.read_text().splitlines()) > 400 and str(path.relative_to(ROOT)) not in LONG_MODULES_ALLOWED
    ]
    assert long == []


def test_it_keeps_every_function_under_60_lines():
    result = subprocess.run(
        [sys.executable, "scripts/long_functions.py", *APPS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_it_has_no_import_cycle_inside_an_app_but_services_and_tasks():
    for app in APPS:
        modules = app_modules(app)
        # A package's __init__ importing its own modules is how a package re-exports, not a cycle.
        graph = {
            name: {dep for dep in top_level_imports(path, set(modules)) if not name or not dep.startswith(name + ".")}
            for name, path in modules.items()
        }
        found = [cycle for cycle in cycles(graph) if frozenset(cycle) not in CYCLES_ALLOWED]
        assert found == [], f"{app}: {found}"


def test_it_runs_the_tests_of_every_app():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "pytest.ini")
    assert set(APPS) <= set(parser["pytest"]["testpaths"].split())

"""List the functions longer than a limit (default 60 lines) in the project's Python code.

Usage: python scripts/long_functions.py [--limit N] [paths...]   (default: the apps and config)
Exits 1 when one is found, so it can guard a check.
"""

import argparse
import ast
import sys
from pathlib import Path

DEFAULT_PATHS = ("accounts", "analyses", "budgets", "playlists", "config")


def functions(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    found = []
    for root in args.paths:
        for path in sorted(Path(root).rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            found += [
                (length, f"{path}:{line} {name}") for name, line, length in functions(path) if length > args.limit
            ]
    for length, where in sorted(found, reverse=True):
        print(f"{length:4d}  {where}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

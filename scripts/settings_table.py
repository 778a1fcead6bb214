"""docs/settings.md from .env.example, the one place every setting is listed with its default.

Usage: python scripts/settings_table.py [--check]   (--check: exit 1 when docs/settings.md differs)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_DOC = ROOT / "docs" / "settings.md"
LINE = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>\S*)\s*(?:#\s*(?P<comment>.*))?$")


def env_example_rows() -> list[tuple[str, str, str, str]]:
    """(section, name, default, comment) for every variable of .env.example, in its order."""
    rows, section = [], ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith("# ---"):
            section = line.removeprefix("# ---").strip()
        elif match := LINE.match(line):
            rows.append((section, match["name"], match["value"], (match["comment"] or "").strip()))
    return rows


def settings_doc() -> str:
    out = [
        "# Settings",
        "",
        "Generated from `.env.example` by `scripts/settings_table.py` (a test fails when they disagree).",
        "Settings are read from the environment in `config/settings.py` only; an empty value counts as",
        "unset, and with nothing set you get the embedded default (SQLite, local memory, tasks in-process).",
    ]
    section = None
    for row_section, name, value, comment in env_example_rows():
        if row_section != section:
            section = row_section
            out += ["", f"## {section}", "", "| variable | default | what it does |", "| --- | --- | --- |"]
        default = f"`{value}`" if value else ""
        out.append(f"| `{name}` | {default} | {comment.replace('|', '/')} |")
    return "\n".join(out) + "\n"


def main() -> int:
    text = settings_doc()
    if "--check" in sys.argv:
        if SETTINGS_DOC.read_text() != text:
            print("docs/settings.md differs from .env.example: run python scripts/settings_table.py")
            return 1
        return 0
    SETTINGS_DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

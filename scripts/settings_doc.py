"""Write docs/settings.md from rag/settings.py: every setting, its variable, type, default
and the comment written beside it. Run after changing a setting:

    .venv/bin/python scripts/settings_doc.py          # rewrite docs/settings.md
    .venv/bin/python scripts/settings_doc.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.settings import ENV_PREFIX, Settings  # noqa: E402

TARGET = REPO / "docs" / "settings.md"
HEAD = """# Settings

Generated from `rag/settings.py` by `scripts/settings_doc.py`; do not edit by hand.

Every setting has a default. Override it with an environment variable (`RAG_TOP_K=8`), or
with a command-line flag where the command has one (`rag ask -k 8`), or in Python
(`Assistant.load(top_k=8)`). Precedence, lowest first: default, environment, flag or
argument. An unknown `RAG_*` variable, a value of the wrong type, a choice outside the
list or a number out of range stops the program with a message naming the setting.

| setting | variable | type | default | what it does |
|---|---|---|---|---|
"""


def comments() -> dict[str, str]:
    """Each field's comment: the comment lines above it (shared by the fields that follow
    them, up to the next comment) and its trailing comment."""
    lines = (REPO / "rag" / "settings.py").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("class Settings:"))
    found, pending, after_field = {}, [], False
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending = [] if after_field else pending
            pending.append(stripped.lstrip("# "))
            after_field = False
            continue
        m = re.match(r"\s{4}(\w+):\s*[^=]+=\s*(.*?)(?:\s+#\s*(.*))?$", line)
        if m:
            found[m.group(1)] = " ".join(pending + ([m.group(3)] if m.group(3) else []))
            after_field = True
        elif not stripped:
            continue
        elif stripped.startswith(("def ", "@")):
            break
    return found


def kind(hint) -> str:
    if get_origin(hint) is Literal:
        return " \\| ".join(f"`{c}`" for c in get_args(hint))
    return getattr(hint, "__name__", str(hint))


def render() -> str:
    notes, hints, default = comments(), get_type_hints(Settings), Settings(home=Path("~/.cache/rag"))
    rows = []
    for f in dataclasses.fields(Settings):
        value = getattr(default, f.name)
        shown = f"`{value}`" if value not in ("", None) else "(empty)"
        rows.append(f"| `{f.name}` | `{ENV_PREFIX}{f.name.upper()}` | {kind(hints[f.name])} | "
                    f"{shown} | {notes.get(f.name, '').replace('|', '/')} |")
    return HEAD + "\n".join(rows) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.is_file() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run .venv/bin/python scripts/settings_doc.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

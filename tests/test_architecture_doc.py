"""docs/ARCHITECTURE.md names only what exists: a newcomer reads it before the code.

A rename or a removed module that the document still names fails here, so the map cannot drift
from the territory again. Checked: every dotted ``bot.…``/``storage.…`` name (a module, or a name
defined in one), every repository path, and in the Parts table every module named in a row's
parentheses, which is relative to the row's folders.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
QUOTED = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"(?:bot|storage)(?:\.[A-Za-z_]\w*)+")
REPOSITORY_PATH = re.compile(r"(?:bot|storage|deploy|docs|tests|bench|\.ci)/[\w/.\-]*")
ROW_MODULE = re.compile(r"(?:\(|, )`([a-z_][a-z0-9_]*)`")


def _defines(module_file: Path, name: str) -> bool:
    """Whether the module defines ``name`` at its top level (a function, class or assignment).

    Names a module only imports do not count: the document must name where a thing lives.
    """
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found = {node.name}
        elif isinstance(node, ast.Assign):
            found = {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found = {node.target.id}
        else:
            continue
        if name in found:
            return True
    return False


def _module_file(dotted: str) -> Path | None:
    """The source file of a dotted module name, without importing it."""
    spec = importlib.util.find_spec(dotted)
    return Path(spec.origin) if spec is not None and spec.origin else None


def _resolves(dotted: str) -> bool:
    """A module, or a name defined in the longest module prefix of ``dotted``."""
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        try:
            module_file = _module_file(".".join(parts[:length]))
        except ModuleNotFoundError:
            continue
        if module_file is None:
            continue
        rest = parts[length:]
        return not rest or _defines(module_file, rest[0])
    return False


QUOTES = sorted(set(QUOTED.findall(DOCUMENT)))


@pytest.mark.parametrize("name", [q for q in QUOTES if DOTTED.fullmatch(q)])
def test_dotted_name_exists(name: str) -> None:
    assert _resolves(name), f"docs/ARCHITECTURE.md names {name}, which the code does not have"


def _outside_examples(document: str) -> str:
    """The document without its "Extension points" section, whose paths are new files to write."""
    head, _, rest = document.partition("\n## Extension points\n")
    _, _, tail = rest.partition("\n## ")
    return head + ("\n## " + tail if tail else "")


EXISTING_PATHS = sorted(
    {q for q in QUOTED.findall(_outside_examples(DOCUMENT)) if REPOSITORY_PATH.fullmatch(q)}
)


@pytest.mark.parametrize("path", EXISTING_PATHS)
def test_path_exists(path: str) -> None:
    assert (ROOT / path.rstrip("/")).exists(), f"docs/ARCHITECTURE.md names {path}, not in the tree"


def _parts_rows() -> list[tuple[list[Path], str]]:
    """The Parts table: each row's folders and its "job" cell."""
    rows = []
    for line in DOCUMENT.splitlines():
        cells = line.split("|")
        if not line.startswith("| `") or len(cells) < 4:
            continue
        folders = [ROOT / p.rstrip("/") for p in QUOTED.findall(cells[1]) if p.endswith("/")]
        if folders:
            rows.append((folders, cells[2]))
    return rows


@pytest.mark.parametrize(
    ("folders", "module"),
    [(folders, module) for folders, job in _parts_rows() for module in ROW_MODULE.findall(job)],
    ids=lambda value: value if isinstance(value, str) else "+".join(p.name for p in value),
)
def test_parts_table_module_exists(folders: list[Path], module: str) -> None:
    assert any(
        (folder / f"{module}.py").exists() or (folder / module).is_dir() for folder in folders
    ), f"the Parts table row for {[f.name for f in folders]} names `{module}`, which it lacks"


def test_the_document_is_checked() -> None:
    """The patterns above still find what the document names (a format change would hide it)."""
    assert len([q for q in QUOTES if DOTTED.fullmatch(q)]) > 10
    assert sum(len(ROW_MODULE.findall(job)) for _, job in _parts_rows()) > 40

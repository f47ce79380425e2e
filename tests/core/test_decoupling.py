"""The seams hold: the core imports no module, and no module imports another one
(they meet through registries, hooks and switch.services — docs/plugins.md).  Checked on
the source, every import statement including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def _offenders(files, allowed) -> list[str]:
    bad = []
    for path in files:
        if "__pycache__" in path.parts:
            continue
        for line, name in _imports(path):
            top = name.split(".")
            if top[0] in ("fsd_modules", "plugins") and not allowed(path, top):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def test_the_core_imports_no_module():
    bad = _offenders(sorted((ROOT / "fsd").rglob("*.py")), lambda path, top: False)
    assert not bad, "the core must not import modules:\n" + "\n".join(bad)


def test_no_module_imports_another():
    def own(path: Path, top: list[str]) -> bool:
        mod = path.relative_to(ROOT / "plugins").parts[0]
        return top[0] == "fsd_modules" and (len(top) == 1 or top[1] == mod)

    bad = _offenders(sorted((ROOT / "plugins").rglob("*.py")), own)
    assert not bad, ("modules meet through registries, hooks and switch.services, not "
                     "imports:\n" + "\n".join(bad))

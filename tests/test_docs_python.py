"""Every ```python example in the documentation still matches the real Python API.

Guards against docs drifting from the code, statically (nothing is run, trained or written):
each block must parse, every name it imports from latentplay must exist, and every attribute
chain on such a name (``store.load_images``, ``metrics.score``) must resolve. Every call of one
of them must bind to its ``inspect.signature``: a renamed or removed keyword, a keyword-only
argument passed by position, or a missing required argument fails, naming the doc line.

Names that come from elsewhere (``z``, ``F``, results of calls) are placeholders or values and
are not followed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import latentplay

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "configs/models/README.md",
        ROOT / "DEVELOPERS.md"]

FENCE = re.compile(r"^\s*```\s*(\S*)")
_MISSING = object()


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number of the first code line, code)`` of every ```python block in ``text``."""
    blocks: list[tuple[int, str]] = []
    fence: str | None = None
    start, lines = 0, []
    for number, line in enumerate(text.splitlines(), 1):
        if match := FENCE.match(line):
            if fence is None:
                fence, start, lines = match.group(1), number + 1, []
            else:
                if fence == "python":
                    blocks.append((start, "\n".join(lines)))
                fence = None
        elif fence is not None:
            lines.append(line)
    return blocks


def _import(module: str, name: str) -> Any:
    """``from module import name``: an attribute of ``module`` or its submodule, else missing."""
    value = getattr(importlib.import_module(module), name, _MISSING)
    if value is _MISSING:
        try:
            value = importlib.import_module(f"{module}.{name}")
        except ModuleNotFoundError:
            pass
    return value


def _imported(tree: ast.Module) -> tuple[dict[str, Any], list[str]]:
    """The names bound to latentplay objects by the imports in ``tree``, and import problems."""
    names: dict[str, Any] = {}
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "latentplay":
            for alias in node.names:
                value = _import(node.module, alias.name)
                if value is _MISSING:
                    problems.append(f"line {node.lineno}: {node.module} has no {alias.name}")
                else:
                    names[alias.asname or alias.name] = value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "latentplay":
                    module = importlib.import_module(alias.name)  # ``import a.b`` binds ``a``
                    names[alias.asname or "latentplay"] = module if alias.asname else latentplay
    return names, problems


def _chain(node: ast.expr) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]``; None for anything that is not a dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _bind(func: Any, call: ast.Call) -> str | None:
    """Why ``call``'s arguments do not bind to ``func``'s signature (None when they do, or when
    the call unpacks ``*args`` / ``**kwargs`` or ``func`` has no signature)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*[None] * len(call.args), **{k.arg: None for k in call.keywords})
    except TypeError as exc:
        return str(exc)
    return None


def check_block(code: str, first_line: int = 1) -> list[str]:
    """Problems of one ```python block whose code starts on line ``first_line`` of its file: a
    syntax error, a latentplay name that does not exist, an attribute chain that does not
    resolve, a call whose arguments do not bind."""
    try:
        tree = ast.increment_lineno(ast.parse(code), first_line - 1)
    except SyntaxError as exc:
        return [f"line {(exc.lineno or 1) + first_line - 1}: does not parse: {exc.msg}"]
    names, problems = _imported(tree)
    calls = {id(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Name, ast.Attribute)) or id(node) in inner:
            continue  # only whole chains: ``a.b.c``, not its ``a.b`` again
        parts = _chain(node)
        if parts is None or parts[0] not in names:
            continue
        value = names[parts[0]]
        for k, attr in enumerate(parts[1:], 1):
            value = getattr(value, attr, _MISSING)
            if value is _MISSING:
                problems.append(f"line {node.lineno}: {'.'.join(parts[:k])} has no attribute {attr}")
                break
        else:
            if id(node) in calls and (why := _bind(value, calls[id(node)])):
                problems.append(f"line {node.lineno}: {'.'.join(parts)}(...): {why}")
    return problems


CASES = [(path, line, code) for path in DOCS if path.exists()
         for line, code in python_blocks(path.read_text(encoding="utf-8"))]


def test_docs_have_python_examples() -> None:
    assert len(CASES) >= 8, [f"{p.name}:{line}" for p, line, _ in CASES]


@pytest.mark.parametrize(("path", "line", "code"), CASES,
                         ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, _ in CASES])
def test_python_example_matches_api(path: Path, line: int, code: str) -> None:
    problems = check_block(code, line)
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_extractor_finds_python_blocks_only() -> None:
    text = "intro\n```python\nx = 1\ny = 2\n```\n```bash\nls\n```\n```python\nz = 3\n```\n"
    assert python_blocks(text) == [(3, "x = 1\ny = 2"), (10, "z = 3")]


@pytest.mark.parametrize(("code", "expected"), [
    ("from latentplay.match import match\nmatch(z, t, methd='propensity')",
     "unexpected keyword argument 'methd'"),
    ("from latentplay import store\nstore.save(s, p, True)", "too many positional"),
    ("from latentplay import store\nstore.vectors(s)", "missing a required argument"),
    ("from latentplay import store\nstore.no_such_function(s)", "has no attribute no_such_function"),
    ("from latentplay.match import match, no_such_name", "has no no_such_name"),
    ("from latentplay import metrics\nmetrics.score('mig', factors=F,", "does not parse"),
])
def test_checker_reports_broken_examples(code: str, expected: str) -> None:
    problems = check_block(code)
    assert any(expected in p for p in problems), problems


def test_checker_names_the_doc_line() -> None:
    code = "from latentplay.report import build_report\n\nbuild_report('runs/cvae', 'a.html', 'b')"
    assert check_block(code, 40) == ["line 42: build_report(...): too many positional arguments"]
    assert check_block("x = (", 40)[0].startswith("line 40: does not parse")


def test_checker_accepts_a_correct_example() -> None:
    code = ("from latentplay import metrics, store\nimport latentplay.match as lm\n"
            "metrics.score('mig', factors=F, codes=C)\nstore.load_images(s, range(4))\n"
            "lm.match(z, t, method='propensity', caliper=0.2)")
    assert check_block(code) == []

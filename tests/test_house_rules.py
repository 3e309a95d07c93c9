"""House rules that keep one source of truth (issue 14 requirement 4, STYLE.md), checked over the
product's source, so a regression names the file and line:

* the domain vocabulary (门类, 密级, field kinds, document ids) is spelt out only in indexer/vocab.py;
* search_app/config.py is the only module that touches os.environ;
* no `assert` guards a runtime condition (python -O removes it);
* audit actions are named by the Action enum, never by a bare string;
* no module of search_app/ is over MAX_MODULE_LINES lines (STYLE.md: split before they grow).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from indexer.vocab import CATEGORIES, CLASSIFICATIONS, PII_KINDS
from search_app.audit.actions import Action

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = sorted(p for d in ("search_app", "indexer", "workers") for p in (ROOT / d).rglob("*.py")
                 if "migrations" not in p.parts)
VOCAB = ROOT / "indexer" / "vocab.py"
CONFIG = ROOT / "search_app" / "config.py"
ACTIONS = ROOT / "search_app" / "audit" / "actions.py"
ACTION_VALUES = {a.value for a in Action}


def _trees():
    for path in PRODUCT:
        yield path.relative_to(ROOT), path, ast.parse(path.read_text("utf-8"), str(path))


def _strings(node: ast.AST) -> list[str]:
    elts = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
    return [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]


def test_domain_vocabulary_is_defined_only_in_indexer_vocab() -> None:
    """A literal collection naming two or more 门类, 密级 or field kinds is a second copy of the
    vocabulary; so is a document id spelt "…#p{n:04d}" anywhere but indexer.vocab.doc_id."""
    copies = []
    for rel, path, tree in _trees():
        if path == VOCAB:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                words = set(_strings(node))
                for name, vocab in (("门类", CATEGORIES), ("密级", CLASSIFICATIONS),
                                    ("field kinds", PII_KINDS)):
                    if len(words & set(vocab)) >= 2:
                        copies.append(f"{rel}:{node.lineno}: {name} {sorted(words & set(vocab))}")
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if "#p" in text and any(isinstance(v, ast.FormattedValue) for v in node.values):
                    copies.append(f"{rel}:{node.lineno}: a document id format")
    assert not copies, "domain vocabulary defined outside indexer/vocab.py:\n" + "\n".join(copies)


# No exceptions: Tesseract's thread count is set by search_app.config.init_process at start-up.
KNOWN_ENV_WRITERS: set[str] = set()


def test_only_the_config_module_touches_the_environment() -> None:
    found = []
    for rel, path, tree in _trees():
        if path == CONFIG or str(rel) in KNOWN_ENV_WRITERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{rel}:{node.lineno}: os.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "os" \
                    and {a.name for a in node.names} & {"environ", "getenv", "putenv"}:
                found.append(f"{rel}:{node.lineno}: from os import …")
    assert not found, "the environment is read or written outside search_app/config.py:\n" \
                      + "\n".join(found)


def test_no_assert_guards_a_runtime_condition() -> None:
    found = [f"{rel}:{node.lineno}" for rel, _, tree in _trees()
             for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert not found, "assert in product code (removed by python -O; raise a named error):\n" \
                      + "\n".join(found)


def _bare_actions(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "action" and isinstance(kw.value, ast.Constant) \
                        and kw.value.value in ACTION_VALUES:
                    out.append((node.lineno, kw.value.value))
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name.startswith("_audit") or name == "record_event":
                out += [(node.lineno, a.value) for a in node.args
                        if isinstance(a, ast.Constant) and a.value in ACTION_VALUES]
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "action" for s in sides):
                out += [(node.lineno, s.value) for s in sides
                        if isinstance(s, ast.Constant) and s.value in ACTION_VALUES]
    return out


def test_audit_actions_are_named_by_the_enum() -> None:
    found = [f"{rel}:{line}: {value!r} (Action.{Action(value).name})"
             for rel, path, tree in _trees() if path != ACTIONS
             for line, value in _bare_actions(tree)]
    assert not found, "audit actions written as bare strings:\n" + "\n".join(found)


MAX_MODULE_LINES = 300  # STYLE.md: "Modules under ~300 lines; split before they grow."


def test_search_app_modules_stay_small() -> None:
    """A module past the limit is split by what it does (a package with a facade __init__ that
    re-exports, as search_app.search, search_app.cli and search_app.backup are), not trimmed."""
    big = [f"{rel}: {n} lines" for rel, path, _ in _trees() if rel.parts[0] == "search_app"
           and (n := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not big, f"modules over {MAX_MODULE_LINES} lines (split them):\n" + "\n".join(big)


@pytest.mark.parametrize("source,expected", [
    ('record_event(a, Event(action="search", outcome="allowed"))', 1),
    ('_audit("cli.demo", queue=q)', 1),
    ('if rec.action == "pii.lookup": pass', 1),
    ('record_event(a, Event(action=Action.SEARCH, outcome="allowed"))', 0),
])
def test_the_action_check_recognises_bare_strings(source, expected) -> None:
    """Control: the scan above finds each form it looks for (else passing it proves nothing)."""
    assert len(_bare_actions(ast.parse(source))) == expected

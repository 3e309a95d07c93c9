"""Narrowing and widening a query by its text, for the results page: a facet value adds a field
filter (`门类:户籍档案`), a chip names one filter or exclusion of the query and the query
without it. Pure functions over the query text; every query they return parses.
"""
from __future__ import annotations

from typing import Any

from indexer.vocab import SEED_VOCABULARY, Vocabulary
from search_app.search._parse import FIELDS, Filter, QuerySyntaxError, _atom, _tokens, parse

# facet name -> the field name users type
FACET_FIELDS = {"category": "门类", "unit": "单位", "year": "年度", "classification": "密级"}
_LABELS = {"archive_no": "档号", "title": "题名", "category": "门类", "unit": "单位",
           "year": "年度", "classification": "密级", "fonds_no": "全宗",
           "retention": "保管期限"}


def _render(tokens: list[tuple[str, bool]]) -> str:
    out = []
    for text, quoted in tokens:
        if quoted:
            neg = text.startswith("-")
            out.append(('-"' if neg else '"') + text[1 if neg else 0:] + '"')
        else:
            out.append(text)
    return " ".join(out)


def _parses(raw: str, vocab: Vocabulary) -> bool:
    try:
        parse(raw, vocab)
    except QuerySyntaxError:
        return False
    return True


def chips(raw: str, vocab: Vocabulary = SEED_VOCABULARY) -> list[dict[str, Any]]:
    """One chip per filter and exclusion of `raw`: {label, without} (without: the query with
    it removed, or "" when nothing would be left to search)."""
    try:
        tokens = _tokens(raw)
        parse(raw, vocab)
    except QuerySyntaxError:
        return []
    out = []
    for i, (text, quoted) in enumerate(tokens):
        word = "" if quoted else text
        if word in ("OR", "AND", "NOT", "|", "&", "或"):
            continue
        negative = (text.startswith(("-", "－")) and len(text) > 1) or \
            (i > 0 and not tokens[i - 1][1] and tokens[i - 1][0] == "NOT")
        body = text[1:] if text.startswith(("-", "－")) and len(text) > 1 else text
        try:
            atom = _atom(body, quoted, vocab)
        except QuerySyntaxError:
            continue
        is_filter = isinstance(atom, Filter)
        if not (is_filter or negative):
            continue
        drop = {i}
        if i > 0 and tokens[i - 1] == ("NOT", False):
            drop.add(i - 1)
        if i > 0 and tokens[i - 1] == ("OR", False):
            drop.add(i - 1)
        elif i + 1 < len(tokens) and tokens[i + 1] == ("OR", False):
            drop.add(i + 1)
        rest = _render([t for j, t in enumerate(tokens) if j not in drop])
        if is_filter:
            value = atom.value if not isinstance(atom.value, tuple) else (
                str(atom.value[0]) if atom.value[0] == atom.value[1]
                else f"{atom.value[0]}-{atom.value[1]}")
            label = f"{_LABELS[atom.field]}：{value}"
        else:
            label = atom.text
        label = ("排除 " + label) if negative else label
        out.append({"label": label, "without": rest if rest and _parses(rest, vocab) else ""})
    return out


def facet_query(raw: str, facet: str, value: Any,
                vocab: Vocabulary = SEED_VOCABULARY) -> str | None:
    """`raw` narrowed to one facet value, or None when the query already has that filter."""
    name = FACET_FIELDS[facet]
    token = f"{name}:{value}"
    tokens = _tokens(raw)
    key = FIELDS[name]
    for text, quoted in tokens:
        if not quoted and ":" in text.replace("：", ":"):
            field, _, val = text.replace("：", ":").partition(":")
            if FIELDS.get(field) == key and val == str(value):
                return None
    narrowed = f"{raw.strip()} {token}"
    return narrowed if _parses(narrowed, vocab) else None


def refinements(raw: str, facets: dict[str, list[tuple[Any, int]]],
                vocab: Vocabulary = SEED_VOCABULARY) -> dict[str, dict[str, str]]:
    """facet -> value -> the query narrowed to it (values already filtered on are left out).
    `vocab`: the 门类, 密级 and 保管期限 a filter may name (the search passes the catalogue's)."""
    out: dict[str, dict[str, str]] = {}
    for facet, values in facets.items():
        if facet not in FACET_FIELDS:
            continue
        for value, _count in values:
            q = facet_query(raw, facet, value, vocab)
            if q:
                out.setdefault(facet, {})[str(value)] = q
    return out

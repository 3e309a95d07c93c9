"""Query construction: a parsed query (search_app.search._parse) → an OpenSearch body. The
permission filter is not added here: the choke point's ScopedIndex wraps every body it sends
(search_app/search/_choke.py), so nothing built here can widen what a grant covers.

A word matches as an exact phrase on the unigram field, by character bigrams (tolerates an OCR
slip in a long word), or by jieba words; a quoted phrase only exactly. Filters narrow without
scoring; excluded words and filters only ever remove pages.
"""
from __future__ import annotations

from typing import Any

from indexer.tokenize import pretokenized
from search_app.search._parse import MAX_QUERY_CHARS, YEAR, Filter, Query, Term, parse

__all__ = ["RESULT_FIELDS", "FACETS", "MAX_QUERY_CHARS", "SORTS", "build_query", "parse"]

# Fields a hit may show. Keyed hashes (pii_hmac, subject_hmac) never leave the service.
RESULT_FIELDS = ["doc_id", "archive_no", "title", "category", "unit", "year", "classification",
                 "page_no", "page_count", "text_source", "ocr_confidence"]
FACETS = {"category": "category", "unit": "unit", "year": "year", "classification": "classification"}
SORTS = {"relevance": "相关度", "year_desc": "年度（新→旧）", "year_asc": "年度（旧→新）",
         "archive_no": "档号"}
_SORT_BODY: dict[str, list[Any]] = {
    "relevance": ["_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "year_desc": [{"year": "desc"}, "_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "year_asc": [{"year": "asc"}, "_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "archive_no": [{"archive_no": "asc"}, {"page_no": "asc"}],
}


def term_clause(term: Term) -> dict[str, Any]:
    should: list[dict[str, Any]] = [
        {"match_phrase": {"text.uni": {"query": term.text, "boost": 3}}},
        {"match_phrase": {"title.uni": {"query": term.text, "boost": 4}}},
    ]
    if not term.phrase:
        if len(term.text) >= 4:
            should.append({"match": {"text": {"query": term.text, "minimum_should_match": "75%"}}})
        jieba_terms = pretokenized(term.text)
        if jieba_terms:
            should.append({"match": {"text_jieba": {"query": jieba_terms, "operator": "and",
                                                    "boost": 2}}})
        if YEAR.fullmatch(term.text):  # a bare 2023: the page text or the file's 年度
            should.append({"term": {"year": {"value": int(term.text), "boost": 2}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def exact_clause(term: Term) -> dict[str, Any]:
    """What NOT excludes: the word as written (never its fuzzy bigram neighbours, which would
    also remove pages that merely share a character pair)."""
    return {"bool": {"should": [{"match_phrase": {"text.uni": term.text}},
                                {"match_phrase": {"title.uni": term.text}}],
                     "minimum_should_match": 1}}


def filter_clause(f: Filter) -> dict[str, Any]:
    if f.field == "year":
        lo, hi = f.value  # type: ignore[misc]
        return {"range": {"year": {"gte": lo, "lte": hi}}}
    if f.field == "archive_no":
        return {"prefix": {"archive_no": f.value}}
    if f.field == "title":
        return {"match_phrase": {"title.uni": f.value}}
    return {"term": {f.field: f.value}}


def _atom_clause(atom: Term | Filter) -> dict[str, Any]:
    return term_clause(atom) if isinstance(atom, Term) else filter_clause(atom)


def _one_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses,
                                                          "minimum_should_match": 1}}


def query_clause(q: Query) -> dict[str, Any]:
    must, filt = [], []
    for group in q.groups:
        clause = _one_of([_atom_clause(a) for a in group])
        (must if any(isinstance(a, Term) for a in group) else filt).append(clause)
    body: dict[str, Any] = {"must": must or [{"match_all": {}}], "filter": filt}
    if q.excluded:
        body["must_not"] = [exact_clause(a) if isinstance(a, Term) else filter_clause(a)
                            for a in q.excluded]
    return {"bool": body}


def build_query(query: Query | str, *, offset: int, size: int,
                sort: str = "relevance") -> dict[str, Any]:
    q = parse(query) if isinstance(query, str) else query
    return {
        "from": offset,
        "size": size,
        "track_total_hits": True,
        "sort": _SORT_BODY.get(sort, _SORT_BODY["relevance"]),
        "_source": {"includes": RESULT_FIELDS},
        "query": query_clause(q),
        "highlight": {
            "type": "unified",  # its no-match excerpt is HTML-encoded too; templates render |safe
            "encoder": "html",
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": {
                "text.uni": {"fragment_size": 90, "number_of_fragments": 3, "no_match_size": 90},
                "text": {"fragment_size": 90, "number_of_fragments": 3},
            },
        },
        "aggs": {name: {"terms": {"field": field, "size": 20}} for name, field in FACETS.items()},
    }

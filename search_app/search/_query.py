"""Query construction: a parsed query (search_app.search._parse) → an OpenSearch body. The
permission filter is not added here: the choke point's ScopedIndex wraps every body it sends
(search_app/search/_choke.py), so nothing built here can widen what a grant covers.

A word matches as an exact phrase on the unigram field, or (unquoted, 5+ characters) with one
character misread, ranked below the exact matches; a quoted phrase only exactly. Filters narrow
without scoring; excluded words and filters only ever remove pages.

The OCR-slip clauses are most of the engine's time (bench/search_bench.py --ablation: half the
mean, 4x the p99), so a page search runs in two passes (search_app.search._hits.flat_run): the
exact query first (`slip=False`), and only when it leaves the requested page short, or found
fewer than SEARCH_SLIP_BELOW pages, `build_slip_query`: the full query, its hits cut by a
post_filter to the pages the exact query does not match (so the two lists never overlap), its
facets over both.

Grouped by file (`group=file`): the same clauses run against the file-level documents (one per
档号 and access scope, indexer.index.build_file_documents), so a file matches when every word
occurs on some page of it; a second query over the pages of the files shown picks each file's
best pages and snippets, and checks that the pages the grant covers still hold every word.
"""
from __future__ import annotations

import re
from typing import Any

from indexer.tokenize import pretokenized
from search_app.search._parse import MAX_QUERY_CHARS, YEAR, Filter, Query, Term, parse

__all__ = ["TOTAL_HITS_CAP", "RESULT_FIELDS", "FILE_FIELDS", "FACETS", "MAX_QUERY_CHARS", "SORTS",
           "GROUPS", "build_query", "build_slip_query", "build_file_query", "build_file_pages_query",
           "has_slip", "parse", "relaxed"]

# Fields a hit may show. Keyed hashes (pii_hmac, subject_hmac) never leave the service.
RESULT_FIELDS = ["doc_id", "archive_no", "title", "category", "unit", "year", "classification",
                 "page_no", "page_count", "text_source", "ocr_confidence"]
FILE_FIELDS = ["doc_id", "archive_no", "title", "category", "unit", "year", "classification",
               "page_count"]
GROUPS = {"page": "按页", "file": "按案卷"}
FACETS = {"category": "category", "unit": "unit", "year": "year", "classification": "classification"}
# Hits are counted exactly up to this many (the deepest a reader can page, max_result_window):
# beyond it the total is a lower bound ("10000+"). Counting every match exactly cost about a
# fifth of the engine time of a common word's search in bench/search_bench.py --ablation.
TOTAL_HITS_CAP = 10_000
SORTS = {"relevance": "相关度", "year_desc": "年度（新→旧）", "year_asc": "年度（旧→新）",
         "archive_no": "档号"}
_SORT_BODY: dict[str, list[Any]] = {
    "relevance": ["_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "year_desc": [{"year": "desc"}, "_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "year_asc": [{"year": "asc"}, "_score", {"archive_no": "asc"}, {"page_no": "asc"}],
    "archive_no": [{"archive_no": "asc"}, {"page_no": "asc"}],
}


# OCR-slip tolerance applies to words of at least this many characters (tokens), up to
# MAX_SLIP_UNITS (a longer phrase keeps its exact clauses only: one variant per character).
MIN_SLIP_UNITS = 5
MAX_SLIP_UNITS = 40
SLIP_BOOST = 0.2  # a page matched only with one character misread ranks below exact ones
_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[0-9a-z]+")


def units(text: str) -> list[str]:
    """The word's tokens as the unigram field sees them: one per CJK character, one per run of
    Latin letters or digits (punctuation and spaces are not positions)."""
    return _UNIT.findall(text)


def slip_variants(text: str) -> list[str]:
    """The word with one token left out at each position. Matched as a phrase with slop 1 on
    the unigram field, each finds the word with that token misread (another character in its
    place), dropped or split; a page needs all the other tokens, in order and adjacent, so an
    unrelated page does not match by sharing a few character pairs."""
    toks = units(text)
    if not MIN_SLIP_UNITS <= len(toks) <= MAX_SLIP_UNITS:
        return []
    return list(dict.fromkeys(" ".join(toks[:i] + toks[i + 1:]) for i in range(len(toks))))


def has_slip(q: Query) -> bool:
    """Whether any word `q` must match has OCR-slip clauses (else its exact query is the whole
    query and a second pass could find nothing more)."""
    return any(isinstance(a, Term) and not a.phrase and slip_variants(a.text)
               for g in q.groups for a in g)


def match_clauses(term: Term, *, slip: bool = True) -> list[dict[str, Any]]:
    """Ways a page or file matches `term`: the exact phrase (text or title), one OCR slip in a
    long unquoted word (unless `slip` is False: the first pass), a bare year as the 年度."""
    out: list[dict[str, Any]] = [
        {"match_phrase": {"text.uni": {"query": term.text, "boost": 3}}},
        {"match_phrase": {"title.uni": {"query": term.text, "boost": 4}}},
    ]
    if not term.phrase:
        variants = slip_variants(term.text) if slip else []
        if variants:
            out.append({"bool": {"should": [{"match_phrase": {"text.uni": {"query": v, "slop": 1}}}
                                            for v in variants],
                                 "minimum_should_match": 1, "boost": SLIP_BOOST}})
        if YEAR.fullmatch(term.text):  # a bare 2023: the page text or the file's 年度
            out.append({"term": {"year": {"value": int(term.text), "boost": 2}}})
    return out


def relaxed(q: Query) -> Query | None:
    """`q` with its long quoted phrases matched with one OCR slip too, or None if it has none:
    asked only when the exact query found nothing (the result says so), so a quoted phrase
    keeps meaning "exactly this" whenever an exact page exists. Exclusions stay exact."""
    def loosen(atom: Term | Filter) -> Term | Filter:
        if isinstance(atom, Term) and atom.phrase and slip_variants(atom.text.replace(" ", "")):
            return Term(atom.text.replace(" ", ""), phrase=False)
        return atom
    groups = [[loosen(a) for a in g] for g in q.groups]
    return Query(groups=groups, excluded=list(q.excluded)) if groups != q.groups else None


def term_clause(term: Term, *, slip: bool = True) -> dict[str, Any]:
    """Must match one of match_clauses; jieba words only add to the score (as a matching
    alternative they let a page through that merely holds the words somewhere)."""
    clause: dict[str, Any] = {"should": match_clauses(term, slip=slip), "minimum_should_match": 1}
    jieba_terms = pretokenized(term.text) if not term.phrase else ""
    if jieba_terms:
        clause = {"must": [{"bool": clause}],
                  "should": [{"match": {"text_jieba": {"query": jieba_terms, "boost": 0.5}}}]}
    return {"bool": clause}


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


def _atom_clause(atom: Term | Filter, *, slip: bool = True) -> dict[str, Any]:
    return term_clause(atom, slip=slip) if isinstance(atom, Term) else filter_clause(atom)


def _one_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses,
                                                          "minimum_should_match": 1}}


def query_clause(q: Query, *, slip: bool = True) -> dict[str, Any]:
    must, filt = [], []
    for group in q.groups:
        clause = _one_of([_atom_clause(a, slip=slip) for a in group])
        (must if any(isinstance(a, Term) for a in group) else filt).append(clause)
    body: dict[str, Any] = {"must": must or [{"match_all": {}}], "filter": filt}
    if q.excluded:
        body["must_not"] = [exact_clause(a) if isinstance(a, Term) else filter_clause(a)
                            for a in q.excluded]
    return {"bool": body}


_HIGHLIGHT: dict[str, Any] = {
    "type": "unified",  # its no-match excerpt is HTML-encoded too; templates render |safe
    "encoder": "html",
    "pre_tags": ["<mark>"],
    "post_tags": ["</mark>"],
    # text.uni only: every match clause is on it (the `text` field itself is not indexed, see
    # docs/scaling.md); a page matched by its title or 年度 alone gets the no-match excerpt
    "fields": {
        "text.uni": {"fragment_size": 90, "number_of_fragments": 3, "no_match_size": 90},
    },
}
_FILE_SORT: dict[str, list[Any]] = {
    "relevance": ["_score", {"archive_no": "asc"}],
    "year_desc": [{"year": "desc"}, "_score", {"archive_no": "asc"}],
    "year_asc": [{"year": "asc"}, "_score", {"archive_no": "asc"}],
    "archive_no": [{"archive_no": "asc"}],
}


def _facets() -> dict[str, Any]:
    return {name: {"terms": {"field": field, "size": 20}} for name, field in FACETS.items()}


def build_query(query: Query | str, *, offset: int, size: int, sort: str = "relevance",
                slip: bool = True) -> dict[str, Any]:
    """One page of hits with totals and facets; `slip=False` leaves the OCR-slip clauses out
    (the first pass of a page search: exact matches only)."""
    q = parse(query) if isinstance(query, str) else query
    return {
        "from": offset,
        "size": size,
        "track_total_hits": TOTAL_HITS_CAP,
        "sort": _SORT_BODY.get(sort, _SORT_BODY["relevance"]),
        "_source": {"includes": RESULT_FIELDS},
        "query": query_clause(q, slip=slip),
        "highlight": _HIGHLIGHT,
        "aggs": _facets(),
    }


def build_slip_query(q: Query, *, offset: int, size: int, sort: str = "relevance") -> dict[str, Any]:
    """The second pass: the full query (exact and OCR-slip clauses), scored as before. Its hits
    and total are cut by a post_filter to the pages the first pass's exact query does *not*
    match, so `offset` counts within the slip-only list and no page is in both lists; a
    post_filter does not narrow aggregations, so the facets count exact and slip-only pages
    together (what the combined total counts). The permission filter wraps `query` only: the
    post_filter can only narrow further."""
    body = build_query(q, offset=offset, size=size, sort=sort, slip=True)
    body["post_filter"] = {"bool": {"must_not": [query_clause(q, slip=False)]}}
    return body


def build_file_query(q: Query, *, offset: int, size: int, sort: str = "relevance") -> dict[str, Any]:
    """Files (file-level documents) matching every group somewhere in them; one hit per 档号
    (collapse: a file split into access scopes has several documents), counted by 档号, with
    facets over files."""
    return {
        "from": offset,
        "size": size,
        "track_total_hits": False,  # files are counted by the cardinality of 档号 below
        "sort": _FILE_SORT.get(sort, _FILE_SORT["relevance"]),
        "_source": {"includes": FILE_FIELDS},
        "query": query_clause(q),
        "collapse": {"field": "archive_no"},
        "aggs": {**_facets(), "files": {"cardinality": {"field": "archive_no",
                                                        "precision_threshold": 10000}}},
    }


def build_file_pages_query(q: Query, archive_nos: list[str], *, per_file: int) -> dict[str, Any]:
    """The pages of `archive_nos` that match any group, best first per file (collapse with
    inner hits, highlighted), and per file and group the number of matching pages: a file is
    shown only if the pages the grant covers hold every group (the file document might be older
    than its pages)."""
    term_groups = [g for g in q.groups if any(isinstance(a, Term) for a in g)]
    filters = [_one_of([_atom_clause(a) for a in g]) for g in q.groups if g not in term_groups]
    group_clauses = [_one_of([_atom_clause(a) for a in g]) for g in term_groups]
    body: dict[str, Any] = {"filter": [{"terms": {"archive_no": archive_nos}}, *filters]}
    if group_clauses:
        body["should"], body["minimum_should_match"] = group_clauses, 1
    if q.excluded:
        body["must_not"] = [exact_clause(a) if isinstance(a, Term) else filter_clause(a)
                            for a in q.excluded]
    return {
        "size": len(archive_nos),
        "_source": False,
        "query": {"bool": body},
        "collapse": {"field": "archive_no", "inner_hits": {
            "name": "best", "size": per_file, "_source": {"includes": RESULT_FIELDS},
            "sort": ["_score", {"page_no": "asc"}], "highlight": _HIGHLIGHT}},
        "aggs": {"per_file": {"terms": {"field": "archive_no", "size": len(archive_nos)},
                              "aggs": {f"g{i}": {"filter": c}
                                       for i, c in enumerate(group_clauses)}}},
    }

"""Query construction: a user's words → an OpenSearch body, with the permission filter required.

Every whitespace-separated term must match. A term matches as an exact phrase on the unigram
field, by character bigrams (tolerates an OCR slip in a long term), or by jieba words.
"""
from __future__ import annotations

from typing import Any

from indexer.normalise import for_search
from indexer.tokenize import pretokenized

# Fields a hit may show. Keyed hashes (pii_hmac, subject_hmac) never leave the service.
RESULT_FIELDS = ["doc_id", "archive_no", "title", "category", "unit", "year", "classification",
                 "page_no", "page_count", "text_source", "ocr_confidence"]
FACETS = {"category": "category", "unit": "unit", "year": "year", "classification": "classification"}
MAX_QUERY_CHARS = 200


def term_clause(term: str) -> dict[str, Any]:
    should: list[dict[str, Any]] = [
        {"match_phrase": {"text.uni": {"query": term, "boost": 3}}},
        {"match_phrase": {"title.uni": {"query": term, "boost": 4}}},
    ]
    if len(term) >= 4:
        should.append({"match": {"text": {"query": term, "minimum_should_match": "75%"}}})
    jieba_terms = pretokenized(term)
    if jieba_terms:
        should.append({"match": {"text_jieba": {"query": jieba_terms, "operator": "and",
                                                "boost": 2}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def split_terms(query: str) -> list[str]:
    return [t for t in for_search(query[:MAX_QUERY_CHARS]).split() if t]


def build_query(query: str, permission: dict[str, Any], *, offset: int, size: int) -> dict[str, Any]:
    terms = split_terms(query)
    return {
        "from": offset,
        "size": size,
        "track_total_hits": True,
        "_source": {"includes": RESULT_FIELDS},
        "query": {"bool": {"must": [term_clause(t) for t in terms], "filter": [permission]}},
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

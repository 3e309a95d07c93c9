"""The index stage: turn a prepared page into the OpenSearch document (redacted fields only)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from indexer.identity import page_person_pairs, person_value
from indexer.types import ArchiveMeta, PreparedPage
from indexer.vocab import CLASSIFICATION_LEVELS, doc_id

__all__ = ["ARCHIVE_NO_PARTS", "FILE_KIND", "PAGE_SOURCE_FIELDS", "build_document", "build_file_documents", "doc_id"]

FILE_KIND = "file"  # doc_kind of a file-level document; page documents carry no doc_kind
# The 档号 parts (DA/T 13-2022) as their own fields, for the browse hierarchy and filters, and
# the 档号 a corrected file replaces.
ARCHIVE_NO_PARTS = ["fonds_no", "category_code", "retention", "item_no", "volume_no", "corrects"]
# What a file-level document is built from (the page documents as indexed, redacted already).
PAGE_SOURCE_FIELDS = ["doc_id", "archive_no", "title", "category", "unit", "year",
                      "classification", "classification_level", "page_no", "page_count", "text",
                      "text_jieba", "pii_kinds", "pii_hmac", "subject_hmac", *ARCHIVE_NO_PARTS]


def build_document(meta: ArchiveMeta, page: PreparedPage, *, title: str, page_count: int,
                   blind_index: Callable[[str, str], str], source_sha256: str,
                   ingest_file_id: int | None) -> dict[str, Any]:
    """Only redacted text and keyed hashes enter the document (DESIGN.md security rule 1).

    `blind_index` canonicalises (15-digit IDs hash as their 18-digit form). Besides the ID and
    name terms, the subject and every person the page names next to an ID number get a
    (name, birth date) "person" term, so self-exclusion also catches a file that names the
    reader without their ID number, or under the other form of it."""
    pii_hmac = {blind_index(m.kind, m.value) for m in page.pii}
    pii_hmac |= {blind_index("person", v) for v in page_person_pairs(page.raw_text, page.pii)}
    subject = []
    if meta.subject_id:
        subject.append(blind_index("id_number", meta.subject_id))
    if meta.subject_name:
        subject.append(blind_index("name", meta.subject_name))
    person = person_value(meta.subject_name, meta.subject_id) if meta.subject_id else None
    if person:
        subject.append(blind_index("person", person))
    return {
        "doc_id": doc_id(meta.archive_no, page.page_no),
        "archive_no": meta.archive_no,
        "title": title,
        "category": meta.category,
        "unit": meta.unit,
        "year": meta.year,
        "classification": meta.classification,
        "classification_level": (meta.classification_level if meta.classification_level >= 0
                                 else CLASSIFICATION_LEVELS[meta.classification]),
        **{k: getattr(meta, k) for k in ARCHIVE_NO_PARTS if getattr(meta, k)},  # free 档号: none
        "page_no": page.page_no,
        "page_count": page_count,
        "text": page.search_text,
        "text_display": page.display_text,
        "text_jieba": page.jieba_text,
        "pii_kinds": sorted({m.kind for m in page.pii}),
        "pii_hmac": sorted(pii_hmac),
        "subject_hmac": subject,
        "text_source": page.source,
        "ocr_confidence": page.confidence,
        "source_sha256": source_sha256,
        "ingest_file_id": ingest_file_id,
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _scope_key(page: dict[str, Any]) -> tuple[Any, ...]:
    """What decides who may read a page: pages that differ in it never share a file document."""
    return (page["category"], page["unit"], int(page["classification_level"]),
            tuple(sorted(page.get("subject_hmac") or [])))


def file_doc_id(archive_no: str, scope: tuple[Any, ...]) -> str:
    digest = hashlib.sha256(repr(scope).encode("utf-8")).hexdigest()[:12]
    return f"{archive_no}#file-{digest}"


def build_file_documents(pages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The file-level documents of one 档号, from its page documents: the grouped search matches
    a file when every query term occurs on some page of it, which no single page document can
    answer.

    A file document must never let a grant reach more than the pages would, so it is built
    per access scope: pages that differ in 门类, 单位, 密级 or 当事人 (a file being re-ingested
    under changed metadata, two sources under one 档号) get one document each, carrying exactly
    those single values. The blind-index terms of every page are united, so self-exclusion hides
    the whole file document if any of its pages names the reader (narrower, never wider). Page
    texts stay separate values of a multi-valued field: the position gap between values keeps a
    phrase from matching across a page boundary. Only the redacted fields are used."""
    scopes: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for page in sorted(pages, key=lambda p: p["page_no"]):
        scopes.setdefault(_scope_key(page), []).append(page)
    docs = []
    for scope, members in scopes.items():
        first = members[0]
        docs.append({
            "doc_id": file_doc_id(first["archive_no"], scope),
            "doc_kind": FILE_KIND,
            "archive_no": first["archive_no"],
            "title": first["title"],
            "category": first["category"],
            "unit": first["unit"],
            "year": first["year"],
            "classification": first["classification"],
            "classification_level": int(first["classification_level"]),
            **{k: first[k] for k in ARCHIVE_NO_PARTS if first.get(k)},
            "page_count": max(p.get("page_count") or 0 for p in members),
            "text": [p.get("text") or "" for p in members],
            "text_jieba": [p.get("text_jieba") or "" for p in members],
            "pii_kinds": sorted({k for p in members for k in p.get("pii_kinds") or []}),
            "pii_hmac": sorted({h for p in members for h in p.get("pii_hmac") or []}),
            "subject_hmac": list(scope[3]),
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        })
    return docs

"""The index stage: turn a prepared page into the OpenSearch document (redacted fields only)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from indexer.identity import page_person_pairs, person_value
from indexer.types import ArchiveMeta, PreparedPage
from indexer.vocab import CLASSIFICATION_LEVELS, doc_id

__all__ = ["build_document", "doc_id"]


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
        "classification_level": CLASSIFICATION_LEVELS[meta.classification],
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

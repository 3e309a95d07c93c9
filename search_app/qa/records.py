"""The ingest checks written down: one QaFile per ingest file (page count against the manifest's
页数) and one QaPage per ingested page (resolution, blank, rotation, skew). Called by the file
phase and the page loop in the same transaction as the page itself, so a page is never durable
without its findings."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.index import doc_id
from indexer.qa import count_mismatch
from indexer.types import PreparedPage
from search_app.ingest.models import IngestFile
from search_app.qa.models import QaFile, QaPage
from search_app.timeutil import utcnow


def record_file(session: Session, f: IngestFile, declared_pages: int | None) -> str:
    """The file's page-count check (flushed with the file phase); returns the mismatch reason."""
    row = session.get(QaFile, f.id) or QaFile(file_id=f.id)
    row.job_id, row.archive_no = f.job_id, f.archive_no
    row.declared_pages, row.pages_total = declared_pages, f.pages_total
    row.mismatch, row.checked_at = count_mismatch(declared_pages, f.pages_total), utcnow()
    session.add(row)
    return row.mismatch


def record_page(session: Session, f: IngestFile, prepared: PreparedPage) -> QaPage:
    """The page's findings; a page run again (a retry, a re-OCR) is checked again and its review
    starts over, since what the reviewer judged has changed."""
    row = session.execute(select(QaPage).where(QaPage.file_id == f.id,
                                               QaPage.page_no == prepared.page_no)
                          ).scalar_one_or_none()
    if row is None:
        row = QaPage(file_id=f.id, page_no=prepared.page_no, text_version=1)
        session.add(row)
    row.job_id, row.archive_no = f.job_id, f.archive_no
    row.doc_id = doc_id(f.archive_no, prepared.page_no)
    row.text_source, row.ocr_confidence = prepared.source, prepared.confidence
    qa = prepared.qa
    row.dpi = qa.dpi if qa else None
    row.low_dpi = bool(qa and qa.low_dpi)
    row.blank = bool(qa and qa.blank)
    row.ink_ratio = qa.ink_ratio if qa else None
    row.rotation = qa.rotation if qa else 0
    row.osd_ran = bool(qa and qa.osd_ran)
    row.osd_confidence = qa.osd_confidence if qa else None
    row.skew = qa.skew if qa else 0.0
    row.status, row.decided_by, row.decided_at, row.rescan_reason = "pending", None, None, ""
    session.flush()
    return row

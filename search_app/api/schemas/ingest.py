"""Ingest job progress."""
from __future__ import annotations

from search_app.api.schemas._base import Output


class IngestPageOut(Output):
    page_no: int
    state: str
    error: str
    ocr_confidence: float | None
    text_source: str
    seconds: float
    attempts: int


class IngestFileOut(Output):
    id: int
    file: str
    archive_no: str
    state: str
    error: str
    note: str
    pages_total: int
    pages_done: int
    pages: list[IngestPageOut]


class IngestJob(Output):
    job_id: int
    files_total: int
    files_done: int
    files_failed: int
    pages_total: int
    pages_done: int
    finished: bool
    errors: list[list[str]]
    files: list[IngestFileOut]

"""Ingest job progress, the job list and the low-confidence review list."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import Input, Output, PageNo


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


class PageQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    page: PageNo = 1


class IngestJobRow(Output):
    id: int
    created_at: str
    created_by: str
    files: int
    done: int
    failed: int
    pages_done: int
    pages_total: int
    finished: bool


class IngestJobList(Output):
    page: int
    next_page: int | None
    jobs: list[IngestJobRow]


class ReviewQuery(PageQuery):
    show: str = Field(default="", description="reviewed：已复核的；其他：待复核的")


class ReviewPage(Output):
    doc_id: str
    archive_no: str
    page_no: int
    ocr_confidence: float | None
    updated_at: str | None
    reviewed_at: str | None
    reviewed_by: str | None


class ReviewList(Output):
    threshold: float
    pending: int
    reviewed: int
    page: int
    next_page: int | None
    pages: list[ReviewPage]


class MarkReviewedBody(Input):
    doc_id: str


class MarkReviewedOut(Output):
    doc_id: str
    marked: bool = Field(description="false：此前已复核")
    message: str

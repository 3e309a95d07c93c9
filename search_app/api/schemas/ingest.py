"""Ingest job progress, the job list and the low-confidence review list."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import Input, Output, PageNo, mirror
from search_app.ingest.progress import JobProgress


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


IngestJob = mirror("IngestJob", JobProgress, files=(list[IngestFileOut], ...))


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


class UploadForm(Input):
    """The text fields of a multipart upload (form values are strings: "true"/"false")."""

    model_config = ConfigDict(strict=False, extra="forbid")
    batch: str = Field(default="", max_length=64,
                       description="上次未通过检查的批次编号（再次提交时只需上传有误的文件或清单）")
    confirm_metadata_change: bool = Field(
        default=False, description="确认修改已有档号的访问字段（密级、单位、门类等）")


class UploadAccepted(Output):
    job_id: int
    batch: str
    files: int
    held: int = Field(description="等待任务队列恢复的文件数（0：已全部排队）")
    message: str
    progress: str = Field(description="任务进度：GET 此地址（/api/v1/ingest/jobs/<job_id>）")

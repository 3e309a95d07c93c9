"""Digitisation QA (数字化质检): queue, review page, actions, statistics and scopes."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import DbId, Input, Output, mirror
from search_app.qa.stats import BatchStats


class QaScopeQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    scope: DbId | None = Field(default=None, description="质检范围 id；省略：最新的有效范围")


class QaQueueQuery(QaScopeQuery):
    status: str = Field(default="pending", description="pending、accepted、corrected、rescan；其他值：全部")
    flag: Literal["", "blank", "rotated", "low_dpi", "weak"] = Field(
        default="", description="blank 空白页、rotated 已旋转、low_dpi 低分辨率、weak 低置信度")


class QaPageQuery(QaScopeQuery):
    v: DbId | None = Field(default=None, description="历史版本 id：查看该版本的文本")


class QaScopeOut(Output):
    id: int
    ref: str
    reviewer: str | None = Field(default=None, description="质检人员（列表中给出）")
    job_ids: list[int]
    classification_ceiling: int
    unmask_fields: list[str]
    purpose: str = Field(description="质检任务")
    granted_by: str
    created_at: str
    expires_at: str
    revoked_at: str | None
    revoked_by: str | None
    inactive_reason: str | None = Field(description="不能使用的原因；有效时为 null")


class QaReviewOut(Output):
    doc_id: str
    job_id: int
    archive_no: str
    page_no: int
    text_source: str
    ocr_confidence: float | None
    dpi: float | None
    low_dpi: bool
    blank: bool
    rotation: int
    skew: float
    status: Literal["pending", "accepted", "corrected", "rescan"]
    text_version: int
    decided_by: str | None
    decided_at: str | None
    rescan_reason: str


class QaMismatchOut(Output):
    file_id: int
    job_id: int
    archive_no: str
    declared_pages: int | None
    pages_total: int
    mismatch: str = Field(description="清单页数与扫描页数不符的说明")


class QaQueue(Output):
    scopes: list[QaScopeOut]
    scope: int | None
    pages: list[QaReviewOut]
    mismatches: list[QaMismatchOut]


class QaVersionOut(Output):
    id: int
    replaced_at: str | None
    replaced_by: str | None
    text_source: str | None
    ocr_confidence: float | None


class QaPageOut(Output):
    id: str
    archive_no: str
    page_no: int
    text: str = Field(description="识别文本（按质检范围遮蔽）")
    pii_kinds: list[str]
    unmasked: list[str]
    scope: int
    scope_ref: str
    audit_seq: int
    version: int | None
    review: QaReviewOut | None
    versions: list[QaVersionOut]
    image_url: str


class QaActionBody(Input):
    do: Literal["accept", "rescan", "correct", "reocr"]
    scope: DbId | None = None
    reason: str = Field(default="", description="退回重扫的原因（rescan 必填）")
    text: str = Field(default="", description="更正后的全文（correct 必填）")


class QaActionOut(Output):
    message: str
    review: QaReviewOut | None


BatchStatsOut = mirror("BatchStatsOut", BatchStats, accepted_share=(
    float, Field(description="合格率（合格与已更正占全部页面）")))


class QaStats(Output):
    batches: list[BatchStatsOut]


class QaScopeList(Output):
    scopes: list[QaScopeOut]


class QaScopeBody(Input):
    reviewer: str = Field(description="质检人员的用户名")
    job_ids: list[DbId]
    ceiling: int = Field(default=1, description="密级上限：0 公开 … 3 机密")
    purpose: str = Field(description="质检任务")
    days: int = Field(description="有效天数（1–90）")
    unmask_fields: list[str] = Field(default_factory=list)

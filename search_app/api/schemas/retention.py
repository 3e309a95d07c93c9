"""Appraisal (到期鉴定), destruction requests and the destruction register (销毁清册)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from search_app.api.schemas._base import Input, Output


class DueFileOut(Output):
    archive_no: str
    title: str = Field(description="题名（按索引遮蔽）")
    page_count: int
    retention: str = Field(description="保管期限代码：Y、D30、D10")
    retention_label: str
    year: int
    due: str | None = Field(description="保管期限届满日（永久为 null）")


class AppraisalList(Output):
    today: str
    files: list[DueFileOut]


class DestructionRequestOut(Output):
    id: int
    status: Literal["pending", "pending_second", "approved", "denied", "executed", "failed"]
    status_label: str
    requested_by: str
    reasons: str
    archive_nos: list[str]
    created_at: str
    first_approver: str
    first_approved_at: str | None
    second_approver: str
    second_approved_at: str | None
    decided_by: str
    decision_reason: str
    executed_by: str
    executed_at: str | None
    error: str = Field(description="执行未完成的原因")


class DestructionRequestList(Output):
    requests: list[DestructionRequestOut]


class DestroyedFileOut(Output):
    archive_no: str
    title: str
    page_count: int
    retention: str
    year: int | None
    request_id: int
    requested_by: str
    approvers: list[str]
    reasons: str
    executed_by: str
    destroyed_at: str


class DestroyedList(Output):
    files: list[DestroyedFileOut]


class DestructionBody(Input):
    archive_nos: list[str] = Field(default_factory=list, description="到期鉴定清单中的档号（至少一个）")
    reasons: str = Field(default="", description="销毁理由（鉴定意见，必填）")


class DenyBody(Input):
    reason: str = Field(default="", description="驳回理由（必填）")

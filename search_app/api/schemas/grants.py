"""Grant requests, decisions, revocation and the catalogue a request picks from."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from search_app import limits
from search_app.api.schemas._base import Input, Output


class GrantOut(Output):
    id: int
    approval_ref: str | None
    purpose: str
    purpose_category: str
    unmask_fields: list[str]
    allow_lookup: bool
    categories: list[str]
    units: list[str]
    classification_ceiling: int = Field(description="0 公开 … 3 机密")
    archive_nos: list[str]
    valid_from: str | None
    valid_until: str | None


class GrantList(Output):
    grants: list[GrantOut]


class PurposeLimits(Output):
    name: str
    default_fields: list[str] = Field(description="默认可显示的字段")
    max_fields: list[str] | None = Field(description="最多可显示的字段（null：不限）")
    max_days: float | None = Field(description="最长授权天数（null：按系统上限）")


class GrantRequestOut(GrantOut):
    request_no: str
    status: Literal["pending", "pending_second", "active", "denied", "lapsed", "withdrawn", "revoked"]
    status_label: str
    inactive_reason: str | None = Field(description="不能用于查询的原因；可用时为 null")
    classification_label: str
    subject: str = Field(description="限定当事人（遮蔽后的身份证号），未限定为空")
    requested_hours: float
    needs_second_approval: bool
    requester: str
    requester_unit: str
    approved_by: str | None
    second_approved_by: str | None
    decision_reason: str
    created_at: str
    purpose_limits: PurposeLimits | None = Field(
        default=None, description="查询事由类别的限制（审批人据此审批）；类别已停用时为 null")


class GrantRequestList(Output):
    requests: list[GrantRequestOut]


class GrantRequestBody(Input):
    purpose_category: str = Field(description="查询事由类别（档案目录中启用的查阅目的类别之一，见 /catalogue）")
    purpose: str = Field(max_length=limits.PURPOSE)
    categories: list[str] = Field(min_length=1)
    units: list[str] = Field(min_length=1, description="必须是档案目录中已有的单位")
    classification: str = Field(description="密级上限：公开、内部、秘密、机密")
    days: float = Field(gt=0, description="申请时长（天）")
    archive_nos: list[str] = Field(default_factory=list, description="限定档号，必须已存在")
    unmask_fields: list[str] = Field(default_factory=list)
    allow_lookup: bool = False
    subject_id: str = Field(default="", description="限定当事人身份证号；只保存密钥哈希")


class DecisionBody(Input):
    decision: Literal["approve", "deny"]
    reason: str = Field(default="", description="驳回时必填")
    days: float | None = Field(default=None, gt=0, description="批准时长（天），只能缩短；省略则按申请")


class ConfirmBody(Input):
    confirm: Literal[True] = Field(description="不可撤回的操作必须显式确认：true")
    reason: str = ""


class RevokeBody(Input):
    confirm: Literal[True] = Field(description="不可撤回的操作必须显式确认：true")
    reason: str = Field(default="", max_length=limits.REASON, description="撤销他人的授权必须填写理由")


class Catalogue(Output):
    units: list[str]
    archive_nos: list[str]
    categories: list[str] = Field(description="可申请的门类（档案目录中启用的）")
    classifications: list[str] = Field(description="密级，由低到高")
    purposes: list[PurposeLimits] = Field(description="查阅目的类别及其限制")

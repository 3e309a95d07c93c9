"""Request and response bodies of /api/v1 as pydantic models: the OpenAPI components are
generated from these classes, request bodies are parsed by them (search_app.api._doc), and the
API tests validate every live response against their JSON Schema. Add a model here next to the
route that uses it (see docs/api.md, "Adding a route").

Inputs are strict (`"grant_id": "1"` is refused, not coerced) and closed (an unknown field is
refused, so a typo such as `grnat_id` is explained instead of ignored).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search_app import limits


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Output(BaseModel):
    """Responses are open: a route may add a field before its model documents it, and the
    response test still checks every documented one."""

    model_config = ConfigDict(extra="allow")


# ---- errors ---------------------------------------------------------------------------------
class ErrorBody(Output):
    error: str = Field(description="状态的中文名称，如“请求无效”“无权访问”")
    message: str = Field(description="为什么：中文说明，指出字段或拒绝理由")
    status: int


class OpenApiDocument(Output):
    openapi: str
    info: dict
    paths: dict
    components: dict


# ---- who am I ---------------------------------------------------------------------------------
class RoleOut(Output):
    code: str
    label: str


class Me(Output):
    id: int
    username: str
    display_name: str
    unit: str
    roles: list[RoleOut]
    permissions: list[str]
    token_expires_at: str | None = Field(description="ISO 8601, UTC（带 Z）")


# ---- grants ---------------------------------------------------------------------------------
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


class GrantRequestList(Output):
    requests: list[GrantRequestOut]


class GrantRequestBody(Input):
    purpose_category: str = Field(description="查询事由类别（PURPOSE_CATEGORIES 之一）")
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


# ---- reads ----------------------------------------------------------------------------------
class SearchBody(Input):
    grant_id: int
    purpose: str = ""
    q: str
    page: int = Field(default=1, ge=1)
    sort: str = "relevance"


class Hit(Output):
    id: str
    archive_no: str
    title: str
    category: str
    unit: str
    year: int
    classification: str
    page_no: int
    page_count: int | None = None
    snippets: list[str] = []
    score: float | None = None


class FacetValue(Output):
    value: str | int
    count: int


class SearchResult(Output):
    query: str
    total: int
    page: int
    page_size: int
    approval_ref: str
    grant_id: int
    audit_seq: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]


class PageBody(Input):
    grant_id: int
    purpose: str = ""
    unmask: bool = False


class PageOut(Output):
    id: str
    archive_no: str
    title: str
    page_no: int
    text: str
    pii_kinds: list[str]
    unmaskable: list[str]
    unmasked: list[str]
    approval_ref: str
    audit_seq: int


class LookupBody(Input):
    grant_id: int
    purpose: str = ""
    kind: str = Field(description="id_number、phone、landline、bank_card、name")
    value: str


class LookupResult(Output):
    query: str
    total: int
    approval_ref: str
    audit_seq: int
    hits: list[Hit]


# ---- ingest ---------------------------------------------------------------------------------
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


# ---- audit ----------------------------------------------------------------------------------
class AuditQuery(Input):
    """Query-string filters (all strings, as typed in the web view's form)."""

    model_config = ConfigDict(strict=False, extra="forbid")
    username: str = ""
    action: str = ""
    outcome: str = ""
    approval_ref: str = ""
    purpose: str = Field(default="", description="事由包含")
    unit: str = Field(default="", description="用户当前所属单位")
    since: str = Field(default="", description="本地日期 YYYY-MM-DD（DISPLAY_TIMEZONE）")
    until: str = Field(default="", description="本地日期 YYYY-MM-DD，含当日")
    pii: str = Field(default="", description="值哈希（逗号分隔），见 POST /audit/match")
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=200)


class AuditRecordOut(Output):
    seq: int
    ts: str = Field(description="ISO 8601, UTC（带 Z）")
    ts_local: str = Field(description="本地时间，带时区")
    username: str
    role: str
    role_label: str
    action: str
    action_label: str
    outcome: str
    outcome_label: str
    reason: str
    purpose: str = Field(description="已遮蔽")
    approval_ref: str
    grant_id: int | None
    query: str = Field(description="已遮蔽")
    pii_hmacs: list[str]
    result_count: int | None
    returned_ids: list[str]
    client_addr: str


class AuditPage(Output):
    total: int
    page: int
    page_size: int
    next_page: int | None
    audit_seq: int = Field(description="本次查阅写入的审计记录")
    records: list[AuditRecordOut]


class AnomalyQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    days: int = Field(default=7, ge=1, le=90)


class FlagOut(Output):
    kind: str
    label: str
    username: str
    detail: str
    first_ts: str
    first_ts_local: str
    seqs: list[int]


class AnomalyList(Output):
    days: int
    flags: list[FlagOut]


class ChainReportOut(Output):
    ok: bool
    records: int
    checkpoints: int
    problems: list[str]
    summary: str


class MatchBody(Input):
    value: str = Field(description="要查找的号码或姓名；只在服务器上计算哈希，不记录原值")


class MatchOut(Output):
    pii: list[str]

"""Audit queries, anomaly flags, chain verification."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import Input, Output, PageNo


class Paging(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    page: PageNo = 1
    page_size: int = Field(default=50, ge=1, le=200)


class AuditFilters(Input):
    """Query-string filters (all strings, as typed in the web view's form)."""

    model_config = ConfigDict(strict=False, extra="forbid")
    action: str = ""
    outcome: str = ""
    approval_ref: str = ""
    purpose: str = Field(default="", description="事由包含")
    unit: str = Field(default="", description="用户当前所属单位")
    since: str = Field(default="", description="本地日期 YYYY-MM-DD（DISPLAY_TIMEZONE）")
    until: str = Field(default="", description="本地日期 YYYY-MM-DD，含当日")
    pii: str = Field(default="", description="值哈希（逗号分隔），见 POST /audit/match")


class AuditExportQuery(AuditFilters):
    username: str = ""


class AuditQuery(AuditExportQuery, Paging):
    pass


class UserActivityQuery(AuditFilters, Paging):
    """The records of one person (the user name is in the path), narrowed further if asked."""


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


class ActionCount(Output):
    action: str
    action_label: str
    outcome: str
    outcome_label: str
    count: int


class UserActivity(AuditPage):
    username: str
    display_name: str | None = Field(description="账号已不存在时为 null")
    unit: str | None
    role_label: str | None
    summary: list[ActionCount] = Field(description="按操作与结果计数（全部时间）")
    flags: list[FlagOut] = Field(description="最近 30 天的异常提示")

"""The use register (利用登记): entries, monthly statistics, the outcome note."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import Input, Output


class RegisterQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    month: str = Field(default="", description="YYYY-MM（本地时间的月份）；为空：全部")
    unit: str = Field(default="", description="单位；为空：全部")


class RegisterEntryOut(Output):
    id: int
    session_id: str = Field(description="阅读会话")
    username: str
    display_name: str
    unit: str
    grant_id: int
    approval_ref: str
    purpose_category: str
    purpose: str = Field(description="查询事由（按审计日志遮蔽）")
    categories: list[str]
    opened_at: str
    ended_at: str | None
    final: bool = Field(description="会话已结束")
    files: list[str] = Field(description="利用的档号")
    pages_viewed: list[str]
    pages_exported: list[str]
    searches: int
    copies: int = Field(description="导出的文件数（PDF、CSV）")
    audit_seqs: list[int] = Field(description="据以生成本条的审计记录")
    outcome: str = Field(description="利用效果")
    outcome_by: str
    outcome_at: str | None


class RegisterEntries(Output):
    month: str
    unit: str
    total: int
    entries: list[RegisterEntryOut]


class StatCell(Output):
    month: str
    key: str
    count: int


class RegisterStats(Output):
    months: list[str]
    entries: dict[str, int] = Field(description="月份 → 登记数")
    pages: dict[str, int] = Field(description="月份 → 查看页数")
    dimensions: dict[str, str]
    by: dict[str, list[StatCell]] = Field(description="维度 → 各月各值的登记数")


class OutcomeBody(Input):
    outcome: str = Field(description="利用效果（最多 2000 字）")

"""The catalogue (档案目录) a system admin manages: lists of entries and the 档号 rules."""
from __future__ import annotations

from pydantic import Field

from search_app.api.schemas._base import Input, Output


class CatalogueEntryOut(Output):
    id: int
    kind: str = Field(description="fonds、category、unit、classification、retention、purpose")
    kind_label: str
    code: str
    name: str
    enabled: bool
    former_names: list[str] = Field(description="曾用名（更名前按这些名称索引的页面仍归入此条目）")
    created_at: str
    updated_at: str
    level: int | None = Field(default=None, description="密级的级别（越大越机密）")
    years: int | None = Field(default=None, description="保管年限（永久为 null）")
    default_fields: list[str] | None = None
    max_fields: list[str] | None = None
    max_days: float | None = None


class ArchiveNoRuleOut(Output):
    id: int
    fonds_code: str = Field(description="为空：适用于全部全宗")
    category_code: str
    pattern: str
    enabled: bool
    updated_at: str
    example: str = Field(description="按此规则生成的档号示例")


class CatalogueOut(Output):
    lists: dict[str, list[CatalogueEntryOut]]
    labels: dict[str, str]
    rules: list[ArchiveNoRuleOut]


class CatalogueAddBody(Input):
    code: str
    name: str
    level: int | None = Field(default=None, description="密级必填：尚未使用的级别数字")
    years: int | None = Field(default=None, description="保管期限：年数；永久不填")
    default_fields: list[str] = Field(default_factory=list, description="查阅目的类别：默认可显示字段")
    max_fields: list[str] | None = Field(default=None, description="查阅目的类别：最多可显示字段（null 不限）")
    max_days: float | None = Field(default=None, description="查阅目的类别：最长授权天数")


class CatalogueRenameBody(Input):
    name: str


class CatalogueEnableBody(Input):
    enabled: bool


class ArchiveNoRuleBody(Input):
    fonds_code: str = Field(default="", description="为空：适用于全部全宗")
    category_code: str
    pattern: str = Field(description="如 {全宗号}-{门类代码}·{年度}-{保管期限}-{件号}")
    enabled: bool = True

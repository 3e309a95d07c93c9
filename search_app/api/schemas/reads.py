"""Search, page, look-up."""
from __future__ import annotations

from pydantic import Field

from search_app.api.schemas._base import DbId, Input, Output, PageNo


class SearchOptions(Input):
    """Paging, order and grouping: the same in a search body and a session's search link."""

    page: PageNo = 1
    sort: str = Field(default="relevance", description="relevance 相关度、year 年度、archive_no 档号")
    group: str = Field(default="page", description="page：按页；file：按案卷（档号）归并，最佳页面在其下")


class SearchBody(SearchOptions):
    grant_id: DbId
    purpose: str = ""
    q: str


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
    slip: bool = Field(default=False, description="仅在有一个字识别错误时匹配（排在全部精确匹配之后）")


class FacetValue(Output):
    value: str | int
    count: int


class Chip(Output):
    label: str
    without: str = Field(description="去掉此筛选后的检索式；为空表示去掉后无可检索内容")


class FileResult(Output):
    archive_no: str
    matched_pages: int
    score: float | None = None
    pages: list[Hit]


class SearchResult(Output):
    group: str = "page"
    chips: list[Chip] = []
    refine: dict[str, dict[str, str]] = Field(default_factory=dict,
                                              description="分面 → 值 → 加上该筛选的检索式")
    files: list[FileResult] = Field(default_factory=list, description="group=file 时的案卷")
    query: str
    total: int
    page: int
    page_size: int
    approval_ref: str
    grant_id: int
    audit_seq: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    slip_pass: bool = Field(default=False, description="是否查询了一字之差的匹配：是则 total 与分面也计入这些页")


class PageBody(Input):
    grant_id: DbId
    purpose: str = ""
    unmask: bool = False


class PageText(Output):
    """A page as a read returns it: masked text, what it holds and what may be unmasked."""

    id: str
    text: str
    pii_kinds: list[str]
    unmaskable: list[str]
    unmasked: list[str]
    approval_ref: str
    audit_seq: int


class PageOut(PageText):
    archive_no: str
    title: str
    page_no: int


class LookupValue(Input):
    kind: str = Field(description="id_number、phone、landline、bank_card、name")
    value: str


class LookupBody(LookupValue):
    grant_id: DbId
    purpose: str = ""


class LookupResult(Output):
    query: str
    total: int
    approval_ref: str
    audit_seq: int
    hits: list[Hit]

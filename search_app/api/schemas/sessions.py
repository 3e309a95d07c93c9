"""Reading sessions under /api/v1/sessions (search_app.reading.api): a grant and a typed purpose
open one; searches, pages, images and exports in it carry only its id."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import DbId, Input, Output
from search_app.api.schemas.reads import (LookupResult, LookupValue, PageText, SearchOptions,
                                          SearchResult)


class SessionOpenBody(Input):
    grant_id: DbId
    purpose: str = Field(default="", description="本次阅读的查询事由（由读者填写，不预填；最多 500 字）")


class SessionOut(Output):
    id: str
    grant_id: int
    approval_ref: str
    opened_at: str
    expires_at: str
    closed_at: str | None = None


class SessionSearchQuery(SearchOptions):
    """Query-string parameters (strings, as in a link)."""

    model_config = ConfigDict(strict=False, extra="forbid")
    q: str = ""


class InSession(Output):
    """What every read in a reading session adds to its answer."""

    session: str
    cached: bool = Field(description="本会话已读过：取自缓存，未再次读取和审计")


class SessionSearchResult(SearchResult, InSession):
    """The same result as POST /search (grouping, chips, facets), in the session."""


class BrowseQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    fonds: str = Field(default="", description="全宗号（无全宗的文件为 -）")
    category: str = Field(default="", description="门类")
    year: str = Field(default="", description="年度（四位数字）")
    archive_no: str = Field(default="", description="档号：列出该件的页面")


class BrowseEntry(Output):
    key: str | int = Field(description="本层的值：全宗号、门类、年度、档号或页码")
    pages: int | None = None
    files: int | None = None
    title: str | None = None
    page_count: int | None = None
    doc_id: str | None = Field(default=None, description="页层：页面 id（用于 /sessions/{sid}/pages/{doc_id}）")


class BrowseOut(InSession):
    level: str = Field(description="fonds_no、category、year、archive_no、page_no")
    level_label: str
    path: dict[str, str | int]
    entries: list[BrowseEntry]
    approval_ref: str
    audit_seq: int


class SessionPageQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    unmask: str = Field(default="", description="1：按授权显示可解除遮蔽的字段")


class SessionPageOut(PageText, InSession):
    file_pages: list[dict]
    previous: str | None = None
    next: str | None = None
    image_url: str


class SessionImageQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    thumb: str = Field(default="", description="1：缩略图")


class ExportBody(Input):
    doc_ids: list[str] = Field(default_factory=list, description="所选页面 id；或用 archive_no 导出整卷")
    archive_no: str = ""


class SessionList(Output):
    sessions: list[SessionOut]


class SessionLookupBody(LookupValue):
    """The value goes in the body, never in a URL or an access log."""


class SessionLookupResult(LookupResult, InSession):
    pass


class CsvExportBody(Input):
    q: str
    sort: str = Field(default="relevance", description="relevance 相关度、year 年度、archive_no 档号")

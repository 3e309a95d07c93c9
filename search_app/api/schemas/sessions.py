"""Reading sessions under /api/v1/sessions (search_app.reading.api): a grant and a typed purpose
open one; searches, pages, images and exports in it carry only its id."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from search_app.api.schemas._base import DbId, Input, Output, PageNo
from search_app.api.schemas.reads import Hit, FacetValue


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


class SessionSearchQuery(Input):
    """Query-string parameters (strings, as in a link)."""

    model_config = ConfigDict(strict=False, extra="forbid")
    q: str = ""
    page: PageNo = 1
    sort: str = "relevance"
    group: str = Field(default="page", description="page：按页；file：按案卷")


class SessionSearchResult(Output):
    query: str
    total: int
    page: int
    page_size: int
    approval_ref: str
    grant_id: int
    audit_seq: int
    session: str
    cached: bool = Field(description="本会话已读过此结果页：取自缓存，未再次审计")
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]


class SessionPageQuery(Input):
    model_config = ConfigDict(strict=False, extra="forbid")
    unmask: str = Field(default="", description="1：按授权显示可解除遮蔽的字段")


class SessionPageOut(Output):
    id: str
    text: str
    pii_kinds: list[str]
    unmaskable: list[str]
    unmasked: list[str]
    approval_ref: str
    audit_seq: int
    session: str
    cached: bool
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

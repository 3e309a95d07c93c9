"""Search, page, look-up."""
from __future__ import annotations

from pydantic import Field

from search_app.api.schemas._base import Input, Output


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

"""Export of selected pages, or of a whole file, as a PDF of the served images.

One read through the choke point (action export.pdf, one audit record listing every page), a
per-grant page quota counted from the audit log itself (allowed export.pdf records of the
grant), and the same served image as the viewer (search.served_image: redacted at ingest,
watermarked with the exporter, the time and this export's record) on every page, with the
approval reference, the reading session and the record in every page's footer.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

import pymupdf
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.search import load_page_image, served_image
from search_app.search._choke import Found, ReadDenied, ScopedIndex, guarded_read
from search_app.search._parse import InvalidInput
from search_app.search._query import RESULT_FIELDS
from search_app.timeutil import zone_label

A4 = (595.0, 842.0)  # points
MAX_SELECTED = 1000


@dataclass
class PdfExport:
    pdf: bytes
    pages: list[str]
    approval_ref: str
    audit_seq: int


def exported_pages(grant_id: int, session: Session | None = None) -> int:
    """Pages this grant has exported so far, from its allowed export.pdf audit records."""
    total = (session or get_session()).execute(select(func.coalesce(func.sum(AuditRecord.result_count), 0)).where(
        AuditRecord.action == Action.EXPORT_PDF, AuditRecord.outcome == "allowed",
        AuditRecord.grant_id == grant_id)).scalar_one()
    return int(total)


def _selection(index: ScopedIndex, doc_ids: list[str], archive_no: str) -> list[dict]:
    if archive_no:
        query = {"term": {"archive_no": archive_no}}
    else:
        query = {"ids": {"values": doc_ids}}
    body = {"size": MAX_SELECTED, "_source": {"includes": RESULT_FIELDS}, "query": query,
            "sort": [{"archive_no": "asc"}, {"page_no": "asc"}]}
    return [h["_source"] for h in index.search(body)["hits"]["hits"]]


def export_pdf(*, user: User, grant_id: int | None, purpose: str, viewer: str,
               doc_ids: list[str] | None = None, archive_no: str = "",
               client_addr: str = "", session_label: str = "") -> PdfExport:
    """The PDF of `doc_ids` (in file and page order) or of every page of `archive_no` that the
    grant covers. A page outside the scope is refused (the whole export is), as is an export that
    would take the grant over EXPORT_PAGES_PER_GRANT."""
    doc_ids = list(dict.fromkeys(d for d in (doc_ids or []) if d))
    if not doc_ids and not archive_no:
        raise InvalidInput("请选择要导出的页面，或指定整个档号")
    if len(doc_ids) > MAX_SELECTED:
        raise InvalidInput(f"一次最多导出 {MAX_SELECTED} 页，选择了 {len(doc_ids)} 页")
    quota = current_app.config["EXPORT_PAGES_PER_GRANT"]

    def run(grant: Grant, index: ScopedIndex) -> Found:
        pages = _selection(index, doc_ids, archive_no)
        found_ids = [p["doc_id"] for p in pages]
        missing = sorted(set(doc_ids) - set(found_ids))
        if missing:
            raise ReadDenied(f"页面 {'、'.join(missing[:5])} 不存在或不在授权范围内，未导出")
        if not pages:
            raise ReadDenied(f"档号 {archive_no} 没有授权范围内的页面")
        refusal = over_quota(get_session(), grant, len(pages))  # early: before the images load
        if refusal:
            raise ReadDenied(refusal)
        images = [load_page_image(p["doc_id"]) for p in pages]
        return Found(list(zip(pages, images)), found_ids, len(pages),
                     extra={"archive_no": archive_no} if archive_no else {})

    def over_quota(session: Session, grant: Grant, count: int) -> str | None:
        used = exported_pages(grant.id, session)
        if used + count <= quota:
            return None
        return (f"超出导出配额：授权 {grant.ref} 最多导出 {quota} 页，已导出 {used} 页，"
                f"剩余 {max(quota - used, 0)} 页，本次请求 {count} 页")

    # The quota is checked again under the audit chain's lock, in the transaction that records
    # this export: two concurrent exports cannot both pass on the same count.
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.EXPORT_PDF,
        client_addr=client_addr, query=archive_no or f"{len(doc_ids)} 页",
        filters={"format": "pdf", "selection": "file" if archive_no else "pages"}, run=run,
        admit=lambda session, grant, found: over_quota(session, grant, found.total))
    when = rec.ts.replace(tzinfo=UTC).astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    doc = pymupdf.open()
    total = len(found.payload)
    for n, (meta, img) in enumerate(found.payload, start=1):
        served = served_image(img, viewer, rec)
        buf = io.BytesIO()
        served.convert("RGB").save(buf, format="PNG")
        page = doc.new_page(width=A4[0], height=A4[1])
        page.insert_image(pymupdf.Rect(24, 24, A4[0] - 24, A4[1] - 40), stream=buf.getvalue(),
                          keep_proportion=True)
        lines = (f"审批编号 {grant.ref} · 阅读会话 {session_label or '—'} · 审计记录 #{rec.seq}",
                 f"{meta.get('archive_no')} 第 {meta.get('page_no')} 页 · 导出第 {n}/{total} 页 · "
                 f"导出人 {viewer} · {when:%Y-%m-%d %H:%M}（{zone_label(when.tzinfo, when)}）")
        for row, line in enumerate(lines):
            page.insert_text((24, A4[1] - 26 + 10 * row), line, fontname="china-s", fontsize=7)
    doc.set_metadata({"title": f"导出 {grant.ref} #{rec.seq}", "producer": "档案检索系统"})
    pdf = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return PdfExport(pdf=pdf, pages=found.returned_ids, approval_ref=grant.ref, audit_seq=rec.seq)

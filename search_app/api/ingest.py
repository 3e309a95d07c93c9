"""Ingest over the API for the system admin, beside GET /ingest/jobs/<id> (search_app.api):
the job list and the review list of low-confidence OCR pages, and marking a page reviewed,
through the same functions as the /ingest screens (search_app.ingest.desk). Starting a job by
upload stays on the web form and the `flask ingest` command."""
from __future__ import annotations

from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json, value
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.ingest import desk
from search_app.permissions import Permission, requires


@bp.get("/ingest/jobs")
@requires(Permission.INGEST_RUN)
@documented("导入任务列表（最新的在前，每页 50 个）", query=s.PageQuery, ok=s.IngestJobList, tag="导入")
def ingest_jobs(query: s.PageQuery):
    session = get_session()
    desk.housekeep(session, request_actor())
    rows, more = desk.job_list(session, query.page)
    return {"page": query.page, "next_page": query.page + 1 if more else None, "jobs": [
        {**row_json(r["job"], ("id", "created_at", "created_by")),
         **{k: r[k] for k in ("files", "done", "failed", "pages_done", "pages_total", "finished")}}
        for r in rows]}


@bp.get("/ingest/review")
@requires(Permission.INGEST_RUN)
@documented("待复核的低置信度页面（OCR 置信度低于 OCR_REVIEW_THRESHOLD；不含页面文本）",
            query=s.ReviewQuery, ok=s.ReviewList, tag="导入")
def ingest_review(query: s.ReviewQuery):
    data = desk.review_list(get_session(), reviewed=query.show == "reviewed", page=query.page)
    return {"threshold": data["threshold"], "pending": data["pending"], "reviewed": data["reviewed"],
            "page": query.page, "next_page": query.page + 1 if data["has_next"] else None,
            "pages": [{k: value(getattr(r, k)) for k in ("doc_id", "archive_no", "page_no",
                                                         "ocr_confidence", "updated_at",
                                                         "reviewed_at", "reviewed_by")}
                      for r in data["rows"]]}


@bp.post("/ingest/review/mark")
@requires(Permission.INGEST_RUN)
@documented("把一页标记为已复核（已审计）", body=s.MarkReviewedBody, ok=s.MarkReviewedOut,
            errors=(404,), tag="导入")
def ingest_mark_reviewed(body: s.MarkReviewedBody):
    doc_id = body.doc_id.strip()
    if not doc_id:
        return render_error(400, "缺少页面编号（doc_id），无法标记为已复核")
    try:
        marked = desk.mark_reviewed(get_session(), request_actor(), doc_id)
    except desk.NoSuchPage as exc:
        return render_error(404, str(exc))
    return {"doc_id": doc_id, "marked": marked,
            "message": f"{doc_id} 已标记为已复核" if marked else f"{doc_id} 已经复核过"}

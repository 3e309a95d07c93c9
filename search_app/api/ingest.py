"""Ingest over the API for the system admin, beside GET /ingest/jobs/<id> (search_app.api):
the job list and the review list of low-confidence OCR pages, and marking a page reviewed,
through the same functions as the /ingest screens (search_app.ingest.desk), and starting a job
by upload over the upload form's own service (search_app.ingest.submit: the same checks, every
file encrypted on receipt)."""
from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_login import current_user

from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json, value
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.errors import TITLES, render_error
from search_app.ingest import desk
from search_app.ingest.submit import submit
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


@bp.post("/ingest/uploads")
@requires(Permission.INGEST_RUN)
@documented("上传扫描件和清单并开始导入（multipart/form-data；与导入页面相同的检查，文件收到即加密）",
            form=s.UploadForm, files={"files[]": "扫描件（PDF、TIFF、JPEG、PNG；可多个）",
                                      "manifest": "清单（CSV 或 JSON，每个扫描件一行）"},
            ok=s.UploadAccepted, status=202, tag="导入",
            description="202：任务已创建，进度见 `progress`。未通过检查：400，`message` 汇总原因，"
                        "另有 `errors`（整批）、`row_errors`（逐行）、`batch`（批次已加密保留时，"
                        "改正后带上它再次提交，只需上传有误的部分）和 `kept`（批次中已有的扫描件）。")
def ingest_upload(form: s.UploadForm):
    desk.housekeep(get_session(), request_actor())
    sub = submit(user=current_user, actor=request_actor(), config=current_app.config,
                 batch_id=form.batch, files=request.files.getlist("files"),
                 manifest=request.files.get("manifest"),
                 confirm_metadata_change=form.confirm_metadata_change)
    if sub.job is None:
        status = 503 if sub.unavailable else 400
        problems = sub.check.errors + sub.check.row_errors
        return jsonify(error=TITLES[status], status=status, batch=sub.batch_id, kept=sub.kept,
                       errors=sub.check.errors, row_errors=sub.check.row_errors,
                       message=("未开始导入：" + "；".join(problems)) if problems else
                       "未开始导入：上传未通过检查"), status
    job = sub.job
    message = (f"导入任务 {job.id} 已保存：任务队列暂不可用，{sub.held} 个文件等待队列恢复后自动开始处理"
               if sub.held else f"导入任务 {job.id} 已开始：{len(job.files)} 个文件已排队")
    return {"job_id": job.id, "batch": sub.batch_id, "files": len(job.files), "held": sub.held,
            "message": message, "progress": url_for("api.ingest_job", job_id=job.id)}, 202

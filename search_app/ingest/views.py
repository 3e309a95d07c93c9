"""The records manager's ingest pages: upload a batch, follow its jobs, review weak OCR pages.

Separation of duties: the system admin runs ingestion but does not read archive content, so no
page here shows page text or the encrypted manifest fields (names, ID numbers) — only 档号,
page numbers, states, counts and confidences. A scan's original file name is part of its
manifest row (it is often the person's name): only the upload form shows it, to the user who is
uploading that batch; job pages list files by 档号 and their number in the job.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import select

from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.ingest import desk
from search_app.ingest.held import release_held
from search_app.ingest.models import IngestFile, IngestJob
from search_app.ingest.progress import job_progress, shown_error
from search_app.ingest.submit import submit
from search_app.permissions import Permission, requires

bp = Blueprint("ingest", __name__, url_prefix="/ingest")
STATE_LABELS = {"queued": "排队中", "running": "处理中", "done": "完成", "failed": "失败",
                "held": "等待任务队列恢复"}


def _sweep() -> None:
    desk.housekeep(get_session(), request_actor())


@bp.route("/")
@requires(Permission.INGEST_RUN)
def jobs():
    _sweep()
    page = max(1, request.args.get("page", 1, type=int))
    rows, has_next = desk.job_list(get_session(), page)
    return render_template("ingest_jobs.html", rows=rows, page=page, has_next=has_next)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.INGEST_RUN)
def new():
    _sweep()
    if request.method == "GET":
        return render_template("ingest_new.html", check=None, batch_id="", kept=[])
    sub = submit(user=current_user, actor=request_actor(), config=current_app.config,
                 batch_id=request.form.get("batch", ""), files=request.files.getlist("files"),
                 manifest=request.files.get("manifest"),
                 confirm_metadata_change=request.form.get("confirm_metadata_change") == "on")
    if sub.job is None:
        return render_template("ingest_new.html", check=sub.check, batch_id=sub.batch_id,
                               kept=sub.kept), 503 if sub.unavailable else 400
    job, held = sub.job, sub.held
    if held:
        flash(f"任务队列（Redis）暂不可用：导入任务 {job.id} 已保存，{held} 个文件等待队列恢复后自动开始处理，"
              "无需重新上传；检索不受影响", "warning")
    else:
        flash(f"导入任务 {job.id} 已开始：{len(job.files)} 个文件已排队", "info")
    return redirect(url_for("ingest.job", job_id=job.id))


def _file_rows(job_id: int) -> list[dict]:
    files = get_session().execute(select(IngestFile).where(IngestFile.job_id == job_id)
                                  .order_by(IngestFile.id)).scalars()
    return [{"id": f.id, "name": f"文件 {n}", "archive_no": f.archive_no,
             "state": f.state, "state_label": STATE_LABELS.get(f.state, f.state),
             "pages_done": f.pages_done, "pages_total": f.pages_total,
             "seconds": round(f.seconds or 0.0, 1), "error": shown_error(f.error),
             "note": shown_error(f.note)}
            for n, f in enumerate(files, start=1)]


def _progress(job_id: int) -> dict:
    release_held()  # the job page polls: a held job starts as soon as Redis answers
    session = get_session()
    session.expire_all()  # the worker commits from another process: read fresh rows
    progress = job_progress(session, job_id)
    if progress is None:
        abort(404, description=f"导入任务 {job_id} 不存在")
    data = asdict(progress)
    data.pop("errors")  # per-file errors come with the file rows below
    finished_files = progress.files_done + progress.files_failed
    data["percent"] = 100 * finished_files // max(progress.files_total, 1)
    data["files"] = _file_rows(job_id)
    return data


@bp.route("/jobs/<int:job_id>")
@requires(Permission.INGEST_RUN)
def job(job_id: int):
    data = _progress(job_id)
    return render_template("ingest_job.html", job=get_session().get(IngestJob, job_id),
                           p=data)


@bp.route("/jobs/<int:job_id>/progress.json")
@requires(Permission.INGEST_RUN)
def progress_json(job_id: int):
    """Polled by the job page (session cookie; the bearer-token API stays separate)."""
    return jsonify(_progress(job_id))


@bp.route("/review")
@requires(Permission.INGEST_RUN)
def review():
    show_reviewed = request.args.get("show") == "reviewed"
    page = max(1, request.args.get("page", 1, type=int))
    data = desk.review_list(get_session(), reviewed=show_reviewed, page=page)
    return render_template("ingest_review.html", rows=data["rows"], page=page,
                           has_next=data["has_next"], threshold=data["threshold"],
                           show_reviewed=show_reviewed, pending=data["pending"],
                           reviewed=data["reviewed"])


@bp.route("/review/mark", methods=["POST"])
@requires(Permission.INGEST_RUN)
def mark_reviewed():
    doc_id = request.form.get("doc_id", "").strip()
    if not doc_id:
        abort(400, description="缺少页面编号（doc_id），无法标记为已复核")
    try:
        marked = desk.mark_reviewed(get_session(), request_actor(), doc_id)
    except desk.NoSuchPage as exc:
        abort(404, description=str(exc))
    flash(f"{doc_id} 已标记为已复核" if marked else f"{doc_id} 已经复核过", "info")
    return redirect(url_for("ingest.review"))

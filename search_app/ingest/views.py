"""The records manager's ingest pages: upload a batch, follow its jobs, review weak OCR pages.

Separation of duties: the system admin runs ingestion but does not read archive content, so no
page here shows page text or the encrypted manifest fields (names, ID numbers) — only 档号,
page numbers, states, counts and confidences. A scan's original file name is part of its
manifest row (it is often the person's name): only the upload form shows it, to the user who is
uploading that batch; job pages list files by 档号 and their number in the job.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from sqlalchemy import case, func, select, update

from search_app.audit.actions import Action
from search_app.audit.service import Event, record_event, request_actor
from search_app.db import get_session
from search_app.ingest import uploads
from search_app.ingest.held import HELD, held_count, release_held
from search_app.ingest.models import IngestFile, IngestJob, PageSecret
from search_app.ingest.progress import job_progress
from search_app.permissions import Permission, requires
from search_app.timeutil import utcnow

bp = Blueprint("ingest", __name__, url_prefix="/ingest")
JOBS_PER_PAGE = 50
REVIEW_PER_PAGE = 100
STATE_LABELS = {"queued": "排队中", "running": "处理中", "done": "完成", "failed": "失败",
                "held": "等待任务队列恢复"}


def _upload_root() -> Path:
    return uploads.upload_root()


def _sweep() -> None:
    """Abandoned batches go on the next visit (no beat needed): batches untouched for
    INGEST_BATCH_TTL_HOURS that no held, queued or running file still reads from. Held files
    (Redis was down when they were submitted) are sent to the queue here too, once it answers."""
    release_held()
    root = _upload_root()
    paths = get_session().execute(select(IngestFile.path).where(
        IngestFile.state.in_((HELD, "queued", "running")),
        IngestFile.path.startswith(str(root) + "/"))).scalars()
    removed = uploads.sweep(root, max_age_hours=current_app.config["INGEST_BATCH_TTL_HOURS"],
                            active={Path(p).parent.name for p in paths})
    if removed:
        record_event(request_actor(), Event(action=Action.INGEST_BATCHES_REMOVED, outcome="allowed",
                                            result_count=len(removed),
                                            filters={"batches": removed}))


@bp.route("/")
@requires(Permission.INGEST_RUN)
def jobs():
    _sweep()
    page = max(1, request.args.get("page", 1, type=int))
    finished = IngestFile.state.in_(("done", "failed"))
    stmt = (select(IngestJob,
                   func.count(IngestFile.id),
                   func.coalesce(func.sum(case((IngestFile.state == "done", 1), else_=0)), 0),
                   func.coalesce(func.sum(case((IngestFile.state == "failed", 1), else_=0)), 0),
                   func.coalesce(func.sum(IngestFile.pages_done), 0),
                   func.coalesce(func.sum(IngestFile.pages_total), 0),
                   func.coalesce(func.sum(case((finished, 0), else_=1)), 0))
            .outerjoin(IngestFile, IngestFile.job_id == IngestJob.id)
            .group_by(IngestJob.id).order_by(IngestJob.id.desc())
            .offset((page - 1) * JOBS_PER_PAGE).limit(JOBS_PER_PAGE + 1))
    rows = [dict(job=job, files=n, done=done, failed=failed, pages_done=pd, pages_total=pt,
                 finished=open_ == 0)
            for job, n, done, failed, pd, pt, open_ in get_session().execute(stmt)]
    return render_template("ingest_jobs.html", rows=rows[:JOBS_PER_PAGE], page=page,
                           has_next=len(rows) > JOBS_PER_PAGE)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.INGEST_RUN)
def new():
    _sweep()
    if request.method == "GET":
        return render_template("ingest_new.html", check=None, batch_id="", kept=[])
    root = _upload_root()
    batch = uploads.open_batch(root, request.form.get("batch", ""), current_user.id)
    if batch is None:
        batch = uploads.new_batch(root, current_user.id)
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    errors = uploads.store_scans(batch, request.files.getlist("files"), max_bytes)
    manifest_error = uploads.store_manifest(batch, request.files.get("manifest"), max_bytes)
    check = uploads.check_batch(batch)
    check.errors[:0] = errors + ([manifest_error] if manifest_error else [])
    if not check.ok:
        kept = uploads.scans_in(batch)
        if not kept and check.manifest is None:
            uploads.discard_batch(batch)  # nothing to keep: no half-empty folder behind
            batch_id = ""
        else:
            batch_id = batch.name
        return render_template("ingest_new.html", check=check, batch_id=batch_id,
                               kept=kept), 400

    from search_app.ingest.jobs import start_job
    from search_app.ops import QueueUnavailable

    if check.manifest is None:  # check.ok without a manifest would be a bug in the check
        abort(500, description="导入清单未通过检查，任务未启动")
    try:
        job = start_job(check.manifest, base_dir=batch, created_by=current_user.username, queue=True,
                        rows=check.rows, locate=lambda name: uploads.scan_path(batch, name),
                        confirm_metadata_change=request.form.get("confirm_metadata_change") == "on",
                        actor=request_actor(), hold_if_queue_down=True)
    except QueueUnavailable as exc:  # only if the hold itself could not be made
        check.errors.append(str(exc))
        return render_template("ingest_new.html", check=check, batch_id=batch.name,
                               kept=uploads.scans_in(batch)), 503
    held = held_count(job.id)
    record_event(request_actor(), Event(action=Action.INGEST_JOB_STARTED, outcome="allowed",
                                        result_count=len(job.files),
                                        filters={"job_id": job.id, "batch": batch.name,
                                                 "held": held}))
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
             "seconds": round(f.seconds or 0.0, 1), "error": f.error, "note": f.note}
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
    threshold = current_app.config["OCR_REVIEW_THRESHOLD"]
    show_reviewed = request.args.get("show") == "reviewed"
    page = max(1, request.args.get("page", 1, type=int))
    weak = PageSecret.ocr_confidence.is_not(None) & (PageSecret.ocr_confidence < threshold)
    done = PageSecret.reviewed_at.is_not(None)
    session = get_session()
    counts = dict(session.execute(select(done, func.count()).where(weak).group_by(done)).all())
    # Only these columns are loaded: the ciphertext (page text) never leaves the database here.
    stmt = (select(PageSecret.doc_id, PageSecret.archive_no, PageSecret.page_no,
                   PageSecret.ocr_confidence, PageSecret.updated_at, PageSecret.reviewed_at,
                   PageSecret.reviewed_by)
            .where(weak, done if show_reviewed else ~done)
            .order_by(PageSecret.updated_at.desc(), PageSecret.doc_id)
            .offset((page - 1) * REVIEW_PER_PAGE).limit(REVIEW_PER_PAGE + 1))
    rows = session.execute(stmt).all()
    return render_template("ingest_review.html", rows=rows[:REVIEW_PER_PAGE], page=page,
                           has_next=len(rows) > REVIEW_PER_PAGE, threshold=threshold,
                           show_reviewed=show_reviewed, pending=counts.get(False, 0),
                           reviewed=counts.get(True, 0))


@bp.route("/review/mark", methods=["POST"])
@requires(Permission.INGEST_RUN)
def mark_reviewed():
    doc_id = request.form.get("doc_id", "").strip()
    if not doc_id:
        abort(400, description="缺少页面编号（doc_id），无法标记为已复核")
    session = get_session()
    page = session.execute(select(PageSecret.doc_id, PageSecret.ocr_confidence,
                                  PageSecret.reviewed_at)
                           .where(PageSecret.doc_id == doc_id)).one_or_none()
    if page is None:
        abort(404, description=f"页面 {doc_id} 不存在")
    if page.reviewed_at is not None:
        flash(f"{doc_id} 已经复核过", "info")
        return redirect(url_for("ingest.review"))
    # Audit first (fail closed): if the record cannot be written, the review is not stored.
    record_event(request_actor(), Event(
        action=Action.INGEST_PAGE_REVIEWED, outcome="allowed",
        filters={"doc_id": doc_id, "ocr_confidence": page.ocr_confidence,
                 "threshold": current_app.config["OCR_REVIEW_THRESHOLD"]}))
    session.execute(update(PageSecret).where(PageSecret.doc_id == doc_id).values(
        reviewed_at=utcnow(), reviewed_by=current_user.username,
        updated_at=PageSecret.updated_at))  # the ingest date shown stays the ingest date
    session.commit()
    flash(f"{doc_id} 已标记为已复核", "info")
    return redirect(url_for("ingest.review"))

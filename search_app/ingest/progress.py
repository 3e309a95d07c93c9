"""What a job's progress shows (CLI bar, web page, GET /api/v1/ingest/jobs/<id>): counts per
job, and states, errors, confidences and timings per file and page, never page text."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.audit.redaction import mask_text
from search_app.ingest import uploads
from search_app.ingest.models import IngestFile, IngestJob


@dataclass
class JobProgress:
    job_id: int
    files_total: int
    files_done: int
    files_failed: int
    pages_total: int
    pages_done: int
    finished: bool
    errors: list[tuple[str, str]]


def job_progress(session: Session, job_id: int) -> JobProgress | None:
    job = session.get(IngestJob, job_id)
    if job is None:
        return None
    files = list(session.execute(select(IngestFile).where(IngestFile.job_id == job_id)).scalars())
    return JobProgress(
        job_id=job_id, files_total=len(files),
        files_done=sum(f.state == "done" for f in files),
        files_failed=sum(f.state == "failed" for f in files),
        pages_total=sum(f.pages_total for f in files),
        pages_done=sum(f.pages_done for f in files),
        finished=all(f.state in ("done", "failed") for f in files),
        errors=[(display_name(f), shown_error(f.error)) for f in files if f.state == "failed"])


def shown_error(text: str) -> str:
    """A refusal as job pages and the API show it: masked like audit text. Refusals quote the
    value they refuse, and a shifted manifest column puts the subject's ID or name where the
    年度 or 门类 was expected ("年度“110105…”不是四位数的年份"). Rows stored before errors were
    masked on write are masked here too."""
    return mask_text(text, set()) if text else text


def display_name(f: IngestFile) -> str:
    """How job listings name a file: the CLI operator's own file name, but for a web upload its
    档号 (the original name belongs to the encrypted manifest row and is often a person's)."""
    if f.path and uploads.is_upload(Path(f.path)):
        return f.archive_no or f"#{f.id}"
    return Path(f.path).name or f"#{f.id}"


def _iso(ts) -> str | None:
    return ts.isoformat(timespec="seconds") + "Z" if ts else None


def job_detail(session: Session, job_id: int) -> dict | None:
    """Progress plus every file and page row: states, errors, confidences, timings.

    Deliberately no page text and no manifest metadata beyond the 档号 (that row is encrypted
    because it names the subject).
    """
    progress = job_progress(session, job_id)
    if progress is None:
        return None
    files = session.execute(select(IngestFile).where(IngestFile.job_id == job_id)
                            .order_by(IngestFile.id)).scalars()
    out = asdict(progress)
    out["files"] = [{
        "id": f.id, "file": display_name(f), "archive_no": f.archive_no, "state": f.state,
        "error": shown_error(f.error), "note": shown_error(f.note), "sha256": f.sha256, "pages_total": f.pages_total,
        "pages_done": f.pages_done, "seconds": round(f.seconds, 3),
        "started_at": _iso(f.started_at), "updated_at": _iso(f.updated_at),
        "pages": [{"page_no": p.page_no, "state": p.state, "error": shown_error(p.error),
                   "ocr_confidence": p.ocr_confidence, "text_source": p.text_source,
                   "seconds": round(p.seconds, 3), "attempts": p.attempts,
                   "started_at": _iso(p.started_at), "updated_at": _iso(p.updated_at)}
                  for p in f.pages],
    } for f in files]
    return out

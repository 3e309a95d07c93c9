"""Starting an ingest job from an upload: what the upload form (/ingest/new) and
POST /api/v1/ingest/uploads share. The scans and the manifest are encrypted on receipt into a
batch of the uploading user (ingest.uploads), checked as a whole, and only a batch that passes
starts a job; a batch that fails is kept (encrypted) so the next submission names it and sends
only what was wrong. With the task queue down the job is saved and held, and starts by itself
when the queue answers (ingest.held)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import FileStorage

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.ingest import uploads
from search_app.ingest.held import held_count
from search_app.ingest.models import IngestJob


@dataclass
class Submission:
    check: uploads.Check
    batch_id: str = ""  # "" when nothing was kept (no scan, no manifest)
    kept: list[str] = field(default_factory=list)  # scans held in the batch (original names)
    job: IngestJob | None = None
    held: int = 0  # files waiting for the task queue
    unavailable: str = ""  # why the job could not even be held (the queue and the hold failed)


def submit(*, user: User, actor: Actor, config: Mapping[str, Any], batch_id: str,
           files: list[FileStorage], manifest: FileStorage | None,
           confirm_metadata_change: bool) -> Submission:
    from search_app.ingest.jobs import start_job
    from search_app.ops import QueueUnavailable

    root = uploads.upload_root()
    batch = uploads.open_batch(root, batch_id, user.id) or uploads.new_batch(root, user.id)
    max_bytes = config["MAX_UPLOAD_MB"] * 1024 * 1024
    errors = uploads.store_scans(batch, files, max_bytes)
    manifest_error = uploads.store_manifest(batch, manifest, max_bytes)
    check = uploads.check_batch(batch)
    check.errors[:0] = errors + ([manifest_error] if manifest_error else [])
    if not check.ok or check.manifest is None:
        kept = uploads.scans_in(batch)
        if not kept and check.manifest is None:
            uploads.discard_batch(batch)  # nothing to keep: no half-empty folder behind
            return Submission(check)
        return Submission(check, batch.name, kept)
    try:
        job = start_job(check.manifest, base_dir=batch, created_by=user.username, queue=True,
                        rows=check.rows, locate=lambda name: uploads.scan_path(batch, name),
                        confirm_metadata_change=confirm_metadata_change, actor=actor,
                        hold_if_queue_down=True)
    except QueueUnavailable as exc:  # only if the hold itself could not be made
        check.errors.append(str(exc))
        return Submission(check, batch.name, uploads.scans_in(batch), unavailable=str(exc))
    held = held_count(job.id)
    record_event(actor, Event(action=Action.INGEST_JOB_STARTED, outcome="allowed",
                              result_count=len(job.files),
                              filters={"job_id": job.id, "batch": batch.name, "held": held}))
    return Submission(check, batch.name, job=job, held=held)

"""Ingest held while the task queue (Redis) is down, and picked up when it returns.

A web upload submitted while Redis does not answer is not thrown away: its job and file rows are
committed with the files in state `held` (nothing was sent), and the uploader is told so. Every
queued job goes through the same hand-over, `release_held`: a file is moved from `held` to
`queued` (one conditional UPDATE, so two callers never both send it) and only then its task sent;
if the send fails the file goes back to `held`. A held file is therefore never lost between the
database and the broker, and a file is never sent twice by two releasers.

Who releases: beat every INGEST_HELD_RETRY_S (`workers.tasks.release_held_ingest`), each worker
when it starts, and the ingest pages on every visit (the job page polls, so a job its uploader is
watching starts as soon as Redis answers). Each asks the database first and pings Redis only when
something is held, so the usual cost is one indexed SELECT.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select, update

from search_app.db import get_session
from search_app.ingest.models import IngestFile

HELD = "held"
BATCH = 500  # files released per call; the next call takes the rest


def release_held(file_ids: Iterable[int] | None = None) -> int:
    """Send the tasks of held files (all, or those of `file_ids`) if the broker answers; returns
    how many were sent. Nothing is raised when Redis is down: the files stay held for the next
    call, which is the point."""
    from search_app.ops import QueueUnavailable, require_queue

    session = get_session()
    stmt = select(IngestFile.id).where(IngestFile.state == HELD).order_by(IngestFile.id).limit(BATCH)
    if file_ids is not None:
        stmt = stmt.where(IngestFile.id.in_(list(file_ids)))
    ids = list(session.execute(stmt).scalars())
    if not ids:
        return 0
    try:
        require_queue()
    except QueueUnavailable:
        return 0
    from workers.tasks import ingest_file

    sent = 0
    for fid in ids:
        claimed = session.execute(update(IngestFile).where(
            IngestFile.id == fid, IngestFile.state == HELD).values(state="queued")).rowcount
        session.commit()
        if not claimed:  # another releaser took it
            continue
        try:
            ingest_file.delay(fid)
        except Exception as exc:  # the broker went away mid-way: held again, nothing lost
            session.execute(update(IngestFile).where(
                IngestFile.id == fid, IngestFile.state == "queued").values(state=HELD))
            session.commit()
            current_app.logger.warning("ingest file %s held again, queue unavailable: %s",
                                       fid, type(exc).__name__)
            break
        sent += 1
    if sent:
        current_app.logger.info("released %s held ingest file(s) to the queue", sent)
    return sent


def held_count(job_id: int) -> int:
    from sqlalchemy import func

    return get_session().execute(select(func.count()).select_from(IngestFile).where(
        IngestFile.job_id == job_id, IngestFile.state == HELD)).scalar_one()

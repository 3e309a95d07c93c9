"""Starting a job and following it: used by the CLI, the demo set-up and (later) the upload UI."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import current_app

from indexer.manifest import ManifestError, ManifestRow, parse_manifest
from search_app.audit.service import Actor
from search_app.catalogue.services import lists as catalogue_lists
from search_app.db import get_session
from search_app.ingest.held import HELD, release_held
from search_app.ingest.models import IngestJob
from search_app.ingest.finish import finish_file, mark_page_failed
from search_app.ingest.pool import run_in_pool
from search_app.ingest.progress import JobProgress, job_progress
from search_app.ingest.service import create_job, mark_failed, run_file
from search_app.search._backend import alias, reader, require_index, writer


def start_job(manifest: Path, *, base_dir: Path, created_by: str, queue: bool,
              rows: list[ManifestRow] | None = None,
              locate: Callable[[str], Path] | None = None,
              confirm_metadata_change: bool = False, actor: Actor | None = None,
              hold_if_queue_down: bool = False) -> IngestJob:
    """Create the job rows and commit, then hand the files to the worker (or run them here).

    Tasks are queued only after the commit, so a worker never looks for a row that isn't there:
    the files are committed `held` and released to the queue one by one (ingest.held), so a
    broker that fails half-way leaves the rest held, to be picked up when it returns. With Redis
    down at the start the job is refused (QueueUnavailable, nothing written) unless
    `hold_if_queue_down` (the upload page: the batch is kept and starts by itself later).
    An upload batch passes its rows (read from its encrypted manifest) and `locate`, which maps
    a row's file name to its encrypted scan in the batch. A row that changes an existing 档号's
    access fields fails unless `confirm_metadata_change`.
    """
    if rows is None:
        # ManifestError: the whole manifest is unreadable; rows are checked against the catalogue
        rows = parse_manifest(manifest, catalogue_lists().vocabulary())
    if not rows:  # a header alone, `[]`, `{"files": []}`: refused, not an empty job that says nothing
        raise ManifestError(f"清单 {Path(manifest).name} 中没有任何条目：表头之外每个扫描件应有一行")
    if queue:
        from search_app.ops import QueueUnavailable, require_queue
        try:
            require_queue()  # QueueUnavailable: refused before any row is written
        except QueueUnavailable:
            if not hold_if_queue_down:
                raise
    # creating the index is index administration (`flask ensure-index`, the admin identity);
    # the web process that queues an upload holds only the reader
    require_index(reader() if queue else writer(), alias())
    session = get_session()
    job = create_job(session, source=str(manifest), created_by=created_by, rows=rows,
                     base_dir=base_dir, locate=locate,
                     confirm_metadata_change=confirm_metadata_change, actor=actor)
    if queue:
        for f in job.files:
            if f.state == "queued":
                f.state = HELD
    session.commit()
    file_ids = [f.id for f in job.files if f.state == (HELD if queue else "queued")]
    if queue:
        release_held(file_ids)
        session.expire_all()  # the caller reads the states release_held committed
    else:
        _run_here(file_ids)
    return job


def _run_here(file_ids: list[int]) -> None:
    """The synchronous path: every file's file phase, then all their pages at once through the
    page loop in a pool of WORKER_CONCURRENCY processes (so a job of many one-page files uses
    every core too). There is no retry here: a page that failed, even transiently, fails with
    the reason on its row, and the batch goes on."""
    cfg = current_app.config
    page_ids: list[int] = []
    started: list[int] = []
    for fid in file_ids:
        try:
            run_file(fid, dispatch=page_ids.extend)
            started.append(fid)
        except Exception as exc:  # the batch goes on; the row says what happened
            current_app.logger.error("ingest file %s failed: %s", fid, exc)
            mark_failed(fid, f"内部错误：{type(exc).__name__}: {exc}")
    for outcome in run_in_pool(page_ids, processes=cfg["WORKER_CONCURRENCY"],
                               size=cfg["INGEST_BATCH_PAGES"]):
        if outcome.state == "queued":
            current_app.logger.error("ingest page %s failed: %s", outcome.page_id, outcome.error)
            mark_page_failed(outcome.page_id, f"内部错误：{outcome.error}")
    for fid in started:  # those whose last page failed just now, or had no page left to run
        finish_file(fid)
    writer().indices.refresh(index=alias())  # one refresh for the batch, not one per file


def wait_for_job(job_id: int, *, echo: Callable[[str], None] = print, timeout: float = 3600,
                 poll: float = 1.0) -> JobProgress:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        session = get_session()
        session.expire_all()
        progress = job_progress(session, job_id)
        if progress is None:
            raise LookupError(f"导入任务 {job_id} 不存在")
        done = progress.files_done + progress.files_failed
        pct = 100 * done // max(progress.files_total, 1)
        line = (f"[{'#' * (pct // 5):<20}] {pct:3d}%  files {done}/{progress.files_total}  "
                f"pages {progress.pages_done}/{progress.pages_total}  failed {progress.files_failed}")
        if line != last:
            echo(line)
            last = line
        if progress.finished:
            return progress
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not finished after {timeout:.0f}s: {line}")
        time.sleep(poll)

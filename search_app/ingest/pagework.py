"""The page loop: pages of ingest files read back from the blob store, run through the stages,
kept, and indexed in batches. Celery's page task and the synchronous CLI's process pool
(ingest/pool.py) both run exactly this loop, `run_pages`, over a batch of page ids.

A batch is safe to run twice and safe to be killed. Each page row is claimed while 'queued' or
'running' (a row left 'running' by a dead worker is claimed again by the redelivered task) and
document ids are deterministic. A page's PageSecret is committed first (the page is durable);
the ready pages of a batch then go to the engine in one bulk request, every item's answer is
checked, and only a page the engine took turns 'done': the index never holds a page the
database could lose, a row is never 'done' for a page the engine refused, and a crash in between
is redone by the redelivered task. A batch that finds a page left 'running' indexes each page as
soon as it is durable, so a page that kills its worker cannot take the pages before it along.
The file is finished by whichever loop sees no open page left, with one conditional UPDATE so
exactly one of them does it.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from indexer.pages import load_page
from indexer.pipeline import page_text, prepare
from indexer.types import ArchiveMeta, IngestError, PageText
from search_app.db import get_session
from search_app.ingest.finish import (OPEN, count_progress, finish_file, give_up_page,  # noqa: F401
                                      mark_page_failed)
from search_app.ingest.keep import index_pages, keep_page
from search_app.ingest.models import IngestFile, IngestPage
from search_app.ingest.service import blob_store, file_meta, options_from_config
from search_app.qa.records import record_page
from search_app.timeutil import utcnow

@dataclass(frozen=True)
class PageOutcome:
    """What became of one page of a batch (plain values: it crosses process boundaries).

    `state` is the row's: 'done', 'failed', 'queued' (a possibly transient error: run it again)
    or 'skipped' (not this loop's to run: its file is not running, or another task has it).
    """

    page_id: int
    file_id: int
    page_no: int
    state: str
    error: str = ""


class PagesPending(RuntimeError):
    """Pages of a batch ended 'queued' after a possibly transient error: the task retries them."""


def batches(page_ids: Sequence[int], *, processes: int, size: int) -> list[list[int]]:
    """Page ids cut into loop batches of at most `size`, as even as can be, and as many as a
    multiple of `processes` (when there are that many pages), so no process idles at the end."""
    n = len(page_ids)
    if not n:
        return []
    procs = max(processes, 1)
    count = min(n, math.ceil(math.ceil(n / max(size, 1)) / procs) * procs)
    per, extra = divmod(n, count)
    out, start = [], 0
    for i in range(count):
        end = start + per + (i < extra)
        out.append(list(page_ids[start:end]))
        start = end
    return out


_WARM_META = ArchiveMeta("预热-0001", "预热", "户籍档案", "海淀分局", 2020, "内部", "", "王建国")
_WARM_TEXT = ("户主姓名王建国 與戶主關係 本人 公民身份号码11010519491231002X 联系电话13800138000\n"
              "住址北京市海淀区中关村大街27号3单元502室 开户银行卡号6222020200112233445")


def warm_up() -> None:
    """Load what the text stages load on first use (jieba's dictionary and POS model, the name
    and script tables) in a parent process before it forks its page processes: otherwise every
    child loads its own copy on its first page (a second or so each, per job for the CLI pool),
    and forked children share these pages copy-on-write. Tesseract's models too, for the same
    reason (indexer.tesseract_api.preload)."""
    from flask import current_app, has_app_context

    from indexer import tesseract_api

    prepare(PageText(page_no=1, text=_WARM_TEXT, source="text_layer"), _WARM_META)
    if has_app_context():
        tesseract_api.preload(current_app.config["OCR_LANGS"])


def run_page(page_id: int) -> IngestPage:
    """One page through the loop (a single-page task from before batches, tests); raises
    PagesPending when it ended queued for a retry."""
    session = get_session()
    if session.get(IngestPage, page_id) is None:
        raise LookupError(f"ingest page {page_id} does not exist")
    [outcome] = run_pages([page_id]) or [None]
    if outcome is not None and outcome.state == "queued":
        raise PagesPending(outcome.error)
    page = session.get(IngestPage, page_id)
    session.refresh(page)
    return page


def run_pages(page_ids: Sequence[int]) -> list[PageOutcome]:
    """The page loop over one batch: each page claimed, processed and committed in turn, the
    ready ones indexed together; then every file the batch touched is finished if it can be
    (also when its pages were already done: a task killed between its commit and that check is
    redelivered and must still be able to finish the file)."""
    loop = _PageLoop(get_session())
    for pid in page_ids:
        loop.run(pid)
    loop.flush()
    for fid in loop.files:
        finish_file(fid)
    return [loop.outcomes[pid] for pid in page_ids if pid in loop.outcomes]


@dataclass
class _Ready:
    """A page whose secret is committed, waiting for its bulk request."""

    page: IngestPage
    file_id: int
    doc: dict
    confidence: float | None
    source: str
    started: float


class _PageLoop:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.limit = current_app.config["MAX_PAGE_ATTEMPTS"]
        self.size = current_app.config["INGEST_BATCH_PAGES"]
        self.opts = options_from_config()
        self.pending: list[_Ready] = []
        self.outcomes: dict[int, PageOutcome] = {}
        self.files: list[int] = []
        self._source: tuple[int, ArchiveMeta, bytes] | None = None  # the current file, decrypted once

    def run(self, page_id: int) -> None:
        session = self.session
        page = session.get(IngestPage, page_id)
        if page is None:
            current_app.logger.error("ingest page %s does not exist", page_id)
            return
        f = session.get(IngestFile, page.file_id)
        if f.id not in self.files:
            self.files.append(f.id)
        claimed = left_running = False
        if f.state == "running":
            now = utcnow()
            left_running = page.state == "running"
            claimed = bool(session.execute(
                update(IngestPage).where(IngestPage.id == page_id, IngestPage.state.in_(OPEN))
                .values(state="running", attempts=IngestPage.attempts + 1, started_at=now,
                        updated_at=now)
                .execution_options(synchronize_session=False)).rowcount)
            session.commit()
        session.refresh(page)
        if not claimed:
            self._record(page, "skipped" if page.state in OPEN else page.state)
            return
        if page.attempts > self.limit:
            _give_up_attempts(session, f, page, self.limit, left_running=left_running)
            self._record(page, page.state)
            return
        if left_running:  # this page may be what killed the last worker: index the others first
            self.flush()
        ready = self._process(f, page)
        if ready is not None:
            self.pending.append(ready)
        if left_running or len(self.pending) >= self.size:
            self.flush()

    def _file(self, f: IngestFile) -> tuple[ArchiveMeta, bytes]:
        if self._source is None or self._source[0] != f.id:
            self._source = (f.id, ArchiveMeta(**file_meta(f)), blob_store().get(f.sha256, owner=f.archive_no))
        return self._source[1], self._source[2]

    def _process(self, f: IngestFile, page: IngestPage) -> _Ready | None:
        started = time.monotonic()
        session = self.session
        try:
            meta, data = self._file(f)
            opts = self.opts
            prepared = prepare(page_text(load_page(data, page.page_no, dpi=opts.dpi,
                                                   max_pixels=opts.max_pixels,
                                                   view_max_edge=opts.view_max_edge), opts), meta)
            doc = keep_page(session, meta, prepared, f, reason="reingest")
            record_page(session, f, prepared)  # the digitisation checks, with the page
            session.commit()  # durable before it becomes searchable
        except IngestError as exc:  # this page cannot be read: fail it, the others go on
            session.rollback()
            self._close(page, f.id, "failed", str(exc), started)
            session.commit()
            return None
        except Exception as exc:  # possibly transient: back to queued for a retry
            session.rollback()
            current_app.logger.error("ingest page %s (file %s, page %s) failed: %s: %s",
                                     page.id, f.id, page.page_no, type(exc).__name__, exc)
            self._close(page, f.id, "queued", f"上次尝试失败：{type(exc).__name__}: {exc}", started)
            session.commit()
            return None
        return _Ready(page, f.id, doc, prepared.confidence, prepared.source, started)

    def flush(self) -> None:
        """One bulk request for the ready pages; each row follows its own item's answer."""
        ready, self.pending = self.pending, []
        if not ready:
            return
        try:
            refused = index_pages([r.doc for r in ready])
        except Exception as exc:  # transport: none of them is known to be searchable
            current_app.logger.error("indexing %s pages failed: %s: %s", len(ready),
                                     type(exc).__name__, exc)
            for r in ready:
                self._close(r.page, r.file_id, "queued",
                            f"上次尝试失败（写入索引）：{type(exc).__name__}: {exc}", r.started)
            self.session.commit()
            return
        for r in ready:
            why = refused.get(r.doc["doc_id"])
            if why is None:
                self._close(r.page, r.file_id, "done", "", r.started, r.confidence, r.source)
            else:
                current_app.logger.error("engine refused page %s: %s", r.doc["doc_id"], why)
                self._close(r.page, r.file_id, "queued" if why.transient else "failed",
                            f"搜索引擎拒绝索引该页（{why}）", r.started)
        self.session.commit()

    def _close(self, page: IngestPage, file_id: int, state: str, error: str, started: float,
               confidence: float | None = None, source: str = "") -> None:
        """The row's outcome (flushed with the progress count; the caller commits)."""
        page.state, page.error = state, error[:2000]
        if state == "done":
            page.ocr_confidence, page.text_source = confidence, source
        page.seconds = time.monotonic() - started
        self.session.flush()
        if state != "queued":
            count_progress(self.session, file_id)
        self._record(page, state)

    def _record(self, page: IngestPage, state: str) -> None:
        self.outcomes[page.id] = PageOutcome(page.id, page.file_id, page.page_no, state,
                                             page.error if state != "done" else "")


def _give_up_attempts(session: Session, f: IngestFile, page: IngestPage, limit: int, *,
                      left_running: bool) -> None:
    """A page claimed more than MAX_PAGE_ATTEMPTS times: each earlier attempt ended without a
    result (a worker killed mid-page leaves the row 'running' and the message is redelivered), so
    running it again would most likely kill the next worker too, without end. It fails here with
    the reason; the file's other pages are unaffected and the file can finish."""
    why = ("上次处理进程在处理中途退出" if left_running or not page.error
           else f"上次错误：{page.error}")
    page.state = "failed"
    page.error = (f"第 {limit} 次尝试仍未完成，可能导致处理进程崩溃（{why}）；已停止重试（MAX_PAGE_ATTEMPTS="
                  f"{limit}）：请检查该页扫描件（尺寸、损坏）后重新导入")[:2000]
    session.flush()
    count_progress(session, f.id)
    session.commit()
    current_app.logger.error("ingest page %s (file %s, page %s) given up after %s attempts",
                             page.id, f.id, page.page_no, limit)

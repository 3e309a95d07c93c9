"""The synchronous CLI's pages on every core: the page loop (`pagework.run_pages`) in a pool of
WORKER_CONCURRENCY processes, the same loop and batches the Celery worker runs.

Children are forked from the CLI process with its app (settings, keys) and open their own
database connections and engine clients: a connection is never shared across a fork. Each batch
runs in its own app context, like a Celery task. A child that dies (out of memory, a crashing
decoder) breaks the pool; its batches then run again one at a time in a fresh single-process
pool, where a page left 'running' is claimed again (counted against MAX_PAGE_ATTEMPTS, so the page
that kills its process gives up while the pages before it are kept).
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from flask import Flask, current_app

from search_app.db import get_session
from search_app.ingest.pagework import PageOutcome, batches, run_pages, warm_up

# Batches per process at least (pages allowing): the pool hands them out as processes free up,
# so a process that drew slow pages does not leave the others idle at the end of the job, as
# one static batch per process did (a 12-page job: 8 batches of 1-2 pages, not 2 of 6).
ROUNDS = 4
_APP: list[Flask] = []  # the forked child's app (set by _child_start)
# What the child inherited from its parent and must neither use nor close: dropping the last
# reference to an inherited SQLite connection would close its file and, with it, the child's
# own locks on the database (POSIX locks are per process and file). The child exits holding them.
_INHERITED: list[object] = []


def run_in_pool(page_ids: Sequence[int], *, processes: int, size: int) -> list[PageOutcome]:
    """Every page through the page loop, `processes` at a time; the outcomes of all batches.

    A single batch (or one process) runs here, in this process. A batch whose loop raised
    (the database or engine was unreachable) reports its pages 'queued' with the error, for the
    caller to decide (the CLI fails them with it, as it has no retry)."""
    chunks = batches(page_ids, processes=processes * ROUNDS, size=size)
    if processes <= 1 or len(chunks) <= 1:
        return [o for chunk in chunks for o in run_pages(chunk)]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    warm_up()  # once here, inherited by every child
    get_session().commit()  # hold no transaction (no SQLite lock) while the children write
    outcomes, broken = _round(app, chunks, processes)
    for chunk in broken:  # one at a time, so a crashing page takes no other batch with it
        for _attempt in range(app.config["MAX_PAGE_ATTEMPTS"] + 1):
            done, again = _round(app, [chunk], 1)
            outcomes += done
            if not again:
                break
        else:
            outcomes += [PageOutcome(pid, 0, 0, "queued", "处理进程反复意外退出") for pid in chunk]
    return outcomes


def _round(app: Flask, chunks: list[list[int]], processes: int
           ) -> tuple[list[PageOutcome], list[list[int]]]:
    """Run the chunks in one pool: their outcomes, and the chunks lost to a dead process."""
    outcomes: list[PageOutcome] = []
    broken: list[list[int]] = []
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(processes, len(chunks)), mp_context=ctx,
                             initializer=_child_start, initargs=(app,)) as pool:
        futures = {pool.submit(_child_run, chunk): chunk for chunk in chunks}
        for future in as_completed(futures):
            try:
                outcomes += future.result()
            except BrokenProcessPool:
                broken.append(futures[future])
            except Exception as exc:  # the loop itself failed; its pages say why
                why = f"上次尝试失败：{type(exc).__name__}: {exc}"
                outcomes += [PageOutcome(pid, 0, 0, "queued", why) for pid in futures[future]]
    return outcomes, broken


def _child_start(app: Flask) -> None:
    """In the forked child: its own database connections and engine clients."""
    from search_app.search import _backend

    engine = app.extensions["db_engine"]
    _INHERITED.extend([engine.pool, app.extensions.get("opensearch")])
    engine.dispose(close=False)  # a fresh pool; the parent's connections stay the parent's
    _backend.init_app(app)
    _APP[:] = [app]


def _child_run(page_ids: list[int]) -> list[PageOutcome]:
    with _APP[0].app_context():
        return run_pages(page_ids)

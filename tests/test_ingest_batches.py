"""Page-loop batches and the process settings behind them (pure: no services)."""
from __future__ import annotations

import os

import pytest

from search_app.config import ConfigError, cpu_count, init_process, load_settings
from search_app.ingest.pagework import batches

_KEYS = {"SECRET_KEY": "s", "ARCHIVE_DATA_KEY": "A" * 43, "ARCHIVE_BLIND_INDEX_KEY": "B" * 43,
         "REDIS_URL": "redis://:pw@127.0.0.1:6379/0"}


@pytest.mark.parametrize("n,processes,size", [(1, 2, 8), (2, 2, 8), (3, 2, 8), (10, 2, 8),
                                              (20, 2, 8), (100, 2, 8), (7, 4, 8), (9, 1, 4)])
def test_batches_cover_every_page_once_and_keep_every_process_busy(n, processes, size):
    got = batches(list(range(n)), processes=processes, size=size)
    assert [p for b in got for p in b] == list(range(n)), f"pages lost, repeated or reordered: {got}"
    assert max(len(b) for b in got) <= size, f"a batch over {size} pages: {got}"
    assert max(map(len, got)) - min(map(len, got)) <= 1, f"uneven batches: {got}"
    assert len(got) >= min(n, processes), f"{len(got)} batches leave a process idle: {got}"
    assert len(got) % processes == 0 or len(got) == n, \
        f"{len(got)} batches on {processes} processes: the last round runs on fewer"


def test_worker_concurrency_defaults_to_the_cpus_this_process_may_use():
    assert load_settings(env=_KEYS)["WORKER_CONCURRENCY"] == cpu_count()
    assert load_settings(env={**_KEYS, "WORKER_CONCURRENCY": "3"})["WORKER_CONCURRENCY"] == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(ConfigError, match="WORKER_CONCURRENCY"):
            load_settings(env={**_KEYS, "WORKER_CONCURRENCY": bad})
    with pytest.raises(ConfigError, match="INGEST_BATCH_PAGES"):
        load_settings(env={**_KEYS, "INGEST_BATCH_PAGES": "0"})


def test_tesseract_threads_are_set_at_start_up_not_by_the_stage(monkeypatch):
    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    init_process(load_settings(env=_KEYS))
    assert os.environ["OMP_THREAD_LIMIT"] == "1"
    import inspect

    from indexer import ocr
    assert "environ" not in inspect.getsource(ocr), "the OCR stage writes the environment again"

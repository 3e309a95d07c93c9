"""Bulk rebuild of the index behind the alias (`flask reindex`): a fresh versioned index with the
current mappings/pages.json, loaded from the stored prepared documents, then an atomic alias
swap (warehouse's zero-downtime reindex).

The stored prepared documents are the page and file-level documents of the index the alias
points at now: they are the output of the text stages (redacted, folded, segmented), so a
mapping or settings change (another analyzer, a dropped sub-field, more shards) rebuilds from
them without decrypting or re-running anything, at bulk speed. A detector or dictionary fix that
changes the text itself: `reprepare=n` (`flask reindex --reprepare`) runs the text stages again
on every page from the vault's text, in n processes (search_app/search/reprepare.py).

During the load the new index has refresh off, an async translog, no replicas, few merges and
rare flushes (loading_settings; the force-merge at the end does the merging once); parallel bulk
workers write it (a client without gzip and with a connection per worker:
`make_client(..., http_compress=False, pool_maxsize=...)`), fed by a reader one search_after
request ahead. Where the time goes: bench/reindex_bench.py.
Then: a catch-up pass for documents written to the old index meanwhile (ingested_at), refresh,
the replicas the settings ask for, a force-merge, and the swap. Any error deletes the half-built
index and re-raises: the old index keeps serving. A run that is killed (no chance to clean up)
leaves its index with a checkpoint in the index's `_meta` (the last document id loaded, in id
order), and the next run resumes from there (`--restart` drops it instead). The new index must
hold exactly as many documents as the old one before the swap: a page deleted from the old
index while the copy ran makes the run fail (and be deleted), to be run again.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch, helpers

from search_app.search._backend import (Replicas, alias_exists, create_versioned_index,
                                        require_index, swap_alias)
from search_app.search._files import refresh_file_docs
from search_app.search._load_settings import loaded_settings, loading_settings
from search_app.search._prefetch import read_ahead as _read_ahead
from search_app.search.reprepare import Reprepare, ReprepareStats, resume_point

__all__ = ["ReindexReport", "reindex", "unfinished"]

CHECKPOINT_EVERY = 10  # bulk chunks between checkpoints in the new index's _meta
CHUNK_BYTES = 10 << 20  # a bulk request holds at most `chunk` documents and this many bytes
# Documents per bulk request. Measured on a quiet machine (bench/reindex_bench.py): 500 per
# request indexes at 0.52 ms of engine CPU per page, ~1,300 (10 MB) at 0.60 and half the rate.
CHUNK = 500
READ_BATCH = 500  # source documents per search_after request (2,000 read slower)


@dataclass
class ReindexReport:
    old_index: str
    new_index: str
    documents: int
    resumed_from: int
    load_seconds: float
    total_seconds: float
    caught_up: int
    pages: int = 0  # page documents in the new index (with reprepare: pages run this time)
    reprepared: ReprepareStats | None = None

    @property
    def docs_per_second(self) -> float:
        return (self.documents - self.resumed_from) / max(self.load_seconds, 1e-9)

    @property
    def pages_per_second(self) -> float:
        """Pages loaded per second (the run's share of them, when resumed)."""
        done = self.documents - self.resumed_from
        return self.pages * done / max(self.documents, 1) / max(self.load_seconds, 1e-9)


def current_index(client: OpenSearch, alias: str) -> str:
    require_index(client, alias)
    names = sorted(client.indices.get_alias(index=alias, name=alias))
    if len(names) != 1:
        raise RuntimeError(f"别名 {alias} 指向 {len(names)} 个索引（{'、'.join(names)}），无法重建")
    return names[0]


def _meta(client: OpenSearch, index: str) -> dict[str, Any]:
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return dict(mapping.get("_meta", {}).get("reindex", {}))


def _set_meta(client: OpenSearch, index: str, **values: Any) -> None:
    client.indices.put_mapping(index=index, body={"_meta": {"reindex": values}})


def unfinished(client: OpenSearch, alias: str) -> list[str]:
    """Versioned indices of `alias` left by a killed reindex (loading, not behind the alias)."""
    found = client.indices.get(index=f"{alias}-v*", ignore_unavailable=True,
                               allow_no_indices=True)
    return sorted(name for name, body in found.items()
                  if not body.get("aliases")
                  and body["mappings"].get("_meta", {}).get("reindex", {}).get("state") == "loading")


def _source_docs(client: OpenSearch, index: str, *, after: str | None, chunk: int,
                 since: str | None = None, op: str = "index") -> Iterator[dict[str, Any]]:
    """Every document of `index` in doc_id order (search_after), from after `after`; with
    `since`, only those ingested at or after it (the catch-up pass). Read `chunk` documents per
    request, one request ahead of the consumer (`_read_ahead`), so the engine serves the next
    read while the bulk workers write."""
    query: dict[str, Any] = ({"range": {"ingested_at": {"gte": since}}} if since
                             else {"match_all": {}})

    def batches() -> Iterator[list[dict[str, Any]]]:
        last = after
        while True:
            body: dict[str, Any] = {"size": chunk, "sort": [{"doc_id": "asc"}], "query": query,
                                    "track_total_hits": False}
            if last is not None:
                body["search_after"] = [last]
            # no filter_path: the engine's response filtering cost more than the bytes saved
            hits = client.search(index=index, body=body,
                                 request_timeout=120)["hits"]["hits"]
            if not hits:
                return
            yield hits
            last = hits[-1]["sort"][0]

    for hits in _read_ahead(batches()):
        for h in hits:
            yield {"_op_type": op, "_index": None, "_id": h["_id"], "_source": h["_source"]}


def _already_there(item: dict[str, Any]) -> bool:
    """A `create` answered 409: a resumed load met a document the killed run had written
    (the same source document: nothing to do, and no deleted copy skewing term statistics)."""
    return item.get("create", {}).get("status") == 409


def _load(client: OpenSearch, source: Iterator[dict[str, Any]], target: str, *, workers: int,
          chunk: int, on_chunk: Callable[[int, str], None]) -> int:
    """parallel_bulk into `target`; yields in input order, so after the k-th answer every
    earlier document is in: `on_chunk(count, last id)` checkpoints that point."""
    ids: list[str] = []

    def actions() -> Iterator[dict[str, Any]]:
        for a in source:
            a["_index"] = target
            ids.append(a["_id"])
            yield a

    done = 0
    for ok, item in helpers.parallel_bulk(client, actions(), thread_count=workers,
                                          chunk_size=chunk, max_chunk_bytes=CHUNK_BYTES,
                                          queue_size=max(4, 2 * workers), raise_on_error=False,
                                          raise_on_exception=True, request_timeout=120):
        if not ok and not _already_there(item):
            raise RuntimeError(f"新索引 {target} 拒绝了文档：{str(item)[:500]}")
        done += 1
        if done % chunk == 0:
            on_chunk(done, ids[done - 1])
    if done != len(ids):
        raise RuntimeError(f"批量写入只确认了 {done} / {len(ids)} 个文档")
    if done % chunk:
        on_chunk(done, ids[done - 1] if done else "")
    return done


def _fill(client: OpenSearch, alias: str, old: str, target: str, stages: Reprepare | None, *,
          after: str | None, resumed: int, since: str, replicas: Replicas, workers: int,
          chunk: int, read_batch: int, progress: Callable[[int], None] | None
          ) -> tuple[int, float, int]:
    """Load `target` from `old`, catch up, finish it and swap the alias to it (deleting it on
    any error before the swap); (documents loaded, load seconds, documents caught up)."""
    state = {"done": resumed, "chunks": 0}

    def checkpoint(count: int, last: str) -> None:
        total = resumed + count
        if progress:
            progress(total - state["done"])
        state["done"] = total
        state["chunks"] += 1
        if state["chunks"] % CHECKPOINT_EVERY == 0:
            _set_meta(client, target, state="loading", source=old, after=last, done=total,
                      since=since)

    def catch_up(when: str) -> int:
        """Documents the ingest path wrote to the old index since `when`. Re-preparing, their
        pages go through the text stages too (a worker may still run the old code) and the
        file documents of their 档号 are rebuilt from all its pages in the new index."""
        source = _source_docs(client, old, after=None, chunk=read_batch, since=when)
        if stages is None:
            return _load(client, source, target, workers=workers, chunk=chunk,
                         on_chunk=lambda n, last: None)
        stages.touched.clear()
        n = _load(client, stages.actions(source, files=False), target, workers=workers,
                  chunk=chunk, on_chunk=lambda n, last: None)
        for no in sorted(stages.touched):
            refresh_file_docs(no, client=client, index=target)
        return n

    try:
        t0 = time.monotonic()
        source = _source_docs(client, old, chunk=read_batch, op="create",
                              after=resume_point(after) if stages else after)
        loaded = _load(client, stages.actions(source) if stages else source, target,
                       workers=workers, chunk=chunk, on_chunk=checkpoint)
        load_s = time.monotonic() - t0
        late = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
        caught = catch_up(since)
        client.indices.put_settings(index=target, body={"index": loaded_settings(replicas)})
        client.indices.refresh(index=target, request_timeout=600)
        # re-prepared: the file documents are rebuilt, so the pages are what must all be there
        pages_only = {"query": {"bool": {"must_not": [{"exists": {"field": "doc_kind"}}]}}}
        want = client.count(index=old, body=pages_only if stages else None)["count"]
        have = client.count(index=target, body=pages_only if stages else None)["count"]
        if have != want:
            raise RuntimeError(f"新索引 {target} 有 {have} 个文档，原索引 {old} 有 {want} 个")
        # one segment: the merges the load put off, done once; the merged segment is searched
        # only after a refresh. (Documents the catch-up rewrote stay as soft deletes for the
        # engine's retention lease, and are purged by a later merge.)
        client.indices.forcemerge(index=target, max_num_segments=1, request_timeout=3600)
        client.indices.refresh(index=target, request_timeout=600)
        client.cluster.health(index=target, wait_for_status="yellow" if replicas else "green",
                              request_timeout=120)
        _set_meta(client, target, state="done", source=old, after=None, done=have, since=since)
        swap_alias(client, alias, target)
    except Exception:  # not a kill (KeyboardInterrupt): that run leaves its index to resume
        client.indices.delete(index=target, ignore_unavailable=True)
        raise
    # after the swap: writes that reached the old index between the catch-up and the swap
    catch_up(late)
    return loaded, load_s, caught


def reindex(client: OpenSearch, alias: str, *, replicas: Replicas = 0, workers: int = 2,
            chunk: int = CHUNK, read_batch: int = READ_BATCH, restart: bool = False,
            drop_old: bool = True,
            progress: Callable[[int], None] | None = None,
            reprepare: int = 0) -> ReindexReport:
    """Rebuild the index behind `alias` (admin identity) and swap the alias to it; see the
    module docstring. `progress(n)` gets the number of documents written since its last call
    (a progress bar), and may raise: that is an error like any other (the new index goes).
    `reprepare=n` runs the text stages again on every page, in n processes, from the vault's
    text (search_app.search.reprepare; needs the app context of the database and keys)."""
    started = time.monotonic()
    old = current_index(client, alias)
    leftovers = unfinished(client, alias)
    target, after, resumed = None, None, 0
    for name in leftovers:
        meta = _meta(client, name)
        if not restart and target is None and meta.get("source") == old:
            target, after, resumed = name, meta.get("after") or None, int(meta.get("done") or 0)
        else:
            client.indices.delete(index=name, ignore_unavailable=True)
    since = datetime.now(UTC) - timedelta(seconds=5)
    if target is None:
        target = create_versioned_index(client, alias, replicas=0)
        since_s = since.isoformat(timespec="seconds")
        client.indices.put_settings(index=target, body={"index": loading_settings()})
        _set_meta(client, target, state="loading", source=old, after=None, done=0,
                  since=since_s)
    else:
        since_s = _meta(client, target).get("since") or since.isoformat(timespec="seconds")
    with ExitStack() as stack:
        try:
            stages = stack.enter_context(Reprepare(reprepare)) if reprepare else None
        except Exception:
            client.indices.delete(index=target, ignore_unavailable=True)
            raise
        loaded, load_s, caught = _fill(client, alias, old, target, stages, after=after,
                                       resumed=resumed, since=since_s, replicas=replicas,
                                       workers=workers, chunk=chunk, read_batch=read_batch,
                                       progress=progress)
        if drop_old and alias_exists(client, alias):
            client.indices.delete(index=old, ignore_unavailable=True)
    pages_only = {"query": {"bool": {"must_not": [{"exists": {"field": "doc_kind"}}]}}}
    return ReindexReport(old_index=old, new_index=target, documents=resumed + loaded,
                         resumed_from=resumed, load_seconds=load_s,
                         total_seconds=time.monotonic() - started, caught_up=caught,
                         pages=(stages.stats.pages if stages else
                                client.count(index=target, body=pages_only)["count"]),
                         reprepared=stages.stats if stages else None)

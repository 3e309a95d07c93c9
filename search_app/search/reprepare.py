"""`flask reindex --reprepare`: the text stages run again on every page while the index is rebuilt
(a new jieba dictionary, a detector or folding fix), on every core.

The stored prepared documents cannot answer that: they are the output of the old stages. The
vault can: each page's unredacted text (PageSecret, encrypted, with the PII spans found at
ingest). So for each page document of the old index, in doc_id order, this process decrypts the
page's text and reads its file's manifest row (for the subject's name), and a fork pool of
`processes` children runs detection (the stored spans plus whatever the current detectors add:
masking only ever grows), redaction, folding and jieba, and builds the new page document; the
file-level documents of each 档号 are rebuilt from its new pages. Metadata, 档号, access fields,
OCR source and confidence stay those of the old document (they are not text stages).

The children get text and metadata only: no database connection, no engine client, nothing
inherited is used (a fork must not touch the parent's connections). A page without a stored
text (none in a deployment that ingested through the product) is copied as stored and counted.

The served page images keep the boxes burned in at ingest: where the current detectors find a
span the stored ones did not, the page is counted in `new_spans`, and its image needs
`flask reocr` (only OCR knows where on the image the new span is).
"""
from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from sqlalchemy import select

from indexer import normalise, redact, tokenize
from indexer.index import FILE_KIND, build_document, build_file_documents
from indexer.pipeline import redact_title
from indexer.types import ArchiveMeta, PreparedPage
from search_app.crypto import Vault, vault_from_config
from search_app.db import get_session
from search_app.ingest.models import PageSecret
from search_app.ingest.secrets import decode_secret, page_meta

__all__ = ["Reprepare", "ReprepareStats", "resume_point"]

BATCH_PAGES = 50  # pages handed to the pool at a time (whole 档号s, so file documents can follow;
# small enough that the next batch is in the pool while the previous one is sent)
_VAULT: list[Vault] = []  # set before the fork: the children's blind index key
_NO_META = ArchiveMeta("", "", "", "", 0, "", "")


@dataclass
class ReprepareStats:
    pages: int = 0  # of the main pass
    caught_up: int = 0  # pages of the catch-up passes (files=False), run through again
    copied: int = 0  # no stored text: copied as stored
    # pages where the current detectors found PII the stored spans did not, each counted once
    # (a page ingested just before the run goes through the catch-up passes again)
    new_span_pages: set[str] = field(default_factory=set)

    @property
    def new_spans(self) -> int:
        return len(self.new_span_pages)


def resume_point(after: str | None) -> str | None:
    """Where a resumed re-prepare starts: at the beginning of the checkpoint's 档号 (its file
    documents are rebuilt from all its pages, so a 档号 is never split across two runs)."""
    return None if after is None else after.split("#", 1)[0] + "#"


def _meta(old: dict[str, Any], manifest: ArchiveMeta) -> ArchiveMeta:
    """The archival description as the index has it now, with the manifest's subject."""
    return replace(manifest, archive_no=old["archive_no"], category=old["category"],
                   unit=old["unit"], year=int(old["year"]),
                   classification=old["classification"], title=manifest.title or old["title"])


def _stored_spans(plaintext: bytes) -> int | None:
    try:
        data = json.loads(plaintext)
    except ValueError:
        return None
    return len(data["pii"]) if isinstance(data, dict) and "pii" in data else None


def _rebuild(item: tuple[dict[str, Any], bytes, ArchiveMeta]) -> tuple[dict[str, Any], bool]:
    """In a child: one page through the current text stages; (new document, new spans?)."""
    old, plaintext, manifest = item
    meta = _meta(old, manifest)
    text, matches = decode_secret(plaintext, meta)  # stored spans + what the detectors add
    display = redact.redact(text, matches)
    search = normalise.for_search(display)
    page = PreparedPage(page_no=int(old["page_no"]), raw_text=text, display_text=display,
                        search_text=search, jieba_text=tokenize.pretokenized(search),
                        pii=matches, source=old.get("text_source") or "",
                        confidence=old.get("ocr_confidence"))
    title = redact_title(meta) if manifest.title else old["title"]
    doc = build_document(meta, page, title=title, page_count=int(old.get("page_count") or 0),
                         blind_index=_VAULT[0].blind_index,
                         source_sha256=old.get("source_sha256") or "",
                         ingest_file_id=old.get("ingest_file_id"))
    if not (manifest.subject_id or manifest.subject_name):  # no manifest row left: keep it
        doc["subject_hmac"] = list(old.get("subject_hmac") or [])
    doc["ingested_at"] = old.get("ingested_at") or doc["ingested_at"]
    stored = _stored_spans(plaintext)
    new = (len(matches) > stored if stored is not None
           else bool(set(doc["pii_kinds"]) - set(old.get("pii_kinds") or [])))
    return doc, new


def _rebuild_many(items: list[tuple[dict[str, Any], bytes, ArchiveMeta]]
                  ) -> list[tuple[dict[str, Any], bool]]:
    """In a child: a slice of a batch (one task per slice, not per page)."""
    return [_rebuild(item) for item in items]


@dataclass
class _InFlight:
    """A batch whose pages are in the pool."""

    pages: list[dict[str, Any]]
    copied: list[dict[str, Any]]
    futures: list[Any]
    op: str
    files: bool


class Reprepare:
    """The fork pool and what it needs, for one reindex run (`with Reprepare(n) as r:` then
    `r.actions(source)`). The children are forked on entry, in the caller's thread, before any
    bulk thread exists; `actions` is consumed by parallel_bulk's feeder thread, so the database
    work of each batch runs in an app context of its own there."""

    def __init__(self, processes: int) -> None:
        self.processes = max(1, processes)
        self.stats = ReprepareStats()
        self.touched: set[str] = set()  # 档号 whose pages went through `actions`
        self._metas: dict[tuple[str, str], ArchiveMeta] = {}

    def __enter__(self) -> Reprepare:
        from search_app.ingest.pagework import warm_up

        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        _VAULT[:] = [vault_from_config(self._app.config)]
        warm_up()  # jieba and the name tables loaded once, shared copy-on-write by the children
        get_session().commit()  # hold no transaction across the fork
        self._pool = ProcessPoolExecutor(max_workers=self.processes,
                                         mp_context=multiprocessing.get_context("fork"))
        self._pool.submit(int).result()  # fork every child now (a fork context starts them all)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _decrypt(self, pages: list[dict[str, Any]]
                 ) -> tuple[list[tuple[dict[str, Any], bytes, ArchiveMeta]], list[dict[str, Any]]]:
        """(items for the pool, pages copied as stored) of one batch; texts decrypted here."""
        with self._app.app_context():
            session = get_session()
            rows = {s.doc_id: s for s in session.execute(select(PageSecret).where(
                PageSecret.doc_id.in_([p["doc_id"] for p in pages]))).scalars()}
            items, copied = [], []
            for p in pages:
                secret = rows.get(p["doc_id"])
                if secret is None:
                    copied.append(p)
                    continue
                key = (p["archive_no"], p.get("source_sha256") or "")
                if key not in self._metas:
                    self._metas[key] = page_meta(session, *key)
                plain = _VAULT[0].decrypt(secret.ciphertext, aad=p["doc_id"].encode())
                items.append((p, plain, self._metas[key]))
            session.rollback()  # read only
        return items, copied

    def _start(self, pages: list[dict[str, Any]], op: str, files: bool) -> _InFlight:
        """Decrypt a batch and hand its pages to the pool; the results are collected by
        `_finish`, after the previous batch's documents have gone to the bulk workers, so
        the pool works on this batch meanwhile instead of waiting for the engine."""
        items, copied = self._decrypt(pages)
        step = max(1, len(items) // (4 * self.processes))
        futures = [self._pool.submit(_rebuild_many, items[i:i + step])
                   for i in range(0, len(items), step)]
        return _InFlight(pages, copied, futures, op, files)

    def _finish(self, job: _InFlight) -> Iterator[dict[str, Any]]:
        docs = list(job.copied)
        for future in job.futures:
            for doc, new in future.result():
                docs.append(doc)
                if new:
                    self.stats.new_span_pages.add(doc["doc_id"])
        if job.files:
            self.stats.pages += len(job.pages)
        else:
            self.stats.caught_up += len(job.pages)
        self.stats.copied += len(job.copied)
        by_file: dict[str, list[dict[str, Any]]] = {}
        for d in sorted(docs, key=lambda d: d["doc_id"]):
            by_file.setdefault(d["archive_no"], []).append(d)
        self.touched.update(by_file)
        for members in by_file.values():
            for d in [*members, *(build_file_documents(members) if job.files else [])]:
                yield {"_op_type": job.op, "_index": None, "_id": d["doc_id"], "_source": d}

    def actions(self, source: Iterator[dict[str, Any]], *, files: bool = True
                ) -> Iterator[dict[str, Any]]:
        """The bulk actions of `source` (old documents in doc_id order) rebuilt: page documents
        through the current text stages, file-level documents from the new pages of their
        档号 (the old file documents are dropped). `files=False` for a part of the pages (the
        catch-up): the caller rebuilds the file documents of `touched` from the new index."""
        batch: list[dict[str, Any]] = []
        op = "create"
        # the batch in the pool while the one before it goes to the engine (on an error or a
        # kill, Reprepare's exit cancels what the pool has not started)
        running: _InFlight | None = None
        for action in source:
            op, doc = action["_op_type"], action["_source"]
            if doc.get("doc_kind") == FILE_KIND:
                continue
            if len(batch) >= BATCH_PAGES and batch[-1]["archive_no"] != doc["archive_no"]:
                started, batch = self._start(batch, op, files), []
                if running is not None:
                    yield from self._finish(running)
                running = started
            batch.append(doc)
        started = self._start(batch, op, files) if batch else None
        if running is not None:
            yield from self._finish(running)
        if started is not None:
            yield from self._finish(started)

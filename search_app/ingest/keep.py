"""Keeping a prepared page: its secret and redacted image (database, blob store) and its index
document (engine), in that order.

The page loop (pagework) and re-OCR both commit what `keep_page` flushed before they index: the
index never holds a page the database could lose. Indexing checks the engine's answer for every
document of a bulk request, so a refused page is reported, never taken for done.
"""
from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from opensearchpy import helpers
from sqlalchemy.orm import Session

from indexer.index import build_document, doc_id
from indexer.page_image import redact_image
from indexer.pipeline import redact_title
from indexer.types import ArchiveMeta, PreparedPage
from search_app.crypto import vault_from_config
from search_app.ingest.models import IngestFile, PageSecret, PageVersion
from search_app.ingest.secrets import encode_secret
from search_app.ingest.service import blob_store
from search_app.search._backend import alias, writer
from search_app.timeutil import utcnow

# Bulk item statuses worth another attempt later: the engine was busy or failing, not the page.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class IndexRefusal:
    """The engine's answer for one document it did not take."""

    status: int
    reason: str

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUS

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.reason}"


def keep_page(session: Session, meta: ArchiveMeta, prepared: PreparedPage, f: IngestFile, *,
              reason: str) -> dict:
    """Encrypt the unredacted text into PageSecret (flushed, not committed) and return the page's
    index document; the caller commits, then indexes it (`index_pages`).

    The replaced secret goes to PageVersion on re-OCR or a QA correction (any `reason` but
    "reingest"), or when it came from other file content;
    a retry of the same content just overwrites it (no history entry per attempt).
    """
    vault = vault_from_config(current_app.config)
    did = doc_id(meta.archive_no, prepared.page_no)
    secret = session.get(PageSecret, did)
    if secret is not None and (reason != "reingest" or secret.source_sha256 != f.sha256):
        archive_version(session, secret, reason)
    if secret is None:
        secret = PageSecret(doc_id=did)
        session.add(secret)
    secret.archive_no, secret.page_no = meta.archive_no, prepared.page_no
    file_vault = vault.for_file(meta.archive_no)  # the file's own data key (search_app.keystore)
    secret.key_id = file_vault.current_key_id
    secret.ciphertext = file_vault.encrypt(encode_secret(prepared), aad=did.encode())
    secret.ocr_confidence, secret.text_source = prepared.confidence, prepared.source
    secret.source_sha256, secret.updated_at = f.sha256, utcnow()
    secret.pii_kinds = sorted({m.kind for m in prepared.pii})
    secret.image_sha256 = store_redacted_image(prepared, did)
    session.flush()
    return build_document(meta, prepared, title=redact_title(meta), page_count=f.pages_total,
                          blind_index=vault.blind_index, source_sha256=f.sha256,
                          ingest_file_id=f.id)


def store_redacted_image(prepared: PreparedPage, did: str) -> str | None:
    """Burn the PII boxes into the page's view image and keep it encrypted, bound to its page
    (blobs.py); the unredacted image is never stored (the original stays encrypted whole)."""
    if prepared.view_image is None:
        return None
    png = page_png(redact_image(prepared.view_image, prepared.pii_boxes))
    return blob_store().put_page_image(did, png)


def page_png(img) -> bytes:
    """The stored form of a redacted page image: lossless PNG, cheap to write for both kinds of
    page (see below)."""
    buf = io.BytesIO()
    # zlib level 1 with the run-length strategy (Z_RLE: matches at distance 1 only). A scan's
    # grain has few longer repeats, so on it this is as small as Huffman-only coding and smaller
    # than plain level 1; a clean page (a text-layer render, a born-digital PDF) is mostly runs
    # of white, which Huffman-only coding cannot shrink below a bit per pixel. Measured
    # 2026-12-01 on a noisy 1654x2339 page: RLE 1.71 MB, Huffman-only 1.71 MB, level 1 2.05 MB;
    # on a clean one: 7.8 KB, 486 KB (62x), 24 KB; RGB clean 15 KB, 1.46 MB, 58 KB.
    # Still lossless PNG: the served image decodes to the same pixels.
    img.save(buf, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    return buf.getvalue()


def archive_version(session: Session, secret: PageSecret, reason: str) -> PageVersion:
    version = PageVersion(
        doc_id=secret.doc_id, archive_no=secret.archive_no, page_no=secret.page_no,
        key_id=secret.key_id, ciphertext=secret.ciphertext, ocr_confidence=secret.ocr_confidence,
        text_source=secret.text_source or "", pii_kinds=list(secret.pii_kinds or []),
        source_sha256=secret.source_sha256, recorded_at=secret.updated_at or utcnow(),
        replaced_at=utcnow(), replaced_by=reason)
    session.add(version)
    return version


# A batch's bulk request may wait behind a busy engine far longer than a search should (the
# client's OPENSEARCH_TIMEOUT): timing out there sent a whole batch back to the queue (seen at
# load 26 in bench/ocr_bench.py), to be OCR'd again.
BULK_TIMEOUT = 60


def index_pages(docs: Sequence[dict]) -> dict[str, IndexRefusal]:
    """(Over)write the documents of pages whose PageSecret is committed, in one bulk request,
    and check every item: the refusals by doc id (empty when the engine took them all).

    A refusal for one page does not stop the others (each page's row says what happened to it);
    a transport failure raises, as then no page of the request is known to be searchable.
    """
    if not docs:
        return {}
    actions = ({"_op_type": "index", "_index": alias(), "_id": d["doc_id"], "_source": d}
               for d in docs)
    refused: dict[str, IndexRefusal] = {}
    answered = 0
    for ok, item in helpers.streaming_bulk(writer(), actions, chunk_size=max(len(docs), 1),
                                           max_retries=3, raise_on_error=False,
                                           raise_on_exception=True,
                                           request_timeout=BULK_TIMEOUT):
        answered += 1
        if not ok:
            info = next(iter(item.values()), {}) if isinstance(item, dict) else {}
            error = info.get("error", {})
            reason = (f"{error.get('type', '')}: {error.get('reason', '')}"
                      if isinstance(error, dict) else str(error))
            refused[str(info.get("_id"))] = IndexRefusal(int(info.get("status") or 0),
                                                         reason[:500])
    if answered != len(docs):  # every document must have an answer, or none is trusted
        raise RuntimeError(f"bulk request answered {answered} of {len(docs)} documents")
    return refused


def index_documents(docs: Sequence[dict]) -> None:
    """Index documents whose pages must all be taken (re-OCR): any refusal raises, naming it."""
    refused = index_pages(docs)
    if refused:
        first = next(iter(refused.items()))
        raise RuntimeError(f"搜索引擎拒绝索引 {len(refused)} 页：{first[0]}：{first[1]}")

"""Re-OCR of stored pages: read the encrypted original back, OCR again, keep the old text.

Used when a page was read badly (a noisy scan, a garbled text layer, a better language model
installed). The page is always rendered and OCRed, even where the PDF has a text layer. The
previous PageSecret goes to PageVersion, the index document is overwritten under the same id.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from indexer.index import doc_id
from indexer.pages import load_page
from indexer.pipeline import page_text, prepare
from indexer.types import ArchiveMeta, IngestError
from search_app.db import get_session
from search_app.ingest.models import PageSecret
from search_app.ingest.keep import index_documents, keep_page
from search_app.ingest.service import (blob_store, file_meta, last_complete_file,
                                       options_from_config)
from search_app.search._backend import alias, writer
from search_app.search._files import refresh_file_docs


@dataclass
class ReocrResult:
    archive_no: str
    page_no: int
    old_confidence: float | None
    new_confidence: float | None
    old_source: str
    seconds: float


def reocr(archive_no: str, *, page_no: int | None = None) -> list[ReocrResult]:
    """Re-OCR one page (or every page) of the archive's last complete ingest."""
    session = get_session()
    f = last_complete_file(session, archive_no)
    if f is None:
        raise IngestError(f"档号 {archive_no} 没有完成的导入记录，无法重新识别")
    if page_no is not None and not 1 <= page_no <= f.pages_total:
        raise IngestError(f"档号 {archive_no} 只有 {f.pages_total} 页，没有第 {page_no} 页")
    try:
        data = blob_store().get(f.sha256, owner=f.archive_no)
    except FileNotFoundError:
        raise IngestError(f"档号 {archive_no} 的原始文件不在存储中（{f.sha256[:12]}…），"
                          "请重新导入") from None
    meta = ArchiveMeta(**file_meta(f))
    opts = options_from_config()
    results = []
    for n in [page_no] if page_no is not None else range(1, f.pages_total + 1):
        started = time.monotonic()
        old = session.get(PageSecret, doc_id(archive_no, n))
        old_conf, old_source = (old.ocr_confidence, old.text_source) if old else (None, "")
        page = load_page(data, n, dpi=opts.dpi, max_pixels=opts.max_pixels,
                         view_max_edge=opts.view_max_edge, force_render=True)
        prepared = prepare(page_text(page, opts), meta)
        doc = keep_page(session, meta, prepared, f, reason="reocr")
        session.commit()
        index_documents([doc])
        results.append(ReocrResult(archive_no, n, old_conf, prepared.confidence, old_source,
                                   time.monotonic() - started))
    writer().indices.refresh(index=alias())
    refresh_file_docs(archive_no)
    return results

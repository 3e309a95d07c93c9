"""The stages chained for one file: pages → text → PII → redaction → normalise → tokens.

Pure with respect to storage: no database, no index. The caller (search_app.ingest.service)
encrypts what must be kept and indexes what may be shown.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer import normalise, pii, redact, tokenize
from indexer.ocr import ocr_image
from indexer.pages import load_pages
from indexer.types import ArchiveMeta, PageInput, PageText, PreparedPage


@dataclass(frozen=True)
class PipelineOptions:
    dpi: int = 300
    langs: str = "chi_sim+chi_tra"
    ocr_timeout: int = 120
    max_pixels: int = 80_000_000


def page_text(page: PageInput, opts: PipelineOptions) -> PageText:
    if page.text_layer is not None:
        return PageText(page_no=page.page_no, text=page.text_layer.strip(), source="text_layer")
    assert page.image is not None
    return ocr_image(page.image, langs=opts.langs, timeout=opts.ocr_timeout, page_no=page.page_no)


def find_pii(text: str, meta: ArchiveMeta) -> list[pii.PiiMatch]:
    """Pattern detectors plus the subject's own name from the manifest."""
    found = pii.detect(text)
    name = normalise.for_search(meta.subject_name.strip())
    # OCR with chi_sim+chi_tra may read 张伟 as 張偉 (and 陳 as 陈): compare in the folded form.
    # Folding is character for character here, so offsets in `haystack` are offsets in `text`.
    haystack = normalise.for_search(text)
    if len(name) >= 2 and len(haystack) == len(text):
        start = haystack.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(m.start < end and start < m.end for m in found):
                found.append(pii.PiiMatch("name", start, end, meta.subject_name))
            start = haystack.find(name, end)
    return sorted(found, key=lambda m: m.start)


def prepare(text: PageText, meta: ArchiveMeta) -> PreparedPage:
    matches = find_pii(text.text, meta)
    display = redact.redact(text.text, matches)
    search = normalise.for_search(display)
    return PreparedPage(page_no=text.page_no, raw_text=text.text, display_text=display,
                        search_text=search, jieba_text=tokenize.pretokenized(search), pii=matches,
                        source=text.source, confidence=text.confidence)


def redact_title(meta: ArchiveMeta) -> str:
    return redact.redact(meta.title, find_pii(meta.title, meta))


def process_file(path: str | Path, meta: ArchiveMeta, opts: PipelineOptions) -> Iterator[PreparedPage]:
    """Yield pages one by one so the caller can index and report progress as it goes."""
    for page in load_pages(path, dpi=opts.dpi, max_pixels=opts.max_pixels):
        yield prepare(page_text(page, opts), meta)

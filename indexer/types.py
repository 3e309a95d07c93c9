from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

    from indexer.pii import PiiMatch


class IngestError(ValueError):
    """A file cannot be ingested; the message says why in words a records manager can act on."""


@dataclass(frozen=True)
class ArchiveMeta:
    """One manifest row: the archival description of a scanned file."""

    archive_no: str
    title: str
    category: str
    unit: str
    year: int
    classification: str
    file: str
    subject_name: str = ""
    subject_id: str = ""


@dataclass
class PageInput:
    """One page: an image to OCR, or a PDF text layer plus (for viewing) a rendered image and
    the text layer's word boxes in that image's pixels."""

    page_no: int
    image: Image | None = None
    text_layer: str | None = None
    view_image: Image | None = None
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class Word:
    """A word box in image pixels; `start`/`end` locate its text in PageText.text (-1: unknown)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Box:
    """A pixel rectangle (right and bottom exclusive) on the page image."""

    left: int
    top: int
    right: int
    bottom: int


@dataclass
class PageText:
    page_no: int
    text: str
    source: str  # "ocr" | "text_layer"
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    image: Image | None = None  # the image the word boxes refer to (after preprocessing)


@dataclass
class PreparedPage:
    """A page ready for the index: only `raw_text` holds PII, and it goes to the vault, not the index."""

    page_no: int
    raw_text: str
    display_text: str  # redacted, original characters
    search_text: str  # redacted, width-folded, simplified
    jieba_text: str  # search-mode tokens of search_text, space separated
    pii: list[PiiMatch]
    source: str
    confidence: float | None
    view_image: Image | None = None  # what a viewer sees; pii_boxes are in its pixels
    pii_boxes: list[Box] = field(default_factory=list)

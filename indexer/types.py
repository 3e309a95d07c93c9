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
    page_no: int
    image: Image | None = None
    text_layer: str | None = None


@dataclass(frozen=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float


@dataclass
class PageText:
    page_no: int
    text: str
    source: str  # "ocr" | "text_layer"
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)


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

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

    from indexer.pii import PiiMatch
    from indexer.qa import PageQa


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
    page_count: int | None = None  # 页数 as catalogued: checked against the scan (indexer.qa)
    # 档号 parts (DA/T 13-2022), filled when the 门类 has a 档号 rule; `corrects` is the 档号 this
    # file corrects (the old one stays, a 档号 never changes once ingested)
    fonds_no: str = ""
    category_code: str = ""
    retention: str = ""
    item_no: str = ""
    volume_no: str = ""
    corrects: str = ""
    classification_level: int = -1  # the catalogue's level of the 密级 (-1: the seed's level)


@dataclass
class PageInput:
    """One page: an image to OCR, or a PDF text layer plus (for viewing) a rendered image and
    the text layer's word boxes in that image's pixels."""

    page_no: int
    image: Image | None = None
    text_layer: str | None = None
    view_image: Image | None = None
    words: list[Word] = field(default_factory=list)
    # Pictures inside a text-layer page (a scanned ID card, a pasted form): the text layer does
    # not say what they show, so each is OCR'd on its own, or blacked out when it cannot be.
    embedded: list[EmbeddedImage] = field(default_factory=list)
    dpi: float | None = None  # the scan's resolution (image metadata, or a PDF image's pixels/inch)


@dataclass
class EmbeddedImage:
    """One picture on a text-layer page: `box` in view-image pixels; `image` its region rendered
    at OCR resolution (None when that render would exceed the pixel limit, or the picture is too
    small to OCR), `scale` view pixels per `image` pixel."""

    box: Box
    image: Image | None
    scale: float
    reason: str = ""  # why `image` is None


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
    # The box of the whole text line the word is on (Tesseract's line level, or the text layer's
    # line): a CJK "word" box is one glyph's ink and can be half the line's height (一, 二).
    line: Box | None = None


@dataclass(frozen=True)
class Box:
    """A pixel rectangle (right and bottom exclusive) on the page image."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def union(self, other: Box) -> Box:
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))

    def padded(self, dx: int, dy: int) -> Box:
        return Box(self.left - dx, self.top - dy, self.right + dx, self.bottom + dy)

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> Box:
        """Scaled then shifted, rounded outwards so the result never covers less."""
        return Box(math.floor(self.left * factor + dx), math.floor(self.top * factor + dy),
                   math.ceil(self.right * factor + dx), math.ceil(self.bottom * factor + dy))

    def clipped(self, width: int, height: int) -> Box:
        return Box(max(0, self.left), max(0, self.top), min(width, self.right),
                   min(height, self.bottom))


@dataclass
class PageText:
    page_no: int
    text: str
    source: str  # "ocr" | "text_layer"
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    image: Image | None = None  # the image the word boxes refer to (after preprocessing)
    # Regions of `image` to black out whatever the text says: pictures that could not be read.
    blackout: list[Box] = field(default_factory=list)
    qa: PageQa | None = None  # digitisation checks of a scanned page (indexer.qa, indexer.orient)


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
    qa: PageQa | None = None

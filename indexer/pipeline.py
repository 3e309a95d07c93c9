"""The stages chained for one file: pages → text → PII → redaction → normalise → tokens.

Pure with respect to storage: no database, no index. The caller (search_app.ingest.service)
encrypts what must be kept and indexes what may be shown.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from indexer import (address, dotnames, failsafe, names, normalise, pii, pinyin_names, redact,
                     textview, tokenize)
from indexer.ocr import ocr_image
from indexer.orient import upright_ocr
from indexer.page_image import fit_view, page_boxes
from indexer.pages import VIEW_MAX_EDGE
from indexer.preprocess import DEFAULT_STEPS, STEPS, preprocess
from indexer.types import (ArchiveMeta, Box, EmbeddedImage, IngestError, PageInput, PageText,
                           PreparedPage)

# An embedded picture whose OCR reads this unsure (mean word confidence, 0-100) is blacked out
# as well: a name the detectors could not recognise in garbled text would stay readable.
MIN_PICTURE_CONFIDENCE = 60


@dataclass(frozen=True)
class PipelineOptions:
    dpi: int = 300
    langs: str = "chi_sim+chi_tra"
    ocr_timeout: int = 120
    max_pixels: int = 80_000_000
    preprocess: tuple[str, ...] = DEFAULT_STEPS  # names from indexer.preprocess.STEPS
    view_max_edge: int = VIEW_MAX_EDGE  # long edge of the served page image, pixels

    def __post_init__(self) -> None:
        unknown = set(self.preprocess) - set(STEPS)
        if unknown:  # refuse at start-up, not half-way through a batch
            raise ValueError(f"OCR_PREPROCESS: unknown step(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(STEPS)}")


def page_text(page: PageInput, opts: PipelineOptions) -> PageText:
    """The page's text with word boxes in the pixels of the image that will be served (after
    crop, deskew and scale, at most `opts.view_max_edge` on its long edge).

    A text-layer page's pictures have no text layer: each is OCR'd on its own (only those, never
    the whole page) and its text appended to the page text, so it is searchable and redacted like
    the rest; a picture that cannot be read is blacked out on the image.
    """
    if page.text_layer is not None:
        text = page.text_layer.strip()
        lead = len(page.text_layer) - len(page.text_layer.lstrip())
        words = [replace(w, start=w.start - lead, end=w.end - lead) if w.start >= 0 else w
                 for w in page.words]
        out = PageText(page_no=page.page_no, text=text, source="text_layer", words=words,
                       image=page.view_image)
        for picture in page.embedded:
            _add_picture(out, picture, opts)
        return fit_view(out, opts.view_max_edge)
    if page.image is None:
        raise IngestError(f"第 {page.page_no} 页既没有文本层也没有图像，无法识别")
    # turned upright first when it was fed sideways or upside down (indexer.orient)
    pre, text, qa = upright_ocr(page.image, steps=opts.preprocess, langs=opts.langs,
                                timeout=opts.ocr_timeout, page_no=page.page_no, dpi=page.dpi)
    text.qa = qa
    text.image = pre.view  # same geometry as what was OCR'd, without the binarisation
    return fit_view(text, opts.view_max_edge)


def _add_picture(page: PageText, picture: EmbeddedImage, opts: PipelineOptions) -> None:
    """OCR one embedded picture into `page` (text appended, words in view pixels), or black it
    out: when it could not be rendered or OCR'd, or when OCR reads it too poorly to trust that
    the detectors saw what it shows."""
    if picture.image is None:
        page.blackout.append(picture.box)
        return
    pre = preprocess(picture.image, steps=opts.preprocess)
    try:
        region = ocr_image(pre.image, langs=opts.langs, timeout=opts.ocr_timeout,
                           page_no=page.page_no)
    except IngestError:
        page.blackout.append(picture.box)
        return
    if region.words and (region.confidence or 0.0) < MIN_PICTURE_CONFIDENCE:
        page.blackout.append(picture.box)
    elif _shows_an_id_number(region.text):
        # An identity document (ID card, 户口簿 page): its photo is personal data no detector
        # boxes, and its address and name are laid out in fields a line-wise detector misses.
        page.blackout.append(picture.box)
    if not region.text.strip():
        return

    def to_view(b: Box) -> Box:
        return pre.to_input(b).scaled(picture.scale, picture.box.left, picture.box.top)

    offset = len(page.text) + 1
    page.text = f"{page.text}\n{region.text}"
    for w in region.words:
        b = to_view(Box(w.left, w.top, w.left + w.width, w.top + w.height))
        page.words.append(replace(w, left=b.left, top=b.top, width=b.right - b.left,
                                  height=b.bottom - b.top, start=w.start + offset,
                                  end=w.end + offset, line=to_view(w.line) if w.line else None))


def _shows_an_id_number(text: str) -> bool:
    return any(m.kind == "id_number" for m in [*pii.detect(text), *suspect_ids(text)])


def find_names(text: str, name: str) -> list[pii.PiiMatch]:
    """Every occurrence of a known name, whatever the script or spacing OCR gave it.

    OCR with chi_sim+chi_tra may read 张伟 as 張偉, and text layers often space characters out
    ("张 伟"), so both sides are compared folded (width, traditional→simplified) one character at
    a time with whitespace skipped; an offset map keeps the span pointing into `text`.
    """
    target = [ch for ch in textview.fold_chars(name) if not ch.isspace()]
    if len(target) < 2:
        return []
    chars = [(i, ch) for i, ch in enumerate(textview.fold_chars(text)) if not ch.isspace()]
    found, k, n = [], 0, len(target)
    while k <= len(chars) - n:
        if all(chars[k + j][1] == target[j] for j in range(n)):
            found.append(pii.PiiMatch("name", chars[k][0], chars[k + n - 1][0] + 1, name))
            k += n
        else:
            k += 1
    return found


_ID_LIKE = re.compile(r"(?<![0-9０-９])[0-9０-９]{17}[0-9０-９Xx](?![0-9０-９])")


def suspect_ids(text: str) -> list[pii.PiiMatch]:
    """18-character runs that fail the checksum but have a real region and birth date: most
    likely an ID with an OCR slip. Masked for safety (over-masking beats a leak)."""
    out = []
    for m in _ID_LIKE.finditer(text):
        value = normalise.fold_width(m.group()).upper()
        if pii.plausible_id18(value) and not pii.valid_id18(value):
            out.append(pii.PiiMatch("id_number", m.start(), m.end(), value))
    return out


def find_pii(text: str, meta: ArchiveMeta) -> list[pii.PiiMatch]:
    """Pattern detectors, near-miss ID numbers, the subject's own name from the manifest, then
    addresses, dotted and pinyin names, other person names, and last the fail-safe for long
    digit runs.

    Earlier detectors win overlaps: validated numbers are the most certain, the manifest name
    is known to be a person, and an address beats a name inside it (张家村 is a village). The
    fail-safe only sees digits no other detector took, so a house number inside an address stays
    with its address and a phone next to an unknown number does not hide that number.
    """
    found = pii.detect(text)
    for m in [*suspect_ids(text), *find_names(text, meta.subject_name),
              *address.find_addresses(text), *dotnames.find_dot_names(text),
              *pinyin_names.find_pinyin_names(text), *names.find_person_names(text)]:
        if not any(o.start < m.end and m.start < o.end for o in found):
            found.append(m)
    for m in failsafe.find_numbers(text, found):
        if not any(o.start < m.end and m.start < o.end for o in found):
            found.append(m)
    return sorted(found, key=lambda m: m.start)


def prepare(text: PageText, meta: ArchiveMeta) -> PreparedPage:
    matches = find_pii(text.text, meta)
    display = redact.redact(text.text, matches)
    search = normalise.for_search(display)
    boxes: list = []
    if text.image is not None:
        boxes = page_boxes(text.words, text.text, matches, text.image.size, text.blackout,
                           image=text.image)
    return PreparedPage(page_no=text.page_no, raw_text=text.text, display_text=display,
                        search_text=search, jieba_text=tokenize.pretokenized(search), pii=matches,
                        source=text.source, confidence=text.confidence, view_image=text.image,
                        pii_boxes=boxes, qa=text.qa)


def redact_title(meta: ArchiveMeta) -> str:
    return redact.redact(meta.title, find_pii(meta.title, meta))

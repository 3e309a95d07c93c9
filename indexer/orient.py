"""Orientation before OCR: a page fed sideways or upside down is turned upright (DA/T 31-2017
图像处理: 纠偏, 图像方向), with Tesseract's orientation and script detection (OSD, osd.traineddata).

OSD is a Tesseract run of its own (measured 2026-12-01 on this loaded 2-core machine: 3-6 s a
page, about half an upright page's OCR, and hardly less on a smaller sample: most of it is
start-up), so it runs only where it can help: when the page's projection profile says its text
lines run vertically (a page turned 90°/270°: checked before any OCR), or when the first OCR pass
reads the page badly (an upside-down page reads as garbage at low confidence, as does a very poor
scan). An upright page read with good confidence never pays for it. A rotation is kept only when
OCR of the turned page reads better than the first pass did.
"""
from __future__ import annotations

import numpy as np
import pytesseract
from PIL import Image

from indexer.ocr import ocr_image
from indexer.preprocess import Preprocessed, otsu_threshold, preprocess
from indexer.qa import BLANK_INK_RATIO, PageQa, ink_ratio, is_blank, low_dpi
from indexer.types import PageText

OSD_BELOW_CONFIDENCE = 70.0  # first-pass OCR mean word confidence under which OSD is asked
# Tesseract's orientation confidence under which its answer is ignored: on the central crop of
# realistic scans (2026-12-01) right answers came at 3.3-18.5, a wrong one (on a half-size page)
# at 1.3.
MIN_OSD_CONFIDENCE = 2.0
_CONFIDENT_WORD = 60.0


def sideways(img: Image.Image) -> bool:
    """Text lines run top to bottom: the page was scanned turned by 90° or 270°.

    Horizontal CJK lines leave whole empty rows between them, while the columns of a line are
    rarely all empty across the page (lines start and break at different places). Turned by 90°
    it is the other way round. Compared on the ink mask inside the ink's bounding box.
    """
    arr = np.asarray(img.convert("L").reduce(4), dtype=np.float32)
    ink = arr <= otsu_threshold(arr)
    rows, cols = ink.any(axis=1), ink.any(axis=0)
    if rows.sum() < 8 or cols.sum() < 8:
        return False
    r0, r1 = np.flatnonzero(rows)[[0, -1]]
    c0, c1 = np.flatnonzero(cols)[[0, -1]]
    box = ink[r0:r1 + 1, c0:c1 + 1]
    # a row/column is "empty" when almost no ink crosses it (speckle does not fill a gap)
    empty_rows = float((box.mean(axis=1) < 0.002).mean())
    empty_cols = float((box.mean(axis=0) < 0.002).mean())
    return empty_cols > empty_rows + 0.05


def osd_rotation(img: Image.Image, *, timeout: int = 60) -> tuple[int, float] | None:
    """(degrees to turn the image clockwise to make it upright, Tesseract's confidence), or None
    when OSD cannot tell (too few characters, a timeout): then the page stays as it is."""
    w, h = img.size
    sample = img.crop((w // 5, h // 5, w - w // 5, h - h // 5)) if min(w, h) > 600 else img
    try:
        osd = pytesseract.image_to_osd(sample, config="--psm 0", timeout=timeout,
                                       output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractError, RuntimeError):
        return None
    return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))


def turn(img: Image.Image, clockwise: int) -> Image.Image:
    """`img` turned `clockwise` degrees (a multiple of 90), losslessly."""
    ops = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
           270: Image.Transpose.ROTATE_90}
    return img.transpose(ops[clockwise]) if clockwise in ops else img


def _confident_chars(text: PageText) -> int:
    return sum(len(w.text) for w in text.words if w.conf >= _CONFIDENT_WORD)


def upright_ocr(image: Image.Image, *, steps: tuple[str, ...], langs: str, timeout: int,
                page_no: int, dpi: float | None = None) -> tuple[Preprocessed, PageText, PageQa]:
    """Preprocess and OCR the page the right way up; the findings (rotation, skew, blank) in
    the PageQa. The returned Preprocessed is the one the text was read from (its `view` is the
    upright page that will be served)."""
    qa = PageQa(dpi=dpi, low_dpi=low_dpi(dpi))
    pre = preprocess(image, steps=steps)
    qa.ink_ratio = round(ink_ratio(pre.view), 5)
    looks_blank = qa.ink_ratio < BLANK_INK_RATIO
    text: PageText | None = None
    if not looks_blank and sideways(pre.image):
        qa.osd_ran = True
        found = osd_rotation(pre.image, timeout=timeout)
        qa.osd_confidence = found[1] if found else None
        if found and found[0] in (90, 270) and found[1] >= MIN_OSD_CONFIDENCE:
            turned = preprocess(turn(image, found[0]), steps=steps)
            text = ocr_image(turned.image, langs=langs, timeout=timeout, page_no=page_no)
            pre, qa.rotation = turned, found[0]
    if text is None:
        text = ocr_image(pre.image, langs=langs, timeout=timeout, page_no=page_no)
        qa.first_confidence = text.confidence
        weak = text.confidence is None or text.confidence < OSD_BELOW_CONFIDENCE
        if weak and not looks_blank and not qa.osd_ran:
            qa.osd_ran = True
            found = osd_rotation(pre.image, timeout=timeout)
            qa.osd_confidence = found[1] if found else None
            if found and found[0] and found[1] >= MIN_OSD_CONFIDENCE:
                turned = preprocess(turn(image, found[0]), steps=steps)
                again = ocr_image(turned.image, langs=langs, timeout=timeout, page_no=page_no)
                if (again.confidence or 0.0) > (text.confidence or 0.0):
                    pre, text, qa.rotation = turned, again, found[0]
    qa.skew = pre.angle
    qa.blank = is_blank(qa.ink_ratio, _confident_chars(text), text.confidence)
    if qa.blank:  # what OCR "read" on a blank sheet is paper grain: it is not indexed
        text.text, text.words = "", []
    return pre, text, qa

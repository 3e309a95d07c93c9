"""Tesseract, one thread per process: parallelism comes from pages.

The engine runs inside the process through libtesseract (indexer.tesseract_api: models loaded
once per process, the same TSV as the command); where that library is missing, through
pytesseract's `tesseract` command as before.

Measured here (DESIGN.md): one A4 page at 300 dpi took 13.4 s with Tesseract's own threading on
2 cores and 2.1 s with OMP_THREAD_LIMIT=1, same text. That limit is process set-up, not this
stage's business: `search_app.config.init_process` sets it when web, worker or CLI start (the
benchmarks set it in their own start-up), and each tesseract child inherits it.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytesseract
from PIL.Image import Image

from indexer import tesseract_api
from indexer.types import Box, IngestError, PageText, Word

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _joins_tight(ch: str) -> bool:
    """No space is put next to this character when a line is re-joined: CJK ideographs, CJK and
    full-width punctuation and forms. (Wider than indexer.textview.is_cjk, which is about
    ideographs only: here "，" or "（" must not gain a space either.)"""
    return bool(_CJK.match(ch)) or unicodedata.category(ch).startswith("P") and ord(ch) > 0x2000


def _join_with_offsets(words: list[str]) -> tuple[str, list[int]]:
    """Tesseract splits CJK lines into many 'words': the line re-joined without the spaces it
    invents, and where each word starts in it (so a text span maps back to boxes)."""
    out, starts = "", []
    for w in words:
        if out and not (_joins_tight(out[-1]) or _joins_tight(w[0])):
            out += " "
        starts.append(len(out))
        out += w
    return out, starts


def _word_box(w: Word) -> Box:
    return Box(w.left, w.top, w.left + w.width, w.top + w.height)


# Modes written as uncompressed PNM (PGM for "L"): Tesseract reads the same pixels as from
# pytesseract's own temporary PNG (identical TSV, checked on the OCR benchmark's pages), without
# the zlib encode here (38 ms a 300-dpi page, 2026-12-01) and the decode in Tesseract. Anything
# else (alpha, palettes) is left to pytesseract, which flattens it first. The file (the page
# before redaction) is created 0600 by mkstemp and removed as soon as Tesseract has read it.
_PNM_MODES = frozenset({"1", "L", "RGB"})


def save_ocr_input(img: Image, path: str | os.PathLike) -> None:
    """Write `img` as the file Tesseract is given (also what bench/ocr_bench.py's baseline
    reads, so both sides decode the same format)."""
    img.save(path, format="PPM")


# A process killed while Tesseract runs (Celery's hard time limit, the OOM killer) cannot remove
# its files: the unredacted page (ocr_*.pgm, pytesseract's tess_*) and the text Tesseract read
# from it (tess_*.tsv) would stay in the temp folder. Whatever of ours is older than any OCR can
# run is removed, by the worker at start and by every OCR process at most every few minutes.
_STALE_PREFIXES = ("ocr_", "tess_")
STALE_AFTER_S = 900  # far above the OCR timeout (120 s): never a file still being read
_SWEEP_EVERY_S = 300
_last_sweep = 0.0


def sweep_stale_inputs(folder: str | None = None, *, older_than_s: float = STALE_AFTER_S) -> list[str]:
    """Delete this user's OCR leftovers in the temp folder older than `older_than_s`; returns
    their names."""
    import time

    folder, now, uid, gone = folder or tempfile.gettempdir(), time.time(), os.getuid(), []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return gone
    for entry in entries:
        if not entry.name.startswith(_STALE_PREFIXES):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and st.st_uid == uid \
                    and now - st.st_mtime > older_than_s:
                os.unlink(entry.path)
                gone.append(entry.name)
        except OSError:
            continue  # another process removed it first
    return gone


def _sweep_now_and_then() -> None:
    import time

    global _last_sweep
    if time.monotonic() - _last_sweep > _SWEEP_EVERY_S:
        _last_sweep = time.monotonic()
        sweep_stale_inputs()


@contextmanager
def _input_file(img: Image) -> Iterator[str | Image]:
    if img.mode not in _PNM_MODES:
        yield img
        return
    fd, path = tempfile.mkstemp(prefix="ocr_", suffix=".pgm" if img.mode == "L" else ".pnm")
    try:
        with os.fdopen(fd, "wb") as fh:
            save_ocr_input(img, fh)
        yield path
    finally:
        os.unlink(path)


def _read(img: Image, *, langs: str, timeout: int) -> dict[str, list]:
    """Tesseract's word table (pytesseract's Output.DICT) for `img`: in process where the
    library is there and the mode is one it takes as it is, else via the command."""
    _sweep_now_and_then()
    if img.mode in ("L", "RGB") and tesseract_api.available():
        return tesseract_api.tsv_to_dict(tesseract_api.recognise_tsv(img, langs=langs,
                                                                     timeout=timeout))
    with _input_file(img) as source:
        return pytesseract.image_to_data(source, lang=langs, config="--psm 6",
                                         output_type=pytesseract.Output.DICT, timeout=timeout)


def ocr_image(img: Image, *, langs: str = "chi_sim+chi_tra", timeout: int = 120,
              page_no: int = 1) -> PageText:
    try:
        data = _read(img, langs=langs, timeout=timeout)
    except tesseract_api.EngineError as exc:
        timed_out = isinstance(exc, tesseract_api.EngineTimeout)
        what = f"超时（{timeout} 秒）" if timed_out else "失败"
        raise IngestError(f"第 {page_no} 页 OCR {what}：{exc}") from None
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise IngestError(f"第 {page_no} 页 OCR 超时（{timeout} 秒）：{exc}") from None
    except pytesseract.TesseractError as exc:
        raise IngestError(f"第 {page_no} 页 OCR 失败：{exc}") from None
    lines: dict[tuple[int, int, int], list[Word]] = {}
    line_boxes: dict[tuple[int, int, int], Box] = {}
    for i, text in enumerate(data["text"]):
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        box = Box(data["left"][i], data["top"][i], data["left"][i] + data["width"][i],
                  data["top"][i] + data["height"][i])
        if data["level"][i] == 4:  # the line: every glyph on it, ascenders to descenders
            line_boxes[key] = box
            continue
        text = text.strip()
        conf = float(data["conf"][i])
        if data["level"][i] != 5 or not text or conf < 0:
            continue
        lines.setdefault(key, []).append(Word(text, box.left, box.top, box.right - box.left,
                                              box.bottom - box.top, conf))
    parts: list[str] = []
    words: list[Word] = []
    offset = 0
    for key, line in sorted(lines.items()):
        joined, starts = _join_with_offsets([w.text for w in line])
        # The line box spans the line's slope when it is not quite level; the union with its
        # words keeps every glyph inside even if Tesseract's line box were short.
        span = line_boxes.get(key, _word_box(line[0]))
        for w in line:
            span = span.union(_word_box(w))
        words.extend(replace(w, start=offset + st, end=offset + st + len(w.text), line=span)
                     for w, st in zip(line, starts))
        parts.append(joined)
        offset += len(joined) + 1  # the "\n" between lines
    confs = [w.conf for w in words]
    mean = sum(confs) / len(confs) if confs else None
    return PageText(page_no=page_no, text="\n".join(parts), source="ocr", confidence=mean,
                    words=words, image=img)

"""Tesseract through pytesseract, one thread per process: parallelism comes from pages.

Measured here (DESIGN.md): one A4 page at 300 dpi took 13.4 s with Tesseract's own threading on
2 cores and 2.1 s with OMP_THREAD_LIMIT=1, same text.
"""
from __future__ import annotations

import os
import re
import unicodedata

import pytesseract
from PIL.Image import Image

from indexer.types import IngestError, PageText, Word

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch)) or unicodedata.category(ch).startswith("P") and ord(ch) > 0x2000


def _join(words: list[str]) -> str:
    """Tesseract splits CJK lines into many 'words'; re-join without the spaces it invents."""
    out = ""
    for w in words:
        if out and not (_is_cjk(out[-1]) or _is_cjk(w[0])):
            out += " "
        out += w
    return out


def ocr_image(img: Image, *, langs: str = "chi_sim+chi_tra", timeout: int = 120,
              page_no: int = 1) -> PageText:
    os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by the tesseract child process
    try:
        data = pytesseract.image_to_data(img, lang=langs, config="--psm 6",
                                         output_type=pytesseract.Output.DICT, timeout=timeout)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise IngestError(f"第 {page_no} 页 OCR 超时（{timeout} 秒）：{exc}") from None
    except pytesseract.TesseractError as exc:
        raise IngestError(f"第 {page_no} 页 OCR 失败：{exc}") from None
    lines: dict[tuple[int, int, int], list[str]] = {}
    words: list[Word] = []
    confs: list[float] = []
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(text)
        words.append(Word(text, data["left"][i], data["top"][i], data["width"][i],
                          data["height"][i], conf))
        confs.append(conf)
    text = "\n".join(_join(ws) for _, ws in sorted(lines.items()))
    mean = sum(confs) / len(confs) if confs else None
    return PageText(page_no=page_no, text=text, source="ocr", confidence=mean, words=words)

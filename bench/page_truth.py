"""Ground truth of synthetic pages carried over to what the product read from them.

The generator (tests/synth) knows each value's span in the text *as printed*; the product's OCR
gives back a slightly different text (dropped spaces, a misread character, traditional forms).
`align` maps printed offsets onto the read text through a Levenshtein alignment of the whole
page, so each label lands on exactly the characters that OCR made of it; a label whose read form
is too far from the printed value is reported as lost by OCR rather than scored.

`read_pages` runs the product's own page loading, preprocessing and OCR (indexer.pages,
indexer.pipeline.page_text) and caches the text on disk, keyed by the file's bytes and the
options, so re-scoring after a detector change takes seconds.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import opencc
from rapidfuzz.distance import Levenshtein

from indexer.pages import load_page
from indexer.pipeline import PipelineOptions, page_text
from tests.synth.corpus import Entry, file_bytes
from tests.synth.scan import Truth

_T2S = opencc.OpenCC("t2s")
_WIDE = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"　": " "})


@functools.lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    out = _T2S.convert(ch.translate(_WIDE))
    return out if len(out) == 1 else ch


def fold(text: str) -> str:
    """Same length as `text`: width and traditional→simplified folded character by character."""
    return "".join(_fold_char(ch) for ch in text)


def squeeze(text: str) -> str:
    return "".join(fold(text).split())


@dataclass(frozen=True)
class Gold:
    """A label on the text the detectors saw."""

    kind: str
    value: str  # as printed
    start: int
    end: int
    distance: int  # edits between the printed value and what was read (whitespace ignored)


def align(printed: str, read: str) -> list[int | None]:
    """For each printed character, the index of the read character it became (None: lost)."""
    out: list[int | None] = [None] * len(printed)
    for op in Levenshtein.opcodes(fold(printed), fold(read)):
        if op.tag in ("equal", "replace"):
            n_src, n_dst = op.src_end - op.src_start, op.dest_end - op.dest_start
            for k in range(n_src):
                out[op.src_start + k] = op.dest_start + min(n_dst - 1, k * n_dst // n_src)
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def carry(truths: list[Truth], printed: str, read: str) -> tuple[list[Gold], list[Truth]]:
    """Labels on `read` for the truths printed in `printed`, and the truths OCR lost."""
    amap = align(printed, read)
    golds, lost = [], []
    for t in truths:
        if t.start < 0:  # only in an embedded picture: not in this text at all
            continue
        hits = [amap[i] for i in range(t.start, t.end) if amap[i] is not None and not printed[i].isspace()]
        if not hits:
            lost.append(t)
            continue
        start, end = _trim(read, min(hits), max(hits) + 1)
        value = squeeze(t.value)
        dist = Levenshtein.distance(value, squeeze(read[start:end]))
        if dist > max(1, int(0.4 * len(value))):
            lost.append(t)
        else:
            golds.append(Gold(t.kind, t.value, start, end, dist))
    return golds, lost


def subject_of(truths: list[Truth]) -> str:
    """The page's main person, as a manifest row would name it: the first name printed."""
    return next((t.value for t in truths if t.kind == "name" and t.start >= 0 and "\n" not in t.value), "")


def read_pages(entries: list[Entry], cache_dir: Path, opts: PipelineOptions, *,
               echo=print) -> list[tuple[Entry, str, str]]:
    """(entry, text the product read, source) per entry, through the product's OCR; cached."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for n, entry in enumerate(entries, 1):
        data = file_bytes(entry)
        key = hashlib.sha256(data + repr((opts.preprocess, opts.langs, opts.dpi)).encode()).hexdigest()[:20]
        path = cache_dir / f"{key}.json"
        if path.exists():
            cached = json.loads(path.read_text(encoding="utf-8"))
        else:
            page = load_page(data, 1, dpi=opts.dpi, max_pixels=opts.max_pixels)
            text = page_text(page, opts)
            cached = {"name": entry.name, "text": text.text, "source": text.source}
            path.write_text(json.dumps(cached, ensure_ascii=False), encoding="utf-8")
            echo(f"  read {n}/{len(entries)} {entry.name} ({entry.fmt}, {text.source})")
        out.append((entry, cached["text"], cached["source"]))
    return out

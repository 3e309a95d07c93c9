"""Ground truth of synthetic pages carried over to what the product read from them.

The generator (tests/synth) knows each value's span in the text *as printed*; the product's OCR
gives back a slightly different text (dropped spaces, a misread character, traditional forms).
`align` maps printed offsets onto the read text through a Levenshtein alignment of the whole
page, so each label lands on exactly the characters that OCR made of it; a label whose read form
is too far from the printed value is reported as lost by OCR rather than scored.

`read_corpus` runs the product's own page loading, preprocessing and OCR (indexer.pages,
indexer.pipeline.page_text) and caches the text on disk, keyed by the file's bytes and the
options and the reading stages' source, so re-scoring after a detector change takes seconds.
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
    """For each printed character, the index of the read character it became (None: lost).

    The alignment runs on the two texts without whitespace: OCR drops and adds spaces freely,
    and an alignment over the raw texts may pair a dropped space with a misread character next
    to it ("员  赵浩然" read "员起浩然": 赵 is lost and 起 is the space), which would shrink a
    label to the characters read right. Whitespace itself maps to nothing."""
    p_idx = [i for i, ch in enumerate(printed) if not ch.isspace()]
    r_idx = [j for j, ch in enumerate(read) if not ch.isspace()]
    p_text = "".join(printed[i] for i in p_idx)
    r_text = "".join(read[j] for j in r_idx)
    out: list[int | None] = [None] * len(printed)
    for op in Levenshtein.opcodes(fold(p_text), fold(r_text)):
        if op.tag in ("equal", "replace"):
            n_src, n_dst = op.src_end - op.src_start, op.dest_end - op.dest_start
            for k in range(n_src):
                out[p_idx[op.src_start + k]] = r_idx[op.dest_start + min(n_dst - 1, k * n_dst // n_src)]
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
    tail = max((j for j in amap if j is not None), default=-1) + 1
    for t in truths:
        if t.start < 0:  # only in an embedded picture: found only if its OCR was appended
            gold = _search(t, read, tail)
            if gold:
                golds.append(gold)
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


def _search(t: Truth, read: str, start: int) -> Gold | None:
    """The closest approximate occurrence of a picture's value in read[start:] (the text the
    pipeline appended for embedded pictures), or None when nothing is within 40 %."""
    value = squeeze(t.value)
    n, best, best_key = len(value), None, (10 ** 9, 0)
    limit = max(1, int(0.4 * n))
    for i in range(start, len(read)):
        if read[i].isspace():
            continue
        squeezed = ""
        for j in range(i, len(read)):
            if not read[j].isspace():
                squeezed += fold(read[j])
            if len(squeezed) > n + 2:
                break
            if len(squeezed) >= n - 2 and not read[j].isspace():
                d = Levenshtein.distance(value, squeezed, score_cutoff=limit)
                key = (d, abs(len(squeezed) - n))  # ties: the reading of the same length
                if d <= limit and key < best_key:
                    best, best_key = Gold(t.kind, t.value, i, j + 1, d), key
    return best


def subject_of(truths: list[Truth]) -> str:
    """The page's main person, as a manifest row would name it: the first name printed."""
    return next((t.value for t in truths if t.kind == "name" and t.start >= 0 and "\n" not in t.value), "")


@functools.lru_cache(maxsize=1)
def _code_version() -> bytes:
    """The reading stages' source: a changed loader, preprocessing or OCR invalidates the cache."""
    root = Path(__file__).resolve().parents[1] / "indexer"
    return hashlib.sha256(b"".join((root / f).read_bytes() for f in
                                   ("pages.py", "preprocess.py", "ocr.py", "pipeline.py")
                                   if (root / f).exists())).digest()


def read_one(entry: Entry, cache_dir: Path, opts: PipelineOptions) -> tuple[str, str, bool]:
    """(text the product read, source, whether it came from the cache) for one entry."""
    data = file_bytes(entry)
    key = hashlib.sha256(data + _code_version() + repr((opts.preprocess, opts.langs, opts.dpi))
                         .encode()).hexdigest()[:20]
    path = cache_dir / f"{key}.json"
    if path.exists():
        cached = json.loads(path.read_text(encoding="utf-8"))
        return cached["text"], cached["source"], True
    page = load_page(data, 1, dpi=opts.dpi, max_pixels=opts.max_pixels)
    text = page_text(page, opts)
    cached = {"name": entry.name, "text": text.text, "source": text.source}
    path.write_text(json.dumps(cached, ensure_ascii=False), encoding="utf-8")
    return text.text, text.source, False


def _work(job: tuple[int, int, str, Path, PipelineOptions]) -> tuple[Entry, str, str, bool]:
    from tests.synth.corpus import make_entry
    seed, index, fmt, cache_dir, opts = job
    entry = make_entry(seed, index, fmt)
    return (entry, *read_one(entry, cache_dir, opts))


def read_corpus(seed: int, count: int, cache_dir: Path, opts: PipelineOptions, *, jobs: int = 1,
                echo=print) -> list[tuple[Entry, str, str]]:
    """Generate the seed's first `count` entries and read each through the product's OCR
    (cached), in `jobs` processes: (entry, text, source) in corpus order."""
    from multiprocessing import Pool

    from tests.synth.corpus import formats
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = [(seed, i, fmt, cache_dir, opts) for i, fmt in enumerate(formats(count))]
    out = []
    with Pool(jobs) as pool:
        for n, (entry, text, source, hit) in enumerate(pool.imap(_work, work), 1):
            if not hit:
                echo(f"  read {n}/{count} {entry.name} ({entry.fmt}, {source})")
            out.append((entry, text, source))
    return out

"""Read the audit record number from a *cropped* copy of a served page (issue 8, requirement 8).

watermark_code.decode reads the dot code on the served image's own grid: tiles from the image
origin, the dot size from the image size, each tile's bit order keyed by its place on the page.
A copy cut by a few pixels (a screenshot of the viewer, a clipped scan of a print-out) moves
the origin, shrinks the image and loses the tile numbering, so decode finds nothing. Here the
grid is found again from the copy itself: for each dot size, the phase of the slot lattice is
where the dark-square share peaks (dots are solid squares on a fixed pitch; text is spread over
every phase), and the copy's first lattice cell is tried at every place of the page grid it
could have come from. A place is accepted only when its CRC holds and every one of the 48 bits
is carried by a clear majority of the tiles read: a wrong place scrambles the bit order, and
48 bits that each agree across tiles by chance and then pass the CRC is rare enough that two
places naming different records are taken as "cannot say", never as either record.
"""
from __future__ import annotations

import binascii
import functools

import numpy as np

from indexer.watermark_code import _LUMA, _WHITEN, COLS, ROWS, WORD_BITS, Decoded

MAX_TILE_ROWS, MAX_TILE_COLS = 10, 8  # a served page (long edge ≤ 2480 px) has fewer tiles
# The weakest bit's vote per tile spanned: a served A4 page reads ~0.36, a copy cropped and
# thresholded ~0.28, a quarter of the page ~0.08 (partial tiles at its edges); the best wrong
# place on that quarter reads 0.035, and an unmarked page shows no dot lattice at all.
MIN_MARGIN = 0.06
ERASURES = 2  # bits no tile of a small crop carried, tried both ways against the CRC


@functools.lru_cache(maxsize=1)
def _perm_table() -> np.ndarray:
    """The bit order of every tile place, as watermark_code._tiles keys it: (rows, cols, 48)."""
    return np.array([[np.random.default_rng((0x7A11, i, j)).permutation(WORD_BITS)
                      for j in range(MAX_TILE_COLS)] for i in range(MAX_TILE_ROWS)], dtype=np.int64)


def _cells(dark: np.ndarray, dot: int) -> np.ndarray | None:
    """The dark share of each slot's core on the copy's own slot lattice, or None when no
    lattice of this dot size stands out."""
    pitch, core = 6 * dot, max(2, dot - 2)
    h, w = dark.shape
    if h < 2 * pitch + core or w < 4 * pitch + core:
        return None
    integral = np.pad(dark, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    share = (integral[core:, core:] - integral[:-core, core:] - integral[core:, :-core]
             + integral[:-core, :-core]) / (core * core)
    ny, nx = share.shape[0] // pitch, share.shape[1] // pitch
    fold = share[:ny * pitch, :nx * pitch].reshape(ny, pitch, nx, pitch).mean(axis=(0, 2))
    py, px = np.unravel_index(int(np.argmax(fold)), fold.shape)
    # No dot lattice of this size: solid dots lift one phase above the rest; text, boxes and
    # stains lift every phase alike (a redaction box must not hide the lattice).
    if fold[py, px] - float(np.median(fold)) < 0.06:
        return None
    return share[py::pitch, px::pitch]


def _votes(cells: np.ndarray, r0: int, c0: int) -> tuple[np.ndarray, int] | None:
    """Bit votes when the copy's cell (0, 0) is slot (r0, c0) of the page grid (negative: the
    copy has a margin round the page, e.g. a turned or re-scanned copy; cells off the page
    do not vote)."""
    rows, cols = cells.shape
    start = (c0 + 1) % 2  # the first copy column that is a pair's left slot
    c_left = np.arange(start, cols - 1, 2)
    if not len(c_left):
        return None
    r_abs = r0 + np.arange(rows)[:, None]
    c_abs = c0 + c_left[None, :]
    ti, tj = r_abs // ROWS, c_abs // COLS
    if ti.max() >= MAX_TILE_ROWS or tj.max() >= MAX_TILE_COLS:
        return None
    diff = cells[:, c_left] - cells[:, c_left + 1]
    if r0 < 0 or c0 < 0:
        on = (r_abs >= 0) & (c_abs >= 0)
        if not on.any():
            return None
        ti, tj = np.broadcast_to(ti, on.shape)[on], np.broadcast_to(tj, on.shape)[on]
        r_on, c_on = np.broadcast_to(r_abs, on.shape)[on], np.broadcast_to(c_abs, on.shape)[on]
        k = (r_on % ROWS) * (COLS // 2) + (c_on % COLS) // 2
        diff = diff[on]
    else:
        k = (r_abs % ROWS) * (COLS // 2) + (c_abs % COLS) // 2
    bits = _perm_table()[ti, tj, k]
    votes = np.bincount(bits.ravel(), weights=diff.ravel(), minlength=WORD_BITS)
    tiles = int((ti.max() - ti.min() + 1) * (tj.max() - tj.min() + 1))  # the places spanned
    return votes, tiles


def decode_cropped(img, dots: range = range(6, 16)) -> Decoded:
    """The record number of a copy cropped out of a served page (same scale), or Decoded(None)."""
    lum = np.asarray(img.convert("RGB"), dtype=np.float32) @ _LUMA
    dark = (lum < 0.75 * float(np.median(lum))).astype(np.float64)
    found: dict[int, Decoded] = {}
    for dot in dots:
        cells = _cells(dark, dot)
        if cells is not None:
            _search_places(cells, found)
    return _unique(found)


def search_places(cells: np.ndarray, outside: int = 0) -> Decoded:
    """The record number a grid of slot darkness (the copy's cell (0, 0) at an unknown place of
    the page grid, up to `outside` slots off it) carries, when exactly one place reads a
    whole word; else Decoded(None)."""
    found: dict[int, Decoded] = {}
    _search_places(cells, found, outside)
    return _unique(found)


def _search_places(cells: np.ndarray, found: dict[int, Decoded], outside: int = 0) -> None:
    for r0 in range(-outside, ROWS * MAX_TILE_ROWS):
        for c0 in range(-outside, COLS * MAX_TILE_COLS):
            got = _votes(cells, r0, c0)
            if got is None:
                continue
            votes, tiles = got
            strong = np.abs(votes) > 0.5
            if int((~strong).sum()) > ERASURES:
                continue
            margin = float(np.abs(votes[strong]).min() / tiles)
            if margin < MIN_MARGIN:
                continue
            seq = _fill(votes, ~strong)
            if seq is not None and (seq not in found or margin > found[seq].margin):
                found[seq] = Decoded(seq, margin, tiles)


def _fill(votes: np.ndarray, unsure: np.ndarray) -> int | None:
    """The record number whose CRC holds when the bits no tile carried (text kept every one of
    their dots off: a small crop of a dense page) are tried both ways; None unless exactly one
    filling holds (the CRC then still rejects all but 1 in 2^(16 - erasures) wrong words)."""
    bits = (votes > 0).astype(np.uint8)
    where = np.flatnonzero(unsure)
    hits = []
    for fill in range(1 << len(where)):
        trial = bits.copy()
        trial[where] = [(fill >> i) & 1 for i in range(len(where))]
        raw = np.packbits(trial ^ _WHITEN).tobytes()
        if binascii.crc_hqx(raw[:4], 0xFFFF) == int.from_bytes(raw[4:6], "big"):
            hits.append(int.from_bytes(raw[:4], "big"))
    return hits[0] if len(hits) == 1 else None


def _unique(found: dict[int, Decoded]) -> Decoded:
    if len(found) != 1:  # none, or two places naming different records: name no one
        return Decoded(None, max((d.margin for d in found.values()), default=0.0), 0)
    return next(iter(found.values()))

"""The audit record number as a machine-readable dot code, tiled over the whole served page.

The label (indexer.watermark) tells a person who read the page; this tells a machine which audit
record a leaked copy came from without a list of candidates. Cheap cleaning removes thin or
sparse marks: a 5×5 median filter or a morphological opening deletes anything under about three
pixels, blur + threshold deletes faint marks, a colour threshold deletes marks of another
colour. So the code is made of what such cleaning must keep to keep the page's text: solid
squares of the page's own ink (drawn by indexer.watermark), each wider than a text stroke.

Layout: the page is cut into tiles on a fixed grid from the image origin; each tile holds the
same 48-bit word (32-bit record number + CRC-16, whitened by a fixed key stream) as 48 pairs of
slots side by side on one row, one dot per pair: left slot for 1, right for 0 (Manchester), so
every tile has the same number of dots whatever the number, and text, boxes or stains under a
pair darken both slots alike. Decoding adds each slot's darkness over all tiles (about fifty on
an A4 page), reads each bit from its pair's difference and accepts the word only when its CRC
holds, so a copy either names its record or says it cannot (never a wrong number by chance:
1 in 65 536 for a random word).
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass

import numpy as np

SEQ_BITS = 32
WORD_BITS = SEQ_BITS + 16  # + CRC-16
COLS, ROWS = 12, 8  # slots per tile row / rows per tile: COLS // 2 * ROWS == WORD_BITS
_WHITEN = np.random.default_rng(0x5EA1).integers(0, 2, WORD_BITS).astype(np.uint8)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def geometry(size: tuple[int, int]) -> tuple[int, int]:
    """(dot edge, slot pitch) in pixels for an image of `size`: a dot at least 6 px (a 5×5
    median keeps a 6 px square, and text strokes of a page at 200 dpi are 3-4 px), growing with
    the page so it stays a few strokes wide at any served size."""
    dot = max(6, round(min(size) / 240))
    return dot, 6 * dot


def _word(seq: int) -> np.ndarray:
    if not 0 <= seq < 2 ** SEQ_BITS:
        raise ValueError(f"audit record number {seq} does not fit the watermark code")
    payload = seq.to_bytes(4, "big")
    crc = binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big")
    bits = np.unpackbits(np.frombuffer(payload + crc, dtype=np.uint8))
    return bits ^ _WHITEN


def _slot_origins(dot: int, pitch: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corner inside a tile of each pair's slots: y (48,) and x (48, 2) (left, right)."""
    k = np.arange(WORD_BITS)
    row, pair = np.divmod(k, COLS // 2)
    inset = (pitch - dot) // 2
    x_left = 2 * pair * pitch + inset
    return row * pitch + inset, np.stack([x_left, x_left + pitch], axis=1)


def _tiles(size: tuple[int, int], pitch: int, *, whole: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tile origins (y, x) on the fixed grid and, per tile, which bit each pair position holds:
    a permutation keyed by the tile's place, so no bit sits at the same height in every tile
    (text lines at a pitch dividing the tile's would otherwise hide one bit everywhere)."""
    w, h = size
    th, tw = ROWS * pitch, COLS * pitch
    ys = np.arange(0, h - th + 1 if whole else h, th)
    xs = np.arange(0, w - tw + 1 if whole else w, tw)
    ty, tx = (a.ravel() for a in np.meshgrid(ys, xs, indexing="ij"))
    perms = np.array([np.random.default_rng((0x7A11, int(y // th), int(x // tw)))
                      .permutation(WORD_BITS) for y, x in zip(ty, tx)], dtype=np.int64)
    return ty, tx, perms.reshape(len(ty), WORD_BITS)


def code_mask(size: tuple[int, int], seq: int, *, keep_clear: np.ndarray | None = None
              ) -> np.ndarray:
    """Which pixels of an image of `size` carry the dots for audit record `seq`.

    With `keep_clear` (a boolean map of the page's text ink), a dot with ink within half a dot
    of it is left out in that tile: a dot on a glyph costs a reader (and OCR) a stroke, and the
    bit still votes in the tiles where its dot falls on paper. (Ink in the other slot of a pair
    cannot turn a vote: a dot's core is solid, text over the empty slot is never darker.)"""
    w, h = size
    dot, pitch = geometry(size)
    y, xs = _slot_origins(dot, pitch)
    bits = _word(seq)
    ty, tx, perms = _tiles(size, pitch, whole=False)
    # every dot of every tile at once: (tiles, 48) top-left corners
    chosen = np.where(bits[perms] == 1, xs[None, :, 0], xs[None, :, 1])
    top = (ty[:, None] + y[None, :]).ravel()
    left = (tx[:, None] + chosen).ravel()
    keep = (top + dot <= h) & (left + dot <= w)
    top, left = top[keep], left[keep]
    if keep_clear is not None and keep_clear.any():
        clear = np.pad(keep_clear.astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        m = dot // 2
        a, b = np.maximum(0, top - m), np.minimum(h, top + dot + m)
        c, d = np.maximum(0, left - m), np.minimum(w, left + dot + m)
        on_paper = (clear[b, d] - clear[a, d] - clear[b, c] + clear[a, c]) == 0
        top, left = top[on_paper], left[on_paper]
    mask = np.zeros((h, w), dtype=bool)
    for dy in range(dot):
        for dx in range(dot):
            mask[top + dy, left + dx] = True
    return mask


def slot_mask(size: tuple[int, int]) -> np.ndarray:
    """Every pixel where some record's dot could be: both slots of every pair in every tile."""
    w, h = size
    dot, pitch = geometry(size)
    y, xs = _slot_origins(dot, pitch)
    tile = np.zeros((ROWS * pitch, COLS * pitch), dtype=bool)
    for yy, pair in zip(y, xs):
        for x in pair:
            tile[yy:yy + dot, x:x + dot] = True
    return np.tile(tile, (h // tile.shape[0] + 1, w // tile.shape[1] + 1))[:h, :w]


@dataclass(frozen=True)
class Decoded:
    """What a copy's dots say: the record number (None when a bit is undecided or the CRC
    fails), the weakest bit's vote per tile read (each tile adds up to ±1 per bit; around 0.3 on
    a served A4 page, where text keeps a pair's dot away in about half the tiles) and how many
    tiles were read."""

    seq: int | None
    margin: float
    tiles: int


def decode(img) -> Decoded:
    """Read the audit record number from a (possibly cleaned) copy of a served page image."""
    lum = np.asarray(img.convert("RGB"), dtype=np.float32) @ _LUMA
    h, w = lum.shape
    dot, pitch = geometry((w, h))
    if h < pitch or w < 2 * pitch:
        return Decoded(None, 0.0, 0)
    ty, tx, perms = _tiles((w, h), pitch, whole=False)  # partial tiles at the edges vote too
    dark = (lum < 0.75 * float(np.median(lum))).astype(np.float64)
    core = max(2, dot - 2)  # the dot's inner part: edges blur, shrink or ring after cleaning
    integral = np.pad(dark, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    y, xs = _slot_origins(dot, pitch)
    off = (dot - core) // 2

    top = ty[:, None] + y[None, :] + off
    inside = (top + core <= h) & (tx[:, None] + xs[None, :, 1] + off + core <= w)
    top = np.minimum(top, h - core)

    def darkness(x0: np.ndarray) -> np.ndarray:  # (tiles, 48) dark share of each slot's core
        left = np.minimum(tx[:, None] + x0[None, :] + off, w - core)
        s = (integral[top + core, left + core] - integral[top, left + core]
             - integral[top + core, left] + integral[top, left])
        return s / (core * core)

    by_position = np.where(inside, darkness(xs[:, 0]) - darkness(xs[:, 1]), 0.0)
    diff = np.zeros_like(by_position)
    np.put_along_axis(diff, perms, by_position, axis=1)  # position k holds bit perms[t, k]
    votes = diff.sum(axis=0)
    margin = float(np.abs(votes).min() / len(ty))
    bits = (votes > 0).astype(np.uint8) ^ _WHITEN
    raw = np.packbits(bits).tobytes()
    seq = int.from_bytes(raw[:4], "big")
    crc = int.from_bytes(raw[4:6], "big")
    if not np.all(np.abs(votes) > 0.5) or binascii.crc_hqx(raw[:4], 0xFFFF) != crc:
        return Decoded(None, margin, len(ty))
    return Decoded(seq, margin, len(ty))

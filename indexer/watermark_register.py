"""Read the audit record number from a leaked copy that was scaled, turned, cut, blurred or
re-compressed (issue 8, requirement 8).

watermark_code reads the dot code on the served image's own grid and watermark_search on a copy
cut out of it at the same scale. A leaker also resizes (a 73 % screenshot, a 150 % print-out
scan), turns the sheet by a degree or two, saves it as JPEG and photographs it slightly out of
focus. The code itself is the registration mark: its dots are solid squares of one size on a
square lattice whose pitch is six dot edges, whatever the page or the copy's scale. So:

1. the dots are found as the squares that stand out from a ring of paper around them, trying
   square sizes from 3 px up (the two sizes that find most such squares are tried);
2. the lattice's basis (pitch and angle) is the most common vector between neighbouring
   dots, folded by quarter turns (text and the label's squares are not on one lattice);
3. an affine fit by least squares on the dots that sit on that lattice, grown outward from the
   centre of the copy, fixes pitch and angle to a small fraction of a pixel per slot;
4. each lattice slot's darkness is sampled at its fitted centre, and watermark_search finds the
   copy's place on the page grid, accepting a word only when its CRC holds, every bit has a
   clear majority over the tiles read, and no other place or basis names another record.
"""
from __future__ import annotations

import numpy as np

from indexer.watermark_code import _LUMA, Decoded
from indexer.watermark_search import search_places

# (dot edge tried in the copy, on the dark map reduced by this factor): a served dot is 6-15
# px, a copy scaled 0.5-2.0 has 3-30; large squares are looked for on a reduced map (speed).
SIZES = ((3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 2), (10, 2), (12, 2), (14, 2), (15, 3),
         (18, 3), (21, 3), (24, 4), (28, 4), (32, 4))
MIN_DOTS = 24  # fewer lattice dots than this: no code to read (a tile has 48)
MAX_CANDIDATES = 4000
MARGIN_SLOTS = 12  # a copy may show up to this many slots of margin round the page
REDUCE_ABOVE = 1400  # px of the short edge above which the copy is reduced by a whole factor
MAX_PAIRED = 1500  # candidates whose pairwise vectors vote for the basis (memory: n²)
TRY_SIZES = 2  # the dot sizes with most squares that are tried
MAX_ANGLE = 0.2  # |tan| of the lattice angle tried: ±11°


def _integral(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:  # exact and several times faster than float sums
        return np.pad(a.astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return np.pad(a.astype(np.float32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)


def _box(integral: np.ndarray, size: int) -> np.ndarray:
    """Sum of every size×size box, indexed by its top-left corner."""
    return (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])


def _squares(integral: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (y, x) and strengths of solid size×size dark squares with paper around them,
    at most one per size×size block (its strongest)."""
    gap = max(1, size // 2)
    outer = size + 2 * gap
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    if h < outer * 2 or w < outer * 2:
        return np.zeros((0, 2)), np.zeros(0)
    inner = _box(integral, size)[gap:h - size - gap + 1, gap:w - size - gap + 1]
    ring = _box(integral, outer)[:inner.shape[0], :inner.shape[1]] - inner
    score = inner * np.float32(1 / size ** 2) - ring * np.float32(1 / (outer ** 2 - size ** 2))
    y, x = np.nonzero(score > 0.6)
    strength = score[y, x]
    order = np.argsort(-strength, kind="stable")
    y, x, strength = y[order], x[order], strength[order]
    _, first = np.unique((y // size) * (w // size + 1) + x // size, return_index=True)
    centres = np.stack([y[first] + gap + size / 2, x[first] + gap + size / 2], axis=1)
    return centres, strength[first]


def _dedupe(centres: np.ndarray, strength: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Strongest first, drop candidates within one dot edge of a stronger one."""
    order = np.argsort(-strength)[:MAX_CANDIDATES]
    taken: dict[tuple[int, int], list[np.ndarray]] = {}
    kept = []
    for i in order:
        c = centres[i]
        key = (int(c[0] // size), int(c[1] // size))
        near = [p for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                for p in taken.get((key[0] + dy, key[1] + dx), ())]
        if any(abs(p[0] - c[0]) < size and abs(p[1] - c[1]) < size for p in near):
            continue
        taken.setdefault(key, []).append(c)
        kept.append(i)
    return centres[kept], strength[kept]


def _fold(v: np.ndarray) -> np.ndarray:
    """Vectors (dy, dx) turned by quarter turns so that dx > 0 and |dy| ≤ dx."""
    dy, dx = v[:, 0], v[:, 1]
    out = np.stack([dy, dx], axis=1)
    for _ in range(3):
        bad = ~((out[:, 1] > 0) & (np.abs(out[:, 0]) <= out[:, 1]))
        out[bad] = np.stack([-out[bad, 1], out[bad, 0]], axis=1)  # a quarter turn
    return out


def _bases(centres: np.ndarray, size: int, count: int = 3) -> list[np.ndarray]:
    """Candidate lattice vectors (dy, dx) ≈ (pitch·sin, pitch·cos): the most common folded
    vectors between neighbouring candidates at 4-9 dot edges."""
    c = centres[:MAX_PAIRED]
    diff = (c[None, :, :] - c[:, None, :]).reshape(-1, 2)
    length = np.hypot(diff[:, 0], diff[:, 1])
    diff = diff[(length > 4 * size) & (length < 9 * size)]
    if len(diff) < MIN_DOTS:
        return []
    f = _fold(diff)
    f = f[np.abs(f[:, 0]) <= MAX_ANGLE * f[:, 1]]
    bin_ = max(0.5, size / 8)
    ey = np.arange(-MAX_ANGLE * 9 * size, MAX_ANGLE * 9 * size + bin_, bin_)
    ex = np.arange(4 * size, 9 * size + bin_, bin_)
    hist, _, _ = np.histogram2d(f[:, 0], f[:, 1], bins=(ey, ex))
    pad = np.pad(hist, 1)
    smooth = sum(pad[1 + a:pad.shape[0] - 1 + a, 1 + b:pad.shape[1] - 1 + b]
                 for a in (-1, 0, 1) for b in (-1, 0, 1))
    out = []
    for _ in range(count):
        i, j = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
        if smooth[i, j] < MIN_DOTS:
            break
        peak = np.array([(ey[i] + ey[i + 1]) / 2, (ex[j] + ex[j + 1]) / 2])
        near = f[np.hypot(*(f - peak).T) < 1.5 * bin_]
        out.append(near.mean(axis=0) if len(near) else peak)
        smooth[max(0, i - 3):i + 4, max(0, j - 3):j + 4] = 0
    return out


def _fit(centres: np.ndarray, basis: np.ndarray, shape: tuple[int, int]
         ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Origin (y, x) and 2×2 matrix M (columns: one slot right, one slot down) of the lattice
    the candidates near `basis` sit on, fitted by least squares, grown from the copy's centre."""
    u = basis  # one slot to the right: (dy, dx)
    v = np.array([u[1], -u[0]])  # one slot down: a quarter turn of u
    m = np.stack([u, v], axis=1)  # (dy, dx) = m @ (col, row)
    pitch = float(np.hypot(*u))
    centre = np.array(shape, dtype=float) / 2
    # the origin: a candidate near the centre with lattice neighbours
    order = np.argsort(np.hypot(*(centres - centre).T))
    origin = None
    for i in order[:200]:
        rel = centres - centres[i]
        lat = np.linalg.solve(m, rel.T).T
        err = np.hypot(*(rel - (m @ np.round(lat).T).T).T)
        if int(((err < 0.15 * pitch) & (np.abs(lat).max(axis=1) < 3)).sum()) >= 6:
            origin = centres[i]
            break
    if origin is None:
        return None
    inliers = 0
    for radius in (4, 8, 16, 32, 64, 1e9):
        rel = centres - origin
        lat = np.linalg.solve(m, rel.T).T
        near = np.abs(lat).max(axis=1) <= radius
        n = np.round(lat)
        err = np.hypot(*(rel - (m @ n.T).T).T)
        ok = near & (err < 0.2 * pitch)
        if ok.sum() < 6:
            return None
        a = np.column_stack([np.ones(int(ok.sum())), n[ok]])
        sol, *_ = np.linalg.lstsq(a, centres[ok], rcond=None)  # (3, 2): origin, col, row
        if not _square(sol[1:].T, pitch):
            return None  # the inliers span one line of slots (or none): no lattice fixed
        origin = sol[0]
        m = sol[1:].T
        inliers = int(ok.sum())
    return origin, m, inliers


def _square(m: np.ndarray, pitch: float) -> bool:
    """Whether `m` is still (nearly) a square lattice of about `pitch`: a fit on dots of one
    row or column leaves the other direction free, and is no registration."""
    if not np.all(np.isfinite(m)):
        return False
    a, b = np.hypot(*m[:, 0]), np.hypot(*m[:, 1])
    det = abs(float(np.linalg.det(m)))
    return 0.8 * pitch < a < 1.25 * pitch and 0.8 * pitch < b < 1.25 * pitch \
        and det > 0.9 * a * b


def _sample(integral: np.ndarray, origin: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Dark share of each lattice slot's core, rows × cols from the copy's top left."""
    h, w = integral.shape[0] - 1, integral.shape[1] - 1
    corners = np.array([[0, 0], [0, w], [h, 0], [h, w]], dtype=float) - origin
    lat = np.linalg.solve(m, corners.T).T  # (col, row)
    c_lo, c_hi = int(np.floor(lat[:, 0].min())), int(np.ceil(lat[:, 0].max()))
    r_lo, r_hi = int(np.floor(lat[:, 1].min())), int(np.ceil(lat[:, 1].max()))
    cols, rows = np.arange(c_lo, c_hi + 1), np.arange(r_lo, r_hi + 1)
    cc, rr = np.meshgrid(cols, rows)
    pos = origin + np.einsum("ij,rcj->rci", m, np.stack([cc, rr], axis=-1))
    edge = np.hypot(*m[:, 0]) / 6
    core = max(1, int(round(0.6 * edge)))
    top = np.round(pos[..., 0] - core / 2).astype(int)
    left = np.round(pos[..., 1] - core / 2).astype(int)
    inside = (top >= 0) & (left >= 0) & (top + core <= h) & (left + core <= w)
    t, lft = np.clip(top, 0, h - core), np.clip(left, 0, w - core)
    share = (integral[t + core, lft + core] - integral[t, lft + core] - integral[t + core, lft]
             + integral[t, lft]) / core ** 2
    share = np.where(inside, share, np.nan)
    keep_r = ~np.all(np.isnan(share), axis=1)
    keep_c = ~np.all(np.isnan(share), axis=0)
    share = share[keep_r][:, keep_c]
    return share


def decode_registered(img) -> Decoded:
    """The record number of a copy scaled 0.5-2×, turned by a few degrees, cut, blurred or
    re-compressed, or Decoded(None) when it cannot be named with certainty."""
    lum = np.asarray(img.convert("RGB"), dtype=np.float32) @ _LUMA
    k = max(1, min(lum.shape) // REDUCE_ABOVE)  # a copy scaled up is read at about served size
    if k > 1:
        h, w = lum.shape[0] // k * k, lum.shape[1] // k * k
        lum = lum[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))
    dark = lum < 0.75 * float(np.median(lum))
    integrals = {1: _integral(dark)}
    tried = []
    for size, f in SIZES:
        if f not in integrals:
            h, w = dark.shape[0] // f * f, dark.shape[1] // f * f
            integrals[f] = _integral(dark[:h, :w].reshape(h // f, f, w // f, f)
                                     .mean(axis=(1, 3), dtype=np.float32))
        centres, strength = _squares(integrals[f], size // f)
        if len(centres) >= MIN_DOTS:
            score = float(np.clip(strength - 0.6, 0, None).sum()) * size
            tried.append((score, size, centres * f + (f - 1) / 2, strength))
    found: dict[int, Decoded] = {}
    for _, size, centres, strength in sorted(tried, key=lambda t: -t[0])[:TRY_SIZES]:
        _decode_at(dark, integrals[1], size, centres, strength, found)
        if found:
            break
    if len(found) != 1:
        return Decoded(None, 0.0, 0)
    return next(iter(found.values()))


def _decode_at(dark: np.ndarray, integral: np.ndarray, size: int, centres: np.ndarray,
               strength: np.ndarray, found: dict[int, Decoded]) -> None:
    """Register the lattice of dots of edge `size` and read the code; a name found goes into
    `found` (the first basis whose word reads at exactly one place ends the search)."""
    centres, strength = _dedupe(centres, strength, size)
    for basis in _bases(centres, size):
        fitted = _fit(centres, basis, dark.shape)
        if fitted is None or fitted[2] < MIN_DOTS:
            continue
        origin, m, _ = fitted
        cells = np.nan_to_num(_sample(integral, origin, m), nan=0.0)
        got = search_places(cells, MARGIN_SLOTS)
        if got.seq is not None:
            found[got.seq] = got
            return  # a word whose CRC holds at exactly one place: the others are not tried

"""What a leaker does to a served page image before passing it on (issue 8, requirement 8).

Shared by tests/test_watermark_leaks.py and bench/watermark_bench.py: each transformation is one
an ordinary person applies — resize a screenshot, turn a re-scanned print-out, save as JPEG,
keep a quarter of the page, a slightly soft phone photo, "clean" it to black and white — and
combinations of two. Rotations fill the corners white (a scanner lid) or black (a photo's
background) as a real copy shows them.
"""
from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageFilter

Leak = Callable[[Image.Image], Image.Image]


def scale(f: float) -> Leak:
    return lambda im: im.convert("RGB").resize((round(im.width * f), round(im.height * f)),
                                               Image.Resampling.BICUBIC)


def rotate(deg: float, fill: tuple[int, int, int] = (255, 255, 255)) -> Leak:
    return lambda im: im.convert("RGB").rotate(deg, resample=Image.Resampling.BICUBIC,
                                               expand=True, fillcolor=fill)


def jpeg(quality: int = 60) -> Leak:
    def run(im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.convert("RGB").save(buf, format="JPEG", quality=quality)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return run


def quarter(corner: int = 3) -> Leak:
    """One quarter of the page (0 top left … 3 bottom right), cut at odd offsets."""
    def run(im: Image.Image) -> Image.Image:
        w, h = im.size
        x0 = (w // 2 + 13) if corner % 2 else 11
        y0 = (h // 2 + 29) if corner >= 2 else 7
        return im.crop((x0, y0, x0 + w // 2 - 17, y0 + h // 2 - 31))
    return run


def blur(radius: float = 1.0) -> Leak:
    return lambda im: im.filter(ImageFilter.GaussianBlur(radius))


def threshold(level: int = 128) -> Leak:
    return lambda im: im.convert("L").point(lambda v: 0 if v < level else 255)


def grey() -> Leak:
    return lambda im: im.convert("L")


def then(*steps: Leak) -> Leak:
    def run(im: Image.Image) -> Image.Image:
        for step in steps:
            im = step(im)
        return im
    return run


LEAKS: dict[str, Leak] = {
    "scaled 50 %": scale(0.5),
    "scaled 73 %": scale(0.73),
    "scaled 150 %": scale(1.5),
    "scaled 200 %": scale(2.0),
    "rotated +1°": rotate(1.0),
    "rotated -3° (black corners)": rotate(-3.0, (0, 0, 0)),
    "JPEG quality 60": jpeg(60),
    "bottom-right quarter": quarter(3),
    "blur radius 1": blur(1.0),
    "threshold 128": threshold(128),
    "greyscale": grey(),
    "scaled 73 % + rotated 2°": then(scale(0.73), rotate(2.0)),
    "scaled 60 % + JPEG 60": then(scale(0.6), jpeg(60)),
    "bottom-left quarter + rotated -2°": then(quarter(2), rotate(-2.0)),
    "blur 1 + scaled 130 %": then(blur(1.0), scale(1.3)),
    "rotated 1.5° + threshold": then(rotate(1.5), threshold(128)),
    "quarter + scaled 80 %": then(quarter(1), scale(0.8)),
    "JPEG 60 + blur 1": then(jpeg(60), blur(1.0)),
}

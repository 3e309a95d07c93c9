"""MAX_IMAGE_PIXELS holds on every path (issue 8 requirement 6): each test replays one bypass.

The review found three: the text-layer view render, the second and later frames of a TIFF, and
serving a stored image (156 Mpx: 3.6 GB and 24 s to watermark). The bombs here are real files
whose headers declare the size; a test fails if the size is decoded instead of refused.
"""
from __future__ import annotations

import io
import struct
import warnings
import zlib

import pymupdf
import pytest
from PIL import Image
from sqlalchemy import select

from indexer.pages import load_page
from indexer.types import IngestError
from tests.conftest import image_url, login

LINE = "档案检索测试页面：本页文字足够长，使用文本层而不做识别。"


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares width × height (grayscale) and whose data is one empty chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) \
        + chunk(b"IEND", b"")


def _white_png(width: int, height: int) -> bytes:
    """A complete, valid white grayscale PNG of any size, compressed row by row (a 156-Mpx page
    is a 150 kB file: exactly what a decompression bomb looks like)."""
    out = io.BytesIO()

    def chunk(kind: bytes, data: bytes) -> None:
        out.write(struct.pack(">I", len(data)) + kind + data
                  + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    out.write(b"\x89PNG\r\n\x1a\n")
    chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    comp, row, parts = zlib.compressobj(9), b"\x00" + b"\xff" * width, []
    for _ in range(height):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    chunk(b"IDAT", b"".join(parts))
    chunk(b"IEND", b"")
    return out.getvalue()


def _tiff_with_bomb_second_frame(width: int, height: int) -> bytes:
    """Two small frames, then the second frame's header rewritten to width × height."""
    buf = io.BytesIO()
    frames = [Image.new("L", (64, 64), 255), Image.new("L", (64, 64), 255)]
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(buf.getvalue())
    assert data[:2] == b"II"
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for i in range(struct.unpack_from("<H", data, second)[0]):
        entry = second + 2 + 12 * i
        tag, kind = struct.unpack_from("<HH", data, entry)
        if tag in (256, 257):
            value = width if tag == 256 else height
            if kind == 3:
                struct.pack_into("<H", data, entry + 8, value)
            else:
                struct.pack_into("<I", data, entry + 8, value)
    return bytes(data)


def _huge_text_pdf(side_pt: float) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=side_pt, height=side_pt)
    page.insert_text((72, 72), LINE, fontname="china-s", fontsize=12)
    data = doc.tobytes()
    doc.close()
    return data


def _pdf_drawing_a_picture(side_px: int, *, text_layer: bool, inline: bool = False) -> bytes:
    """A small PDF page that draws a side_px × side_px white Flate picture on a 400 × 300 pt
    area (an 8000-px side is a 63 kB file), with or without a real text layer; the picture is
    an image XObject, or an inline image (BI … ID … EI) in the content stream itself."""
    comp, row = zlib.compressobj(9), b"\xff" * side_px
    data = b"".join(comp.compress(row) for _ in range(side_px)) + comp.flush()
    head = b"/W %d /H %d /CS /G /BPC 8 /F /Fl" % (side_px, side_px)
    draw = (b"BI " + head + b" ID " + data + b" EI") if inline else b"/Im1 Do"
    content = b"q 400 0 0 300 100 300 cm " + draw + b" Q"
    if text_layer:
        content += b" BT /F1 12 Tf 72 760 Td (A real text layer with more than enough characters) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject "
            b"<< /Im1 4 0 R >> /Font << /F1 6 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
            % (side_px, side_px, len(data)) + data + b"\nendstream",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


@pytest.mark.parametrize("text_layer,inline", [(True, False), (False, False), (False, True)])
def test_a_picture_drawn_on_a_pdf_page_obeys_max_image_pixels(text_layer, inline) -> None:
    """The render checks bound the output only: MuPDF decodes each picture on the page at its
    own size while rendering (a 20000-px side: 7 s of CPU per render, three renders per page).
    A page drawing a picture over the limit is refused from the picture's dictionary."""
    data = _pdf_drawing_a_picture(4000, text_layer=text_layer, inline=inline)
    with pytest.raises(IngestError, match="嵌入的图像 4000×4000 像素超过上限 10000000"):
        load_page(data, 1, max_pixels=10_000_000)
    page = load_page(data, 1, max_pixels=20_000_000)  # under the limit it is read as before
    assert (page.view_image if text_layer else page.image) is not None


def test_text_layer_view_render_obeys_max_image_pixels() -> None:
    """A 5 m square text-layer page rendered for viewing at 150 dpi would be 0.9 Gpx."""
    data = _huge_text_pdf(14_400)
    with pytest.raises(IngestError, match="显示渲染.*超过上限"):
        load_page(data, 1, max_pixels=4_000_000, view_max_edge=4000)
    page = load_page(data, 1)  # default limits: rendered straight at the served size
    assert page.text_layer and max(page.view_image.size) <= 2480, \
        f"view rendered at {page.view_image.size}, more than the served size"


def test_tiff_second_frame_bomb_is_refused_before_decoding() -> None:
    data = _tiff_with_bomb_second_frame(30_000, 30_000)
    assert load_page(data, 1).image.size == (64, 64)
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(IngestError, match="第 2 页图像 30000×30000 像素超过上限"):
        load_page(data, 2, max_pixels=80_000_000)
    assert Image.MAX_IMAGE_PIXELS == before, "a stage changed Pillow's process-wide limit"


def test_create_app_makes_the_bomb_warning_an_error(settings) -> None:
    """Pillow only warns between one and two times its limit; the app must refuse there too."""
    from search_app import create_app
    bomb = _png_header(10_000, 10_000)  # 100 Mpx: over 80 M, under twice that
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        create_app(settings)
        assert Image.MAX_IMAGE_PIXELS == 80_000_000
        with pytest.raises(Image.DecompressionBombWarning):
            Image.open(io.BytesIO(bomb))


@pytest.mark.integration
def test_tiff_bomb_page_fails_alone_at_ingest(ctx, ingest) -> None:
    from search_app.db import get_session
    from search_app.ingest.models import IngestFile, IngestPage
    data = _tiff_with_bomb_second_frame(30_000, 30_000)
    progress, _ = ingest([{"archive_no": "LIM-TIFF", "title": "炸弹测试", "category": "户籍档案",
                           "unit": "北京市公安局海淀分局", "year": 2020, "classification": "内部",
                           "file": "LIM-TIFF.tif"}], extra_files={"LIM-TIFF.tif": data})
    session = get_session()
    f = session.execute(select(IngestFile).where(IngestFile.archive_no == "LIM-TIFF")
                        .order_by(IngestFile.id.desc())).scalars().first()
    pages = {p.page_no: p for p in session.execute(
        select(IngestPage).where(IngestPage.file_id == f.id)).scalars()}
    assert pages[2].state == "failed" and "30000×30000" in pages[2].error, \
        f"the bomb frame was not refused with its size: {pages[2].state} {pages[2].error!r}"
    assert pages[1].state == "done", f"the harmless first frame failed too: {pages[1].error!r}"


@pytest.mark.integration
def test_serving_refuses_an_oversized_stored_image_from_its_header(app, ctx, ingest, make_user,
                                                                   make_grant) -> None:
    """A stored 156-Mpx page image (legacy, or written by a bug) is refused without decoding."""
    from search_app.audit.models import AuditRecord
    from search_app.db import get_session
    from search_app.ingest.models import PageSecret
    from search_app.ingest.service import blob_store
    from tests.conftest import meta
    progress, _ = ingest([meta("LIM-SERVE", fmt="png", pages=[["图像上限测试页"]])])
    assert progress.files_failed == 0, progress.errors
    bomb = _white_png(12_500, 12_500)
    digest = blob_store().put_page_image("LIM-SERVE#p0001", bomb)  # bound to its page
    session = get_session()
    secret = session.get(PageSecret, "LIM-SERVE#p0001")
    secret.image_sha256 = digest
    session.commit()
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    login(client, user.username)
    resp = client.get(image_url(client, "LIM-SERVE#p0001", grant.id))  # signed by the page view
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "12500×12500" in body and "超过显示上限" in body, \
        f"a 156-Mpx stored image was served (or refused without saying why): {resp.status_code} {body[:200]}"
    rec = session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                          .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.action, rec.outcome) == ("page.image", "denied") and "超过显示上限" in rec.reason

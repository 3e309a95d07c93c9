"""Digitisation checks at ingest (DA/T 31-2017), against real Tesseract, OpenSearch and the DB:
a scan fed sideways or upside down is turned upright by OSD and read right; a blank page, a scan
under 200 dpi and a file whose page count disagrees with its manifest 页数 are flagged."""
from __future__ import annotations

import io
import uuid
from difflib import SequenceMatcher

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from indexer.textview import fold_chars
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestFile, PageSecret
from search_app.ingest.secrets import decode_secret
from search_app.qa.models import QaFile, QaPage
from tests.conftest import login, meta
from tests.synth import render_page
from tests.synth.scan import scanned_page

pytestmark = pytest.mark.integration


def _png(img: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def _tiff(pages: list[Image.Image], dpi: int) -> bytes:
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
                  compression="tiff_lzw")
    return buf.getvalue()


def _spec(archive_no: str, ext: str, **extra) -> dict:
    spec = meta(archive_no, fmt="png", **extra)
    spec.pop("format"), spec.pop("pages")
    spec["file"] = f"{archive_no}.{ext}"
    return spec


def _page_text(ctx, archive_no: str, page_no: int = 1) -> str:
    secret = get_session().get(PageSecret, f"{archive_no}#p{page_no:04d}")
    assert secret is not None, f"{archive_no} page {page_no} was not ingested"
    plain = vault_from_config(ctx.config).decrypt(secret.ciphertext, aad=secret.doc_id.encode())
    return decode_secret(plain)[0]


def _qa(archive_no: str) -> list[QaPage]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(QaPage).where(QaPage.archive_no == archive_no)
                                .order_by(QaPage.page_no)).scalars())


def _similarity(got: str, truth: str) -> float:
    a = "".join(ch for ch in fold_chars(got) if not ch.isspace())
    b = "".join(ch for ch in fold_chars(truth) if not ch.isspace())
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@pytest.mark.parametrize("turned", [90, 180])
def test_a_rotated_scan_is_turned_upright_and_read_right(ctx, ingest, turned):
    """A realistic A4 scan (200 dpi, skew, paper tone, blur, speckle, PII) fed turned by 90° or
    180°: OSD finds it, the page is turned before OCR, and the text reads as the upright page."""
    page = scanned_page({90: 3, 180: 6}[turned], dpi=200)
    archive_no = f"QAR-{turned}-{uuid.uuid4().hex[:6]}"
    fed = page.image.rotate(turned, expand=True)  # counter-clockwise, as a sheet laid wrong
    progress, _ = ingest([_spec(archive_no, "png")],
                         extra_files={f"{archive_no}.png": _png(fed, page.dpi)})
    assert progress.files_failed == 0, progress.errors
    [row] = _qa(archive_no)
    assert row.osd_ran, "OSD was never asked about a page fed rotated"
    assert row.rotation == turned, f"page fed turned {turned}° was turned {row.rotation}°"
    ratio = _similarity(_page_text(ctx, archive_no), page.text)
    assert ratio >= 0.8, f"rotated page read with similarity {ratio:.2f} to its text"
    assert row.ocr_confidence and row.ocr_confidence >= 70, row.ocr_confidence
    secret = get_session().get(PageSecret, row.doc_id)
    assert secret.image_sha256, "the upright page has no stored (redacted) image"


def test_upright_page_needs_no_osd_and_blank_and_low_dpi_pages_are_flagged(ctx, ingest):
    """One TIFF, three pages: an ordinary upright page (no OSD cost), a blank sheet with paper
    tone and speckle (flagged blank), and a page with a single short line (not blank)."""
    archive_no = f"QAB-{uuid.uuid4().hex[:6]}"
    full = dict(width_mm=210, height_mm=297, paper=0.5, blur=0.6, noise=0.003, seed=5)
    written = render_page(["户口登记表 户别 家庭户 住址 北京市海淀区", "登记事项变更和更正记载",
                           "承办人 审核 二〇一九年三月"], dpi=300, skew_deg=1.2, **full)
    blank = render_page([""], dpi=300, **full)
    sparse = render_page(["此页以下空白"], dpi=300, **full)
    progress, _ = ingest([_spec(archive_no, "tif")],
                         extra_files={f"{archive_no}.tif": _tiff([written, blank, sparse], 300)})
    assert progress.files_failed == 0, progress.errors
    first, second, third = _qa(archive_no)
    assert not first.osd_ran, f"OSD ran on an upright page read at {first.ocr_confidence:.1f}"
    assert first.rotation == 0 and not first.blank and not first.low_dpi
    assert first.dpi == pytest.approx(300, abs=1)
    assert abs(first.skew) > 0.5, f"a page scanned 1.2° skewed reported skew {first.skew}"
    assert second.blank, f"blank sheet not flagged (ink ratio {second.ink_ratio})"
    assert not third.blank, f"a page with one line was flagged blank (ink {third.ink_ratio})"


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_a_scan_under_200_dpi_is_flagged(ctx, ingest, tmp_path, fmt):
    """150 dpi: from the PNG's own resolution, or from a scanned PDF's picture size per inch."""
    archive_no = f"QAD-{fmt}-{uuid.uuid4().hex[:6]}"
    img = render_page(["户口迁移证明 低分辨率扫描件", "迁出地 北京市海淀区"], dpi=150, width_mm=148,
                      noise=0.002, seed=2)
    if fmt == "png":
        data = _png(img, 150)
    else:
        from tests.synth import write_image_pdf
        write_image_pdf([img], tmp_path / "low.pdf", dpi=150)
        data = (tmp_path / "low.pdf").read_bytes()
    progress, _ = ingest([_spec(archive_no, fmt)], extra_files={f"{archive_no}.{fmt}": data})
    assert progress.files_failed == 0, progress.errors
    [row] = _qa(archive_no)
    assert row.low_dpi and row.dpi == pytest.approx(150, abs=2), (row.dpi, row.low_dpi)


def test_page_count_against_the_manifest(ctx, app, ingest, make_user):
    """页数 3 for a two-page scan is flagged on the file (and its job note); 页数 2 is not; a
    manifest without 页数 has nothing to compare."""
    pages = [render_page([f"第{i}页 户籍登记 页数核对"], dpi=300, seed=i) for i in (1, 2)]
    data = _tiff(pages, 300)
    tag = uuid.uuid4().hex[:6]
    specs = [_spec(f"QAC-{tag}-{n}", "tif", **({"页数": n} if n else {})) for n in (3, 2, 0)]
    progress, job_id = ingest(specs, extra_files={s["file"]: data for s in specs})
    assert progress.files_failed == 0, progress.errors
    session = get_session()
    rows = {r.archive_no: r for r in session.execute(
        select(QaFile).where(QaFile.job_id == job_id)).scalars()}
    wrong, right, none = (rows[s["archive_no"]] for s in specs)
    assert wrong.mismatch == "页数不符：著录 3 页，扫描件实有 2 页", wrong.mismatch
    assert right.mismatch == "" and right.declared_pages == 2
    assert none.mismatch == "" and none.declared_pages is None
    note = session.get(IngestFile, wrong.file_id).note
    assert "页数不符" in note, f"the job does not show the mismatch: {note!r}"
    assert np.all([r.pages_total == 2 for r in rows.values()])
    client = app.test_client()
    assert login(client, make_user("system_admin").username).status_code == 302
    job_page = client.get(f"/ingest/jobs/{job_id}").get_data(as_text=True)
    assert "页数不符：著录 3 页，扫描件实有 2 页" in job_page, "the job page does not flag the file"


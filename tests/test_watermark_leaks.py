"""A leaked copy names the read that produced it (issue 8, requirement 8), after what a leaker
ordinarily does to it: scaled 0.5-2×, turned up to 3°, JPEG 60, a quarter of the page, a mild
blur, a threshold or greyscale, and two of these together (tests/watermark_leaks.py).

Finding replayed: the dot code was read only on the served image's grid or on a crop at the
same scale; a copy scaled (50 %, 73 %, 150 %) or turned by 1-3° named no record. Every leak is
replayed on a realistic served page, and each read must name that page's record — and never
another: not on the unmarked page put through the same leak, not on a copy marked with the
neighbouring record number (bench/watermark_bench.py counts these over more pages).
"""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from indexer.watermark import read_audit_seq, watermark
from indexer.watermark_register import decode_registered
from tests.conftest import image_url, meta, signed_in_client
from tests.synth.scan import scanned_page
from tests.watermark_leaks import LEAKS, quarter, rotate, scale, then

SEQ = 90417
LABEL = f"李娜（lina） 2026-12-01 18:05 审计记录 #{SEQ}"


@pytest.fixture(scope="module")
def page() -> Image.Image:
    """A realistic 200 dpi scan as served (1654×2339), a redaction box burned in."""
    img = scanned_page(47, dpi=200).image.convert("RGB")
    img.paste((0, 0, 0), (260, 700, 1100, 840))
    return img


@pytest.fixture(scope="module")
def marked(page) -> Image.Image:
    return watermark(page, LABEL)


@pytest.mark.parametrize("leak", list(LEAKS))
def test_a_leaked_copy_names_its_audit_record(marked, leak) -> None:
    copy = LEAKS[leak](marked)
    got = read_audit_seq(copy)
    assert got == SEQ, f"{leak} copy: record number not recovered (read {got}, served #{SEQ})"


@pytest.mark.parametrize("leak", ["scaled 73 %", "rotated -3° (black corners)",
                                  "scaled 73 % + rotated 2°", "bottom-right quarter",
                                  "JPEG 60 + blur 1"])
def test_a_leaked_unmarked_page_names_no_record(page, leak) -> None:
    got = decode_registered(LEAKS[leak](page)).seq
    assert got is None, f"{leak} copy of an unmarked page: named record #{got}"


@pytest.mark.parametrize("leak", ["scaled 150 %", "bottom-left quarter + rotated -2°",
                                  "scaled 60 % + JPEG 60"])
def test_a_copy_of_the_next_record_is_never_read_as_this_one(page, leak) -> None:
    other = watermark(page, LABEL.replace(f"#{SEQ}", f"#{SEQ + 1}"))
    got = read_audit_seq(LEAKS[leak](other))
    assert got in (None, SEQ + 1), f"{leak} copy of record #{SEQ + 1}: read as #{got}"


def test_the_previous_reader_fails_these_leaks(marked) -> None:
    """Control: the served-grid and same-scale crop readers name nothing on a scaled or turned
    copy, so passing the tests above needs the lattice registration."""
    from indexer.watermark_code import decode
    from indexer.watermark_search import decode_cropped
    for leak in ("scaled 73 %", "rotated +1°"):
        copy = LEAKS[leak](marked)
        assert decode(copy).seq is None and decode_cropped(copy).seq is None, \
            f"{leak}: the previous reader already reads it; the attack has no teeth"


@pytest.mark.integration
def test_a_leaked_served_image_names_the_read(app, ctx, ingest, make_user, make_grant) -> None:
    """Through the app: the page image a staff member is served, scaled and turned as a
    screenshot forwarded from a phone, or cut to a quarter and turned, names that view's
    audit record."""
    from search_app.audit.models import AuditRecord
    from search_app.db import get_session
    progress, _ = ingest([meta("WML-0001", fmt="pdf_text",
                               pages=[["泄露测试页", "档案正文第二行", "户籍登记内容第三行"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    resp = client.get(image_url(client, "WML-0001#p0001", grant.id))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:200]
    img = Image.open(io.BytesIO(resp.data))
    rec = get_session().execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                                .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.action, rec.outcome) == ("page.image", "allowed")
    for name, leak in (("scaled 73 % + rotated 2°", then(scale(0.73), rotate(2.0))),
                       ("bottom-right quarter + rotated -1.5°", then(quarter(3), rotate(-1.5)))):
        got = read_audit_seq(leak(img))
        assert got == rec.seq, \
            f"served image, {name} copy: record #{rec.seq} not recovered (read {got})"

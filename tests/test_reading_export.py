"""PDF export in a reading session (issue 10, requirement 6): selected pages or a whole file, the
served (redacted, watermarked) images, approval reference and session in every page footer, one
audit record listing the pages, and a per-grant page quota refused in Chinese with the numbers."""
from __future__ import annotations

import io
import threading
from datetime import UTC
from zoneinfo import ZoneInfo

import numpy as np
import pymupdf
import pytest
from PIL import Image

from indexer.watermark import watermark_label, watermark_score
from tests.conftest import audit_records, meta, signed_in_client
from tests.test_reading_sessions import open_session

pytestmark = pytest.mark.integration

FILE = "RX-2022-0003"
ID = "110105197806201237"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, year=2022, pages=[
        [f"导出测试第一页 公民身份号码 {ID} 内容足够长以使用文本层"],
        ["导出测试第二页 附件材料 内容足够长以使用文本层"],
        ["导出测试第三页 备考表 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors


def _pdf(resp) -> pymupdf.Document:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/pdf" and "attachment" in resp.headers["Content-Disposition"]
    return pymupdf.open(stream=resp.data, filetype="pdf")


def test_selected_pages_pdf_has_served_images_and_footer(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id, purpose="核实导出材料")
    picked = [f"{FILE}#p0003", f"{FILE}#p0001"]
    doc = _pdf(client.post("/reading/export.pdf", data={"s": sid, "doc": picked}))
    assert doc.page_count == 2, f"2 pages selected, {doc.page_count} exported"
    [rec] = audit_records("export.pdf", user_id=user.id)
    assert rec.outcome == "allowed" and rec.result_count == 2
    assert rec.returned_ids == [f"{FILE}#p0001", f"{FILE}#p0003"], "one record must list the pages"
    assert rec.filters["reading_session"] == sid and rec.approval_ref == grant.ref
    when = rec.ts.replace(tzinfo=UTC).astimezone(ZoneInfo(app.config["AUDIT_TIMEZONE"]))
    label = watermark_label(f"{user.display_name}（{user.username}）", when, rec.seq)
    for n, page in enumerate(doc, start=1):
        text = page.get_text()
        assert ID not in text, f"LEAK: the ID number is in the text of PDF page {n}"
        for part in (f"审批编号 {grant.ref}", f"阅读会话 {sid}", f"审计记录 #{rec.seq}"):
            assert part in text, f"PDF page {n}'s footer lacks {part!r}: {text!r}"
        [info] = page.get_images(full=True)
        pix = pymupdf.Pixmap(doc, info[0])
        img = Image.open(io.BytesIO(pix.tobytes("png"))).convert("RGB")
        assert min(img.size) > 500, f"PDF page {n} carries a {img.size} image, not the page"
        assert np.asarray(img.convert("L")).mean() > 100, "the page image is blank/black"
        score = watermark_score(img, label)
        assert score > 0.4, f"PDF page {n} does not carry this export's watermark ({score:.2f})"
        assert abs(watermark_score(img, label.replace(f"#{rec.seq}", f"#{rec.seq + 1}"))) < 0.1
    assert user.username in doc[0].get_text(), "the footer does not name the exporter"


def test_whole_file_and_quota(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id, purpose="核实整卷")
    old = app.config["EXPORT_PAGES_PER_GRANT"]
    app.config["EXPORT_PAGES_PER_GRANT"] = 4
    try:
        doc = _pdf(client.post("/reading/export.pdf", data={"s": sid, "archive_no": FILE}))
        assert doc.page_count == 3, f"the whole file has 3 pages, {doc.page_count} exported"
        over = client.post("/reading/export.pdf", data={"s": sid, "archive_no": FILE})
        text = over.get_data(as_text=True)
        assert over.status_code == 403 and over.mimetype != "application/pdf", \
            "an export over the grant's page quota was allowed"
        for part in ("超出导出配额", "最多导出 4 页", "已导出 3 页", "剩余 1 页", "本次请求 3 页"):
            assert part in text, f"the quota refusal lacks {part!r}: {text}"
        one = _pdf(client.post("/reading/export.pdf", data={"s": sid, "doc": f"{FILE}#p0002"}))
        assert one.page_count == 1  # exactly the remaining page fits
        [*_, denied] = audit_records("export.pdf", user_id=user.id, outcome="denied")
        assert "超出导出配额" in denied.reason and denied.filters["reading_session"] == sid
        # a second session under the same grant does not reset the quota
        sid2 = open_session(client, grant.id, purpose="再次导出")
        again = client.post("/reading/export.pdf", data={"s": sid2, "doc": f"{FILE}#p0001"})
        assert again.status_code == 403 and "已导出 4 页" in again.get_data(as_text=True)
    finally:
        app.config["EXPORT_PAGES_PER_GRANT"] = old


def test_concurrent_exports_cannot_both_pass_the_same_quota_count(app, ctx, corpus, make_user,
                                                                   make_grant):
    """The attack: six exports of one page each, fired at once by the same holder in six
    sessions, against a quota of 2. Counting and recording in separate steps let every one of
    them see 0 pages used; the count now runs under the audit chain's lock."""
    user = make_user("staff")
    grant = make_grant(user)
    clients = [signed_in_client(app, user) for _ in range(6)]
    sids = [open_session(c, grant.id, purpose="并发导出演练") for c in clients]
    old = app.config["EXPORT_PAGES_PER_GRANT"]
    app.config["EXPORT_PAGES_PER_GRANT"] = 2
    start = threading.Barrier(len(clients))
    codes: list[int] = []

    def export(client, sid: str, page: int) -> None:
        start.wait()
        resp = client.post("/reading/export.pdf",
                           data={"s": sid, "doc": f"{FILE}#p{page % 3 + 1:04d}"})
        codes.append(resp.status_code)

    try:
        threads = [threading.Thread(target=export, args=(c, sid, n))
                   for n, (c, sid) in enumerate(zip(clients, sids))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        app.config["EXPORT_PAGES_PER_GRANT"] = old
    allowed = audit_records("export.pdf", user_id=user.id, outcome="allowed")
    assert sorted(codes) == [200, 200, 403, 403, 403, 403], \
        f"LEAK: {codes.count(200)} concurrent exports allowed under a 2-page quota: {codes}"
    assert sum(r.result_count for r in allowed) == 2, \
        f"{sum(r.result_count for r in allowed)} pages recorded as exported under a 2-page quota"
    assert len(audit_records("export.pdf", user_id=user.id, outcome="denied")) == 4


def test_export_outside_scope_or_empty_is_refused(app, ctx, corpus, ingest, make_user, make_grant):
    progress, _ = ingest([meta("RX-SECRET-1", classification="机密",
                               pages=[["机密导出测试 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0
    user = make_user("staff")
    grant = make_grant(user)  # ≤ 内部
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id, purpose="越权导出测试")
    resp = client.post("/reading/export.pdf",
                       data={"s": sid, "doc": [f"{FILE}#p0001", "RX-SECRET-1#p0001"]})
    assert resp.status_code == 403 and resp.mimetype != "application/pdf", \
        "LEAK: a page outside the grant's scope was exported"
    assert "RX-SECRET-1#p0001" in resp.get_data(as_text=True)
    empty = client.post("/reading/export.pdf", data={"s": sid})
    assert empty.status_code == 400 and "请选择要导出的页面" in empty.get_data(as_text=True)
    csv = client.post("/search/export", data={"s": sid, "q": "导出测试"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv", csv.get_data(as_text=True)[:300]
    assert FILE in csv.get_data(as_text=True) and ID not in csv.get_data(as_text=True)
    [rec] = audit_records("export", user_id=user.id)
    assert rec.filters["reading_session"] == sid

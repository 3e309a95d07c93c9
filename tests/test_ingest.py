"""Ingestion end to end on the real engine and real Tesseract."""
from __future__ import annotations

import json
import re

import pymupdf
import pytest

from search_app.ingest.models import PageSecret
from search_app.db import get_session
from search_app.crypto import vault_from_config
from tests.conftest import dump_index, login, meta

pytestmark = pytest.mark.integration

ID = "110108198503120046"
PHONE = "13812345678"


def _search(client, grant_id, q, purpose="户籍核查"):
    return client.post("/api/v1/search", json={"grant_id": grant_id, "purpose": purpose, "q": q})


@pytest.fixture()
def api(app, ctx, make_user, make_grant):
    from search_app.accounts.services import issue_api_token

    user = make_user("staff")
    grant = make_grant(user, categories=["户籍档案"], units=["北京市公安局海淀分局"])
    token = issue_api_token(get_session(), user)
    get_session().commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client, grant


def test_scanned_pdf_is_searchable_and_the_index_holds_no_pii(app, ingest, api):
    client, grant = api
    spec = meta("T-OCR-0001", fmt="pdf_image", noise=0.003, subject_name="张伟", subject_id=ID,
                pages=[["常住人口登记表", "户主姓名 张伟", f"公民身份号码 {ID}",
                        f"联系电话 {PHONE}", "登记单位 中关村派出所"]])
    progress, _ = ingest([spec])
    assert progress.files_done == 1, progress.errors

    docs = [d for d in dump_index(app) if d["archive_no"] == "T-OCR-0001"]
    assert len(docs) == 1 and docs[0]["text_source"] == "ocr"
    dumped = json.dumps(docs, ensure_ascii=False)
    for secret in (ID, PHONE, "张伟", ID[6:14]):
        assert secret not in dumped, f"index document leaks {secret!r}: {dumped[:400]}"
    assert "110108************" in docs[0]["text_display"]
    assert "138****5678" in docs[0]["text_display"]

    resp = _search(client, grant.id, "常住人口登记")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert "T-OCR-0001#p0001" in [h["id"] for h in body["hits"]]
    raw = resp.get_data(as_text=True)
    for secret in (ID, PHONE, "张伟"):
        assert secret not in raw, f"API response leaks {secret!r}"
    assert any("<mark>" in s for h in body["hits"] for s in h["snippets"])

    # The unredacted text is kept, encrypted, for later unmasking under a grant that allows it.
    secret = get_session().get(PageSecret, "T-OCR-0001#p0001")
    assert ID.encode() not in secret.ciphertext
    plain = vault_from_config(app.config).decrypt(secret.ciphertext, aad=b"T-OCR-0001#p0001").decode()
    assert ID in plain.replace(" ", "")

    # A full ID number as the query finds nothing: the index has no such term.
    assert _search(client, grant.id, ID).get_json()["total"] == 0


def test_traditional_page_found_with_simplified_query(ingest, api):
    client, grant = api
    spec = meta("T-TRAD-0001", fmt="png", traditional=True,
                pages=[["戶口遷移證明", "遷入地址 北京市海淀區學院路", "備註 檔案齊全 准予遷入"]])
    progress, _ = ingest([spec])
    assert progress.files_done == 1, progress.errors
    hits = _search(client, grant.id, "户口迁移证明").get_json()["hits"]
    assert "T-TRAD-0001#p0001" in [h["id"] for h in hits]


def _encrypted_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")


def test_bad_files_fail_alone_with_a_clear_error(ingest, api):
    client, grant = api
    good = meta("T-GOOD-0001", pages=[["批次中唯一完好的文件 内容用于验证其余文件失败不影响它"]])
    bad = {
        "corrupt.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage without xref",
        "empty.png": b"",
        "notes.docx": b"PK\x03\x04 this is a word document",
        "locked.pdf": _encrypted_pdf(),
        "truncated.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    rows = [meta(f"T-BAD-{i}", fmt="pdf_text") | {"file": name, "format": None}
            for i, name in enumerate(bad)]
    progress, _ = ingest([good, *rows], extra_files=bad)
    assert progress.files_done == 1 and progress.files_failed == len(bad)
    errors = dict(progress.errors)
    assert "损坏" in errors["corrupt.pdf"]
    assert "为空" in errors["empty.png"]
    assert "不支持的文件类型" in errors["notes.docx"]
    assert "加密" in errors["locked.pdf"]
    assert "损坏" in errors["truncated.png"]
    hits = _search(client, grant.id, "批次中唯一完好").get_json()["hits"]
    assert [h["id"] for h in hits] == ["T-GOOD-0001#p0001"]


def test_manifest_row_errors_are_reported_per_row(ingest):
    rows = [meta("T-ROW-1", category="不存在的门类"), meta("T-ROW-2", pages=[["另一份正常的文件 文本层内容足够长足够长"]])]
    progress, _ = ingest(rows)
    assert progress.files_done == 1 and progress.files_failed == 1
    assert "门类" in progress.errors[0][1]


def test_reingesting_the_same_file_does_not_duplicate_pages(app, ingest):
    spec = meta("T-IDEM-0001", pages=[["重复导入同一文件不应产生重复页面 文本层内容"], ["第二页 文本层内容足够长足够长足够"]])
    ingest([spec])
    ingest([spec])
    ids = [d["doc_id"] for d in dump_index(app) if d["archive_no"] == "T-IDEM-0001"]
    assert sorted(ids) == ["T-IDEM-0001#p0001", "T-IDEM-0001#p0002"]


def test_multipage_tiff_and_jpeg_are_ocred(app, ingest):
    specs = [meta("T-TIF-0001", fmt="tiff", pages=[["民事判决书 第一页"], ["判决如下 第二页"]]),
             meta("T-JPG-0001", fmt="jpeg", pages=[["户籍注销登记表 出国定居"]])]
    progress, _ = ingest(specs)
    assert progress.files_done == 2, progress.errors
    docs = {d["doc_id"]: d for d in dump_index(app)}
    assert "判决" in docs["T-TIF-0001#p0002"]["text"]
    assert re.search("注销", docs["T-JPG-0001#p0001"]["text"])

"""Ingest jobs at page level: page rows, partial failure, idempotent and changed re-ingest,
re-OCR with history, atomic completion, and the per-page job API (real OpenSearch/Tesseract)."""
from __future__ import annotations

import json

import pymupdf
import pytest
from sqlalchemy import select

from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest import pagework
from search_app.ingest.models import IngestFile, IngestPage, PageSecret, PageVersion
from tests.conftest import dump_index, meta

pytestmark = pytest.mark.integration


def _files(job_id: int) -> list[IngestFile]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(IngestFile).where(IngestFile.job_id == job_id)).scalars())


def _docs(app, archive_no: str) -> dict[str, dict]:
    return {d["doc_id"]: d for d in dump_index(app) if d["archive_no"] == archive_no}


def _plain(app, secret) -> str:
    return vault_from_config(app.config).decrypt(secret.ciphertext, aad=secret.doc_id.encode()).decode()


class _Calls:
    """Page numbers appended to a file: counts from every process of the ingest pool (forked
    children inherit the patched stage, but not a list in this process's memory)."""

    def __init__(self, path) -> None:
        self.path = path
        path.write_text("")

    def add(self, page_no: int) -> None:
        with self.path.open("a") as fh:
            fh.write(f"{page_no}\n")

    def _read(self) -> list[int]:
        return [int(line) for line in self.path.read_text().split()]

    def __iter__(self):
        return iter(self._read())

    def __eq__(self, other) -> bool:
        return self._read() == list(other)

    def __repr__(self) -> str:
        return repr(self._read())

    def clear(self) -> None:
        self.path.write_text("")


@pytest.fixture()
def count_stages(monkeypatch, tmp_path):
    """Counts pipeline text extractions (OCR or text layer) done by the page loop, in this
    process or in the pool's."""
    calls = _Calls(tmp_path / "stage-calls.txt")
    real = pagework.page_text

    def counting(page, opts):
        calls.add(page.page_no)
        return real(page, opts)
    monkeypatch.setattr(pagework, "page_text", counting)
    return calls


def test_every_page_has_a_row_with_state_source_and_timing(app, ingest):
    spec = meta("J-ROWS-01", pages=[[f"第{i}页 文本层内容足够长足够长足够长足够长足够长"] for i in "一二三"])
    progress, job_id = ingest([spec])
    assert progress.files_done == 1 and progress.pages_done == 3, progress.errors
    [f] = _files(job_id)
    assert f.state == "done" and f.pages_total == 3 and f.pages_done == 3 and f.started_at
    assert [(p.page_no, p.state, p.text_source, p.attempts) for p in f.pages] == [
        (1, "done", "text_layer", 1), (2, "done", "text_layer", 1), (3, "done", "text_layer", 1)]
    assert all(p.seconds > 0 and p.started_at for p in f.pages)
    assert f.seconds >= max(p.seconds for p in f.pages)
    assert sorted(_docs(app, "J-ROWS-01")) == [f"J-ROWS-01#p000{i}" for i in (1, 2, 3)]


def _pdf_with_a_bad_page(path) -> None:
    """Pages 1 and 3 carry a text layer; page 2 is a huge blank page whose 300 dpi rendering
    is far over MAX_IMAGE_PIXELS, so only page 2 is refused."""
    doc = pymupdf.open()
    for i, size in ((1, (420, 595)), (2, (5000, 5000)), (3, (420, 595))):
        page = doc.new_page(width=size[0], height=size[1])
        if i != 2:
            page.insert_text((40, 60), f"Archive page {i} with a real text layer long enough")
    doc.save(path)


def test_one_bad_page_fails_the_file_with_its_reason_and_the_others_are_indexed(app, ingest, tmp_path):
    data_dir = tmp_path / "bad"
    data_dir.mkdir()
    _pdf_with_a_bad_page(data_dir / "J-PART-01.pdf")
    row = meta("J-PART-01") | {"format": None}
    progress, job_id = ingest([row], extra_files={"J-PART-01.pdf": (data_dir / "J-PART-01.pdf").read_bytes()})
    assert progress.files_failed == 1 and progress.finished
    [f] = _files(job_id)
    assert [p.state for p in f.pages] == ["done", "failed", "done"]
    assert "超过上限" in f.pages[1].error
    assert "第 2 页" in f.error and "超过上限" in f.error and f.pages_done == 2
    assert sorted(_docs(app, "J-PART-01")) == ["J-PART-01#p0001", "J-PART-01#p0003"]


def _rendered_once(spec: dict, tmp_path) -> tuple[dict, dict[str, bytes]]:
    """The spec's file rendered once (PDF writers stamp dates, so a re-render is new content)."""
    from search_app.demo import render_file

    path = render_file(spec, tmp_path)
    return spec | {"format": None}, {spec["file"]: path.read_bytes()}


def test_reingesting_unchanged_content_is_a_noop_without_ocr(app, ingest, count_stages, tmp_path):
    spec, files = _rendered_once(meta("J-SAME-01", pages=[
        ["未改变的文件 第一页 文本层内容足够长足够长足够长"], ["未改变的文件 第二页 文本层内容足够长足够长足够长"]]), tmp_path)
    _, first_job = ingest([spec], extra_files=files)
    assert sorted(count_stages) == [1, 2]
    secret_before = get_session().get(PageSecret, "J-SAME-01#p0001").updated_at
    count_stages.clear()

    progress, second_job = ingest([spec], extra_files=files)
    assert count_stages == [], f"unchanged file was processed again (pages {count_stages})"
    [f] = _files(second_job)
    assert f.state == "done" and "内容未变" in f.note and f.pages_done == 2
    assert f.pages == [], "an unchanged file must not create page work"
    assert progress.files_done == 1
    get_session().expire_all()
    assert get_session().get(PageSecret, "J-SAME-01#p0001").updated_at == secret_before
    [first] = _files(first_job)
    assert {d["ingest_file_id"] for d in _docs(app, "J-SAME-01").values()} == {first.id}


def test_same_scan_with_a_changed_manifest_row_is_reindexed(app, ingest, count_stages, tmp_path):
    spec, files = _rendered_once(meta("J-META-01", pages=[["著录信息变化的文件 文本层内容足够长足够长足够"]]),
                                 tmp_path)
    ingest([spec], extra_files=files)
    count_stages.clear()
    _, job_id = ingest([spec | {"classification": "秘密"}], extra_files=files,
                       confirm_metadata_change=True)  # refused without it (test_security_ingest)
    [f] = _files(job_id)
    assert f.note == "" and count_stages == [1], "a changed classification must reach the index"
    assert _docs(app, "J-META-01")["J-META-01#p0001"]["classification"] == "秘密"


def test_changed_file_reingests_and_removes_vanished_pages(app, ingest):
    old = meta("J-CHG-01", pages=[[f"旧版本 第{i}页 文本层内容足够长足够长足够长"] for i in (1, 2, 3)])
    ingest([old])
    assert len(_docs(app, "J-CHG-01")) == 3
    new = meta("J-CHG-01", pages=[[f"新版本 第{i}页 文本层内容足够长足够长足够长"] for i in (1, 2)])
    progress, job_id = ingest([new])
    assert progress.files_done == 1, progress.errors
    docs = _docs(app, "J-CHG-01")
    assert sorted(docs) == ["J-CHG-01#p0001", "J-CHG-01#p0002"], "page 3 no longer exists"
    assert "新版本" in docs["J-CHG-01#p0001"]["text"] and docs["J-CHG-01#p0001"]["page_count"] == 2
    session = get_session()
    session.expire_all()
    assert session.get(PageSecret, "J-CHG-01#p0003") is None
    assert "新版本" in _plain(app, session.get(PageSecret, "J-CHG-01#p0001"))
    versions = list(session.execute(select(PageVersion).where(PageVersion.archive_no == "J-CHG-01")
                                    .order_by(PageVersion.page_no)).scalars())
    assert [(v.page_no, v.replaced_by) for v in versions] == [(1, "reingest"), (2, "reingest"),
                                                              (3, "removed")]
    assert all("旧版本" in _plain(app, v) for v in versions)


def test_reocr_keeps_the_previous_text_as_a_version(app, ingest):
    spec = meta("J-REOCR-01", pages=[["重新识别测试 户口登记", "第一页 文本层内容足够长足够长"]])
    ingest([spec])
    session = get_session()
    before = session.get(PageSecret, "J-REOCR-01#p0001")
    old_text, old_cipher = _plain(app, before), before.ciphertext
    assert before.text_source == "text_layer"

    result = app.test_cli_runner().invoke(args=["reocr", "J-REOCR-01", "--page", "1"])
    assert result.exit_code == 0, result.output
    assert "J-REOCR-01 p1" in result.output

    session.expire_all()
    current = session.get(PageSecret, "J-REOCR-01#p0001")
    assert current.text_source == "ocr" and current.ocr_confidence is not None
    assert current.ciphertext != old_cipher
    [version] = session.execute(select(PageVersion).where(PageVersion.doc_id == "J-REOCR-01#p0001")).scalars()
    assert version.replaced_by == "reocr" and version.text_source == "text_layer"
    assert version.ciphertext == old_cipher and _plain(app, version) == old_text
    docs = _docs(app, "J-REOCR-01")
    assert list(docs) == ["J-REOCR-01#p0001"], f"re-OCR must overwrite, not add: {list(docs)}"
    assert docs["J-REOCR-01#p0001"]["text_source"] == "ocr"
    assert "户口" in docs["J-REOCR-01#p0001"]["text"]


def test_reocr_of_an_unknown_archive_says_why(app, ctx):
    result = app.test_cli_runner().invoke(args=["reocr", "J-NOPE-99"])
    assert result.exit_code != 0 and "没有完成的导入记录" in result.output


def test_page_left_running_by_a_dead_worker_is_claimed_again(app, ingest):
    spec = meta("J-DEAD-01", pages=[["被中断的页面 文本层内容足够长足够长足够长足够"], ["第二页 文本层内容足够长足够长足够长足够"]])
    _, job_id = ingest([spec])
    [f] = _files(job_id)
    session = get_session()
    # What a SIGKILL mid-page leaves behind: the page claimed ('running'), the file not finished.
    f.state, f.pages[1].state = "running", "running"
    session.commit()
    assert pagework.finish_file(f.id) is False, "a file with a running page must not finish"
    page = pagework.run_page(f.pages[1].id)
    assert page.state == "done" and page.attempts == 2
    session.expire_all()
    assert session.get(IngestFile, f.id).state == "done"


def test_exactly_one_caller_finishes_a_file(app, ingest):
    spec = meta("J-FIN-01", pages=[["完成检查 文本层内容足够长足够长足够长足够长足够"]])
    _, job_id = ingest([spec])
    [f] = _files(job_id)
    f.state = "running"
    get_session().commit()
    assert [pagework.finish_file(f.id), pagework.finish_file(f.id)] == [True, False]


def test_job_api_reports_pages_without_text_or_pii(app, ingest, make_user):
    from search_app.accounts.services import issue_api_token

    ID = "110108198503120046"
    spec = meta("J-API-01", subject_name="李明", subject_id=ID,
                pages=[["接口测试页面 户主姓名 李明 文本层内容", f"公民身份号码 {ID}"],
                       ["接口测试第二页 文本层内容足够长足够长足够长足够长"]])
    _, job_id = ingest([spec])
    admin = make_user("system_admin")
    token = issue_api_token(get_session(), admin)
    get_session().commit()
    resp = app.test_client().get(f"/api/v1/ingest/jobs/{job_id}",
                                 headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    [f] = body["files"]
    assert f["archive_no"] == "J-API-01" and f["state"] == "done" and f["pages_done"] == 2
    assert [(p["page_no"], p["state"], p["text_source"], p["attempts"]) for p in f["pages"]] == [
        (1, "done", "text_layer", 1), (2, "done", "text_layer", 1)]
    assert all(p["seconds"] > 0 and p["started_at"] for p in f["pages"])
    raw = json.dumps(body, ensure_ascii=False)
    for leak in (ID, "李明", "接口测试页面", "接口测试第二页"):
        assert leak not in raw, f"job API leaks {leak!r} (page text or PII): {raw[:300]}"

"""The QA review (数字化质检) against the real engine, database and vault: a correction becomes a
new text version, is re-indexed (search finds the corrected word, not the old one) and the old
version is kept; the reviewer sees the page as staff do (masked) and only within its own audited
scope; every refusal says why in Chinese and is audited."""
from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import select

from search_app.audit.actions import Action
from search_app.audit.service import Actor
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestJob, PageSecret, PageVersion
from search_app.ingest.secrets import decode_secret
from search_app.qa import review
from search_app.qa.models import QaPage
from search_app.qa.scope import grant_scope, revoke_scope
from search_app.search import ReadDenied, search_pages
from search_app.search.qa_reads import qa_version_text, qa_view_page
from tests.conftest import audit_records, login, meta

pytestmark = pytest.mark.integration
ID = "110105197806201237"
NAME = "陈美玲"


def _lines(tag: str) -> list[str]:
    return [f"户口迁移证朋 编号{tag} 迁出地 北京市海淀区中关村", f"姓名 {NAME} 公民身份号码 {ID}",
            "承办人签字 本页为质检测试文本层内容"]


@pytest.fixture()
def batch(ctx, ingest):
    """One text-layer file in its own batch: (archive_no, doc_id, job_id, tag)."""
    tag = uuid.uuid4().hex[:6]
    archive_no = f"QAV-{tag}"
    progress, job_id = ingest([meta(archive_no, subject_name=NAME, pages=[_lines(tag)])])
    assert progress.files_failed == 0, progress.errors
    return archive_no, f"{archive_no}#p0001", job_id, tag


@pytest.fixture()
def scoped(ctx, make_user):
    """make(job_ids, **kw) -> (reviewer, scope): a QA reviewer given those batches by a security
    admin."""
    secadmin = make_user("security_admin")

    def make(job_ids, *, reviewer=None, ceiling: int = 1, unmask=()):
        reviewer = reviewer or make_user("qa_reviewer")
        scope = grant_scope(get_session(), Actor(secadmin.id, secadmin.username, secadmin.role),
                            reviewer=reviewer, job_ids=list(job_ids), ceiling=ceiling,
                            purpose="质检测试批次验收", days=7, unmask_fields=list(unmask))
        get_session().commit()
        return reviewer, scope
    make.secadmin = secadmin
    return make


def _plain(ctx, ciphertext: bytes, doc_id: str) -> str:
    return decode_secret(vault_from_config(ctx.config).decrypt(ciphertext, aad=doc_id.encode()))[0]


def _found(user, grant, query: str) -> list[str]:
    out = search_pages(user=user, grant_id=grant.id, purpose="核实质检更正", query=query)
    return [h.fields["doc_id"] for h in out.hits]


def test_correction_is_reindexed_and_the_old_version_kept(ctx, batch, scoped, make_user,
                                                           make_grant):
    archive_no, doc_id, job_id, tag = batch
    reviewer, scope = scoped([job_id])
    read = qa_view_page(user=reviewer, scope_id=scope.id, doc_id=doc_id)
    assert ID not in read.text and NAME not in read.text, \
        f"the QA screen shows unmasked personal data: {read.text!r}"
    assert "110105" in read.text and "证朋" in read.text

    # an edit inside a masked span cannot be applied: the reviewer cannot see what is there
    masked_name = re.search(r"姓名 (\S+)", read.text).group(1)
    with pytest.raises(review.ReviewRefused, match="遮蔽"):
        review.correct(user=reviewer, scope_id=scope.id, doc_id=doc_id,
                       text=read.text.replace(masked_name, "陈某某"))

    version = review.correct(user=reviewer, scope_id=scope.id, doc_id=doc_id,
                             text=read.text.replace("证朋", "证明"))
    assert version == 2

    staff = make_user("staff")
    grant = make_grant(staff)
    assert doc_id in _found(staff, grant, f'"户口迁移证明" 编号{tag}'), "corrected word not found"
    assert doc_id not in _found(staff, grant, f'"迁移证朋" 编号{tag}'), \
        "the old, wrong word is still searchable after the correction"

    session = get_session()
    session.expire_all()
    current = _plain(ctx, session.get(PageSecret, doc_id).ciphertext, doc_id)
    assert "户口迁移证明" in current and ID in current and NAME in current, \
        "the correction lost the personal data the reviewer could not see"
    versions = list(session.execute(select(PageVersion).where(PageVersion.doc_id == doc_id)).scalars())
    assert len(versions) == 1, [(v.replaced_by, v.text_source, v.recorded_at) for v in versions]
    [old] = versions
    assert old.replaced_by == "qa_correct" and old.archive_no == archive_no and old.page_no == 1
    assert "户口迁移证朋" in _plain(ctx, old.ciphertext, doc_id), "the old version was not kept"
    shown = qa_version_text(user=reviewer, scope_id=scope.id, doc_id=doc_id, version_id=old.id)
    assert "证朋" in shown.text and ID not in shown.text
    row = session.execute(select(QaPage).where(QaPage.doc_id == doc_id)).scalar_one()
    assert (row.status, row.text_version, row.decided_by) == ("corrected", 2, reviewer.username)
    [rec] = audit_records(Action.QA_CORRECT, username=reviewer.username, outcome="allowed")
    assert rec.approval_ref == scope.ref and rec.returned_ids == [doc_id]
    assert ID not in (rec.query + str(rec.filters)), "the audit record holds the ID number"


def test_reviewer_without_scope_is_refused_with_reason(ctx, app, batch, scoped, make_user):
    archive_no, doc_id, job_id, _ = batch
    _, other_batch_scope = scoped([job_id])  # someone else's scope on this very batch
    other_job = IngestJob(created_by="test", source="另一批次")
    get_session().add(other_job)
    get_session().commit()
    outsider, own = scoped([other_job.id])  # its own scope covers another batch only
    attempts = {
        "no scope chosen": (None, "未选择质检范围"),
        "another reviewer's scope": (other_batch_scope.id, "不属于您"),
        "scope over another batch": (own.id, "不存在或不在授权范围内"),
    }
    for what, (scope_id, reason) in attempts.items():
        with pytest.raises(ReadDenied) as denied:
            qa_view_page(user=outsider, scope_id=scope_id, doc_id=doc_id)
        assert reason in denied.value.reason, f"{what}: allowed or wrong reason {denied.value}"
        with pytest.raises(ReadDenied):
            review.accept(user=outsider, scope_id=scope_id, doc_id=doc_id)
    refused = audit_records(Action.QA_PAGE_VIEW, username=outsider.username, outcome="denied")
    assert len(refused) == 3 and all(r.reason for r in refused)
    assert not audit_records(Action.QA_ACCEPT, username=outsider.username, outcome="allowed")
    row = get_session().execute(select(QaPage).where(QaPage.doc_id == doc_id)).scalar_one()
    assert row.status == "pending", "a refused reviewer's 合格 was stored"

    staff = make_user("staff")  # a searcher is not a QA reviewer, whatever scope id it names
    with pytest.raises(ReadDenied, match="没有此项权限"):
        qa_view_page(user=staff, scope_id=own.id, doc_id=doc_id)

    client = app.test_client()
    assert login(client, outsider.username).status_code == 302
    resp = client.get(f"/qa/pages/{quote(doc_id)}?scope={other_batch_scope.id}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "不属于您" in body, body[-600:]
    img = client.get(f"/qa/pages/{quote(doc_id)}/image?scope={own.id}")
    assert img.status_code == 403 and "不在授权范围内" in img.get_data(as_text=True)

    revoke_scope(get_session(), Actor(scoped.secadmin.id, scoped.secadmin.username,
                                      scoped.secadmin.role), own.id)
    get_session().commit()
    with pytest.raises(ReadDenied, match="已被撤销"):
        qa_view_page(user=outsider, scope_id=own.id, doc_id=doc_id)


def test_classification_above_the_scope_ceiling_is_refused(ctx, ingest, scoped):
    archive_no = f"QAS-{uuid.uuid4().hex[:6]}"
    progress, job_id = ingest([meta(archive_no, classification="秘密",
                                    pages=[["秘密级档案 质检范围密级上限测试 文本层内容足够长"]])])
    assert progress.files_failed == 0, progress.errors
    reviewer, scope = scoped([job_id], ceiling=1)
    with pytest.raises(ReadDenied, match="不在授权范围内"):
        qa_view_page(user=reviewer, scope_id=scope.id, doc_id=f"{archive_no}#p0001")
    _, cleared = scoped([job_id], reviewer=reviewer, ceiling=2)
    assert "秘密级档案" in qa_view_page(user=reviewer, scope_id=cleared.id,
                                      doc_id=f"{archive_no}#p0001").text


def test_review_screen_actions_and_batch_statistics(ctx, app, batch, scoped):
    archive_no, doc_id, job_id, _ = batch
    reviewer, scope = scoped([job_id])
    client = app.test_client()
    assert login(client, reviewer.username).status_code == 302
    queue = client.get(f"/qa/?scope={scope.id}&status=all").get_data(as_text=True)
    assert doc_id in queue and archive_no in queue
    page = client.get(f"/qa/pages/{quote(doc_id)}?scope={scope.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="qa-image"' in html and "证朋" in html
    assert ID not in html and NAME not in html, "the review screen shows unmasked personal data"
    img = client.get(f"/qa/pages/{quote(doc_id)}/image?scope={scope.id}")
    assert img.status_code == 200 and img.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert audit_records(Action.QA_PAGE_IMAGE, username=reviewer.username, outcome="allowed")

    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    form = {"scope": scope.id, **({"csrf_token": token.group(1)} if token else {})}
    resp = client.post(f"/qa/pages/{quote(doc_id)}/action", data={**form, "do": "rescan", "reason": ""})
    assert resp.status_code == 303
    assert "必须写明原因" in client.get(resp.location).get_data(as_text=True)
    client.post(f"/qa/pages/{quote(doc_id)}/action", data={**form, "do": "rescan", "reason": "页面缺角"})
    row = lambda: get_session().execute(select(QaPage).where(QaPage.doc_id == doc_id)).scalar_one()  # noqa: E731
    get_session().expire_all()
    assert (row().status, row().rescan_reason) == ("rescan", "页面缺角")
    [rec] = audit_records(Action.QA_RESCAN, username=reviewer.username)
    assert rec.filters.get("reason") == "页面缺角"

    resp = client.post(f"/qa/pages/{quote(doc_id)}/action", data={**form, "do": "reocr"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[-500:]
    get_session().expire_all()
    assert row().text_version == 2 and row().status == "pending"
    assert get_session().execute(select(PageVersion).where(
        PageVersion.doc_id == doc_id, PageVersion.replaced_by == "reocr")).first()
    client.post(f"/qa/pages/{quote(doc_id)}/action", data={**form, "do": "accept"})
    get_session().expire_all()
    assert row().status == "accepted"

    stats = client.get("/qa/stats?format=json").get_json()["batches"]
    [mine] = [b for b in stats if b["job_id"] == job_id]
    assert (mine["pages"], mine["accepted"], mine["rescan"], mine["files"]) == (1, 1, 0, 1)
    assert mine["accepted_share"] == 1.0
    assert "验收统计" in client.get("/qa/stats").get_data(as_text=True)


def test_a_correction_that_reveals_a_name_reboxes_the_image(ctx, ingest, scoped):
    """An OCR-like slip (经力八 壬建华: the role label garbled in two characters, the surname in
    one) hid a name from the detectors, so neither text nor image masked it; the reviewer's
    correction (经办人 王建华) makes it a name: the text is masked and the stored image is redacted
    again from the original, with the name boxed."""
    import io

    import numpy as np
    from PIL import Image

    from search_app.ingest.service import blob_store

    archive_no = f"QAX-{uuid.uuid4().hex[:6]}"
    progress, job_id = ingest([meta(archive_no, pages=[[
        "户口登记 经力八 壬建华 复核 本页质检图像重新遮盖测试", "登记日期 二〇一九年三月 承办单位 海淀分局"]])])
    assert progress.files_failed == 0, progress.errors
    doc_id = f"{archive_no}#p0001"
    reviewer, scope = scoped([job_id])

    def black(sha: str) -> int:
        png = blob_store().get_page_image(doc_id, sha)
        return int((np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 8).sum())

    old = get_session().get(PageSecret, doc_id).image_sha256
    read = qa_view_page(user=reviewer, scope_id=scope.id, doc_id=doc_id)
    assert "壬建华" in read.text, f"set-up: the slipped name was masked already: {read.text!r}"
    review.correct(user=reviewer, scope_id=scope.id, doc_id=doc_id,
                   text=read.text.replace("经力八", "经办人").replace("壬建华", "王建华"))
    get_session().expire_all()
    new = get_session().get(PageSecret, doc_id).image_sha256
    assert new and new != old, "the image was not redacted again after the name was revealed"
    assert black(new) > black(old) + 200, "the revealed name is not boxed on the new image"
    assert "王建华" not in qa_view_page(user=reviewer, scope_id=scope.id, doc_id=doc_id).text

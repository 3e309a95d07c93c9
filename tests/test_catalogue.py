"""The catalogue in the database (issue 13, requirements 1, 2 and 6), against the real services:
a catalogue change is audited and shows in the grant form and the query filters; a manifest row
whose 档号 breaks its 全宗/门类 rule is refused while the valid rows ingest, with the parts
indexed; a correction keeps the old 档号 and links the new one; browsing shows only what the
grant covers; a request over its purpose category's limits is refused, in the UI and the API."""
from __future__ import annotations

import random
import re
import string

import pytest
from sqlalchemy import select

from search_app.accounts.services import issue_api_token
from search_app.catalogue.models import ArchiveNoCorrection, Category
from search_app.db import get_session
from search_app.search._backend import make_client
from search_app.search.browse import BrowsePath, browse
from search_app.search._choke import ReadDenied
from tests.api_check import ApiClient
from tests.conftest import audit_records, meta, signed_in_client

pytestmark = pytest.mark.integration
PATTERN = "{全宗号}-{门类代码}·{年度}-{保管期限}-{件号}"


def _tag(n: int = 5) -> str:
    return "".join(random.choice(string.ascii_uppercase) for _ in range(n))


@pytest.fixture()
def sysadmin(app, ctx, make_user):
    user = make_user("system_admin")
    return user, signed_in_client(app, user)


def _post(client, url: str, **form) -> str:
    """POST a catalogue form; the flashed outcome of the page it redirects to."""
    resp = client.post(url, data=form)
    assert resp.status_code == 303, f"{url}: {resp.status_code}"
    return client.get(resp.location).get_data(as_text=True)


def _fonds(client) -> str:
    """A 全宗 of this test's own, with the DA/T 13 rule for 户籍档案 (HJ)."""
    code = "C" + _tag(5)
    assert "已新增全宗" in _post(client, "/catalogue/fonds/add", code=code, name=f"测试全宗{code}")
    page = _post(client, "/catalogue/rules", fonds_code=code, category_code="HJ", pattern=PATTERN)
    assert "已保存档号规则" in page, page[-600:]
    return code


def _docs(app, prefix: str) -> list[dict]:
    client = make_client(app.config, "admin")
    client.indices.refresh(index=app.config["OPENSEARCH_INDEX"])
    res = client.search(index=app.config["OPENSEARCH_INDEX"], body={
        "query": {"bool": {"filter": [{"prefix": {"archive_no": prefix}}],
                           "must_not": [{"exists": {"field": "doc_kind"}}]}}, "size": 200})
    return [h["_source"] for h in res["hits"]["hits"]]


def test_catalogue_change_is_audited_and_reflected_in_form_and_filters(app, sysadmin, make_user,
                                                                        make_grant, catalogued):
    admin, client = sysadmin
    code, name = "Z" + _tag(4), f"测试门类{_tag(4)}"
    page = _post(client, "/catalogue/category/add", code=code, name=name)
    assert f"已新增门类：{name}" in page
    added = audit_records("catalogue.add", username=admin.username)
    assert added and added[-1].filters["code"] == code and added[-1].filters["name"] == name, \
        "adding a 门类 left no audit record naming it"
    staff = make_user("staff")
    staff_client = signed_in_client(app, staff)
    assert f'value="{name}"' in staff_client.get("/grants/new").get_data(as_text=True), \
        "the new 门类 is not offered on the grant request form"
    grant = make_grant(staff, categories=("户籍档案",))

    def search(q: str):
        return staff_client.post("/search", follow_redirects=True, data={"grant_id": grant.id, "purpose": "核实目录",
                                                  "q": q})
    assert search(f"门类:{name}").status_code == 200, "the query filter refused a catalogued 门类"

    entry = get_session().execute(select(Category).where(Category.code == code)).scalar_one()
    renamed = name + "新"
    assert "已更名" in _post(client, f"/catalogue/category/{entry.id}/rename", name=renamed)
    rec = audit_records("catalogue.rename", username=admin.username)[-1]
    assert (rec.filters["old"], rec.filters["new"]) == (name, renamed)
    form = staff_client.get("/grants/new").get_data(as_text=True)
    assert f'value="{renamed}"' in form and f'value="{name}"' not in form, \
        "the grant form still offers the 门类's old name after the rename"

    assert "已停用" in _post(client, f"/catalogue/category/{entry.id}/toggle", enabled="0")
    assert audit_records("catalogue.disable", username=admin.username)[-1].filters["code"] == code
    assert f'value="{renamed}"' not in staff_client.get("/grants/new").get_data(as_text=True), \
        "a disabled 门类 is still offered on the grant form"
    refused = staff_client.post("/grants/new", data={
        "purpose_category": "户籍核查", "purpose": "核实", "categories": [renamed],
        "units": "北京市公安局海淀分局", "classification": "内部", "days": "1"})
    assert refused.status_code == 400 and "档案门类必须从" in refused.get_data(as_text=True), \
        f"a grant request naming a disabled 门类 was accepted ({refused.status_code})"
    bad = search(f"门类:{renamed}")
    assert bad.status_code == 400 and "不存在" in bad.get_data(as_text=True), \
        "the query filter still accepts a disabled 门类"
    # the screen itself: the system admin's page lists the entry as disabled with its former name
    screen = client.get("/catalogue/").get_data(as_text=True)
    assert renamed in screen and f"曾用名：{name}" in screen


def test_catalogue_screen_is_for_the_system_admin_only(app, ctx, make_user):
    for role in ("staff", "approver", "security_admin", "auditor"):
        user = make_user(role)
        resp = signed_in_client(app, user).post("/catalogue/category/add", data={"code": "X", "name": "X"})
        assert resp.status_code == 403, f"{role} changed the catalogue ({resp.status_code})"


def test_invalid_archive_no_rows_are_refused_while_valid_rows_ingest(app, sysadmin, ingest):
    _, client = sysadmin
    fonds = _fonds(client)
    good = [f"{fonds}-HJ·2023-Y-0001", f"{fonds}-HJ·2023-D30-0002"]
    bad = {f"{fonds}-HJ·2022-Y-0003": "年度 2022 与年度 2023 不符",
           f"{fonds}-HJ-2023-Y-0004": "不符合该门类的档号规则",
           f"{fonds}-HJ·2023-D99-0005": "保管期限 D99 不在档案目录中"}
    specs = [meta(no, year=2023, pages=[[f"档号规则测试页 {no[-4:]} 内容足够长以使用文本层"]])
             for no in [*good, *bad]]
    progress, _ = ingest(specs)
    assert progress.files_done == len(good) and progress.files_failed == len(bad), progress.errors
    errors = " ".join(e for _, e in progress.errors)
    for no, reason in bad.items():
        assert reason in errors, f"row {no}: no clear reason ({reason!r}) in {errors!r}"
    docs = {d["archive_no"]: d for d in _docs(app, fonds + "-")}
    assert set(docs) == set(good), f"ingested: {sorted(docs)}; refused rows must not be indexed"
    first = docs[good[0]]
    assert (first["fonds_no"], first["category_code"], first["retention"], first["item_no"]) == \
        (fonds, "HJ", "Y", "0001"), f"档号 parts not indexed as fields: {first}"
    assert docs[good[1]]["retention"] == "D30"


def test_a_correction_keeps_the_old_archive_no_and_links_the_new(app, sysadmin, ingest):
    _, client = sysadmin
    fonds = _fonds(client)
    old, new = f"{fonds}-HJ·2021-Y-0001", f"{fonds}-HJ·2021-Y-0002"
    text = [["更正测试 原始著录的文件内容足够长以使用文本层"]]
    other = f"{fonds}-HJ·2021-Y-0004"
    progress, _ = ingest([meta(old, year=2021, pages=text), meta(other, year=2021, pages=text)])
    assert progress.files_failed == 0, progress.errors
    progress, _ = ingest([meta(new, year=2021, pages=text, 原档号=old),
                          meta(f"{fonds}-HJ·2021-Y-0003", year=2021, pages=text,
                               原档号=f"{fonds}-HJ·2021-Y-0999"),
                          meta(old, year=2021, pages=text, 原档号=other)])
    errors = dict(progress.errors)
    assert progress.files_done == 1 and progress.files_failed == 2, progress.errors
    joined = " ".join(errors.values())
    assert f"原档号 {fonds}-HJ·2021-Y-0999 不存在" in joined, joined
    assert f"新档号 {old} 已被使用" in joined, \
        f"re-using an ingested 档号 as a correction's new 档号 was allowed: {joined}"
    docs = {d["archive_no"]: d for d in _docs(app, fonds + "-")}
    assert set(docs) == {old, new, other}, f"the old and the corrected 档号 must stay: {sorted(docs)}"
    assert docs[new]["corrects"] == old and "corrects" not in docs[old], \
        "the new 档号 does not link to the old one (or the old one was rewritten)"
    link = get_session().execute(select(ArchiveNoCorrection).where(
        ArchiveNoCorrection.new_no == new)).scalar_one()
    assert link.old_no == old
    rec = audit_records("catalogue.archive_no_correct")[-1]
    assert (rec.filters["old_no"], rec.filters["new_no"]) == (old, new)


def test_browse_shows_only_the_files_the_grant_covers(app, ctx, make_user, make_grant, ingest,
                                                      sysadmin):
    _, admin_client = sysadmin
    fonds = "B" + _tag(5)
    assert "已新增全宗" in _post(admin_client, "/catalogue/fonds/add", code=fonds, name="浏览测试全宗")
    mine, other = f"浏览测试单位{_tag(3)}甲", f"浏览测试单位{_tag(3)}乙"
    page = [["分级浏览测试页 内容足够长以使用文本层 第一页"], ["分级浏览测试页 第二页内容"]]
    visible = f"{fonds}-HJ-2021-0001"
    hidden = {f"{fonds}-HJ-2021-0002": "another unit", f"{fonds}-HJ-2022-0003": "秘密 over the ceiling",
              f"{fonds}-GB-2021-0004": "another 门类"}
    progress, _ = ingest([
        meta(visible, unit=mine, year=2021, pages=page, 全宗号=fonds),
        meta(f"{fonds}-HJ-2021-0002", unit=other, year=2021, pages=page, 全宗号=fonds),
        meta(f"{fonds}-HJ-2022-0003", unit=mine, year=2022, classification="秘密", pages=page,
             全宗号=fonds),
        meta(f"{fonds}-GB-2021-0004", unit=mine, category="干部人事档案", year=2021, pages=page,
             全宗号=fonds)])
    assert progress.files_failed == 0, progress.errors
    staff = make_user("staff", unit=mine)
    grant = make_grant(staff, categories=("户籍档案",), units=(mine,), classification="内部")

    def level(**path):
        return browse(user=staff, grant_id=grant.id, purpose="分级浏览核查",
                      path=BrowsePath(**path)).entries

    root = {e["key"]: e for e in level()}
    assert root.get(fonds, {}).get("files") == 1, \
        f"LEAK: the 全宗 level counts files outside the grant: {root.get(fonds)}"
    assert [e["key"] for e in level(fonds_no=fonds)] == ["户籍档案"], "LEAK: another 门类 listed"
    assert [e["key"] for e in level(fonds_no=fonds, category="户籍档案")] == [2021], \
        "LEAK: a year holding only a 秘密 file is listed"
    files = level(fonds_no=fonds, category="户籍档案", year=2021)
    leaked = [e["key"] for e in files if e["key"] in hidden]
    assert not leaked, f"LEAK: browse lists {[(k, hidden[k]) for k in leaked]}"
    assert [e["key"] for e in files] == [visible] and files[0]["page_count"] == 2
    pages = level(fonds_no=fonds, category="户籍档案", year=2021, archive_no=visible)
    assert [e["key"] for e in pages] == [1, 2]
    for no, why in hidden.items():
        with pytest.raises(ReadDenied):
            level(fonds_no=fonds, category="户籍档案", year=int(no.split("-")[2]), archive_no=no)
    recs = audit_records("browse", username=staff.username)
    assert any(r.outcome == "denied" for r in recs) and any(
        r.outcome == "allowed" and r.result_count == 2 for r in recs), \
        "browse reads are not audited like searches"

    client = signed_in_client(app, staff)
    resp = client.post("/reading/open", data={"grant_id": grant.id, "purpose": "分级浏览核查"})
    sid = re.search(r"[?&]s=([\w-]+)", resp.location).group(1)
    body = client.get(f"/browse?s={sid}&fonds={fonds}&category=户籍档案&year=2021").get_data(as_text=True)
    assert visible in body and not [no for no in hidden if no in body], \
        "LEAK: the browse screen shows a file outside the grant"


def test_requests_over_their_purpose_category_limits_are_refused(app, ctx, make_user, catalogued):
    staff = make_user("staff")
    client = signed_in_client(app, staff)
    base = {"purpose": "外单位核查户籍", "categories": ["户籍档案"], "units": catalogued,
            "classification": "内部", "days": "1"}
    form = client.get("/grants/new?purpose_category=外单位户籍核查").get_data(as_text=True)
    assert re.search(r'value="id_number"\s+checked', form), "the category's default fields are not preselected"
    over = client.post("/grants/new", data={**base, "purpose_category": "外单位户籍核查",
                                            "unmask_fields": ["name", "phone"]})
    text = over.get_data(as_text=True)
    assert over.status_code == 400 and "最多可显示" in text and "手机号" in text, \
        f"ALLOWED: 外单位户籍核查 asked to unmask 手机号 ({over.status_code})"
    week = client.post("/grants/new", data={**base, "purpose_category": "干部档案查阅",
                                            "categories": ["干部人事档案"], "days": "8"})
    assert week.status_code == 400 and "最长 7 天" in week.get_data(as_text=True), \
        "ALLOWED: 干部档案查阅 for 8 days"
    ok = client.post("/grants/new", data={**base, "purpose_category": "干部档案查阅", "days": "7"})
    assert ok.status_code == 302, ok.get_data(as_text=True)[-400:]
    inbox = signed_in_client(app, make_user("approver")).get("/grants/inbox").get_data(as_text=True)
    assert "该类别限制" in inbox and "最长 7 天" in inbox, "the approver does not see the limits"

    token = issue_api_token(get_session(), staff)
    get_session().commit()
    api = ApiClient(app, token)
    resp = api.post("/api/v1/grant-requests", json={
        "purpose_category": "外单位户籍核查", "purpose": "外单位核查户籍", "categories": ["户籍档案"],
        "units": [catalogued], "classification": "内部", "days": 1,
        "unmask_fields": ["bank_card"]})
    assert resp.status_code == 400 and "最多可显示" in resp.get_json()["message"], \
        f"ALLOWED through the API: {resp.status_code} {resp.get_data(as_text=True)[:200]}"
    cat = api.get("/api/v1/grant-requests/catalogue").get_json()
    limits = {p["name"]: p for p in cat["purposes"]}
    assert limits["干部档案查阅"]["max_days"] == 7
    assert limits["外单位户籍核查"]["max_fields"] == ["name", "address", "id_number"] or \
        set(limits["外单位户籍核查"]["max_fields"]) == {"name", "address", "id_number"}


def test_units_ingested_before_the_catalogue_are_registered_by_the_command(app, ctx, ingest):
    from search_app.catalogue.models import Unit

    unit = f"迁移前单位{_tag(4)}"
    progress, _ = ingest([meta(f"PRE-{_tag(4)}-0001", unit=unit)])
    assert progress.files_failed == 0, progress.errors
    session = get_session()
    session.execute(Unit.__table__.delete().where(Unit.name == unit))  # as before migration 0011
    session.commit()
    result = app.test_cli_runner().invoke(args=["catalogue-register-units"])
    assert result.exit_code == 0 and unit in result.output, result.output
    session.expire_all()
    assert session.execute(select(Unit).where(Unit.name == unit)).scalar_one().enabled
    assert audit_records("catalogue.add")[-1].filters["name"] == unit

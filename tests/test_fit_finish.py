"""Fit and finish of the pages people read: the grant form offers only what exists (and the
server refuses what does not), the system admin's home lists what exists, and no code is shown
where a Chinese label belongs."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from search_app.audit.actions import ACTION_LABELS
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.ingest.models import PageSecret
from search_app.permissions import Role
from tests.conftest import signed_in_client

pytestmark = pytest.mark.integration
REQUEST = {"purpose_category": "户籍核查", "purpose": "核实户口登记", "categories": ["户籍档案"],
           "classification": "内部", "days": "1"}


def visible_text(page: str) -> str:
    """What a person reads: tags and their attributes (title, value) removed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _requests_of(user) -> list[Grant]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(Grant).where(Grant.user_id == user.id)).scalars())


def test_grant_form_offers_only_existing_units_and_archive_nos(app, ctx, make_user, catalogued):
    staff = make_user("staff", unit=catalogued)
    page = signed_in_client(app, staff).get("/grants/new").get_data(as_text=True)
    units = re.search(r'<select id="units" name="units" multiple[^>]*>(.*?)</select>', page, re.S)
    assert units, "units must be chosen from a list, not typed"
    assert f'<option value="{catalogued}" selected>' in units.group(1), "the requester's unit is not preselected"
    assert "市委组织部" in units.group(1)
    nos = re.search(r'<select id="archive_nos" name="archive_nos" multiple[^>]*>(.*?)</select>', page, re.S)
    assert nos and 'value="CAT-1001"' in nos.group(1) and "户籍档案" in nos.group(1)
    assert not re.search(r'<input[^>]+name="(units|archive_nos)"', page), "a free-text unit/档号 field is left"


@pytest.mark.parametrize("over,reason", [
    ({"units": "不存在的派出所"}, "单位不在档案目录中：不存在的派出所"),
    ({"units": "北京市公安局海淀分局", "archive_nos": "CAT-9999"}, "档号不存在：CAT-9999"),
    ({"units": "北京市公安局海淀分局", "archive_nos": "CAT-2001"}, "档号 CAT-2001 属于 市委组织部"),
    ({"units": "北京市公安局海淀分局", "archive_nos": "CAT-1002"}, "不在所申请的单位与门类内"),
])
def test_server_refuses_units_and_archive_nos_that_do_not_exist(over, reason, app, ctx, make_user, catalogued):
    """An attacker posts the form by hand: a unit or 档号 the list never offered is refused."""
    staff = make_user("staff")
    resp = signed_in_client(app, staff).post("/grants/new", data={**REQUEST, **over})
    assert resp.status_code == 400, f"{over}: {resp.status_code}"
    assert reason in visible_text(resp.get_data(as_text=True)), f"{over}: reason {reason!r} not shown"
    assert _requests_of(staff) == [], f"a request naming {over} was stored"


def test_existing_choices_are_accepted(app, ctx, make_user, catalogued):
    staff = make_user("staff")
    resp = signed_in_client(app, staff).post("/grants/new", data={**REQUEST, "units": [catalogued, "市委组织部"],
                                                          "archive_nos": ["CAT-1001", "CAT-2001"]})
    assert resp.status_code == 302, visible_text(resp.get_data(as_text=True))[-400:]
    (grant,) = _requests_of(staff)
    assert grant.units == [catalogued, "市委组织部"] and grant.archive_nos == ["CAT-1001", "CAT-2001"]


def test_system_admin_home_lists_what_exists(app, ctx, make_user, catalogued):
    admin = make_user("system_admin")
    page = signed_in_client(app, admin).get("/").get_data(as_text=True)
    text = visible_text(page)
    assert "后续版本" not in text, "the home page still says it is a placeholder"
    session = get_session()
    pages = session.execute(select(func.count()).select_from(PageSecret)).scalar_one()
    files = session.execute(select(func.count(func.distinct(PageSecret.archive_no)))).scalar_one()
    assert re.search(rf'id="count-pages">{pages}<', page) and re.search(rf'id="count-files">{files}<', page), \
        f"counts shown do not match the archive ({pages} pages, {files} files)"
    assert 'id="recent-jobs"' in page and "UTC+8" in text, "recent ingest jobs with local times are missing"
    assert "查询人员" in text and "系统管理员" in text, "accounts by role are not listed in Chinese"


def test_audit_pages_show_labels_not_codes(app, ctx, make_user, make_grant):
    staff, auditor = make_user("staff"), make_user("auditor")
    make_grant(staff)  # grant.request (by staff) and grant.approve records
    signed_in_client(app, staff).get("/audit/")  # a refused route: 拒绝
    audit = signed_in_client(app, auditor)
    for url in ("/audit/", f"/audit/users/{staff.username}"):
        text = visible_text(audit.get(url).get_data(as_text=True))
        for role in Role:
            assert f"（{role.value}）" not in text and f"角色 {role.value}" not in text, \
                f"{url} shows the role code {role.value!r}"
        shown = [code for code in ACTION_LABELS if "." in code and re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text)]
        assert not shown, f"{url} shows action codes {shown}"
        for outcome in ("allowed", "denied"):
            assert not re.search(rf"\b{outcome}\b", text), f"{url} shows the outcome code {outcome!r}"
        assert "查询人员" in text and "允许" in text and "UTC+8" in text


def test_catalogue_is_read_from_the_database_not_the_index(app, ctx, catalogued, monkeypatch):
    """DESIGN.md rule 2: only the choke point talks to OpenSearch for a user. The grant form's
    catalogue must still answer with every client to the engine refused."""
    from search_app.search import _backend, _catalogue

    def refused(*_a, **_k):
        raise AssertionError("the catalogue talked to OpenSearch outside the choke point")
    for name in ("reader", "writer", "admin", "make_client"):
        monkeypatch.setattr(_backend, name, refused)
    got = _catalogue.catalogue(fresh=True)
    assert catalogued in got.units and {"CAT-1001", "CAT-2001"} <= set(got.archive_nos), got
    assert got.file("CAT-1001").category, "each 档号 carries its 门类 for the scope check"

"""The whole access-control workflow as people do it, in headless Chromium: staff request a grant,
an approver approves it from the inbox, staff search under it and see masked hits, and the
auditor finds the search in the log with its approval reference. Screenshots of every step go to
test-artifacts/workflow-*.png."""
from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from search_app.db import get_session
from search_app.grants.models import Grant
from tests.conftest import meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]
UNIT = "北京市公安局海淀分局"
ID = "110105197806201237"


def _logout(driver) -> None:
    submit(driver, "header form[action='/logout'] button")
    assert "/login" in driver.current_url


def _flash(driver) -> str:
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".flash"))


def _grant(grant_id: int | None = None, user_id: int | None = None) -> Grant:
    session = get_session()
    session.expire_all()
    if grant_id is not None:
        return session.get(Grant, grant_id)
    return session.execute(select(Grant).where(Grant.user_id == user_id)
                           .order_by(Grant.id.desc())).scalars().first()


def test_request_approve_search_audit(server, browser, ctx, ingest, make_user):  # noqa: F811
    archive_no = f"WF-{uuid.uuid4().hex[:6]}"
    phrase = "户口迁移审批流程"
    ingest([meta(archive_no, subject_name="陈美玲", pages=[[
        f"{phrase} 证明材料", "姓名 陈美玲", f"身份证号 {ID}", "联系电话 13698765432"]])])
    staff, approver, auditor = make_user("staff", unit=UNIT), make_user("approver"), make_user("auditor")

    # 1. Staff file a request.
    sign_in(browser, server, staff.username)
    browser.get(server + "/grants/new")
    Select(browser.find_element(By.ID, "purpose_category")).select_by_visible_text("户籍核查")
    browser.find_element(By.ID, "purpose").send_keys("核实户口迁移登记（浏览器流程测试）")
    browser.find_element(By.CSS_SELECTOR, "input[name=categories][value='户籍档案']").click()
    units = Select(browser.find_element(By.ID, "units"))  # picked from the catalogue, not typed
    units.deselect_all()
    units.select_by_visible_text(UNIT)
    Select(browser.find_element(By.ID, "classification")).select_by_visible_text("内部")
    days = browser.find_element(By.ID, "days")
    days.clear()
    days.send_keys("2")
    _shot(browser, "workflow-1-request-form")
    submit(browser, "#grant-request button.primary")
    assert browser.current_url.endswith("/grants/"), browser.page_source[-1500:]
    grant = _grant(user_id=staff.id)
    assert grant is not None and grant.status == "pending", "the request was not stored as pending"
    assert f"申请 {grant.request_no} 已提交" in _flash(browser)
    assert (grant.purpose_category, grant.categories, grant.units, grant.classification_ceiling,
            grant.requested_hours) == ("户籍核查", ["户籍档案"], [UNIT], 1, 48.0)
    _shot(browser, "workflow-2-request-submitted")
    _logout(browser)

    # 2. The approver sees it in the inbox and approves.
    sign_in(browser, server, approver.username)
    browser.get(server + "/grants/inbox")
    inbox = browser.find_element(By.ID, "inbox")
    assert grant.request_no in inbox.text and "核实户口迁移登记" in inbox.text, "the request is not in the inbox"
    _shot(browser, "workflow-3-inbox")
    submit(browser, f"form[action='/grants/{grant.id}/decide'] button.approve")
    grant = _grant(grant.id)
    assert grant.status == "active" and grant.approval_ref, f"not approved: {grant.status}"
    assert grant.approved_by_id == approver.id
    assert f"审批编号 {grant.approval_ref}" in _flash(browser)
    assert grant.request_no not in browser.find_element(By.ID, "inbox").text, "approved request still pending"
    _shot(browser, "workflow-4-approved")
    _logout(browser)

    # 3. Staff search under the new grant and see the hit, masked.
    sign_in(browser, server, staff.username)
    browser.get(server + "/search")
    Select(browser.find_element(By.ID, "grant_id")).select_by_value(str(grant.id))
    purpose = browser.find_element(By.ID, "purpose")
    purpose.clear()
    purpose.send_keys("核实户口迁移登记")
    browser.find_element(By.ID, "q").send_keys(phrase)
    submit(browser, "#open-form button.primary")
    results = browser.find_element(By.ID, "results")
    _shot(browser, "workflow-5-search-results")
    assert archive_no in results.text, "the approved grant does not find the ingested file"
    assert results.find_elements(By.TAG_NAME, "mark"), "no highlighted hit"
    assert grant.approval_ref in results.text, "the results do not name the approval reference"
    page = browser.page_source
    assert ID not in page and "13698765432" not in page and "陈美玲" not in page, \
        "LEAK: the results page shows unmasked personal data"
    assert "110105************" in page, "the masked ID number is not shown"
    _logout(browser)

    # 4. The auditor finds the search with its approval reference.
    sign_in(browser, server, auditor.username)
    browser.get(server + "/audit/")
    browser.find_element(By.ID, "f-username").send_keys(staff.username)
    Select(browser.find_element(By.ID, "f-action")).select_by_visible_text("检索")  # labels, not codes
    submit(browser, "#audit-filter button.primary:not([name])")
    rows = browser.find_elements(By.CSS_SELECTOR, "#audit-rows tr")[1:]
    _shot(browser, "workflow-6-audit")
    assert len(rows) == 1, f"expected the one search record, got {len(rows)}"
    text = rows[0].text
    assert staff.username in text and "检索" in text and "允许" in text, text
    assert grant.approval_ref in text and phrase in text and "核实户口迁移登记" in text, \
        f"the audit record lacks the approval reference, query or purpose: {text}"
    assert f"{archive_no}#p0001" in text, "the audit record does not list the returned page"

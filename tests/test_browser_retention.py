"""The appraisal and destruction screens in headless Chromium (issue 13, requirement 4): the
records office head sees the due file in 到期鉴定 and proposes its destruction, a second head and
an approver approve it in 销毁审批, the execution runs, and the 销毁清册 lists it. Screenshots of
each screen go to the test artifacts."""
from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from search_app.db import get_session
from search_app.retention.models import DestructionRequest
from tests.conftest import meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_appraisal_approval_and_register_screens(server, browser, app, ctx, ingest,  # noqa: F811
                                                  make_user):
    archive_no = f"BRT-2011-D10-{uuid.uuid4().int % 10000:04d}"
    progress, _ = ingest([meta(archive_no, year=2011, pages=[["到期鉴定浏览器测试 第一页 文本层内容足够长"]])])
    assert progress.files_failed == 0, progress.errors
    head1, head2, approver = make_user("records_head"), make_user("records_head"), make_user("approver")

    sign_in(browser, server, head1.username, "/retention/appraisal")
    row = browser.find_element(By.CSS_SELECTOR, f'#appraisal tr[data-archive="{archive_no}"]')
    assert "定期10年" in row.text and "2022-01-01" in row.text, row.text
    _shot(browser, "retention-appraisal")
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    browser.find_element(By.NAME, "reasons").send_keys("保管期限届满，经鉴定无继续保存价值")
    submit(browser, "#propose")
    assert browser.current_url.endswith("/retention/requests"), browser.current_url
    req_id = get_session().execute(select(DestructionRequest.id).where(
        DestructionRequest.requested_by == head1.username)).scalar_one()
    _shot(browser, "retention-request-pending")

    for user in (head2, approver):
        sign_in(browser, server, user.username, "/retention/requests")
        submit(browser, f'tr[data-request="{req_id}"] button.approve')
    status = browser.find_element(By.CSS_SELECTOR, f'tr[data-request="{req_id}"] .status').text
    assert "已批准" in status, status
    _shot(browser, "retention-request-approved")

    result = app.test_cli_runner().invoke(args=["retention", "execute", str(req_id)])
    assert result.exit_code == 0, result.output
    sign_in(browser, server, head1.username, "/retention/destroyed")
    row = browser.find_element(By.CSS_SELECTOR, f'#destruction-register tr[data-archive="{archive_no}"]')
    assert head2.username in row.text and approver.username in row.text, row.text
    _shot(browser, "retention-destruction-register")
    browser.get(server + "/retention/appraisal")
    assert archive_no not in browser.find_element(By.ID, "appraisal").text

"""The ingest UI in headless Chromium with a real Celery worker: upload, then watch the job page
poll its progress until the bar is full and says 完成."""
from __future__ import annotations

import json
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from search_app.demo import render_file
from tests.conftest import meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)
from tests.test_worker import worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_records_manager_uploads_and_sees_the_job_finish(server, browser, worker, ctx,  # noqa: F811
                                                        make_user, tmp_path):
    archive_no = f"BI-{uuid.uuid4().hex[:6]}"
    spec = meta(archive_no, fmt="png", pages=[["户口登记表 浏览器上传测试", "登记单位 海淀分局"]])
    scan = render_file(spec, tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{k: v for k, v in spec.items() if k not in ("format", "pages")}],
                                   ensure_ascii=False), "utf-8")
    user = make_user("system_admin")

    sign_in(browser, server, user.username, "/ingest/new")
    assert browser.find_element(By.LINK_TEXT, "OCR 复核"), "no ingest links in the navigation"
    browser.find_element(By.ID, "manifest").send_keys(str(manifest))
    browser.find_element(By.ID, "files").send_keys(str(scan))
    submit(browser, "#upload-form button.primary")

    assert "/ingest/jobs/" in browser.current_url, browser.page_source[-2000:]
    started_finished = browser.find_element(By.ID, "job").get_attribute("data-finished")
    _shot(browser, "ingest-job-started")
    WebDriverWait(browser, 180, poll_frequency=0.5).until(
        lambda d: "完成" in d.find_element(By.ID, "job-status").text)
    _shot(browser, "ingest-job-finished")
    bar = browser.find_element(By.ID, "job-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "1"
    assert browser.find_element(By.ID, "job-pct").text == "100%"
    assert "1 个文件成功，0 个失败" in browser.find_element(By.ID, "job-status").text
    row = browser.find_element(By.CSS_SELECTOR, "#files tr[id^=file-]")
    assert archive_no in row.text and "完成" in row.find_element(By.CLASS_NAME, "state").text
    assert row.find_element(By.CLASS_NAME, "pages").text == "1/1"
    print(f"job page opened {'finished' if started_finished == '1' else 'running: updated by polling'}")

"""The QA screen in headless Chromium, at desktop (1280 px) and phone (390 px) widths: a QA reviewer
opens a page of its batch from the queue, sees the redacted, watermarked image beside the masked
OCR text, corrects a word and sees the new version; screenshots in test-artifacts/."""
from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from search_app.audit.service import Actor
from search_app.db import get_session
from search_app.qa.scope import grant_scope
from tests.conftest import meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)
from tests.test_browser_fit import _OVERFLOW, _viewport

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ID = "110105197806201237"


def _image_loaded(driver) -> bool:
    return driver.execute_script(
        "const i = document.getElementById('qa-image'); return i.complete && i.naturalWidth > 0;")


def test_qa_reviewer_reviews_and_corrects_a_page(server, browser, ctx, ingest, make_user):  # noqa: F811
    tag = uuid.uuid4().hex[:6]
    archive_no = f"QAW-{tag}"
    progress, job_id = ingest([meta(archive_no, subject_name="陈美玲", pages=[[
        f"户口迁移证朋 编号{tag} 迁出地 北京市海淀区中关村大街", f"姓名 陈美玲 公民身份号码 {ID}",
        "承办人签字 浏览器质检测试文本层内容"]])])
    assert progress.files_failed == 0, progress.errors
    reviewer, secadmin = make_user("qa_reviewer"), make_user("security_admin")
    scope = grant_scope(get_session(), Actor(secadmin.id, secadmin.username, secadmin.role),
                        reviewer=reviewer, job_ids=[job_id], ceiling=1, purpose="浏览器质检验收",
                        days=7)
    get_session().commit()

    sign_in(browser, server, reviewer.username)
    for width, height in [(1280, 900), (390, 844)]:
        _viewport(browser, width, height)
        browser.get(f"{server}/qa/?scope={scope.id}")
        _shot(browser, f"qa-queue-{width}x{height}")
        link = browser.find_element(By.LINK_TEXT, archive_no)
        browser.execute_script("arguments[0].scrollIntoView()", link)
        link.click()
        WebDriverWait(browser, 60, poll_frequency=0.3).until(_image_loaded)
        scroll_width, inner, wide = browser.execute_script(_OVERFLOW)
        _shot(browser, f"qa-review-{width}x{height}")
        assert scroll_width <= inner, f"QA screen at {width}px scrolls sideways: {wide}"
        text = browser.find_element(By.ID, "qa-text").get_attribute("value")
        assert "证朋" in text and "110105" in text
        source = browser.page_source
        assert ID not in source and "陈美玲" not in source, "the QA screen shows unmasked PII"
        image, words = (browser.find_element(By.ID, i).rect for i in ("qa-image", "qa-text"))
        if width >= 1000:  # side by side on a desktop, stacked on a phone
            assert words["x"] > image["x"] + image["width"] / 2, (image, words)
        else:
            assert words["y"] > image["y"], (image, words)

    _viewport(browser, 1280, 900)
    area = browser.find_element(By.ID, "qa-text")
    area.clear()
    area.send_keys(text.replace("证朋", "证明"))
    submit(browser, "#qa-correct")
    assert "已更正为第 2 版" in browser.page_source, browser.page_source[-1500:]
    assert "证明" in browser.find_element(By.ID, "qa-text").get_attribute("value")
    assert browser.find_element(By.ID, "qa-status").text == "已更正"
    assert browser.find_elements(By.CSS_SELECTOR, "#qa-versions li"), "no earlier version listed"
    _shot(browser, "qa-review-corrected-1280x900")
    browser.find_element(By.CSS_SELECTOR, "#qa-versions a").click()
    assert "证朋" in browser.find_element(By.ID, "qa-text").text
    _shot(browser, "qa-review-old-version-1280x900")
    browser.get(f"{server}/qa/stats")
    row = browser.find_element(By.CSS_SELECTOR, f"#qa-stats tr[data-job='{job_id}']")
    assert "100.0%" in row.text, row.text
    _shot(browser, "qa-stats-1280x900")

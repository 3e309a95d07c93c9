"""The catalogue screen (档案目录管理) in headless Chromium: the system admin adds a 全宗, sets
its 档号 rule, and sees both listed; the screenshot is kept for review."""
from __future__ import annotations

import random
import string

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import audit_records
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_system_admin_adds_a_fonds_and_its_archive_no_rule(server, browser, ctx,  # noqa: F811
                                                           make_user):
    code = "W" + "".join(random.choice(string.ascii_uppercase) for _ in range(5))
    user = make_user("system_admin")
    sign_in(browser, server, user.username, "/catalogue/")
    assert browser.find_element(By.LINK_TEXT, "档案目录"), "no catalogue link in the navigation"
    browser.find_element(By.ID, "code-fonds").send_keys(code)
    browser.find_element(By.ID, "name-fonds").send_keys("浏览器测试全宗")
    submit(browser, "#kind-fonds form.add-entry button.primary")
    assert "已新增全宗：浏览器测试全宗" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, f"#rule-fonds option[value='{code}']").click()
    browser.find_element(By.CSS_SELECTOR, "#rule-category option[value='HJ']").click()
    submit(browser, "#rule-form button.primary")
    assert "已保存档号规则" in browser.page_source, browser.page_source[-1500:]
    rules = browser.find_element(By.ID, "archive-no-rules").text
    assert f"{code}-HJ·2023-Y-0012" in rules, "the rule's example (with its 全宗号) is not shown"
    fonds = browser.find_element(By.ID, "kind-fonds").text
    assert code in fonds and "启用" in fonds
    browser.execute_script("document.getElementById('archive-no-rules').scrollIntoView()")
    _shot(browser, "catalogue-admin")
    assert audit_records("catalogue.rule", username=user.username)[-1].filters["fonds_code"] == code

"""The UI as a person uses it, in the system's headless Chromium: log in, search, see masked hits."""
from __future__ import annotations

import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.conftest import ARTIFACTS, PASSWORD, meta

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ID = "110105197806201237"


@pytest.fixture()
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture()
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,1000", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def submit(driver, selector: str) -> None:
    """Click a submit button and wait for the next page: click() returns before the navigation
    finishes, and on a loaded machine the old page's URL and content would still be read."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()

    def replaced(_driver) -> bool:
        try:
            old.is_enabled()
            return False
        except WebDriverException:  # stale, or "node does not belong to the document" mid-load
            return True

    wait = WebDriverWait(driver, 60, poll_frequency=0.2)
    wait.until(replaced)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, base: str, username: str, path: str = "/login") -> None:
    """Sign in through the login form, in a browser without cookies: at /login, or at `path`,
    which shows the form and returns to `path` once signed in."""
    driver.delete_all_cookies()
    driver.get(base + path)
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(driver, "form button.primary")
    if path == "/login":
        assert "/login" not in driver.current_url, \
            f"{username} could not log in: {driver.page_source[-1500:]}"
    else:
        assert driver.current_url.endswith(path), driver.current_url


def _shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_staff_logs_in_and_searches(server, browser, ctx, ingest, make_user, make_grant):
    ingest([meta("BR-0001", fmt="png", subject_name="陈美玲",
                 pages=[["户口迁移证明", "姓名 陈美玲", f"身份证号 {ID}", "联系电话 13698765432"]])])
    user = make_user("staff")
    grant = make_grant(user, purpose="户籍核查：浏览器测试")
    browser.get(server + "/search")
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys(user.username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, "button.primary")
    assert browser.current_url.endswith("/search")
    assert grant.approval_ref in browser.find_element(By.ID, "grant_id").text
    purpose = browser.find_element(By.ID, "purpose")
    assert purpose.get_attribute("value") == "", \
        f"查询事由 was pre-filled from the grant: {purpose.get_attribute('value')!r}"
    purpose.send_keys("核实户口迁移登记")
    browser.find_element(By.ID, "q").send_keys("户口迁移")
    submit(browser, "#open-form button.primary")  # opens the reading session and searches in it
    results = browser.find_element(By.ID, "results")
    _shot(browser, "search-results")
    page = browser.page_source
    assert "BR-0001" in results.text and results.find_elements(By.TAG_NAME, "mark")
    assert ID not in page and "13698765432" not in page and "陈美玲" not in page, \
        "the results page shows unmasked personal data"
    assert "110105************" in page


def test_search_without_grant_is_refused_with_reason(server, browser, ctx, make_user):
    user = make_user("staff")
    browser.get(server + "/login")
    browser.find_element(By.ID, "username").send_keys(user.username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, "button.primary")
    assert "没有有效的查询授权" in browser.find_element(By.ID, "no-grant").text
    browser.find_element(By.ID, "purpose").send_keys("测试")
    browser.find_element(By.ID, "q").send_keys("户籍")
    submit(browser, "#open-form button.primary")
    _shot(browser, "search-refused")
    refusal = browser.find_element(By.ID, "session-required").text
    assert "不能开启阅读会话" in refusal and "未选择查询授权" in refusal, refusal

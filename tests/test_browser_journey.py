"""The reading journey in headless Chromium, at 1280×800 and 390×844: open a session → search →
filter → open a page → next page → Back → export PDF, and look-up → page. Back and reload never
show a resubmission prompt or a 405, and going back to results already read writes no new audit
record. Screenshots of every step go to test-artifacts/journey-*.png."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pymupdf
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import audit_records, meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
ID = "110105197806201237"
# what Chromium shows instead of a page when Back/reload would re-post a form, or a POST-only URL
# (not a bare "405": a page's random session id, CSP nonce or CSRF token may contain those digits)
RESUBMIT_SIGNS = ("ERR_CACHE_MISS", "Confirm Form Resubmission", "确认重新提交表单", "重新提交",
                  "方法不允许", "HTTP ERROR 405", "Method Not Allowed")


def _viewport(driver, size: str) -> None:
    width, height = SIZES[size]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": size == "phone"})


def _plain_page(driver, expect_id: str, what: str) -> None:
    """The page is a normal page carrying `expect_id`, not a resubmission prompt or a 405."""
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    source = driver.page_source
    signs = [s for s in RESUBMIT_SIGNS if s in driver.title or s in source[:3000]]
    assert not signs, f"{what}: the browser shows {signs} instead of the page ({driver.current_url})"
    assert driver.find_elements(By.ID, expect_id), f"{what}: #{expect_id} missing at {driver.current_url}"


def _downloaded(folder: Path, timeout: float = 60) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.glob("*.pdf")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.3)
    raise AssertionError(f"no PDF was downloaded into {folder}: {list(folder.iterdir())}")


def _image_loaded(driver, element_id: str = "page-image") -> bool:
    return driver.execute_script(
        "var i=document.getElementById(arguments[0]); return !!i && i.complete && i.naturalWidth>0;",
        element_id)


@pytest.mark.parametrize("size", list(SIZES))
def test_session_search_filter_page_next_back_export(size, server, browser, ctx, ingest,  # noqa: F811
                                                     make_user, make_grant, tmp_path):
    archive = f"JR-2021-{uuid.uuid4().hex[:4]}"
    other = f"JR-2019-{uuid.uuid4().hex[:4]}"
    phrase = "旅程检索迁移登记"
    progress, _ = ingest([
        meta(archive, year=2021, pages=[[f"{phrase} 第一页 公民身份号码 {ID} 内容足够长以使用文本层"],
                                        [f"第二页 {phrase} 附件 内容足够长以使用文本层"],
                                        ["第三页 备考表 内容足够长以使用文本层"]]),
        meta(other, year=2019, pages=[[f"{phrase} 另一卷 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    _viewport(browser, size)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
    sign_in(browser, server, user.username)

    # 1. open a reading session: choose the grant, type the purpose (never pre-filled)
    browser.get(server + "/search")
    _plain_page(browser, "open-session", "the search page without a session")
    purpose = browser.find_element(By.ID, "purpose")
    assert purpose.get_attribute("value") == "", "查询事由 is pre-filled"
    Select(browser.find_element(By.ID, "grant_id")).select_by_value(str(grant.id))
    purpose.send_keys("核实旅程测试登记")
    browser.find_element(By.ID, "q").send_keys(phrase)
    _shot(browser, f"journey-{size}-1-open-session")
    submit(browser, "#open-form button.primary")
    _plain_page(browser, "results", "results after opening the session")
    assert "s=" in browser.current_url and "purpose" not in browser.current_url
    assert "核实旅程测试登记" not in browser.current_url
    results = browser.find_element(By.ID, "results").text
    assert archive in results and other in results, "the search misses one of the two files"
    _shot(browser, f"journey-{size}-2-results")

    # 2. filter: narrow to one year with the query language
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys(f"{phrase} 年度:2021")
    submit(browser, "#search-form button.primary")
    _plain_page(browser, "results", "filtered results")
    results = browser.find_element(By.ID, "results").text
    assert archive in results and other not in results, "the 年度 filter did not narrow the results"
    _shot(browser, f"journey-{size}-3-filtered")
    searches = len(audit_records("search", user_id=user.id))
    assert searches == 2

    # 3. open the first page: image and text side by side, query words marked
    submit(browser, f".hit[data-doc-id='{archive}#p0001'] a.open-page")
    _plain_page(browser, "page-view", "the page view")
    WebDriverWait(browser, 30).until(lambda d: _image_loaded(d))
    marks = browser.find_elements(By.CSS_SELECTOR, "#page-text mark")
    assert marks and phrase in marks[0].text, "the query words are not marked in the page text"
    assert ID not in browser.page_source, "LEAK: the page view shows the unmasked ID number"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#thumbs img")) == 3, "no thumbnails of the file"
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('#thumbs img'))"
        ".every(function(i){return i.complete && i.naturalWidth > 0;});"))
    browser.find_element(By.ID, "zoom-in").click()
    browser.find_element(By.ID, "rotate").click()
    img = browser.find_element(By.ID, "page-image")
    assert (img.get_attribute("data-zoom"), img.get_attribute("data-angle")) == ("1.25", "90")
    _shot(browser, f"journey-{size}-4-page")
    first_page = browser.current_url

    # 4. next page within the file
    submit(browser, "#next-page")
    _plain_page(browser, "page-view", "the next page")
    assert "第 2/3 页" in browser.find_element(By.TAG_NAME, "h2").text
    _shot(browser, f"journey-{size}-5-next-page")

    # 5. Back and reload: plain pages again, nothing re-read
    views = len(audit_records("page.view", user_id=user.id))
    browser.back()
    _plain_page(browser, "page-view", "Back to the first page")
    assert browser.current_url == first_page
    browser.refresh()
    _plain_page(browser, "page-view", "reload of the first page")
    browser.back()
    _plain_page(browser, "results", "Back to the filtered results")
    browser.refresh()
    _plain_page(browser, "results", "reload of the results")
    browser.back()
    _plain_page(browser, "results", "Back to the unfiltered results")
    submit(browser, f".hit[data-doc-id='{archive}#p0002'] a.open-page")
    submit(browser, "#back-to-results")
    _plain_page(browser, "results", "返回结果")
    _shot(browser, f"journey-{size}-6-back-to-results")
    assert len(audit_records("search", user_id=user.id)) == searches, \
        "Back / reload / 返回结果 searched again (a new audit record)"
    assert len(audit_records("page.view", user_id=user.id)) == views, \
        "Back / reload of a page view read it again (a new audit record)"

    # 6. export: the whole file as a PDF, from the page view
    browser.get(first_page)
    browser.find_element(By.ID, "export-file").click()
    pdf = _downloaded(downloads)
    doc = pymupdf.open(pdf)
    assert doc.page_count == 3 and grant.ref in doc[0].get_text(), "the PDF is not the file"
    _plain_page(browser, "page-view", "the page view after the download")
    _shot(browser, f"journey-{size}-7-exported")
    [rec] = audit_records("export.pdf", user_id=user.id)
    assert rec.result_count == 3 and rec.filters["reading_session"] in pdf.name + doc[0].get_text()

    # 7. close the session: its links ask to open a new one
    submit(browser, "#close-session button")
    browser.get(first_page)
    _plain_page(browser, "session-required", "a page link after closing the session")
    assert phrase not in browser.page_source


def test_lookup_then_page_and_back(server, browser, ctx, ingest, make_user, make_grant):  # noqa: F811
    archive = f"JL-{uuid.uuid4().hex[:6]}"
    progress, _ = ingest([meta(archive, subject_id=ID, pages=[[f"查找旅程 公民身份号码 {ID} 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=("id_number",), allow_lookup=True)
    for size in SIZES:
        _viewport(browser, size)
        sign_in(browser, server, user.username)
        browser.get(server + "/lookup")
        _plain_page(browser, "open-session", "the look-up page without a session")
        Select(browser.find_element(By.ID, "grant_id")).select_by_value(str(grant.id))
        browser.find_element(By.ID, "purpose").send_keys("核实身份（查找旅程）")
        submit(browser, "#open-form button.primary")
        _plain_page(browser, "lookup-form", "the look-up form in the session")
        browser.find_element(By.ID, "value").send_keys(ID)
        _shot(browser, f"journey-{size}-lookup-1-form")
        submit(browser, "#lookup-form button.primary")
        _plain_page(browser, "results", "look-up results")
        assert ID not in browser.current_url, "LEAK: the looked-up ID number is in the URL"
        _shot(browser, f"journey-{size}-lookup-2-results")
        submit(browser, f".hit[data-doc-id='{archive}#p0001'] a.open-page")
        _plain_page(browser, "page-view", "the page from the look-up")
        _shot(browser, f"journey-{size}-lookup-3-page")
        lookups = len(audit_records("pii.lookup", user_id=user.id))
        browser.back()
        _plain_page(browser, "results", "Back to the look-up results")
        browser.refresh()
        _plain_page(browser, "results", "reload of the look-up results")
        assert len(audit_records("pii.lookup", user_id=user.id)) == lookups, \
            "Back / reload re-posted the look-up"
        submit(browser, f".hit[data-doc-id='{archive}#p0001'] a.open-page")
        submit(browser, "#unmask")
        _plain_page(browser, "unmasked-note", "the unmasked page")
        assert ID in browser.find_element(By.ID, "page-text").text, "the grant's unmask did not reveal the ID"
        submit(browser, "#mask-again")
        _plain_page(browser, "page-view", "masked again")
        assert ID not in browser.find_element(By.ID, "page-text").text, "重新遮蔽 still shows the ID"
        browser.back()
        _plain_page(browser, "unmasked-note", "Back to the unmasked page (a GET, read again)")

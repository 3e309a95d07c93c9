"""The pages of the grant workflow, the audit log and the admin home in headless Chromium at a
desktop (1280×800) and a phone (390×844) viewport: nothing overflows horizontally (the page
never scrolls sideways; wide tables scroll inside their own box), the header's links stay on
one line each, and the grant form offers units and 档号 from the catalogue. Screenshots:
test-artifacts/fit-<page>-<width>x<height>.png."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from search_app.db import get_session
from search_app.grants.services import Request, Scope, actor_of, request_grant
from tests.conftest import meta
from tests.test_browser import _shot, browser, server, sign_in, submit  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]
SIZES = [(1280, 800), (390, 844)]
LONG_PURPOSE = "核实户口迁移登记及历次变更情况（含户籍档案、干部人事档案与电子卷宗的交叉比对）" * 2

_OVERFLOW = """
const w = window.innerWidth;
const wide = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.right > w + 1 && getComputedStyle(el).position !== 'fixed') {
    let inside = false;  // inside a box that scrolls on its own: fine
    for (let p = el.parentElement; p; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && p.getBoundingClientRect().right <= w + 1) { inside = true; break; }
    }
    if (!inside) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' right=' + Math.round(r.right));
  }
}
return [document.documentElement.scrollWidth, w, wide.slice(0, 8)];
"""
_HEADER = """
return Array.from(document.querySelectorAll('header a, header strong')).map(
  a => [a.textContent.trim(), Math.round(a.getBoundingClientRect().height),
        Math.round(parseFloat(getComputedStyle(a).lineHeight) || 24)]);
"""


def _viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def _check_page(driver, base: str, path: str, name: str) -> None:
    for width, height in SIZES:
        _viewport(driver, width, height)
        driver.get(base + path)
        scroll_width, inner, wide = driver.execute_script(_OVERFLOW)
        # a phone browser widens its layout viewport to fit content wider than the screen
        assert inner == width, f"{path} at {width}×{height}: layout viewport {inner} px; too wide: {wide}"
        _shot(driver, f"fit-{name}-{width}x{height}")
        assert scroll_width <= inner, (f"{path} at {width}×{height} scrolls sideways: scrollWidth "
                                       f"{scroll_width} > {inner}; too wide: {wide}")
        squeezed = [(t, h) for t, h, line in driver.execute_script(_HEADER) if h > 1.6 * line]
        assert not squeezed, f"{path} at {width}px: header links wrap inside themselves: {squeezed}"


@pytest.fixture()
def people(ctx, ingest, make_user, catalogued):
    ingest([meta("FIT-0001", pages=[["版式测试页面 第一页文本层内容足够长"]])])
    staff, approver = make_user("staff", unit=catalogued), make_user("approver")
    auditor, sysadmin = make_user("auditor"), make_user("system_admin")
    session = get_session()
    for n in range(3):  # pending requests with long texts, for the inbox
        request_grant(session, user=staff, actor=actor_of(staff), req=Request(
            purpose_category="户籍核查", purpose=f"{LONG_PURPOSE}{n}", hours=24,
            scope=Scope(["户籍档案", "电子卷宗"], [catalogued, "市委组织部"], "内部",
                        ["CAT-1001", "CAT-2001", "FIT-0001"])))
    session.commit()
    return {"staff": staff, "approver": approver, "auditor": auditor, "sysadmin": sysadmin}


def test_pages_fit_desktop_and_phone(server, browser, people):  # noqa: F811
    sign_in(browser, server, people["sysadmin"].username)
    _check_page(browser, server, "/", "home")
    assert browser.find_element(By.ID, "count-pages").text.isdigit()
    sign_in(browser, server, people["staff"].username)
    _check_page(browser, server, "/grants/new", "grant-form")
    _check_page(browser, server, "/grants/", "my-grants")
    sign_in(browser, server, people["approver"].username)
    _check_page(browser, server, "/grants/inbox", "inbox")
    sign_in(browser, server, people["auditor"].username)
    _check_page(browser, server, "/audit/", "audit")
    _check_page(browser, server, f"/audit/users/{people['staff'].username}", "audit-user")


def test_grant_form_on_a_phone_picks_from_the_catalogue(server, browser, people):  # noqa: F811
    """At 390 px a requester fills the form by choosing a unit and a 档号 from the lists."""
    staff = people["staff"]
    sign_in(browser, server, staff.username)
    _viewport(browser, 390, 844)
    browser.get(server + "/grants/new")
    browser.find_element(By.ID, "purpose").send_keys("核实户口登记（手机）")
    browser.find_element(By.CSS_SELECTOR, "input[name=categories][value='户籍档案']").click()
    units = Select(browser.find_element(By.ID, "units"))
    assert [o.text for o in units.all_selected_options] == [staff.unit], "own unit not preselected"
    Select(browser.find_element(By.ID, "archive_nos")).select_by_value("FIT-0001")
    _shot(browser, "fit-grant-form-filled-390x844")
    submit(browser, "#grant-request button.primary")
    assert browser.current_url.endswith("/grants/"), browser.find_element(By.TAG_NAME, "main").text[:400]
    row = browser.find_element(By.ID, "my-grants").text
    assert "FIT-0001" in row and "待审批" in row
    _shot(browser, "fit-grant-submitted-390x844")

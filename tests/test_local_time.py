"""Times are stored in UTC and shown to people in DISPLAY_TIMEZONE with the zone named
(issue 10: "Everything is UTC")."""
from __future__ import annotations

from datetime import datetime

import pytest

from search_app.timeutil import local_day_start, local_time, zone_label
from tests.conftest import login


def test_a_stored_utc_time_is_shown_in_beijing_time_with_its_zone(ctx):
    assert local_time(datetime(2026, 12, 1, 8, 30)) == "2026-12-01 16:30（UTC+8）"
    assert local_time(datetime(2026, 12, 1, 20, 5, 9), "%Y-%m-%d %H:%M:%S", zone=False) == "2026-12-02 04:05:09"
    assert local_time(None) == "—"
    assert zone_label() == "UTC+8"
    assert local_day_start(datetime(2026, 12, 1)) == datetime(2026, 11, 30, 16, 0)


def test_another_display_zone(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "DISPLAY_TIMEZONE", "Asia/Kolkata")
    assert local_time(datetime(2026, 12, 1, 8, 0)) == "2026-12-01 13:30（UTC+5:30）"


@pytest.mark.integration
def test_pages_show_local_times_not_utc(app, ctx, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    login(client, user.username)
    html = client.get("/grants/").get_data(as_text=True)
    assert "UTC+8" in html and local_time(grant.valid_until) in html
    assert " UTC<" not in html and "（UTC）" not in html, "a time is still labelled as UTC"

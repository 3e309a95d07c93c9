"""A grant that ends (expiry or revocation) while a reader's API token, reading session,
cached search and signed image URL are still alive: nothing more is read under it. Each
assertion names the read that got through."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.timeutil import utcnow
from tests.conftest import bearer_client, meta

pytestmark = pytest.mark.integration

FILE = "PRIV9-EXP-0001"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, pages=[["过期授权攻击 第一页 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors



@pytest.mark.parametrize("ending", ["expired", "revoked"])
def test_nothing_is_read_after_the_grant_ends(app, ctx, corpus, make_user, make_grant, ending):
    user = make_user("staff")
    grant = make_grant(user)
    api = bearer_client(app, user)
    sid = api.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "过期核实"}).json["id"]
    q = f"/api/v1/sessions/{sid}/search?q={quote('过期授权攻击')}"
    assert api.get(q).status_code == 200
    assert api.get(q).json["cached"] is True
    page_url = f"/api/v1/sessions/{sid}/pages/{quote(FILE + '#p0001')}"
    page = api.get(page_url)
    assert page.status_code == 200, page.get_data(as_text=True)
    image_url = page.json["image_url"]
    assert api.get(image_url).status_code == 200

    session = get_session()
    row = session.get(Grant, grant.id)
    if ending == "expired":
        row.valid_until = utcnow() - timedelta(seconds=5)
    else:
        row.status, row.revoked_at = "revoked", utcnow()
    session.commit()

    got = {name: api.get(url) for name, url in (("cached search", q), ("page", page_url),
                                                ("signed image URL", image_url))}
    got["PDF export"] = api.post(f"/api/v1/sessions/{sid}/export", json={"archive_no": FILE})
    through = {name: r.status_code for name, r in got.items() if r.status_code < 400}
    assert not through, f"READ UNDER A {ending.upper()} GRANT: {through}"
    web = app.test_client()
    web.environ_base["HTTP_AUTHORIZATION"] = api.environ_base["HTTP_AUTHORIZATION"]
    assert web.get(image_url).status_code >= 400, "the signed image URL outlived the grant"

"""templates/_results.html inside a reading session (branch journey's search page): every
re-search, facet, chip, pager and page control is a GET link carrying the session id and the
query's own arguments, never the purpose. A standalone Flask app with the endpoints the template
names renders it (a unit test of the template; the session flow itself is journey's)."""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import Flask, render_template

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


class _Session:
    id = "rs-123"


OUTCOME = {
    "group": "file", "total": 25, "page": 2, "page_size": 10, "approval_ref": "SP-1",
    "audit_seq": 5, "relaxed": False,
    "facets": {"year": [[2020, 2]], "unit": [["海淀分局", 2]]},
    "refine": {"year": {"2020": "被告人 -调解 年度:2020"}},
    "chips": [{"label": "排除 调解", "without": "被告人"}],
    "hits": [],
    "files": [{"archive_no": "A-1", "fields": {"title": "卷", "page_count": 3}, "matched_pages": 2,
               "pages": [{"doc_id": "A-1#p0001", "fields": {"page_no": 1, "page_count": 3},
                          "snippets": ["<mark>被告人</mark>"]}]}],
}


def _render(**context) -> str:
    app = Flask("results-template", template_folder=str(TEMPLATES))
    for endpoint, rule in (("search.search", "/search"), ("reading.page", "/pages/<doc_id>"),
                           ("reading.export", "/reading/export"), ("pages.export", "/export"),
                           ("pages.view", "/pages/<doc_id>/post")):
        app.add_url_rule(rule, endpoint, lambda **_kw: "")
    app.jinja_env.globals["csrf_token"] = lambda: "token"
    with app.test_request_context():
        return render_template("_results.html", **context)


def test_in_a_session_every_control_is_a_get_link_without_the_purpose():
    page = _render(outcome=OUTCOME, rs=_Session(), back="q=被告人", cached=True,
                   form={"q": "被告人 -调解", "sort": "relevance", "group": "file",
                         "purpose": "不应出现的事由"})
    links = [html.unescape(u) for u in re.findall(r'href="([^"]+)"', page)]
    searches = [parse_qs(urlsplit(u).query) for u in links if urlsplit(u).path == "/search"]
    assert searches and all(q["s"] == ["rs-123"] for q in searches)
    assert not any("purpose" in q for q in searches), "a link carries the purpose"
    assert "不应出现的事由" not in page, "the purpose is written into the results"
    assert {"被告人 -调解 年度:2020", "被告人"} <= {q["q"][0] for q in searches}, \
        "the facet or the chip does not link to its narrowed/widened query"
    assert {"1", "3"} <= {q["page"][0] for q in searches}, "no pager links"
    assert {"page"} <= {q["group"][0] for q in searches}, "no link to the flat mode"
    assert any(urlsplit(u).path == "/pages/A-1#p0001" or "A-1%23p0001" in u for u in links)
    assert 'id="from-cache"' in page and 'class="pick"' in page


def test_without_a_session_controls_post_the_form_again():
    page = _render(outcome={**OUTCOME, "group": "page", "files": [],
                            "hits": [{"doc_id": "A-1#p0001", "snippets": [],
                                      "fields": {"page_no": 1, "page_count": 3, "title": "卷"}}]},
                   form={"grant_id": 7, "purpose": "核查", "q": "被告人", "sort": "year_desc",
                         "group": "page", "page": 2})
    forms = re.findall(r'<form method="post" action="/search".*?</form>', page, re.S)
    assert forms, "no re-search forms"
    assert all('name="grant_id" value="7"' in f and 'name="purpose" value="核查"' in f
               for f in forms), "a re-search form drops the grant or the purpose"
    assert any('name="group" value="file"' in f for f in forms), "no switch to the grouped mode"

"""Operability: /readyz checks every dependency for real, /metrics serves Prometheus text to
allowed addresses only, every response and log line carries a request id, and no metric or log
line carries a query, a purpose or page text."""
from __future__ import annotations

import json
import logging

import pytest

from search_app import create_app
from search_app.ops import JsonFormatter, RequestIdFilter
from tests.conftest import login

pytestmark = pytest.mark.integration


def test_ready_when_database_engine_and_redis_answer(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["checks"] == {"database": "ok", "opensearch": "ok", "redis": "ok"}


def test_not_ready_names_the_dependency_that_is_down(settings, services):
    # nothing listens on port 9 (the engine is https-only, Redis needs a password everywhere)
    down = create_app({**settings, "OPENSEARCH_URL": "https://127.0.0.1:9", "OPENSEARCH_TIMEOUT": 2,
                       "REDIS_URL": "redis://:a-password@127.0.0.1:9/0"})
    resp = down.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503, body
    assert body["checks"]["database"] == "ok"
    assert "检索服务不可用" in body["checks"]["opensearch"]
    assert "Redis" in body["checks"]["redis"]


def test_metrics_count_audit_records_and_ingest_pages(app, ctx, make_user):
    user = make_user("staff")
    c = app.test_client()
    login(c, user.username, "wrong-password-1")  # an audited refusal
    login(c, user.username)
    text = c.get("/metrics").get_data(as_text=True)
    assert 'archive_audit_records_total{action="auth.login",outcome="denied"}' in text
    assert 'archive_audit_records_total{action="auth.login",outcome="allowed"}' in text
    assert "archive_http_request_seconds_bucket" in text and "archive_ingest_pages" in text


def test_metrics_refused_to_other_addresses(app):
    resp = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert resp.status_code == 403 and "METRICS_ALLOW" in resp.get_json()["message"]


def test_request_id_on_the_response_and_on_log_lines(app):
    c = app.test_client()
    given = c.get("/healthz", headers={"X-Request-Id": "abc12345-trace"})
    assert given.headers["X-Request-Id"] == "abc12345-trace"
    made = c.get("/healthz", headers={"X-Request-Id": "bad id; forged=1"})
    assert made.headers["X-Request-Id"] not in ("", "bad id; forged=1") and \
        len(made.headers["X-Request-Id"]) == 16, "a malformed incoming id must be replaced"
    with app.test_request_context("/"):
        from flask import g
        g.request_id = "rid-00000001"
        record = logging.LogRecord("search_app", logging.INFO, __file__, 1, "页面 %s 已处理", ("X#p0001",), None)
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "rid-00000001" and line["msg"] == "页面 X#p0001 已处理"

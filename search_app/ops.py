"""Operability: readiness, Prometheus metrics, a request id on every log line and response, and
rotating log files. Nothing here reads archive content or personal data: metrics are counts and
latencies by action and outcome; log lines carry ids, never page text or query strings.

- `GET /readyz` checks the database, the search engine and Redis, each with a short timeout,
  and answers 200 only when all three answer (503 with the reason per dependency otherwise), so
  a load balancer stops sending reads to a node that could not audit or answer them.
- `GET /metrics` is the Prometheus text format (prometheus-client), served only to the addresses
  in METRICS_ALLOW (default: loopback), since even counts tell an outsider how the office works.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import re
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REGISTRY = CollectorRegistry(auto_describe=True)
# Per process (each gunicorn worker answers for itself; scrape each, or sum in Prometheus).
HTTP_SECONDS = Histogram("archive_http_request_seconds", "Time to answer a request, by endpoint "
                         "(search.search and api.search are the search latency)",
                         ["endpoint", "method", "status"], registry=REGISTRY,
                         buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
AUDIT_RECORDS = Counter("archive_audit_records_total", "Audit records written by this process, "
                        "by action and outcome (outcome=denied counts the refusals)",
                        ["action", "outcome"], registry=REGISTRY)


class _IngestPages:
    """Ingest pages by state, counted in the database at scrape time: the pages are processed
    by worker processes, whose own counters no web scrape would ever see."""

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select

        from search_app.db import fresh_session
        from search_app.ingest.models import IngestPage

        family = GaugeMetricFamily("archive_ingest_pages", "Ingest pages by state", labels=["state"])
        with fresh_session() as session:
            for state, n in session.execute(select(IngestPage.state, func.count())
                                            .group_by(IngestPage.state)):
                family.add_metric([state], n)
        yield family


def count_audit(action: str, outcome: str) -> None:
    # refused routes are "route:<endpoint>": one label for all of them keeps the series bounded
    AUDIT_RECORDS.labels(action="route" if action.startswith("route:") else action,
                         outcome=outcome).inc()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (the current request's, "-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # no app context: a worker's own start-up lines
            record.request_id = "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                               "level": record.levelname, "logger": record.name,
                               "request_id": getattr(record, "request_id", "-"),
                               "msg": record.getMessage()}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def _configure_logging(app: Flask) -> None:
    handler: logging.Handler
    if app.config["LOG_FILE"]:
        path = Path(app.config["LOG_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=app.config["LOG_MAX_MB"] * 1024 * 1024,
            backupCount=app.config["LOG_BACKUPS"], encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])


def _ready_checks() -> dict[str, str]:
    """Dependency -> "ok" or the reason it is not ready (in Chinese, no secrets)."""
    from sqlalchemy import text

    from search_app.db import fresh_session
    from search_app.search._backend import first_identity

    checks: dict[str, str] = {}
    try:
        with fresh_session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason is reported, not raised
        checks["database"] = f"数据库不可用：{type(exc).__name__}"
    try:
        # as whichever engine identity this process holds (the web one in the web container)
        health = first_identity("web", "worker", "admin").cluster.health(request_timeout=3)
        checks["opensearch"] = ("ok" if health.get("status") in ("green", "yellow")
                                else f"检索集群状态为 {health.get('status')}")
    except Exception as exc:
        checks["opensearch"] = f"检索服务不可用：{type(exc).__name__}"
    try:
        import redis

        redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2,
                             socket_connect_timeout=2).ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"任务队列（Redis）不可用：{type(exc).__name__}"
    return checks


def init_app(app: Flask) -> None:
    from search_app.permissions import public

    _configure_logging(app)

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        g.request_started = time.monotonic()

    @app.after_request
    def _tag(resp: Response) -> Response:
        resp.headers["X-Request-Id"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            HTTP_SECONDS.labels(endpoint=request.endpoint or "unknown", method=request.method,
                                status=str(resp.status_code)).observe(time.monotonic() - started)
        return resp

    @app.route("/readyz")
    @public
    def readyz():
        checks = _ready_checks()
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503

    @app.route("/metrics")
    @public
    def metrics():
        if request.remote_addr not in app.config["METRICS_ALLOW"]:
            return {"error": "无权访问", "message": f"指标只对 METRICS_ALLOW 中的地址开放（您的地址 "
                    f"{request.remote_addr}）", "status": 403}, 403
        registry = CollectorRegistry()
        registry.register(_IngestPages())
        return Response(generate_latest(REGISTRY) + generate_latest(registry),
                        mimetype=CONTENT_TYPE_LATEST)

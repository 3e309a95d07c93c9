"""Archive search service: Flask app factory.

`create_app(config)` loads typed settings from the environment (search_app.config), applies the
test mapping on top, and wires one extension per `init_app`. Nothing runs at import time.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

ROOT = Path(__file__).resolve().parent.parent


def init_pillow(max_pixels: int) -> None:
    """Pillow's decompression-bomb guard, set once per process (web and worker both start here):
    its limit is the configured one, and the warning it gives between one and two times the
    limit is an error, so no decoder goes on with a bomb. Stages still check sizes explicitly
    (each TIFF frame, each render) and do not touch this process-wide state."""
    import warnings

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route, bounded to the 32-bit id columns: a larger path id matches no
    route (a JSON 404 under /api/v1) instead of reaching PostgreSQL, which fails the statement
    (a 5xx found by tests/test_fuzz_api.py; SQLite just found nothing)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from flask_wtf.csrf import CSRFProtect

    from search_app import api, cli, db, errors, headers, ops
    from search_app.accounts import views as auth_views
    from search_app.admin import views as admin_views
    from search_app.audit import views as audit_views
    from search_app.catalogue import views as catalogue_views
    from search_app.grants import views as grant_views
    from search_app.ingest import views as ingest_views
    from search_app.qa import views as qa_views
    from search_app.reading import api as reading_api, views as reading_views
    from search_app.register import views as register_views
    from search_app.retention import views as retention_views
    from search_app.config import init_process, load_settings
    from search_app.permissions import Permission, has_permission
    from search_app.proxies import TrustedProxies
    from search_app.search import _backend, page_views, views as search_views
    from workers.celery_app import celery_init_app

    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.config.from_mapping(load_settings(overrides=config))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=app.config["SESSION_MINUTES"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        MAX_CONTENT_LENGTH=app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    init_pillow(app.config["MAX_IMAGE_PIXELS"])
    init_process(app.config)  # OMP_THREAD_LIMIT for Tesseract (stages never set it)
    # X-Forwarded-* only from TRUSTED_PROXIES (always installed: it also strips the headers
    # that an untrusted client sent, so nothing downstream reads them).
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["TRUSTED_PROXIES"],
                                  app.config["PROXY_HOPS"])
    if app.config["PROXY_HOPS"] and not app.config["TRUSTED_PROXIES"]:
        app.logger.warning("PROXY_HOPS=%s but TRUSTED_PROXIES is empty: X-Forwarded-For is "
                           "ignored; list the proxies' addresses", app.config["PROXY_HOPS"])

    app.url_map.converters["int"] = BoundedInt  # before any route is added
    db.init_app(app)
    _backend.init_app(app)
    celery_init_app(app)
    csrf = CSRFProtect(app)
    auth_views.init_app(app)
    app.register_blueprint(search_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(grant_views.bp)
    app.register_blueprint(page_views.bp)
    reading_views.init_app(app)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(ingest_views.bp)
    app.register_blueprint(qa_views.bp)
    catalogue_views.init_app(app)
    app.register_blueprint(register_views.bp)
    app.register_blueprint(retention_views.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # the API takes bearer tokens only, never the session cookie
    reading_api.init_app(app, csrf)
    errors.init_app(app)
    headers.init_app(app)

    @app.context_processor
    def _can() -> dict:
        from flask_login import current_user

        def can(perm: str) -> bool:
            return current_user.is_authenticated and has_permission(current_user.role, Permission(perm))
        return {"can": can}

    ops.init_app(app)
    from search_app.timeutil import local_time, zone_label
    app.add_template_filter(local_time, "localtime")
    app.add_template_global(zone_label, "zone_label")
    cli.init_app(app)
    return app

"""Security headers on every response (an after_request hook; Flask-Talisman would also force
HTTPS redirects and session settings this app configures itself, so a dozen lines do instead).

The CSP allows scripts, styles and images from this origin only: no inline script or style
(templates/ keep none; tests/test_security_hardening.py checks), nothing framed (clickjacking
of the approve / unmask buttons), forms posting only here. Archive content — search results,
pages, images, exports, look-ups, the audit log — must not stay in a browser or proxy cache on a
shared terminal, so every dynamic response is `no-store`; only /static/ may be cached.
"""
from __future__ import annotations

from flask import Flask, Response, request

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    static_prefix = (app.static_url_path or "/static").rstrip("/") + "/"

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        for name, value in HEADERS.items():
            resp.headers[name] = value
        if not request.path.startswith(static_prefix):
            resp.headers["Cache-Control"] = "no-store"
            resp.headers["Pragma"] = "no-cache"
        return resp

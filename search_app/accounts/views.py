"""Login and logout (flask-login, session cookie) and bearer-token loading for the JSON API."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from search_app import limits
from search_app.accounts.models import User
from search_app.accounts.services import LoginRefused, authenticate, end_all_sessions, user_for_token
from search_app.accounts.sessions import end_session, live_session, start_session
from search_app.accounts.throttle import ThrottlePolicy
from search_app.audit.redaction import PII_HMACS, masked_account_name
from search_app.audit.service import Actor, Event, client_addr, record_event, request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import public
from search_app.audit.actions import Action

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.session_protection = "strong"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)

    @app.before_request
    def _forget_cached_user() -> None:
        # flask-login caches the user on `g`, which lives as long as the app context; when one
        # context spans several requests (a CLI or test harness), the next request must not
        # inherit the previous request's user.
        g.pop("_login_user", None)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The session's user, unless the account was disabled, its sessions were ended ("logout
    everywhere", password reset, role change), this session was logged out, or it sat idle
    longer than SESSION_MINUTES. Every check is on the server: the cookie only names a
    server session row (by a random id), so a copy replayed after logout or expiry is refused."""
    db = get_session()
    user = db.get(User, int(user_id))
    if user is None or not user.is_enabled or session.get("epoch") != user.session_epoch:
        return None
    now = time.time()
    minutes = current_app.config["SESSION_MINUTES"]
    if now - session.get("seen", 0) > minutes * 60 or \
            live_session(db, user, session.get("sid"), idle_minutes=minutes) is None:
        timed_out = now - session.get("seen", 0) > minutes * 60
        session.clear()
        session["timed_out"] = timed_out
        return None
    session["seen"] = now
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        return render_error(401, "需要 API 令牌：请求头 Authorization: Bearer <令牌>")
    flash("会话已超时，请重新登录" if session.pop("timed_out", False) else "请先登录", "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def load_bearer_user() -> User | None:
    """The API authenticates by bearer token only; a browser session cookie is never used there,
    which is why the API can be exempt from CSRF."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return user_for_token(get_session(), header.removeprefix("Bearer ").strip())


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: `next=https://evil.example` (or `/\t/evil.example`, which
    browsers and Werkzeug fold to `//evil.example`) must not redirect off-site."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        addr = client_addr()
        try:
            user = authenticate(get_session(), username, request.form.get("password", ""),
                                client_addr=addr,
                                policy=ThrottlePolicy.from_config(current_app.config))
        except LoginRefused as exc:
            who = exc.user
            typed, hashes = (username, []) if who else masked_account_name(username)
            record_event(Actor(who.id if who else None, limits.clip(typed, limits.USERNAME),
                               who.role if who else "", addr),
                         Event(action=Action.LOGIN, outcome="denied", reason=exc.reason,
                               filters={PII_HMACS: hashes} if hashes else {}))
            flash(exc.message, "error")
            return render_template("login.html", username=username), 401
        session.clear()  # no fixation: a fresh session for the new identity
        db = get_session()
        sid = start_session(db, user, addr)
        db.commit()
        login_user(user)
        session["epoch"], session["seen"], session["sid"] = user.session_epoch, time.time(), sid
        session.permanent = True  # the cookie expires after SESSION_MINUTES too
        record_event(Actor(user.id, user.username, user.role, client_addr()),
                     Event(action=Action.LOGIN, outcome="allowed"))
        return redirect(_safe_next(request.args.get("next")) or url_for("search.index"))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    db = get_session()
    end_session(db, session.get("sid"), "logout")
    record_event(request_actor(), Event(action=Action.LOGOUT, outcome="allowed"), session=db)
    db.commit()  # the server session ends with its audit record: a copied cookie is dead now
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-all", methods=["POST"])
@login_required
def logout_all():
    """Ends this user's sessions in every browser (a lost laptop, a shared terminal)."""
    end_all_sessions(current_user)  # every session row, the epoch and the API token
    record_event(request_actor(), Event(action=Action.LOGOUT_ALL, outcome="allowed"),
                 session=get_session())
    get_session().commit()
    logout_user()
    session.clear()
    flash("已在所有设备上退出登录", "info")
    return redirect(url_for("auth.login"))

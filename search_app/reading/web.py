"""What the session-carrying views share: resolving `s` for this request (or asking to open a
session, with the refusal audited through the choke point), cache keys, and the links back."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask, g, render_template, url_for
from flask_login import current_user

from search_app.audit.service import AuditWriteError, client_addr
from search_app.db import get_session
from search_app.grants.services import active_grants
from search_app.reading import cache
from search_app.reading.services import Live, SessionRefused, count_read, live, open_sessions
from search_app.search import ReadDenied
from search_app.search._choke import Found, guarded_read


def init_app(app: Flask) -> None:
    @app.before_request
    def _no_session_yet() -> None:
        # a request reads in the session it names, or in none (tests share one app context)
        g.pop("reading_session", None)


def resolve(sid: str | None, action: str, query: str = "") -> Live:
    """The caller's live session `sid`; otherwise the refusal is audited as a denied `action`
    (naming the session id asked for, never its grant when it is someone else's) and raised."""
    try:
        return live(get_session(), current_user, sid)
    except SessionRefused as exc:
        def never(_grant, _index) -> Found:  # pragma: no cover - link_check refuses first
            raise ReadDenied(exc.reason)
        g.reading_session = (sid or "")[:40] or None
        try:
            guarded_read(user=current_user, grant_id=exc.grant_id, purpose="", action=action,
                         client_addr=client_addr(), query=query, link_check=exc.reason, run=never)
        except ReadDenied:
            pass
        finally:
            g.pop("reading_session", None)
        raise


def ask_to_open(reason: str, *, status: int = 403, next_view: str = "search"):
    """The open-session form with the reason a link could not be read (never its content)."""
    grants = active_grants(get_session(), current_user)
    if next_view == "lookup":
        grants = [gr for gr in grants if gr.allow_lookup]
    return render_template("reading_open.html", grants=grants, reason=reason,
                           sessions=open_sessions(get_session(), current_user),
                           next_view=next_view), status


def plain(obj: Any) -> Any:
    """A read's result as JSON-able dicts and lists (what the cache stores and templates read)."""
    if is_dataclass(obj):
        return plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def cached_read(rs: Live, kind: str, params: Any, read: Callable[[], Any]) -> tuple[Any, bool]:
    """(what the reader was shown, fresh): from the session's cache when this session already
    read it, else `read()` — a new read, audited by the choke point — stored for the next time."""
    name = cache.key(rs.id, kind, params)
    data = cache.get_json(name)
    if data is not None:
        return data, False
    data = plain(read())
    cache.put_json(name, data)
    count_read(get_session(), rs.row)
    return data, True


def results_args(back: str, sid: str) -> dict[str, str]:
    """The results page's query arguments carried by a page link (`back`), with this session."""
    args = {k: v for k, v in parse_qsl(back or "", keep_blank_values=False) if k != "s"}
    return {"s": sid, **args}


def results_url(back: str, sid: str) -> str:
    """返回结果: the results page the reader came from (a look-up's `r`, or a search's query)."""
    args = results_args(back, sid)
    if "r" in args:
        return url_for("pages.lookup", s=sid, r=args["r"])
    return url_for("search.search") + "?" + urlencode(args)


def refusal_message(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, ReadDenied):
        return f"读取被拒绝：{exc.reason}（已记录审计）", 403
    if isinstance(exc, AuditWriteError):
        return "审计记录无法写入，读取已拒绝", 503
    return str(exc), 503

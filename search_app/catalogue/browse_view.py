"""The browse screen (分级浏览): 全宗 → 门类 → 年度 → 件 → 页 inside a reading session, by GET
links like the search. Each level shown for the first time in the session is a read through
the choke point (audited as 分级浏览); a level already shown comes from the session's cache."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, render_template, request
from flask_login import current_user

from search_app.audit.service import client_addr
from search_app.permissions import Permission, requires
from search_app.reading.services import SessionRefused
from search_app.reading.web import ask_to_open, cached_read, refusal_message, resolve
from search_app.search import InvalidInput, ReadDenied, SearchUnavailable
from search_app.search.browse import LEVEL_LABELS, BrowsePath, browse

bp = Blueprint("browse", __name__)


def browse_path(args: Mapping[str, str]) -> BrowsePath:
    """The level asked for (`fonds`, `category`, `year`, `archive_no`; the API sends the same)."""
    year = args.get("year") or None
    if year is not None and not (year.isdigit() and len(year) == 4):
        raise InvalidInput(f"年度应为四位数字，收到“{year}”")
    return BrowsePath(fonds_no=args.get("fonds") or None, category=args.get("category") or None,
                      year=int(year) if year else None, archive_no=args.get("archive_no") or None)


@bp.route("/browse")
@requires(Permission.ARCHIVE_SEARCH)
def index():
    sid = request.args.get("s")
    if not sid:
        return ask_to_open("", status=200)
    try:
        rs = resolve(sid, "browse")
    except SessionRefused as exc:
        return ask_to_open(exc.reason)
    try:
        path = browse_path(request.args)
        data, fresh = cached_read(rs, "browse", sorted(path.chosen().items()), lambda: browse(
            user=current_user, grant_id=rs.grant_id, purpose=rs.purpose, path=path,
            client_addr=client_addr()))
    except InvalidInput as exc:
        return render_template("browse.html", rs=rs, outcome=None, error=f"输入有误：{exc}",
                               labels=LEVEL_LABELS), 400
    except (ReadDenied, SearchUnavailable) as exc:
        message, status = refusal_message(exc)
        return render_template("browse.html", rs=rs, outcome=None, error=message,
                               labels=LEVEL_LABELS), status
    return render_template("browse.html", rs=rs, outcome=data, error=None, labels=LEVEL_LABELS,
                           cached=not fresh)

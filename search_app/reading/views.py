"""Reading-session routes: open and close a session, the page viewer (GET, by session), the
session's page images and thumbnails, PDF and CSV export. Each resolves `s` first: a link
outside its owner's live session asks to open one and reads nothing."""
from __future__ import annotations

import io
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from PIL import Image

from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.grants.services import GrantDenied
from search_app.permissions import Permission, requires
from search_app.reading import cache, web
from search_app.reading.highlight import highlight
from search_app.reading.services import (SessionRefused, close_session, count_read, open_session)
from search_app.reading.services import Live
from search_app.reading.web import (ask_to_open, cached_read, plain, refusal_message, resolve,
                                    results_url)
from search_app.search import (InvalidInput, ReadDenied, SearchUnavailable, page_image_for,
                               unmask_page, view_page)
from search_app.search.export_pdf import export_pdf
from search_app.search.page_views import watermark_text
from indexer.vocab import PII_KINDS

bp = Blueprint("reading", __name__)
THUMB_EDGE = 200


def viewer_label() -> str:
    return f"{current_user.display_name}（{current_user.username}）"


@bp.route("/reading/open", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def open_():
    """Choose a grant, type the purpose: the session opens and the reader goes on by GET links."""
    next_view = "lookup" if request.form.get("next") == "lookup" else "search"
    try:
        grant_id = int(request.form.get("grant_id") or "")
    except ValueError:
        grant_id = None
    try:
        row = open_session(get_session(), user=current_user, grant_id=grant_id,
                           purpose=request.form.get("purpose", ""), actor=request_actor())
    except InvalidInput as exc:
        return ask_to_open(f"输入有误：{exc}", status=400, next_view=next_view)
    except GrantDenied as exc:
        return ask_to_open(f"不能开启阅读会话：{exc.reason}（已记录审计）", next_view=next_view)
    except AuditWriteError:
        return ask_to_open("审计记录无法写入，未开启阅读会话", status=503, next_view=next_view)
    args = {"s": row.id}
    if next_view == "search" and request.form.get("q", "").strip():
        args["q"] = request.form["q"].strip()
    target = "pages.lookup" if next_view == "lookup" else "search.search"
    return redirect(url_for(target, **args), code=303)


@bp.route("/reading/close", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def close():
    row = close_session(get_session(), user=current_user, sid=request.form.get("s", ""),
                        actor=request_actor())
    flash("阅读会话已结束，缓存的结果已清除" if row else "没有可结束的阅读会话",
          "success" if row else "error")
    return redirect(url_for("search.search"), code=303)


@bp.route("/pages/<doc_id>", methods=["GET"])
@requires(Permission.ARCHIVE_SEARCH)
def page(doc_id: str):
    """The page viewer: the redacted image (zoom, rotate, the file's thumbnails) beside the
    masked text with the query's words marked; previous/next page of the file; 返回结果 to the
    cached results. `unmask=1` reveals what the grant allows (a new, audited read each time,
    never cached); without it the masked view is served from the session's cache."""
    unmask = request.args.get("unmask") == "1"
    try:
        rs = resolve(request.args.get("s"), "page.unmask" if unmask else "page.view", doc_id)
    except SessionRefused as exc:
        return ask_to_open(exc.reason)
    back = request.args.get("back", "")
    try:
        view, fresh = page_data(rs, doc_id, unmask=unmask)
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        message, status = refusal_message(exc)
        return render_template("page.html", page=None, error=message, rs=rs, back=back,
                               back_url=results_url(back, rs.id)), status
    files = view.get("file_pages") or []
    ids = [p["doc_id"] for p in files]
    at = ids.index(doc_id) if doc_id in ids else -1
    link = lambda d: url_for("reading.page", doc_id=d, s=rs.id, back=back)  # noqa: E731
    query = dict(parse_qsl(back)).get("q", "")
    return render_template(
        "page.html", page=view, error=None, rs=rs, back=back, back_url=results_url(back, rs.id),
        text=highlight(view["text"], query), query=query, unmasked=unmask,
        unmask_labels=PII_KINDS, files=files, at=at, link=link,
        prev_url=link(ids[at - 1]) if at > 0 else None,
        next_url=link(ids[at + 1]) if 0 <= at < len(ids) - 1 else None,
        image_url=url_for("pages.image", doc_id=doc_id, s=rs.id),
        mask_url=link(doc_id), unmask_url=url_for("reading.page", doc_id=doc_id, s=rs.id,
                                                  back=back, unmask=1),
        cached=not fresh, watermark=watermark_text(view["audit_seq"]))


def page_data(rs: Live, doc_id: str, *, unmask: bool = False) -> tuple[dict, bool]:
    """(the page as shown, fresh). Masked: from the session's cache, or read once (with the
    file's pages). Unmasked: always a new read, never cached; it keeps the file's pages."""
    def masked():
        return view_page(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                         doc_id=doc_id, client_addr=client_addr(), with_file=True)
    if not unmask:
        return cached_read(rs, "page", doc_id, masked)
    view = plain(unmask_page(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                             doc_id=doc_id, client_addr=client_addr()))
    known = cache.get_json(cache.key(rs.id, "page", doc_id)) or {}
    view["file_pages"] = known.get("file_pages", [])
    count_read(get_session(), rs.row)
    return view, True


def session_image(doc_id: str, sid: str | None = None) -> Response:
    """The page's served image in session `s` (`thumb=1`: a small one for the file strip). One
    audited read per page and session: later requests, thumbnails included, come from the cache."""
    thumb = request.args.get("thumb") == "1"
    try:
        rs = resolve(sid or request.args.get("s"), "page.image", doc_id)
    except SessionRefused as exc:
        return _image_refused(exc.reason, 403)
    full_key, thumb_key = cache.key(rs.id, "image", doc_id), cache.key(rs.id, "thumb", doc_id)
    if thumb:
        png = cache.get_bytes(thumb_key)
        if png is not None:
            return _png(png)
    png = cache.get_bytes(full_key)
    if png is None:
        try:
            png = page_image_for(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                                 doc_id=doc_id, viewer=viewer_label(), client_addr=client_addr(),
                                 extra={"thumbnail": True} if thumb else {})
        except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
            return _image_refused(*refusal_message(exc))
        cache.put_bytes(full_key, png)
        count_read(get_session(), rs.row)
    if not thumb:
        return _png(png)
    img = Image.open(io.BytesIO(png))
    img.thumbnail((THUMB_EDGE, THUMB_EDGE * 2), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG")
    cache.put_bytes(thumb_key, out.getvalue())
    return _png(out.getvalue())


def _image_refused(message: str, status: int):
    """Plain text for an <img> on a page, the JSON error under /api/v1."""
    if request.path.startswith("/api/"):
        return render_error(status, f"图像读取被拒绝：{message}")
    return Response(f"图像读取被拒绝：{message}\n", status=status, mimetype="text/plain")


def _png(data: bytes) -> Response:
    return Response(data, mimetype="image/png")


@bp.route("/reading/export.pdf", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def export():
    """Selected pages (`doc`, repeated) or a whole file (`archive_no`) as a PDF download."""
    try:
        rs = resolve(request.form.get("s"), "export.pdf")
    except SessionRefused as exc:
        return ask_to_open(exc.reason)
    try:
        out = export_pdf(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                         viewer=viewer_label(), doc_ids=request.form.getlist("doc"),
                         archive_no=request.form.get("archive_no", "").strip(),
                         client_addr=client_addr(), session_label=rs.id)
    except InvalidInput as exc:
        return render_error(400, f"导出有误：{exc}")
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        message, status = refusal_message(exc)
        return render_error(status, f"导出被拒绝：{message}")
    count_read(get_session(), rs.row)
    name = f"export-{out.approval_ref}-{out.audit_seq}.pdf"
    return Response(out.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def init_app(app: Flask) -> None:
    web.init_app(app)
    app.register_blueprint(bp)

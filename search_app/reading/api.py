"""JSON API for reading sessions (/api/v1/sessions…): open and close a session, search in it,
read a page (with its image URL), fetch the image and export a PDF. Bearer tokens only, as the
rest of /api/v1 (search_app.api); the purpose is sent once, in the body that opens the session."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, request, url_for
from flask_login import current_user

from search_app import api
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.grants.services import GrantDenied
from search_app.permissions import Permission, requires
from search_app.reading.services import SessionRefused, close_session, count_read, open_session
from search_app.reading.views import page_data, session_image, viewer_label
from search_app.reading.web import cached_read, refusal_message, resolve
from search_app.search import SORTS, InvalidInput, ReadDenied, SearchUnavailable, search_pages
from search_app.search.browse import LEVEL_LABELS
from search_app.search.browse import browse as browse_level
from search_app.search.export_pdf import export_pdf
from search_app.catalogue.browse_view import browse_path

bp = Blueprint("api_reading", __name__, url_prefix="/api/v1")
bp.before_request(api.authenticate)


def _session_json(row, live=None) -> dict:
    return {"id": row.id, "grant_id": row.grant_id, "approval_ref": row.grant.ref,
            "opened_at": row.opened_at.isoformat() + "Z",
            "expires_at": (live.expires_at if live else row.expires_at).isoformat() + "Z",
            "closed_at": row.closed_at.isoformat() + "Z" if row.closed_at else None}


def _live(sid: str, action: str, query: str = ""):
    try:
        return resolve(sid, action, query), None
    except SessionRefused as exc:
        return None, render_error(403, exc.reason)


def _failed(exc: Exception):
    if isinstance(exc, InvalidInput):
        return render_error(400, str(exc))
    if isinstance(exc, (ReadDenied, SearchUnavailable, AuditWriteError)):
        message, status = refusal_message(exc)
        return render_error(status, message)
    raise exc


@bp.post("/sessions")
@requires(Permission.ARCHIVE_SEARCH)
@documented("开启阅读会话（选择授权并填写查询事由）", body=s.SessionOpenBody, ok=s.SessionOut,
            status=201, tag="阅读会话")
def open_(body: s.SessionOpenBody):
    try:
        row = open_session(get_session(), user=current_user, grant_id=body.grant_id,
                           purpose=body.purpose, actor=request_actor())
    except InvalidInput as exc:
        return render_error(400, str(exc))
    except GrantDenied as exc:
        return render_error(403, f"不能开启阅读会话：{exc.reason}")
    except AuditWriteError:
        return render_error(503, "审计记录无法写入，未开启阅读会话")
    return _session_json(row), 201


@bp.post("/sessions/<sid>/close")
@requires(Permission.ARCHIVE_SEARCH)
@documented("结束阅读会话", ok=s.SessionOut, errors=(404,), tag="阅读会话")
def close(sid: str):
    row = close_session(get_session(), user=current_user, sid=sid, actor=request_actor())
    if row is None:
        return render_error(404, "阅读会话不存在或不属于您")
    return _session_json(row)


@bp.get("/sessions/<sid>/search")
@requires(Permission.ARCHIVE_SEARCH)
@documented("在阅读会话中检索（已读过的结果页取自缓存）", query=s.SessionSearchQuery,
            ok=s.SessionSearchResult, tag="阅读会话")
def search(sid: str, query: s.SessionSearchQuery):
    """One page of hits in the session; a page already read in it comes from its cache
    (`"cached": true`) and is not audited again."""
    q, sort, page = query.q, query.sort, query.page  # checked by @documented (400 before here)
    rs, error = _live(sid, "search", q)
    if error:
        return error
    params = sorted((k, v) for k, v in request.args.items(multi=True))
    try:
        data, fresh = cached_read(rs, "results", params, lambda: search_pages(
            user=current_user, grant_id=rs.grant_id, purpose=rs.purpose, query=q,
            page=page, sort=sort, group=query.group,
            client_addr=client_addr()))
    except InvalidInput as exc:
        return render_error(400, f"检索式有误：{exc}（排序可选：{'、'.join(SORTS)}）")
    except Exception as exc:  # noqa: BLE001 - _failed re-raises what it does not know
        return _failed(exc)
    return {**api.search_json(data), "session": rs.id, "cached": not fresh}


@bp.get("/sessions/<sid>/browse")
@requires(Permission.ARCHIVE_SEARCH)
@documented("在阅读会话中分级浏览：全宗 → 门类 → 年度 → 件 → 页（只计授权范围内的）",
            query=s.BrowseQuery, ok=s.BrowseOut, tag="阅读会话",
            description="每一层在本会话中第一次显示时经权限过滤读取并审计（分级浏览）；再次显示取自缓存。"
                        "给出 fonds、category、year、archive_no 中已选的部分，返回下一层。")
def browse(sid: str, query: s.BrowseQuery):
    rs, error = _live(sid, "browse")
    if error:
        return error
    try:
        path = browse_path(query.model_dump())
        data, fresh = cached_read(rs, "browse", sorted(path.chosen().items()), lambda: browse_level(
            user=current_user, grant_id=rs.grant_id, purpose=rs.purpose, path=path,
            client_addr=client_addr()))
    except Exception as exc:  # noqa: BLE001 - _failed re-raises what it does not know
        return _failed(exc)
    return {"level": data["level"], "level_label": LEVEL_LABELS[data["level"]],
            "path": path.chosen(), "entries": data["entries"], "approval_ref": data["approval_ref"],
            "audit_seq": data["audit_seq"], "session": rs.id, "cached": not fresh}


@bp.get("/sessions/<sid>/pages/<doc_id>")
@requires(Permission.ARCHIVE_SEARCH)
@documented("在阅读会话中阅读一页（遮蔽后的文本、同卷页面、图像地址）", query=s.SessionPageQuery,
            ok=s.SessionPageOut, errors=(404,), tag="阅读会话")
def page(sid: str, doc_id: str, query: s.SessionPageQuery):
    """The page (masked; `?unmask=1` for what the grant unmasks), the file's pages, previous and
    next, and the URL of its image in this session."""
    unmask = query.unmask == "1"
    rs, error = _live(sid, "page.unmask" if unmask else "page.view", doc_id)
    if error:
        return error
    try:
        view, fresh = page_data(rs, doc_id, unmask=unmask)
    except Exception as exc:  # noqa: BLE001
        return _failed(exc)
    ids = [p["doc_id"] for p in view.get("file_pages") or []]
    at = ids.index(doc_id) if doc_id in ids else -1
    return {"id": view["doc_id"], **view["fields"], "text": view["text"],
            "pii_kinds": view["pii_kinds"], "unmaskable": view["unmaskable"],
            "unmasked": view["unmasked"], "approval_ref": view["approval_ref"],
            "audit_seq": view["audit_seq"], "session": rs.id, "cached": not fresh,
            "file_pages": view.get("file_pages") or [],
            "previous": ids[at - 1] if at > 0 else None,
            "next": ids[at + 1] if 0 <= at < len(ids) - 1 else None,
            "image_url": url_for("api_reading.image", sid=rs.id, doc_id=doc_id)}


@bp.get("/sessions/<sid>/pages/<doc_id>/image")
@requires(Permission.ARCHIVE_SEARCH)
@documented("页面图像（已遮蔽、带水印的 PNG）", query=s.SessionImageQuery, ok=None, media="image/png",
            errors=(404,), tag="阅读会话")
def image(sid: str, doc_id: str, query: s.SessionImageQuery) -> Response:
    """The served page image (PNG; `?thumb=1` for a small one), once audited per session."""
    return session_image(doc_id, sid)


@bp.post("/sessions/<sid>/export")
@requires(Permission.ARCHIVE_SEARCH)
@documented("导出所选页面或整卷为 PDF（每页水印，页脚注明授权与会话）", body=s.ExportBody, ok=None,
            media="application/pdf", errors=(404,), tag="阅读会话")
def export(sid: str, body: s.ExportBody):
    """{doc_ids: [...]} or {archive_no: "..."} → the PDF (application/pdf)."""
    doc_ids, archive_no = body.doc_ids, body.archive_no
    rs, error = _live(sid, "export.pdf")
    if error:
        return error
    try:
        out = export_pdf(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                         viewer=viewer_label(), doc_ids=doc_ids, archive_no=archive_no.strip(),
                         client_addr=client_addr(), session_label=rs.id)
    except Exception as exc:  # noqa: BLE001
        return _failed(exc)
    count_read(get_session(), rs.row)
    return Response(out.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=export-{out.approval_ref}-{out.audit_seq}.pdf",
        "X-Audit-Seq": str(out.audit_seq)})


def init_app(app: Flask, csrf) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens only, never the session cookie


from search_app.reading import api_more  # noqa: E402,F401  (registers its routes on bp)

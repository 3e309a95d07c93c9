"""More of the reading-session API (search_app.reading.api): the caller's open sessions, exact
look-up and the results CSV inside a session, as the web look-up and 导出 CSV do. Each read runs
through the choke point under the session's grant and typed purpose and is audited there,
naming the session."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.service import client_addr
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires
from search_app.reading.api import _failed, _live, _session_json, bp
from search_app.reading.services import count_read, open_sessions
from search_app.search import SORTS, QuerySyntaxError, export_results, lookup_pii
from search_app.search.page_views import results_csv


@bp.get("/sessions")
@requires(Permission.ARCHIVE_SEARCH)
@documented("本人尚未结束的阅读会话（可继续使用）", ok=s.SessionList, tag="阅读会话")
def sessions():
    return {"sessions": [_session_json(r) for r in open_sessions(get_session(), current_user)]}


@bp.post("/sessions/<sid>/lookup")
@requires(Permission.ARCHIVE_SEARCH)
@documented("在阅读会话中按身份证号、电话、卡号或姓名精确查找（授权须允许）", body=s.SessionLookupBody,
            ok=s.SessionLookupResult, tag="阅读会话",
            description="值放在请求体里，不进地址；命中的 id 可用于 /sessions/{sid}/pages/{doc_id}。")
def lookup(sid: str, body: s.SessionLookupBody):
    rs, error = _live(sid, "pii.lookup")
    if error:
        return error
    try:
        out = lookup_pii(kind=body.kind, value=body.value, user=current_user, grant_id=rs.grant_id,
                         purpose=rs.purpose, client_addr=client_addr())
    except Exception as exc:  # noqa: BLE001 - _failed re-raises what it does not know
        return _failed(exc)
    count_read(get_session(), rs.row)
    return {"query": out.query, "total": out.total, "approval_ref": out.approval_ref,
            "audit_seq": out.audit_seq, "session": rs.id, "cached": False,
            "hits": [{"id": h.doc_id, **h.fields} for h in out.hits]}


@bp.post("/sessions/<sid>/export.csv")
@requires(Permission.ARCHIVE_SEARCH)
@documented("导出检索结果为 CSV（已遮蔽的摘录，表头注明导出人、审批编号与审计记录）",
            body=s.CsvExportBody, ok=None, media="text/csv", tag="阅读会话")
def export_csv(sid: str, body: s.CsvExportBody):
    rs, error = _live(sid, "export", body.q)
    if error:
        return error
    try:
        out = export_results(user=current_user, grant_id=rs.grant_id, purpose=rs.purpose,
                             query=body.q, sort=body.sort, client_addr=client_addr())
    except QuerySyntaxError as exc:
        return render_error(400, f"检索式有误：{exc}（排序可选：{'、'.join(SORTS)}）")
    except Exception as exc:  # noqa: BLE001
        return _failed(exc)
    name, csv = results_csv(out)
    return Response(csv, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={name}", "X-Audit-Seq": str(out.audit_seq)})

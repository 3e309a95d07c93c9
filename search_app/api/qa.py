"""Digitisation QA (数字化质检) over the API: the reviewer's queue, the review page (text masked
as the scope allows, earlier versions, findings), the page image, the four actions and the
acceptance statistics; for the security admin, the scopes. Every page read goes through the
choke point under the reviewer's scope (search.qa_reads) and is audited there; the actions and
the scope changes are checked and audited in qa.review / qa.scope (search_app.qa.desk is what
the web screens and these routes share)."""
from __future__ import annotations

from flask import Response, url_for
from flask_login import current_user

from search_app.api import bp, iso
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json
from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires
from search_app.qa import desk, review
from search_app.qa.scope import (ScopeError, ScopeMissing, ScopeRefused, active_scopes,
                                  revoke_scope)
from search_app.qa.stats import batch_stats
from search_app.reading.web import refusal_message
from search_app.search import ReadDenied, SearchUnavailable
from search_app.search.page_views import viewer_label
from search_app.search.qa_reads import qa_page_image, qa_version_text, qa_view_page
from search_app.timeutil import utcnow

_PAGE = ("doc_id", "job_id", "archive_no", "page_no", "text_source", "ocr_confidence", "dpi",
         "low_dpi", "blank", "ink_ratio", "rotation", "osd_ran", "osd_confidence", "skew", "status",
         "text_version", "decided_by", "decided_at", "rescan_reason")
_SCOPE = ("id", "ref", "job_ids", "classification_ceiling", "unmask_fields", "purpose",
          "granted_by", "created_at", "expires_at", "revoked_at", "revoked_by")


def scope_json(row, reviewer: str | None = None) -> dict:
    return row_json(row, _SCOPE, reviewer=reviewer, inactive_reason=row.inactive_reason(utcnow()))


def _scoped(fn, **kwargs):
    """(result, None) of a read or action under the reviewer's scope, or (None, its refusal as
    JSON): already audited by the choke point; an action not taken is a 400 saying why."""
    try:
        return fn(user=current_user, client_addr=client_addr(), **kwargs), None
    except review.ReviewRefused as exc:
        return None, render_error(400, f"操作未执行：{exc}")
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        message, status = refusal_message(exc)
        return None, render_error(status, message)


@bp.get("/qa/queue")
@requires(Permission.QA_REVIEW)
@documented("质检队列：所选质检范围内批次的页面及其检查结果（不含页面内容）", query=s.QaQueueQuery,
            ok=s.QaQueue, tag="数字化质检",
            description="scope 省略时取最新的有效范围；没有有效范围时 scope 为 null、pages 为空。")
def qa_queue(query: s.QaQueueQuery):
    session = get_session()
    scopes = active_scopes(session, current_user)
    scope = desk.chosen_scope(session, current_user, query.scope)
    rows, mismatches = desk.queue(session, scope, query.status, query.flag) if scope else ([], [])
    return {"scopes": [scope_json(x) for x in scopes], "scope": scope.id if scope else None,
            "pages": [row_json(r, _PAGE) for r in rows],
            "mismatches": [row_json(f, ("file_id", "job_id", "archive_no", "declared_pages",
                                        "pages_total", "mismatch")) for f in mismatches]}


@bp.get("/qa/pages/<doc_id>")
@requires(Permission.QA_REVIEW)
@documented("质检一页：遮蔽后的识别文本、检查结果、历史版本、图像地址（v：查看某一历史版本）",
            query=s.QaPageQuery, ok=s.QaPageOut, tag="数字化质检",
            description="范围外的页面答 403（已审计）。")
def qa_page(doc_id: str, query: s.QaPageQuery):
    read, error = (_scoped(qa_version_text, scope_id=query.scope, doc_id=doc_id, version_id=query.v)
                   if query.v else _scoped(qa_view_page, scope_id=query.scope, doc_id=doc_id))
    if error:
        return error
    row = review.qa_row(doc_id)
    return {"id": read.doc_id, **read.fields, "text": read.text, "pii_kinds": read.pii_kinds,
            "unmasked": read.unmasked, "scope": read.scope_id, "scope_ref": read.scope_ref,
            "audit_seq": read.audit_seq, "version": query.v,
            "review": row_json(row, _PAGE) if row else None,
            "versions": [{"id": v.id, "replaced_at": iso(v.replaced_at), "replaced_by": v.replaced_by,
                          "text_source": v.text_source, "ocr_confidence": v.ocr_confidence}
                         for v in desk.versions(get_session(), doc_id)],
            "image_url": url_for("api.qa_image", doc_id=doc_id, scope=read.scope_id)}


@bp.get("/qa/pages/<doc_id>/image")
@requires(Permission.QA_REVIEW)
@documented("质检页面图像（已遮蔽、带水印的 PNG）", query=s.QaScopeQuery, ok=None, media="image/png",
            tag="数字化质检")
def qa_image(doc_id: str, query: s.QaScopeQuery):
    png, error = _scoped(qa_page_image, scope_id=query.scope, doc_id=doc_id, viewer=viewer_label())
    return error or Response(png, mimetype="image/png")


@bp.post("/qa/pages/<doc_id>/action")
@requires(Permission.QA_REVIEW)
@documented("质检操作：accept 合格、rescan 退回重扫（须写原因）、correct 更正文本、reocr 重新识别",
            body=s.QaActionBody, ok=s.QaActionOut, tag="数字化质检",
            description="更正和重新识别保留旧版本；每个操作先在范围内读取该页并审计。")
def qa_action(doc_id: str, body: s.QaActionBody):
    message, error = _scoped(lambda **kw: desk.act(body.do, reason=body.reason, text=body.text, **kw),
                             scope_id=body.scope, doc_id=doc_id)
    if error:
        return error
    get_session().expire_all()
    row = review.qa_row(doc_id)
    return {"message": message, "review": row_json(row, _PAGE) if row else None}


@bp.get("/qa/stats")
@requires(Permission.QA_REVIEW)
@documented("本人有效质检范围内各批次的验收统计", ok=s.QaStats, tag="数字化质检")
def qa_stats():
    jobs = {j for sc in active_scopes(get_session(), current_user) for j in sc.job_ids}
    return {"batches": [r.as_dict() for r in batch_stats(get_session(), jobs)]}


@bp.get("/qa/scopes")
@requires(Permission.QA_SCOPE_MANAGE)
@documented("全部质检范围（安全管理员）", ok=s.QaScopeList, tag="数字化质检")
def qa_scopes():
    return {"scopes": [scope_json(row, name) for row, name in desk.scope_list(get_session())]}


def _scope_change(fn):
    """(row, None) after one audited scope change is committed, or (None, the error answer)."""
    session = get_session()
    try:
        row = fn(session)
        session.commit()
    except ScopeError as exc:
        session.rollback()
        if isinstance(exc, ScopeRefused):
            return None, render_error(403, f"不允许：{exc}")
        return None, render_error(404 if isinstance(exc, ScopeMissing) else 400, str(exc))
    return row, None


@bp.post("/qa/scopes")
@requires(Permission.QA_SCOPE_MANAGE)
@documented("授予质检范围（质检人员、导入批次、密级上限、有效天数；不能授予自己）", body=s.QaScopeBody,
            ok=s.QaScopeOut, status=201, tag="数字化质检")
def qa_grant_scope(body: s.QaScopeBody):
    row, error = _scope_change(lambda session: desk.give_scope(
        session, request_actor(), reviewer=body.reviewer, job_ids=list(body.job_ids),
        ceiling=body.ceiling, purpose=body.purpose, days=body.days,
        unmask_fields=list(body.unmask_fields)))
    return error or (scope_json(row, body.reviewer.strip()), 201)


@bp.post("/qa/scopes/<int:scope_id>/revoke")
@requires(Permission.QA_SCOPE_MANAGE)
@documented("立即撤销一个质检范围（不可撤回，须 confirm: true）", body=s.ConfirmBody, ok=s.QaScopeOut,
            errors=(404,), tag="数字化质检")
def qa_revoke_scope(scope_id: int, body: s.ConfirmBody):
    row, error = _scope_change(lambda session: revoke_scope(session, request_actor(), scope_id))
    return error or scope_json(row)

"""JSON API, version 1. Bearer tokens only (`flask issue-token`); see docs/api.md."""
from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import current_user

from search_app.accounts.views import load_bearer_user
from search_app.audit.service import AuditWriteError, client_addr
from search_app.db import get_session
from search_app.errors import render_error
from search_app.grants.services import active_grants
from search_app.ingest.service import job_detail
from search_app.permissions import Permission, requires
from search_app.search import (SORTS, InvalidInput, QuerySyntaxError, ReadDenied, SearchUnavailable, lookup_pii, search_pages,
                               unmask_page, view_page)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate():
    user = load_bearer_user()
    if user is None:
        return render_error(401, "需要有效的 API 令牌：请求头 Authorization: Bearer <令牌>（令牌过期、"
                                 "全部退出、角色变更或重置密码后失效，请重新签发）")
    g._login_user = user  # flask-login's current_user for this request; no session is created


def _grant_json(grant) -> dict:
    return {"id": grant.id, "approval_ref": grant.approval_ref, "purpose": grant.purpose,
            "purpose_category": grant.purpose_category, "unmask_fields": grant.unmask_fields,
            "allow_lookup": grant.allow_lookup,
            "categories": grant.categories, "units": grant.units,
            "classification_ceiling": grant.classification_ceiling,
            "archive_nos": grant.archive_nos,
            "valid_from": grant.valid_from.isoformat() + "Z",
            "valid_until": grant.valid_until.isoformat() + "Z"}


@bp.get("/grants")
@requires(Permission.GRANT_READ_OWN)
def grants():
    return {"grants": [_grant_json(gr) for gr in active_grants(get_session(), current_user)]}


@bp.post("/search")
@requires(Permission.ARCHIVE_SEARCH)
def search():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return render_error(400, "请求体必须是 JSON 对象：{grant_id, purpose, q, page}")
    grant_id, page = body.get("grant_id"), body.get("page", 1)
    if not isinstance(grant_id, int) or not isinstance(page, int) or page < 1:
        return render_error(400, "grant_id 必须是整数，page 必须是正整数")
    if not all(isinstance(body.get(k, ""), str) for k in ("q", "purpose", "sort", "group")) \
            or "q" not in body:
        return render_error(400, "q、purpose、sort 和 group 必须是字符串")
    out, error = _read(search_pages, grant_id=grant_id, purpose=body.get("purpose", ""),
                       query=body["q"], page=page, sort=body.get("sort") or "relevance",
                       group=body.get("group") or "page")
    if error:
        return error
    return {
        "group": out.group, "chips": out.chips, "refine": out.refine,
        "files": [{"archive_no": f.archive_no, **f.fields, "matched_pages": f.matched_pages,
                   "score": f.score,
                   "pages": [{"id": h.doc_id, **h.fields, "snippets": h.snippets, "score": h.score}
                             for h in f.pages]} for f in out.files],
        "query": out.query, "total": out.total, "page": out.page, "page_size": out.page_size,
        "approval_ref": out.approval_ref, "grant_id": out.grant_id, "audit_seq": out.audit_seq,
        "hits": [{"id": h.doc_id, **h.fields, "snippets": h.snippets, "score": h.score}
                 for h in out.hits],
        "facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in out.facets.items()},
    }


def _read(fn, **kwargs):
    """Call a read function of the choke point; refusals become JSON errors that say why."""
    try:
        return fn(user=current_user, client_addr=client_addr(), **kwargs), None
    except QuerySyntaxError as exc:
        return None, render_error(400, f"检索式有误：{exc}（排序可选：{'、'.join(SORTS)}）")
    except InvalidInput as exc:
        return None, render_error(400, str(exc))
    except ReadDenied as exc:
        return None, render_error(403, f"读取被拒绝：{exc.reason}")
    except AuditWriteError:
        return None, render_error(503, "审计记录无法写入，读取已拒绝")
    except SearchUnavailable as exc:
        return None, render_error(503, str(exc))


def _body(*names: str) -> tuple[dict, object]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("grant_id"), int) \
            or not all(isinstance(body.get(n, ""), str) for n in names):
        return {}, render_error(400, "请求体必须是 JSON 对象：grant_id 为整数，"
                                     + "、".join(names) + " 为字符串")
    return body, None


@bp.post("/pages/<doc_id>")
@requires(Permission.ARCHIVE_SEARCH)
def page(doc_id: str):
    """One page under a grant: masked text, or with `"unmask": true` the kinds the grant unmasks."""
    body, error = _body("purpose")
    if error:
        return error
    fn = unmask_page if body.get("unmask") is True else view_page
    out, error = _read(fn, grant_id=body["grant_id"], purpose=body.get("purpose", ""), doc_id=doc_id)
    if error:
        return error
    return {"id": out.doc_id, **out.fields, "text": out.text, "pii_kinds": out.pii_kinds,
            "unmaskable": out.unmaskable, "unmasked": out.unmasked,
            "approval_ref": out.approval_ref, "audit_seq": out.audit_seq}


@bp.post("/lookup")
@requires(Permission.ARCHIVE_SEARCH)
def lookup():
    body, error = _body("purpose", "kind", "value")
    if error:
        return error
    out, error = _read(lookup_pii, grant_id=body["grant_id"], purpose=body.get("purpose", ""),
                       kind=body.get("kind", ""), value=body.get("value", ""))
    if error:
        return error
    return {"query": out.query, "total": out.total, "approval_ref": out.approval_ref,
            "audit_seq": out.audit_seq, "hits": [{"id": h.doc_id, **h.fields} for h in out.hits]}


@bp.get("/ingest/jobs/<int:job_id>")
@requires(Permission.INGEST_RUN)
def ingest_job(job_id: int):
    detail = job_detail(get_session(), job_id)
    if detail is None:
        return render_error(404, f"导入任务 {job_id} 不存在")
    return detail

"""JSON API, version 1. Bearer tokens only (`flask issue-token`); see docs/api.md.

This module holds the blueprint, its authentication and the archive reads; grant requests and
decisions (`grant_requests`), audit queries (`audit`), who-am-I (`account`), the catalogue
(`catalogue`), the use register (`register`), appraisal and destruction (`retention`),
digitisation QA (`qa`), the security admin's account management (`admin`), the ingest
lists (`ingest`) and the OpenAPI document (`openapi`) register
their routes on the same blueprint; reading sessions are search_app.reading.api. Each is a thin
layer over the service functions the web views call too. Every route is declared with
`@documented` (search_app.api._doc) and its models live in search_app.api.schemas.
"""
from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import current_user

from search_app.accounts.views import load_bearer_user
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.service import AuditWriteError, client_addr
from search_app.db import get_session
from search_app.errors import render_error
from search_app.grants.services import active_grants
from search_app.ingest.service import job_detail
from search_app.permissions import Permission, public, requires
from search_app.reading.web import plain
from search_app.search import (SORTS, InvalidInput, QuerySyntaxError, ReadDenied, SearchUnavailable, lookup_pii, search_pages,
                               unmask_page, view_page)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi_document":  # the description of the API is public
        return None
    user = load_bearer_user()
    if user is None:
        return render_error(401, "需要有效的 API 令牌：请求头 Authorization: Bearer <令牌>（令牌过期、"
                                 "全部退出、角色变更或重置密码后失效，请重新签发）")
    g._login_user = user  # flask-login's current_user for this request; no session is created


def iso(ts) -> str | None:
    """Stored times are naive UTC; the API says so (`Z`). People read local time in the UI."""
    return ts.isoformat(timespec="seconds") + "Z" if ts is not None else None


def grant_json(grant) -> dict:
    return {"id": grant.id, "approval_ref": grant.approval_ref, "purpose": grant.purpose,
            "purpose_category": grant.purpose_category, "unmask_fields": grant.unmask_fields,
            "allow_lookup": grant.allow_lookup,
            "categories": grant.categories, "units": grant.units,
            "classification_ceiling": grant.classification_ceiling,
            "archive_nos": grant.archive_nos,
            "valid_from": iso(grant.valid_from), "valid_until": iso(grant.valid_until)}


@bp.get("/grants")
@requires(Permission.GRANT_READ_OWN)
@documented("本人当前有效的查询授权", ok=s.GrantList, tag="授权")
def grants():
    return {"grants": [grant_json(gr) for gr in active_grants(get_session(), current_user)]}


@bp.post("/search")
@requires(Permission.ARCHIVE_SEARCH)
@documented("在一项授权下检索（检索式语法见 docs/api.md；group=file 按案卷归并）", body=s.SearchBody,
            ok=s.SearchResult, tag="检索")
def search(body: s.SearchBody):
    out, error = _read(search_pages, grant_id=body.grant_id, purpose=body.purpose,
                       query=body.q, page=body.page, sort=body.sort or "relevance",
                       group=body.group or "page")
    if error:
        return error
    return search_json(plain(out))


def _hit(h: dict) -> dict:
    return {"id": h["doc_id"], **h["fields"], "snippets": h["snippets"], "score": h["score"],
            "slip": h.get("slip", False)}


def search_json(data: dict) -> dict:
    """A search outcome (as plain dicts: what the reading-session cache holds too) as the API
    answers it, here and in GET /sessions/<sid>/search, so both carry grouping and facets."""
    return {
        "group": data["group"], "chips": data["chips"], "refine": data["refine"],
        "relaxed": data["relaxed"], "slip_pass": data.get("slip_pass", False),
        "files": [{"archive_no": f["archive_no"], **f["fields"], "matched_pages": f["matched_pages"],
                   "score": f["score"], "pages": [_hit(h) for h in f["pages"]]}
                  for f in data["files"]],
        **{k: data[k] for k in ("query", "total", "total_exact", "page", "page_size",
                                "approval_ref", "grant_id", "audit_seq")},
        "hits": [_hit(h) for h in data["hits"]],
        "facets": {k: [{"value": v, "count": c} for v, c in vals] for k, vals in data["facets"].items()},
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


@bp.post("/pages/<doc_id>")
@requires(Permission.ARCHIVE_SEARCH)
@documented("一页（遮蔽文本；unmask 为 true 时显示授权允许的字段）", body=s.PageBody, ok=s.PageOut,
            tag="检索", description="页面 id 中的 `#` 写作 `%23`。范围外的页面答 403（已审计）。")
def page(doc_id: str, body: s.PageBody):
    """One page under a grant: masked text, or with `"unmask": true` the kinds the grant unmasks."""
    fn = unmask_page if body.unmask else view_page
    out, error = _read(fn, grant_id=body.grant_id, purpose=body.purpose, doc_id=doc_id)
    if error:
        return error
    return {"id": out.doc_id, **out.fields, "text": out.text, "pii_kinds": out.pii_kinds,
            "unmaskable": out.unmaskable, "unmasked": out.unmasked,
            "approval_ref": out.approval_ref, "audit_seq": out.audit_seq}


@bp.post("/lookup")
@requires(Permission.ARCHIVE_SEARCH)
@documented("按身份证号、电话、卡号或姓名精确查找（授权须允许）", body=s.LookupBody,
            ok=s.LookupResult, tag="检索")
def lookup(body: s.LookupBody):
    out, error = _read(lookup_pii, grant_id=body.grant_id, purpose=body.purpose,
                       kind=body.kind, value=body.value)
    if error:
        return error
    return {"query": out.query, "total": out.total, "approval_ref": out.approval_ref,
            "audit_seq": out.audit_seq, "hits": [{"id": h.doc_id, **h.fields} for h in out.hits]}


@bp.get("/ingest/jobs/<int:job_id>")
@requires(Permission.INGEST_RUN)
@documented("导入任务的进度、文件与页面状态", ok=s.IngestJob, errors=(404,), tag="导入")
def ingest_job(job_id: int):
    detail = job_detail(get_session(), job_id)
    if detail is None:
        return render_error(404, f"导入任务 {job_id} 不存在")
    return detail


@bp.get("/openapi.json")
@public
@documented("本 API 的 OpenAPI 3.1 文档（由代码生成）", ok=s.OpenApiDocument, tag="文档")
def openapi_document():
    from search_app.api.openapi import document

    return document()


# The other areas register their routes on `bp` (imported last: they import `bp` from here).
from search_app.api import (account, admin, audit, catalogue, grant_requests, ingest,  # noqa: E402,F401
                            qa, register, retention)

"""Reading one page (view, unmask, image), exporting results and exact PII look-up. Each view
only parses the form and calls the read function in `search_app.search`; refusals say why and
are already audited there."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user

from search_app.audit.service import AuditWriteError, client_addr
from search_app.csvsafe import csv_text
from search_app.db import get_session
from search_app.grants.services import active_grants
from search_app.permissions import Permission, requires
from search_app.search import (LOOKUP_KINDS, InvalidInput, QuerySyntaxError, ReadDenied,
                               SearchUnavailable, export_results, image_url_token, lookup_pii,
                               page_image, unmask_page, view_page)
from search_app.search.views import int_arg

bp = Blueprint("pages", __name__)


def _read_args() -> dict:
    src = request.form if request.method == "POST" else request.args
    return {"user": current_user, "grant_id": int_arg(src.get("grant_id")),
            "purpose": src.get("purpose", ""), "client_addr": client_addr()}


def refusal(exc: Exception, template: str, **context):
    """The page re-rendered with the reason: 403 for a denied read, 503 when the engine or the
    audit log is unavailable (the read was refused rather than left unrecorded)."""
    if isinstance(exc, ReadDenied):
        return render_template(template, error=f"读取被拒绝：{exc.reason}（已记录审计）", **context), 403
    if isinstance(exc, InvalidInput):  # bad input: nothing was read
        return render_template(template, error=f"输入有误：{exc}", **context), 400
    message = "审计记录无法写入，读取已拒绝" if isinstance(exc, AuditWriteError) else str(exc)
    return render_template(template, error=message, **context), 503


def viewer_label() -> str:
    return f"{current_user.display_name}（{current_user.username}）"


def watermark_text(seq: int | None = None) -> str:
    """Who is reading, the local time and (for a page view) the audit record of the read."""
    now = datetime.now(ZoneInfo(current_app.config["AUDIT_TIMEZONE"]))
    text = f"{viewer_label()} {now:%Y-%m-%d %H:%M}"
    return f"{text} 审计记录 #{seq}" if seq is not None else text


@bp.route("/pages/<doc_id>", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def view(doc_id: str):
    args = _read_args()
    try:
        page = (unmask_page if request.form.get("unmask") else view_page)(doc_id=doc_id, **args)
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return refusal(exc, "page.html", page=None, args=args, doc_id=doc_id)
    image_url = url_for("pages.image", doc_id=page.doc_id, t=image_url_token(current_user, page))
    return render_template("page.html", page=page, args=args, doc_id=doc_id, error=None,
                           watermark=watermark_text(page.audit_seq), image_url=image_url)


@bp.route("/pages/<doc_id>/image")
@requires(Permission.ARCHIVE_SEARCH)
def image(doc_id: str):
    """The redacted page image, watermarked for this viewer (an <img> on the page view), by
    the signed link the view minted (`t`). A link that carries its own grant or purpose is
    refused outright: whoever wrote it would be choosing the purpose of an audited read."""
    extra = "、".join(sorted(set(request.args) - {"t"}))
    refused = f"链接中不得包含 {extra}；图像只能从页面查看中打开" if extra else ""
    try:
        png = page_image(doc_id=doc_id, token=request.args.get("t", ""), user=current_user,
                         viewer=viewer_label(), client_addr=client_addr(), link_refusal=refused)
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        status = 403 if isinstance(exc, ReadDenied) else 503
        reason = exc.reason if isinstance(exc, ReadDenied) else str(exc)
        return Response(f"图像读取被拒绝：{reason}\n", status=status, mimetype="text/plain")
    return Response(png, mimetype="image/png")


@bp.route("/search/export", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def export():
    """CSV of the hits (redacted), headed by who exported it, when, under which approval."""
    args = _read_args()
    try:
        out = export_results(query=request.form.get("q", ""),
                             sort=request.form.get("sort", "relevance"), **args)
    except QuerySyntaxError as exc:
        return Response(f"检索式有误：{exc}\n", status=400, mimetype="text/plain")
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        status = 403 if isinstance(exc, ReadDenied) else 503
        reason = exc.reason if isinstance(exc, ReadDenied) else str(exc)
        return Response(f"导出被拒绝：{reason}\n", status=status, mimetype="text/plain")
    rows = [[f"导出人：{watermark_text()}", f"审批编号：{out.approval_ref}",
             f"审计记录：#{out.audit_seq}", f"检索词：{out.query}", f"命中：{out.total}"],
            ["档号", "题名", "页码", "门类", "单位", "年度", "密级", "摘录（已遮蔽）"]]
    for hit in out.hits:
        f = hit.fields
        snippet = " … ".join(hit.snippets).replace("<mark>", "").replace("</mark>", "")
        rows.append([f.get("archive_no"), f.get("title"), f.get("page_no"), f.get("category"),
                     f.get("unit"), f.get("year"), f.get("classification"), snippet])
    name = f"export-{out.approval_ref}-{out.audit_seq}.csv"
    return Response(csv_text(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/lookup", methods=["GET", "POST"])
@requires(Permission.ARCHIVE_SEARCH)
def lookup():
    grants = [g for g in active_grants(get_session(), current_user) if g.allow_lookup]
    form = {"grant_id": int_arg(request.form.get("grant_id")), "kind": request.form.get("kind", "id_number"),
            "purpose": request.form.get("purpose", "")}
    context = dict(grants=grants, form=form, kinds=LOOKUP_KINDS, outcome=None)
    if request.method == "GET":
        return render_template("lookup.html", error=None, **context)
    try:
        context["outcome"] = lookup_pii(kind=form["kind"], value=request.form.get("value", ""),
                                        **_read_args())
    except (InvalidInput, ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return refusal(exc, "lookup.html", **context)
    return render_template("lookup.html", error=None, **context)

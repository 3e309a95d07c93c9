"""Reading one page (view, unmask, image), exporting results and exact PII look-up. Each view
only parses the form and calls the read function in `search_app.search`; refusals say why and
are already audited there."""
from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, current_app, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.csvsafe import csv_text
from search_app.db import get_session
from search_app.grants.services import GrantDenied, active_grants
from search_app.permissions import Permission, requires
from search_app.search import (LOOKUP_KINDS, InvalidInput, QuerySyntaxError, ReadDenied,
                               SearchUnavailable, export_results, image_url_token, lookup_pii,
                               page_image, unmask_page, view_page)
from search_app.reading import cache
from search_app.reading.services import SessionRefused, count_read, open_session
from search_app.reading.web import ask_to_open, plain, resolve
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


def plain_refusal(what: str, exc: Exception) -> Response:
    """A refused image or export, as plain text (an <img> or a download shows no page): 403 for
    a denied read, 503 when the engine or the audit log is unavailable."""
    status = 403 if isinstance(exc, ReadDenied) else 503
    reason = exc.reason if isinstance(exc, ReadDenied) else str(exc)
    return Response(f"{what}被拒绝：{reason}\n", status=status, mimetype="text/plain")


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
    if "s" in request.args and "t" not in request.args:  # by reading session (search_app.reading)
        extra = "、".join(sorted(set(request.args) - {"s", "thumb"}))
        if not extra:
            from search_app.reading.views import session_image
            return session_image(doc_id)
    extra = "、".join(sorted(set(request.args) - {"t"}))
    refused = f"链接中不得包含 {extra}；图像只能从页面查看中打开" if extra else ""
    try:
        png = page_image(doc_id=doc_id, token=request.args.get("t", ""), user=current_user,
                         viewer=viewer_label(), client_addr=client_addr(), link_refusal=refused)
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return plain_refusal("图像读取", exc)
    return Response(png, mimetype="image/png")


@bp.route("/search/export", methods=["POST"])
@requires(Permission.ARCHIVE_SEARCH)
def export():
    """CSV of the hits (redacted), headed by who exported it, when, under which approval; in a
    reading session (`s`) under its grant and purpose, else under the posted ones."""
    args = _read_args()
    if request.form.get("s"):
        try:
            rs = resolve(request.form["s"], "export", request.form.get("q", ""))
        except SessionRefused as exc:
            return Response(f"导出被拒绝：{exc.reason}\n", status=403, mimetype="text/plain")
        args.update(grant_id=rs.grant_id, purpose=rs.purpose)
    try:
        out = export_results(query=request.form.get("q", ""),
                             sort=request.form.get("sort", "relevance"), **args)
    except QuerySyntaxError as exc:
        return Response(f"检索式有误：{exc}\n", status=400, mimetype="text/plain")
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return plain_refusal("导出", exc)
    name, body = results_csv(out)
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def results_csv(out) -> tuple[str, str]:
    """(file name, CSV) of an export_results outcome: the redacted hits, headed by who exported
    them, when, under which approval and audit record (the web export and the API's)."""
    rows = [[f"导出人：{watermark_text()}", f"审批编号：{out.approval_ref}",
             f"审计记录：#{out.audit_seq}", f"检索词：{out.query}", f"命中：{out.total}"],
            ["档号", "题名", "页码", "门类", "单位", "年度", "密级", "摘录（已遮蔽）"]]
    for hit in out.hits:
        f = hit.fields
        snippet = " … ".join(hit.snippets).replace("<mark>", "").replace("</mark>", "")
        rows.append([f.get("archive_no"), f.get("title"), f.get("page_no"), f.get("category"),
                     f.get("unit"), f.get("year"), f.get("classification"), snippet])
    return f"export-{out.approval_ref}-{out.audit_seq}.csv", csv_text(rows)


@bp.route("/lookup", methods=["GET", "POST"])
@requires(Permission.ARCHIVE_SEARCH)
def lookup():
    """Exact look-up in a reading session: the value is posted (never in a URL), the answer is
    kept in the session's cache and shown by a GET (`r`), so Back and reload never repost it;
    its hits link to the session's page viewer. A post carrying grant and purpose instead opens
    a session for it first (the one-step form)."""
    sid = request.values.get("s", "")
    grants = [g for g in active_grants(get_session(), current_user) if g.allow_lookup]
    form = {"kind": request.form.get("kind", "id_number")}
    if not sid and request.method == "GET":
        return ask_to_open("", status=200, next_view="lookup")
    one_step = not sid
    rs = None
    if one_step:  # the one-step form: open a session for this look-up, then read in it
        try:
            sid = open_session(get_session(), user=current_user,
                               grant_id=int_arg(request.form.get("grant_id")),
                               purpose=request.form.get("purpose", ""), actor=request_actor(),
                               audited=False).id
        except (InvalidInput, GrantDenied):
            sid = ""  # the read below refuses with its own reason and audit record
    if sid:
        try:
            rs = resolve(sid, "pii.lookup")
        except SessionRefused as exc:
            return ask_to_open(exc.reason, next_view="lookup")
    context = dict(rs=rs, grants=grants, form=form, kinds=LOOKUP_KINDS, outcome=None)
    if request.method == "GET":
        if request.args.get("r"):
            context["outcome"] = cache.get_json(cache.key(rs.id, "lookup", request.args["r"]))
            if context["outcome"] is None:
                return render_template("lookup.html", error="查找结果已过期，请重新查找", **context)
        return render_template("lookup.html", error=None, **context)
    grant_id, purpose = ((rs.grant_id, rs.purpose) if rs else
                         (int_arg(request.form.get("grant_id")), request.form.get("purpose", "")))
    try:
        outcome = lookup_pii(kind=form["kind"], value=request.form.get("value", ""),
                             user=current_user, grant_id=grant_id, purpose=purpose,
                             client_addr=client_addr())
    except (InvalidInput, ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return refusal(exc, "lookup.html", **context)
    if rs is not None:
        count_read(get_session(), rs.row)
    if one_step:  # answered in place, as that form always was
        return render_template("lookup.html", error=None, **{**context, "outcome": plain(outcome)})
    ref = secrets.token_urlsafe(8)
    cache.put_json(cache.key(rs.id, "lookup", ref), plain(outcome))
    return redirect(url_for("pages.lookup", s=rs.id, r=ref), code=303)
